//! The log_file source end to end: a real daemon follows a real file through rotation and a
//! restart; every line reaches the collector exactly once, scrubbed.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

fn append(path: &Path, lines: &[String]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
}

fn lines(range: std::ops::Range<u64>) -> Vec<String> {
    range
        .map(|n| format!("line {n} from 192.0.2.{} user=u{n}", n % 250 + 1))
        .collect()
}

/// A collector, an empty `logs` folder and a policy following `logs/*.log` from the beginning
/// (plus `source_extra` in its source table); returns them and the agent's data folder.
fn follow_logs(tmp: &Path, source_extra: &str) -> (Collector, PathBuf, PathBuf, PathBuf) {
    let collector = Collector::start(&tmp.join("collector"));
    let logs = tmp.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let data = tmp.join("agent");
    let body = format!(
        "{}[[source]]\ntype = \"log_file\"\npaths = [\"{}/*.log\"]\nstart_at = \"beginning\"\n{source_extra}\n\
         [category.service-logs]\npurpose = \"service-operational\"\nallow = [\"file\"]\nscrub = [\"message\"]\n",
        collector_section(&collector.endpoint()),
        logs.display()
    );
    let p = policy(tmp, "p.toml", &data, &body);
    (collector, logs, p, data)
}

#[test]
fn lines_arrive_once_each_through_rotation_and_restart_and_scrubbed() {
    let tmp = tempfile::tempdir().unwrap();
    let (collector, logs, p, data) = follow_logs(tmp.path(), "poll_interval = \"50ms\"\n");
    let log = logs.join("app.log");
    append(&log, &lines(0..20));

    let (daemon, _) = start_daemon(&p, "info", &["noticed running"]);
    let wait = |n: usize| arrivals_at_least(&collector, n, Duration::from_secs(30));
    wait(20);
    append(&log, &lines(20..30));
    std::fs::rename(&log, logs.join("app.log.1")).unwrap();
    append(&log, &lines(30..40));
    wait(40);
    terminate(daemon);

    append(&log, &lines(40..50));
    let (daemon, _) = start_daemon(&p, "info", &["noticed running"]);
    let seen = wait(50);
    terminate(daemon);

    let mut counts: Vec<usize> = seen.values().copied().collect();
    counts.sort_unstable();
    assert_eq!(seen.len(), 50);
    assert!(
        counts.iter().all(|&c| c == 1),
        "every line exactly once: {seen:?}"
    );
    let sample = collector
        .records()
        .into_iter()
        .find(|r| {
            r["fields"]["message"]
                .as_str()
                .unwrap()
                .starts_with("line 7 ")
        })
        .unwrap();
    let message = sample["fields"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("line 7 from [ipv4:h:") && message.contains("user=[user_name:h:"),
        "{message}"
    );
    assert_eq!(
        sample["fields"]["file"].as_str().unwrap(),
        log.display().to_string()
    );
    for dir in [&collector.dir, &data] {
        assert_eq!(
            occurs_under(dir, b"192.0.2.8 "),
            None,
            "a raw address was stored under {}",
            dir.display()
        );
    }
}

#[test]
fn a_burst_is_stored_in_the_order_it_was_read() {
    // Enough lines for several policy rounds to run side by side: their records must still
    // take ids in the order the lines were read, or the spool's segments would interleave.
    let tmp = tempfile::tempdir().unwrap();
    let (collector, logs, p, _) = follow_logs(tmp.path(), "");
    let total = 30_000;
    append(&logs.join("burst.log"), &lines(0..total));
    let (daemon, _) = start_daemon(&p, "info", &["noticed running"]);
    wait_for(
        &format!("{total} lines at the collector"),
        Duration::from_secs(120),
        || (arrivals(&collector).len() >= total as usize).then_some(()),
    );
    terminate(daemon);

    let mut records: Vec<(String, u64)> = collector
        .records()
        .into_iter()
        .map(|r| {
            let message = r["fields"]["message"].as_str().unwrap();
            let n = message["line ".len()..].split(' ').next().unwrap();
            (r["id"].as_str().unwrap().to_owned(), n.parse().unwrap())
        })
        .collect();
    assert_eq!(records.len(), total as usize, "each line once");
    records.sort();
    let out_of_order = records.windows(2).filter(|w| w[0].1 > w[1].1).count();
    assert_eq!(
        out_of_order, 0,
        "record ids follow the order lines were read"
    );
}

/// Random base64 lines, as a private key's body is written (slashes and pluses included).
fn key_body(seed: &mut u64, lines: usize) -> Vec<String> {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..lines)
        .map(|_| {
            (0..64)
                .map(|_| {
                    *seed ^= *seed << 13;
                    *seed ^= *seed >> 7;
                    *seed ^= *seed << 17;
                    char::from(B64[(*seed % 64) as usize])
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_agent_stores_what_noticed_scrub_prints_for_the_same_file() {
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let first = seed;
    let mut log = String::from("start from 192.0.2.9\n");
    let mut secrets = Vec::new();
    for kind in [
        "RSA PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "PGP PRIVATE KEY BLOCK",
    ] {
        let body = key_body(&mut seed, 12);
        log.push_str(&format!("-----BEGIN {kind}-----\n"));
        for l in &body {
            log.push_str(l);
            log.push('\n');
        }
        log.push_str(&format!("-----END {kind}-----\n"));
        secrets.extend(body);
    }
    let coloured = key_body(&mut seed, 2);
    log.push_str(&format!(
        "\x1b[36mINFO\x1b[0m[0001] \x1b[36mpassword\x1b[0m={} user=bob\n",
        &coloured[0][..20]
    ));
    log.push_str(&format!(
        "config:\n  db_password: |\n    {}\n    {}\n  port: 5432\n",
        &coloured[1][..24],
        &coloured[1][30..]
    ));
    secrets.extend([
        coloured[0][..20].to_owned(),
        coloured[1][..24].to_owned(),
        coloured[1][30..].to_owned(),
    ]);
    log.push_str("end\n");

    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let (p, _) = log_file_policy(tmp.path(), &collector.endpoint(), &log, "");
    let once = run_once(&p);
    assert!(once.status.success(), "{}", text(&once));
    // Record ids are drawn in read order.
    let mut stored: Vec<(String, String)> = collector
        .records()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["fields"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    stored.sort();
    let stored: Vec<&str> = stored.iter().map(|(_, m)| m.as_str()).collect();

    let scrubbed = run(&[
        "scrub",
        "--policy",
        p.to_str().unwrap(),
        tmp.path().join("logs/app.log").to_str().unwrap(),
    ]);
    assert!(scrubbed.status.success(), "{}", text(&scrubbed));
    let printed = String::from_utf8(scrubbed.stdout).unwrap();
    let printed: Vec<&str> = printed.lines().collect();
    assert_eq!(stored, printed, "seed {first}");
    for s in &secrets {
        assert!(
            !printed.iter().any(|l| l.contains(s.as_str())),
            "{s} survived (seed {first})"
        );
    }
    assert!(printed.iter().all(|l| !l.contains('\x1b')));
}

#[test]
fn free_text_goes_out_raw_only_when_the_policy_acknowledges_it() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let (p, _) = log_file_policy(
        tmp.path(),
        &collector.endpoint(),
        "login from 192.0.2.9 by alice@example.com\n",
        "",
    );
    // The same policy, its log lines allowed as they are.
    let raw = std::fs::read_to_string(&p).unwrap().replace(
        "allow = [\"file\"]\nscrub = [\"message\"]",
        "allow = [\"file\", \"message\"]",
    );
    std::fs::write(&p, &raw).unwrap();
    let refused = run_once(&p);
    assert_eq!(refused.status.code(), Some(78), "{}", text(&refused));
    let line = raw
        .lines()
        .position(|l| l.contains("\"message\"]"))
        .unwrap()
        + 1;
    assert!(
        text(&refused).contains(&format!("p.toml:{line}:"))
            && text(&refused).contains("send_unscrubbed_free_text"),
        "{}",
        text(&refused)
    );
    assert!(
        collector.records().is_empty(),
        "nothing ran on a refused policy"
    );

    std::fs::write(
        &p,
        raw.replace(
            "[[source]]",
            "[scrub]\nsend_unscrubbed_free_text = true\n\n[[source]]",
        ),
    )
    .unwrap();
    let once = run_once(&p);
    assert!(once.status.success(), "{}", text(&once));
    let messages: Vec<String> = collector
        .records()
        .iter()
        .map(|r| {
            r["fields"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        messages,
        ["login from 192.0.2.9 by alice@example.com"],
        "sent as the admin acknowledged"
    );
    let notice = text(&run(&["notice", "--policy", p.to_str().unwrap()]));
    assert!(notice.contains("without scrubbing it"), "{notice}");
}
