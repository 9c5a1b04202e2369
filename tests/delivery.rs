//! End to end with real processes: `noticed run --once` → redb spool → HTTP → `noticed collector`.

mod common;

use std::collections::HashSet;

use common::proxy::LosingProxy;
use common::*;
use serde_json::Value;

const ALLOW_SOME: &str = r#"
[[source]]
type = "host_metrics"

[[source]]
type = "host_config"

[category.performance]
purpose = "service-operational"
allow = ["memory.*", "load.*"]

[category.configuration]
purpose = "service-operational"
allow = ["os.*"]
pseudonymize = ["host.name"]
"#;

fn ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn only_allowed_fields_arrive_and_the_host_name_only_as_its_pseudonym() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let agent_dir = tmp.path().join("agent");
    let body = format!("{}{ALLOW_SOME}", collector_section(&collector.endpoint()));
    let policy = policy(tmp.path(), "p.toml", &agent_dir, &body);

    let first = run_once(&policy);
    assert!(first.status.success(), "{}", text(&first));
    let second = run_once(&policy);
    assert!(second.status.success(), "{}", text(&second));
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        stdout.contains("sent       2 records in 1 batch to"),
        "{stdout}"
    );

    let records = collector.records();
    assert_eq!(records.len(), 4, "two rounds of two sources");
    let mut pseudonyms = HashSet::new();
    for r in &records {
        assert_eq!(r["purpose"], "service-operational");
        assert_eq!(r["policy"]["version"], "2019-07-01");
        let fields = r["fields"].as_object().unwrap();
        match r["category"].as_str().unwrap() {
            "performance" => {
                assert!(
                    fields.keys().all(|k| k == "memory" || k == "load"),
                    "{fields:?}"
                );
                assert!(fields["memory"]["total_bytes"].as_u64().unwrap() > 0);
                let removed: Vec<&str> = r["provenance"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["field"].as_str().unwrap())
                    .collect();
                assert!(
                    removed.contains(&"cpu.usage_percent")
                        && removed.contains(&"disk.mounts.mount"),
                    "{removed:?}"
                );
            }
            "configuration" => {
                assert!(
                    fields.keys().all(|k| k == "os" || k == "host"),
                    "{fields:?}"
                );
                assert_eq!(fields["host"].as_object().unwrap().len(), 1);
                pseudonyms.insert(fields["host"]["name"].as_str().unwrap().to_owned());
            }
            other => panic!("unexpected category {other}"),
        }
    }
    assert_eq!(
        pseudonyms.len(),
        1,
        "the same host name maps to the same pseudonym on both runs"
    );
    let pseudonym = pseudonyms.into_iter().next().unwrap();
    assert!(
        pseudonym.starts_with("h:") && pseudonym.len() == 18,
        "{pseudonym}"
    );

    let raw = format!("\"{}\"", host_name());
    for dir in [&collector.dir, &agent_dir] {
        assert_eq!(
            occurs_under(dir, raw.as_bytes()),
            None,
            "raw host name {raw} stored"
        );
    }
    for out in [&first, &second] {
        assert!(
            !text(out).contains(&raw),
            "raw host name in the agent's output"
        );
    }
}

#[test]
fn usage_records_need_consent() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let usage_rules = "[[source]]\ntype = \"host_metrics\"\n\n[category.performance]\npurpose = \"usage\"\nallow = [\"memory.*\"]\n";

    let without = format!(
        "{}[consent]\nusage = false\n\n{usage_rules}",
        collector_section(&collector.endpoint())
    );
    let p = policy(
        tmp.path(),
        "off.toml",
        &tmp.path().join("agent-off"),
        &without,
    );
    let out = run_once(&p);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("usage without consent: 1"),
        "{}",
        text(&out)
    );
    assert!(collector.records().is_empty());
    assert!(records_json(&p).is_empty(), "nothing stored locally either");
    assert!(!collector.dir.join("usage").exists());

    let with = format!(
        "{}[consent]\nusage = true\n\n{usage_rules}",
        collector_section(&collector.endpoint())
    );
    let p = policy(tmp.path(), "on.toml", &tmp.path().join("agent-on"), &with);
    let out = run_once(&p);
    assert!(out.status.success(), "{}", text(&out));
    let records = collector.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["purpose"], "usage");
    assert!(collector.dir.join("usage").is_dir());
}

#[test]
fn a_batch_resent_after_a_lost_acknowledgement_is_stored_once() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let proxy = LosingProxy::start(collector.addr, 1);
    let body = format!("{}{ALLOW_SOME}", collector_section(&proxy.endpoint()));
    let p = policy(tmp.path(), "p.toml", &tmp.path().join("agent"), &body);

    let out = run_once(&p);
    assert!(out.status.success(), "the retry succeeds: {}", text(&out));
    assert_eq!(
        proxy.forwarded(),
        2,
        "the batch reached the collector twice"
    );
    let stored = collector.records();
    let unique: HashSet<String> = ids(&stored).into_iter().collect();
    assert_eq!(stored.len(), 2);
    assert_eq!(unique.len(), 2, "each record stored once");
    assert!(
        records_json(&p)
            .iter()
            .all(|r| r["delivery"]["state"] == "sent")
    );
}

#[test]
fn an_unacknowledged_batch_keeps_its_id_across_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let proxy = LosingProxy::start(collector.addr, usize::MAX);
    let agent_dir = tmp.path().join("agent");
    let lossy = policy(
        tmp.path(),
        "lossy.toml",
        &agent_dir,
        &format!("{}{ALLOW_SOME}", collector_section(&proxy.endpoint())),
    );

    let out = run_once(&lossy);
    assert_eq!(
        out.status.code(),
        Some(75),
        "delivery not confirmed: {}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("pending    2 records"),
        "{}",
        text(&out)
    );
    let local = records_json(&lossy);
    assert!(
        local.iter().all(|r| r["delivery"]["state"] == "in-flight"),
        "{local:?}"
    );
    let batch = local[0]["delivery"]["batch"].clone();
    assert!(proxy.forwarded() >= 1);
    assert_eq!(collector.records().len(), 2, "the collector did store them");

    let direct = policy(
        tmp.path(),
        "direct.toml",
        &agent_dir,
        &format!("{}{ALLOW_SOME}", collector_section(&collector.endpoint())),
    );
    let out = run_once(&direct);
    assert!(out.status.success(), "{}", text(&out));
    let stored = collector.records();
    let unique: HashSet<String> = ids(&stored).into_iter().collect();
    assert_eq!(stored.len(), 4, "two rounds, each record once: {stored:?}");
    assert_eq!(unique.len(), 4);
    let local = records_json(&direct);
    assert!(local.iter().all(|r| r["delivery"]["state"] == "sent"));
    let resent: Vec<_> = local
        .iter()
        .filter(|r| r["delivery"]["batch"] == batch)
        .collect();
    assert_eq!(
        resent.len(),
        2,
        "the first round went in its original batch"
    );
}

#[test]
fn a_dead_collector_loses_nothing_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}/v1/batches");
    let p = policy(
        tmp.path(),
        "p.toml",
        &tmp.path().join("agent"),
        &format!("{}{ALLOW_SOME}", collector_section(&endpoint)),
    );
    let out = run_once(&p);
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("collector unreachable"), "{stdout}");
    assert!(stdout.contains("pending    2 records wait"), "{stdout}");
    assert_eq!(records_json(&p).len(), 2);
}

#[test]
fn the_collector_rejects_malformed_batches_with_a_reason() {
    use std::io::{Read, Write};
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let post = |body: &str, extra: &str| {
        let mut s = std::net::TcpStream::connect(collector.addr).unwrap();
        write!(s, "POST /v1/batches HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        reply
    };
    let r = post("{not json", "");
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    assert!(r.contains("malformed batch"), "{r}");
    let r = post(r#"{"batch_id":"01a228d2-d4c8-73ed-b40e-f1e8c49e252c"}"#, "");
    assert!(
        r.starts_with("HTTP/1.1 400") && r.contains("missing field"),
        "{r}"
    );
    let r = post("{}", "Content-Encoding: gzip\r\n");
    assert!(r.starts_with("HTTP/1.1 400") && r.contains("gzip"), "{r}");
    let r = post("{}", "Content-Encoding: br\r\n");
    assert!(r.starts_with("HTTP/1.1 415"), "{r}");
    assert!(collector.records().is_empty());
}

#[test]
fn the_daemon_ships_on_its_flush_interval_and_stops_on_ctrl_c() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let body = format!("{}{ALLOW_SOME}", collector_section(&collector.endpoint()));
    let p = policy(tmp.path(), "p.toml", &tmp.path().join("agent"), &body);
    let mut daemon = bin()
        .args(["run", "--policy", p.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();

    let stored = wait_for(
        "the daemon's first rounds at the collector",
        std::time::Duration::from_secs(30),
        || {
            let r = collector.records();
            (r.len() >= 2).then_some(r)
        },
    );
    assert_eq!(stored.len(), 2, "{stored:?}");

    let concurrent = run_once(&p);
    assert_eq!(concurrent.status.code(), Some(1), "{}", text(&concurrent));
    assert!(
        text(&concurrent).contains("in use by another noticed process"),
        "{}",
        text(&concurrent)
    );

    rustix::process::kill_process(
        rustix::process::Pid::from_child(&daemon),
        rustix::process::Signal::INT,
    )
    .unwrap();
    assert!(daemon.wait().unwrap().success(), "clean exit on Ctrl-C");
    assert!(
        records_json(&p)
            .iter()
            .all(|r| r["delivery"]["state"] == "sent")
    );
}

#[test]
fn the_collector_refuses_oversized_batches_and_never_logs_values() {
    use std::io::{Read, Write};
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("collector.log");
    let collector = Collector::start_logged(
        &tmp.path().join("collector"),
        &["--max-batch-bytes", "4000"],
        &log,
    );
    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let lines: String = (0..40)
        .map(|i| format!("login {i} user=alice password=hunter2 from 192.0.2.77\n"))
        .collect();
    std::fs::write(logs.join("app.log"), lines).unwrap();
    let body = format!(
        "{}[[source]]\ntype = \"log_file\"\npaths = [\"{}/*.log\"]\nstart_at = \"beginning\"\n\n\
         [category.service-logs]\npurpose = \"service-operational\"\nallow = [\"file\"]\nscrub = [\"message\"]\n",
        collector_section(&collector.endpoint()),
        logs.display()
    );
    let p = policy(tmp.path(), "p.toml", &tmp.path().join("agent"), &body);
    let out = run_once(&p);
    assert!(out.status.success(), "{}", text(&out));
    let stored = collector.records();
    assert_eq!(stored.len(), 40, "split until each part fits, nothing lost");
    assert_eq!(ids(&stored).into_iter().collect::<HashSet<_>>().len(), 40);

    // A malformed batch carrying a planted value is refused without logging it.
    let planted = "planted-0x5ec12e7-value";
    let body = format!("{{\"batch_id\": \"{planted}\", \"records\": []}}");
    let mut s = std::net::TcpStream::connect(collector.addr).unwrap();
    write!(
        s,
        "POST /v1/batches HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    drop(collector);
    let logged = std::fs::read_to_string(&log).unwrap();
    let accepted = logged.matches("batch accepted").count();
    assert!(
        accepted >= 5,
        "40 records of ~450 bytes need 5+ batches under 4000 bytes: {logged}"
    );
    for value in [planted, "alice", "hunter2", "192.0.2.77", "[user_name:h:"] {
        assert!(
            !logged.contains(value),
            "the collector logged {value}: {logged}"
        );
    }
}

#[test]
fn a_collector_out_of_disk_mid_batch_keeps_no_partial_lines_and_stores_the_resend_once() {
    let tmp = tempfile::tempdir().unwrap();
    // Room for a few dozen of the 400 records: the append fails in the middle of the batch.
    let collector = Collector::start_with_file_limit(&tmp.path().join("collector"), 16 * 1024);
    let lines: String = (0..400)
        .map(|n| format!("line {n} of a service log, padded to about a hundred bytes ......\n"))
        .collect();
    let (p, _) = log_file_policy(tmp.path(), &collector.endpoint(), &lines, "");

    let out = run_once(&p);
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("cannot store the batch now"),
        "{}",
        text(&out)
    );
    let stored = std::fs::read_dir(collector.dir.join("service-operational"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect::<Vec<_>>();
    assert!(
        stored.iter().all(Vec::is_empty),
        "the failed append was cut off again, not left as partial lines: {} bytes",
        stored.iter().map(Vec::len).sum::<usize>()
    );

    collector.lift_file_limit();
    let out = run_once(&p);
    assert!(out.status.success(), "{}", text(&out));
    let seen = arrivals(&collector);
    assert_eq!(seen.len(), 400);
    assert!(seen.values().all(|&c| c == 1), "each line stored once");
}
