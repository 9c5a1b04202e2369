//! What customers take back, end to end with real processes: `noticed forget` removes a
//! subject's records here and (by pseudonym only) at the collector; withdrawn usage consent
//! purges unsent usage records and tells the collector.

mod common;

use std::path::Path;

use common::*;

fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}/v1/batches")
}

fn log_policy(tmp: &Path, name: &str, endpoint: &str, extra: &str) -> std::path::PathBuf {
    let logs = tmp.join("logs");
    let body = format!(
        "{extra}\n{}[[source]]\ntype = \"log_file\"\npaths = [\"{}/*.log\"]\nstart_at = \"beginning\"\n\n\
         [category.service-logs]\npurpose = \"service-operational\"\nallow = [\"file\"]\nscrub = [\"message\"]\n",
        collector_section(endpoint),
        logs.display()
    );
    policy(tmp, name, &tmp.join("agent"), &body)
}

fn append(tmp: &Path, text: &str) {
    use std::io::Write;
    let logs = tmp.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(logs.join("app.log"))
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn messages(records: &[serde_json::Value]) -> Vec<String> {
    let mut m: Vec<String> = records
        .iter()
        .map(|r| r["fields"]["message"].as_str().unwrap().to_owned())
        .collect();
    m.sort();
    m
}

#[test]
fn forget_removes_a_subject_here_and_at_the_collector_by_pseudonym() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    append(
        tmp.path(),
        "login ok user=alice\nlogin ok user=bob\nlogout user=alice\n",
    );
    let online = log_policy(tmp.path(), "online.toml", &collector.endpoint(), "");
    let offline = log_policy(tmp.path(), "offline.toml", &closed_port(), "");
    assert!(run_once(&online).status.success());
    assert_eq!(collector.records().len(), 3);
    let alice_token = {
        let all = messages(&collector.records());
        let line = all
            .iter()
            .find(|m| m.starts_with("logout"))
            .unwrap()
            .clone();
        line.trim_start_matches("logout user=").to_owned()
    };
    assert!(alice_token.starts_with("[user_name:h:"), "{alice_token}");

    // One more of alice's lines waits unsent while the collector is out of reach.
    append(tmp.path(), "retry user=alice\n");
    assert_eq!(run_once(&offline).status.code(), Some(75));

    let out = run(&[
        "forget",
        "--subject",
        "alice",
        "--json",
        "--policy",
        offline.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let forgotten: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(forgotten["removed"], 3, "two sent, one unsent: {forgotten}");
    let pseudonym = forgotten["pseudonym"].as_str().unwrap();
    assert!(
        alice_token.contains(&pseudonym[..10]),
        "{alice_token} vs {pseudonym}"
    );
    assert!(
        !text(&out).contains("alice"),
        "the value is not echoed back"
    );
    let local: Vec<serde_json::Value> = records_json(&online)
        .into_iter()
        .map(|s| s["record"].clone())
        .collect();
    let local = messages(&local);
    assert_eq!(local.len(), 1, "only bob's line is left here: {local:?}");
    assert!(local[0].starts_with("login ok user=") && !local[0].contains(&alice_token));

    // The deletion request goes first when the collector is reachable again.
    assert!(run_once(&online).status.success());
    let left = messages(&collector.records());
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with("login ok user=") && !left[0].contains(&alice_token));
    let log = std::fs::read_to_string(collector.dir.join("control.log")).unwrap();
    let entry: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(entry["control"]["kind"], "forget");
    assert_eq!(entry["control"]["subject"], pseudonym);
    assert_eq!(entry["deleted"], 2);
    assert_eq!(occurs_under(&collector.dir, b"alice"), None);
    assert_eq!(occurs_under(&tmp.path().join("agent"), b"alice"), None);

    // Sent once: a later run does not send it again.
    assert!(run_once(&online).status.success());
    assert_eq!(
        std::fs::read_to_string(collector.dir.join("control.log"))
            .unwrap()
            .lines()
            .count(),
        1
    );
}

#[test]
fn withdrawn_usage_consent_purges_unsent_usage_records_and_tells_the_collector() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    append(tmp.path(), "clicked export\nclicked import\n");
    let usage = |name: &str, endpoint: &str, consent: bool| {
        let logs = tmp.path().join("logs");
        let body = format!(
            "[consent]\nusage = {consent}\n\n{}[[source]]\ntype = \"log_file\"\npaths = [\"{}/*.log\"]\nstart_at = \"beginning\"\ncategory = \"feature-usage\"\n\n\
             [category.feature-usage]\npurpose = \"usage\"\nallow = [\"file\"]\nscrub = [\"message\"]\n",
            collector_section(endpoint),
            logs.display()
        );
        policy(tmp.path(), name, &tmp.path().join("agent"), &body)
    };
    let given = usage("given.toml", &closed_port(), true);
    assert_eq!(run_once(&given).status.code(), Some(75));
    assert_eq!(
        records_json(&given).len(),
        2,
        "two usage records wait unsent"
    );

    let withdrawn = usage("withdrawn.toml", &collector.endpoint(), false);
    let out = run_once(&withdrawn);
    assert!(out.status.success(), "{}", text(&out));
    assert!(records_json(&withdrawn).is_empty(), "purged locally");
    assert!(collector.records().is_empty(), "none reached the collector");
    let log = std::fs::read_to_string(collector.dir.join("control.log")).unwrap();
    let entry: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(entry["control"]["kind"], "consent-withdrawn");
    assert_eq!(entry["control"]["purpose"], "usage");
    assert_eq!(entry["control"]["purged"], 2);

    // Still withdrawn on the next start: nothing more to purge, nothing sent again.
    assert!(run_once(&withdrawn).status.success());
    assert_eq!(
        std::fs::read_to_string(collector.dir.join("control.log"))
            .unwrap()
            .lines()
            .count(),
        1
    );
}

/// Posts `body` to the collector's control path over plain HTTP/1.1; returns the status code.
fn post_control(collector: &Collector, body: &str) -> u16 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(collector.addr).unwrap();
    write!(
        s,
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        noticed::wire::CONTROL_PATH,
        collector.addr,
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"))
}

#[test]
fn the_collector_forgets_by_pseudonym_only_never_by_a_value() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let forget = |subject: &str| {
        format!(
            r#"{{"id":"{}","host":"h:5e1c0a0b0c0d0e0f","created_at":"2026-12-07T10:00:00Z","kind":"forget","subject":"{subject}"}}"#,
            uuid::Uuid::now_v7()
        )
    };
    // Values, and pseudonyms of the wrong shape, as long as a pseudonym (18 bytes) or not.
    for subject in [
        "alice@example.org!",
        "hx0123456789abcdef",
        "h:0123456789abcdeg",
        "h:0123456789abcde",
        "alice",
    ] {
        assert_eq!(post_control(&collector, &forget(subject)), 400, "{subject}");
    }
    assert_eq!(post_control(&collector, &forget("h:0123456789abcdef")), 200);
    let log = std::fs::read_to_string(collector.dir.join("control.log")).unwrap();
    assert_eq!(
        log.lines().count(),
        1,
        "only the pseudonym was handled: {log}"
    );
    assert!(!log.contains("alice"), "{log}");
}
