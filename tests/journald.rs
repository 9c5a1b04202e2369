//! The journald source end to end. Where journald runs, the real journal is used (entries are
//! written with systemd-cat); where none exists, tests/support/fake-journalctl stands in.

mod common;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use common::*;

#[test]
fn journal_entries_reach_the_collector_scrubbed_and_a_broken_journalctl_is_survived() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let tag = format!("noticed-e2e-{}", std::process::id());
    let real = Path::new("/run/systemd/journal/socket").exists();
    let journalctl = if real {
        "journalctl".to_owned()
    } else {
        let journal = tmp.path().join("journal.jsonl");
        std::fs::write(&journal, "").unwrap();
        let wrapper = tmp.path().join("journalctl");
        let fake = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/fake-journalctl");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nFAKE_JOURNAL={} exec {} \"$@\"\n",
                journal.display(),
                fake.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(
            &wrapper,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        wrapper.display().to_string()
    };
    let write_entries = |lines: &[&str]| {
        if real {
            let mut cat = std::process::Command::new("systemd-cat")
                .args(["-t", &tag])
                .stdin(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            for l in lines {
                writeln!(cat.stdin.as_mut().unwrap(), "{l}").unwrap();
            }
            drop(cat.stdin.take());
            assert!(cat.wait().unwrap().success());
        } else {
            let journal = tmp.path().join("journal.jsonl");
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&journal)
                .unwrap();
            let n = std::fs::read_to_string(&journal).unwrap().lines().count();
            for (i, l) in lines.iter().enumerate() {
                let e = serde_json::json!({"__CURSOR": format!("c{}", n + i), "MESSAGE": l, "SYSLOG_IDENTIFIER": tag, "PRIORITY": "6"});
                writeln!(f, "{e}").unwrap();
            }
        }
    };
    write_entries(&["written before the agent started"]);
    let body = format!(
        "{}[[source]]\ntype = \"journald\"\nidentifiers = [{tag:?}]\njournalctl = {journalctl:?}\nstart_at = \"beginning\"\ninterval = \"100ms\"\n\n\
         [[source]]\ntype = \"journald\"\njournalctl = \"/nonexistent/journalctl\"\ninterval = \"100ms\"\n\n\
         [category.service-logs]\npurpose = \"service-operational\"\nallow = [\"identifier\"]\nscrub = [\"message\"]\n",
        collector_section(&collector.endpoint())
    );
    let data = tmp.path().join("agent");
    let p = policy(tmp.path(), "p.toml", &data, &body);
    let (daemon, _) = start_daemon(&p, "warn", &[]);
    wait_for(
        "the broken source's first failed round",
        Duration::from_secs(30),
        || {
            let mut admin =
                std::os::unix::net::UnixStream::connect(data.join("admin.sock")).ok()?;
            writeln!(admin, r#"{{"v":1,"op":"status"}}"#).ok()?;
            let mut reply = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(admin), &mut reply).ok()?;
            reply.contains("source.rounds_failed").then_some(())
        },
    );
    write_entries(&["login failed for user=mallory from 203.0.113.9", "disk ok"]);
    let records = wait_for(
        "three entries at the collector",
        Duration::from_secs(30),
        || {
            let r = collector.records();
            (r.len() >= 3).then_some(r)
        },
    );
    assert_eq!(records.len(), 3, "each entry once: {records:?}");
    let messages: Vec<&str> = records
        .iter()
        .map(|r| r["fields"]["message"].as_str().unwrap())
        .collect();
    assert!(messages.iter().any(|m| m.starts_with("login failed for user=[user_name:h:") && m.contains("[ipv4:h:")), "{messages:?}");
    assert!(
        messages.contains(&"disk ok") && messages.contains(&"written before the agent started")
    );
    assert!(
        records
            .iter()
            .all(|r| r["fields"]["identifier"] == tag.as_str() && r["source"] == "journald")
    );
    assert_eq!(occurs_under(&collector.dir, b"mallory"), None);

    terminate(daemon);
}
