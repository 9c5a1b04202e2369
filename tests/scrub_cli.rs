//! `noticed scrub` as admins run it: a filter over files or stdin.

mod common;

use std::io::Write;
use std::process::{Output, Stdio};

use common::*;

fn scrub_stdin(policy: &std::path::Path, args: &[&str], input: &[u8]) -> Output {
    let mut child = bin()
        .args(["scrub", "--policy", policy.to_str().unwrap()])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    out
}

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let p = policy(
        tmp.path(),
        "p.toml",
        &tmp.path().join("state"),
        "[scrub]\naction = \"mask\"\n",
    );
    (tmp, p)
}

#[test]
fn one_line_out_per_line_in_with_endings_and_invalid_bytes_kept_and_controls_removed() {
    let (_tmp, p) = setup();
    let input = b"from 192.0.2.1\r\nmail a@example.com\n\xff\xfe raw \x00 10.0.0.1\n\nlast alice@example.org";
    let out = scrub_stdin(&p, &["--stats"], input);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        out.stdout,
        b"from [ipv4]\r\nmail [email]\n\xff\xfe raw  [ipv4]\n\nlast [email]".to_vec()
    );
    let stats = String::from_utf8_lossy(&out.stderr);
    for line in [
        "lines 5",
        "lines_changed 4",
        "ipv4 2",
        "email 2",
        "secret 0",
    ] {
        assert!(stats.lines().any(|l| l == line), "{line:?} in {stats}");
    }
}

#[test]
fn files_are_read_in_order_and_a_missing_one_is_named() {
    let (tmp, p) = setup();
    let a = tmp.path().join("a.log");
    let b = tmp.path().join("b.log");
    std::fs::write(&a, "password=hunter2\n").unwrap();
    std::fs::write(&b, "Failed password for bob from 198.51.100.7\n").unwrap();
    let out = run(&[
        "scrub",
        "--policy",
        p.to_str().unwrap(),
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "password=[secret]\nFailed password for [user_name] from [ipv4]\n"
    );
    let missing = tmp.path().join("nope.log");
    let out = run(&[
        "scrub",
        "--policy",
        p.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(&format!("cannot open {}", missing.display()))
    );
}

#[test]
fn a_line_of_several_mebibytes_is_scrubbed_whole_with_nothing_leaking() {
    let (_tmp, p) = setup();
    // Filler words, a secret whose key and value straddle the first 1 MiB window edge, and
    // addresses throughout.
    let mut line = Vec::new();
    let mut n = 0;
    while line.len() < (1 << 20) - 12 {
        line.extend_from_slice(format!("w{n} ").as_bytes());
        n += 1;
    }
    line.extend_from_slice(b"password: hunter2-straddles ");
    while line.len() < 3 << 20 {
        line.extend_from_slice(
            format!(
                "u{n}@example.com 10.{}.{}.{} ",
                n % 250,
                (n / 250) % 250,
                1 + n % 200
            )
            .as_bytes(),
        );
        n += 1;
    }
    line.extend_from_slice(b"end\nnext 192.0.2.9\n");
    let out = scrub_stdin(&p, &[], &line);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 2, "one output line per input line");
    assert!(!text.contains("hunter2"), "the straddling secret leaked");
    assert!(!text.contains("@example.com"), "an address leaked");
    assert!(!text.contains(" 10."), "an IP leaked");
    assert!(text.ends_with(" end\nnext [ipv4]\n"));
    assert!(text.starts_with("w0 w1 w2 "));
}

#[test]
fn the_same_value_gets_the_same_token_on_this_host_across_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let p = policy(tmp.path(), "p.toml", &tmp.path().join("state"), "");
    let first = scrub_stdin(&p, &[], b"user=alice\n");
    let second = scrub_stdin(&p, &[], b"session opened for user alice\n");
    let token = |o: &Output| {
        let s = String::from_utf8(o.stdout.clone()).unwrap();
        s[s.find("[user_name:h:").unwrap()..]
            .split(']')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(token(&first), token(&second));
    let other = tempfile::tempdir().unwrap();
    let p2 = policy(other.path(), "p.toml", &other.path().join("state"), "");
    assert_ne!(
        token(&first),
        token(&scrub_stdin(&p2, &[], b"user=alice\n")),
        "another host key"
    );
}

#[test]
fn admin_patterns_scrub_count_stay_idempotent_and_are_checked_where_written() {
    let tmp = tempfile::tempdir().unwrap();
    let p = policy(
        tmp.path(),
        "p.toml",
        &tmp.path().join("state"),
        "[[scrub.pattern]]\nname = \"employee\"\nregex = \"EMP-[0-9]{6}\"\nkeywords = [\"badge\"]\n\n[[scrub.pattern]]\nname = \"account_no\"\nregex = \"\\\\b[0-9]{9}\\\\b\"\nvalidator = \"bsn\"\naction = \"mask\"\n",
    );
    let input = b"badge EMP-004211 used, EMP-004211 again\nledger 111222333 vs 111222334\nno keyword here: EMP-004211\n";
    let out = scrub_stdin(&p, &["--stats"], input);
    assert!(out.status.success(), "{}", text(&out));
    let scrubbed = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = scrubbed.lines().collect();
    let token = lines[0].split(' ').nth(1).unwrap();
    assert!(
        token.starts_with("[employee:h:") && token.ends_with(']'),
        "{scrubbed}"
    );
    assert_eq!(lines[0], format!("badge {token} used, {token} again"));
    assert_eq!(lines[1], "ledger [account_no] vs 111222334");
    assert_eq!(
        lines[2], "no keyword here: EMP-004211",
        "the keyword gates the pattern"
    );
    let stats = String::from_utf8_lossy(&out.stderr);
    assert!(stats.lines().any(|l| l == "pattern 3"), "{stats}");
    let again = scrub_stdin(&p, &[], scrubbed.as_bytes());
    assert_eq!(String::from_utf8(again.stdout).unwrap(), scrubbed);

    let broken = policy(
        tmp.path(),
        "broken.toml",
        &tmp.path().join("state"),
        "[[scrub.pattern]]\nname = \"employee\"\nregex = \"EMP-([0-9]{6}\"\n",
    );
    let out = run(&["policy", "check", broken.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.toml:11:9"), "{err}");
    assert!(err.contains("invalid regex: unclosed group"), "{err}");
}
