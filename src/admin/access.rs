//! Who may use the admin API: root, the agent's own user, and members of the `noticed` group,
//! decided from the peer's credentials (SO_PEERCRED) on each connection. The socket file itself
//! is world-connectable (0666) so that this check, not file modes, is the rule, and its refusal
//! can say what to do.

use std::path::Path;

/// The group whose members may use the admin API.
pub const GROUP: &str = "noticed";

/// The peer of one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer {
    /// Its user id.
    pub uid: u32,
    /// Its primary group id.
    pub gid: u32,
    /// Its process id, when the kernel says (for supplementary groups).
    pub pid: Option<i32>,
}

/// `Ok` if `peer` may use the API; else the refusal, in words, with what to do.
///
/// # Errors
/// The refusal message.
pub fn check(peer: Peer, own_uid: u32) -> Result<(), String> {
    let accounts = Accounts {
        group: Path::new("/etc/group"),
        passwd: Path::new("/etc/passwd"),
        groups_of: supplementary,
    };
    check_in(&accounts, peer, own_uid)
}

/// Where membership is read from: the account files and a process's supplementary groups.
struct Accounts<'a> {
    group: &'a Path,
    passwd: &'a Path,
    groups_of: fn(i32) -> Vec<u32>,
}

fn check_in(accounts: &Accounts<'_>, peer: Peer, own_uid: u32) -> Result<(), String> {
    if peer.uid == 0 || peer.uid == own_uid {
        return Ok(());
    }
    if let Some(group) = group(accounts.group, GROUP) {
        let user = user_name(accounts.passwd, peer.uid);
        let member = peer.gid == group.gid
            || user.as_ref().is_some_and(|u| group.members.contains(u))
            || peer
                .pid
                .is_some_and(|pid| (accounts.groups_of)(pid).contains(&group.gid));
        if member {
            return Ok(());
        }
    }
    Err(format!(
        "access denied: uid {} is neither root nor in the `{GROUP}` group; run as root, or ask an administrator to add you to `{GROUP}`",
        peer.uid
    ))
}

struct Group {
    gid: u32,
    members: Vec<String>,
}

fn group(file: &Path, name: &str) -> Option<Group> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.split(':');
        if parts.next()? != name {
            return None;
        }
        let gid = parts.nth(1)?.parse().ok()?;
        let members = parts
            .next()
            .unwrap_or("")
            .split(',')
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect();
        Some(Group { gid, members })
    })
}

fn user_name(file: &Path, uid: u32) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.split(':');
        let name = parts.next()?;
        (parts.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_owned())
    })
}

/// The supplementary groups of process `pid`, from `/proc/PID/status`.
fn supplementary(pid: i32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("Groups:")).map(|g| {
                g.split_whitespace()
                    .filter_map(|n| n.parse().ok())
                    .collect()
            })
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_the_own_user_pass_strangers_are_told_what_to_do() {
        let stranger = Peer {
            uid: 4242,
            gid: 4242,
            pid: None,
        };
        assert!(check(Peer { uid: 0, ..stranger }, 1000).is_ok());
        assert!(
            check(
                Peer {
                    uid: 1000,
                    ..stranger
                },
                1000
            )
            .is_ok()
        );
        let refused = check(stranger, 1000).unwrap_err();
        assert!(
            refused.contains("uid 4242") && refused.contains("`noticed` group"),
            "{refused}"
        );
    }

    #[test]
    fn members_of_the_group_pass_by_primary_group_member_list_or_supplementary_group() {
        let dir = tempfile::tempdir().unwrap();
        let group = dir.path().join("group");
        std::fs::write(&group, "root:x:0:\nnoticed:x:998:alice\nstaff:x:50:carol\n").unwrap();
        let passwd = dir.path().join("passwd");
        std::fs::write(
            &passwd,
            "alice:x:1001:1001::/home/alice:/bin/sh\nbob:x:1002:998::/home/bob:/bin/sh\n\
             carol:x:1003:1003::/home/carol:/bin/sh\ndave:x:1004:1004::/home/dave:/bin/sh\n",
        )
        .unwrap();
        // Process 7 is in the group as a supplementary group; process 8 only in others.
        let accounts = Accounts {
            group: &group,
            passwd: &passwd,
            groups_of: |pid| if pid == 7 { vec![50, 998] } else { vec![0, 50] },
        };
        let peer = |uid, gid, pid| Peer { uid, gid, pid };
        let check = |p| check_in(&accounts, p, 999);
        assert!(check(peer(1001, 1001, None)).is_ok(), "alice, listed");
        assert!(check(peer(1002, 998, None)).is_ok(), "bob, primary group");
        assert!(check(peer(1004, 1004, Some(7))).is_ok(), "dave's process 7");
        assert!(
            check(peer(1004, 1004, Some(8))).is_err(),
            "dave's process 8"
        );
        assert!(
            check(peer(1003, 1003, Some(8))).is_err(),
            "carol, in staff only"
        );
        assert!(check(peer(1004, 1004, None)).is_err(), "dave");
    }

    #[test]
    fn group_files_are_read_by_name_gid_and_members() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("group");
        std::fs::write(&f, "root:x:0:\nnoticed:x:998:alice,bob\nnoticedx:x:5:\n").unwrap();
        let g = group(&f, "noticed").unwrap();
        assert_eq!(g.gid, 998);
        assert_eq!(g.members, ["alice", "bob"]);
        assert!(group(&f, "absent").is_none());
        let p = dir.path().join("passwd");
        std::fs::write(
            &p,
            "root:x:0:0::/root:/bin/sh\nalice:x:1001:1001::/home/alice:/bin/sh\n",
        )
        .unwrap();
        assert_eq!(user_name(&p, 1001).as_deref(), Some("alice"));
        assert_eq!(user_name(&p, 7), None);
        assert!(supplementary(std::process::id() as i32).len() <= 65536);
    }
}
