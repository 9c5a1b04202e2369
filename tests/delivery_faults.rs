//! Delivery against a collector that fails in scripted ways (5xx, 429 with both `Retry-After`
//! forms, 413, 400, refusing long enough to fill the spool): the real binary, a real HTTP
//! server on loopback, real files.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use common::scripted::{Scripted, ok};
use common::*;
use serde_json::Value;

/// A policy that reads `lines` log lines from a file, one record each, and ships to `endpoint`.
fn log_policy(tmp: &Path, endpoint: &str, lines: usize) -> (PathBuf, PathBuf) {
    let text: String = (0..lines).map(|i| format!("line {i}\n")).collect();
    log_file_policy(tmp, endpoint, &text, "")
}

fn gap(a: &common::scripted::Seen, b: &common::scripted::Seen) -> Duration {
    b.at.duration_since(a.at)
}

#[test]
fn retries_wait_as_long_as_retry_after_says_in_both_forms() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Scripted::start(|n, batch| match n {
        0 => (500, vec![], "{\"error\":\"down for a moment\"}".into()),
        1 => (429, vec![("retry-after", "1".into())], String::new()),
        2 => {
            let at = SystemTime::now() + Duration::from_secs(2);
            (
                503,
                vec![("retry-after", httpdate::fmt_http_date(at))],
                String::new(),
            )
        }
        _ => ok(batch),
    });
    let (policy, _) = log_policy(tmp.path(), collector.endpoint(), 5);

    let out = run_once(&policy);
    assert!(out.status.success(), "{}", text(&out));
    let seen = collector.seen();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(
        seen.iter().all(|s| s.batch == seen[0].batch),
        "one batch id across retries"
    );
    // The agent's own back-off starts at 200 ms for `run --once`: waits of a second or more
    // come from the collector's Retry-After.
    assert!(
        gap(&seen[1], &seen[2]) >= Duration::from_secs(1),
        "{seen:?}"
    );
    // An HTTP-date two seconds ahead, at one-second resolution: at least one second.
    assert!(
        gap(&seen[2], &seen[3]) >= Duration::from_secs(1),
        "{seen:?}"
    );
    let (ids, twice) = collector.accepted();
    assert_eq!((ids.len(), twice), (5, 0));
}

#[test]
fn a_batch_too_large_is_split_until_it_fits_and_nothing_is_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Scripted::start(|_, batch| {
        if batch.records.len() > 2 {
            (413, vec![], "{\"error\":\"batch too large\"}".into())
        } else {
            ok(batch)
        }
    });
    let (policy, _) = log_policy(tmp.path(), collector.endpoint(), 7);

    let out = run_once(&policy);
    assert!(out.status.success(), "{}", text(&out));
    let (ids, twice) = collector.accepted();
    assert_eq!((ids.len(), twice), (7, 0), "{:?}", collector.seen());
    assert!(
        collector
            .seen()
            .iter()
            .filter(|s| s.status == 200)
            .all(|s| s.records.len() <= 2)
    );
    let records = records_json(&policy);
    assert!(
        records.iter().all(|r| r["delivery"]["state"] == "sent"),
        "{records:?}"
    );
    let status = run(&[
        "dead-letters",
        "--json",
        "--policy",
        policy.to_str().unwrap(),
    ]);
    assert!(
        status.status.success() && status.stdout.is_empty(),
        "{}",
        text(&status)
    );
}

#[test]
fn a_refused_batch_is_kept_as_a_dead_letter_and_sent_again_on_request() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Scripted::start(|n, batch| match n {
        0 => (400, vec![], "{\"error\":\"unsupported schema\"}".into()),
        _ => ok(batch),
    });
    let (policy, _) = log_policy(tmp.path(), collector.endpoint(), 3);
    let p = policy.to_str().unwrap();

    let out = run_once(&policy);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("dead       3 records the collector refused"),
        "{}",
        text(&out)
    );
    assert_eq!(collector.accepted().0.len(), 0);
    let refused = collector.seen()[0].batch;

    let listed = run(&["dead-letters", "--json", "--policy", p]);
    assert!(listed.status.success(), "{}", text(&listed));
    let dead: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(dead["batch"], refused.to_string());
    assert_eq!(dead["status"], 400);
    assert_eq!(dead["records"], 3);
    assert_eq!(dead["reason"], "unsupported schema");
    let records = records_json(&policy);
    assert_eq!(records.len(), 3);
    assert!(
        records.iter().all(|r| r["delivery"]["state"] == "dead"),
        "{records:?}"
    );

    // A second run does not resend it by itself.
    assert!(run_once(&policy).status.success());
    assert_eq!(collector.seen().len(), 1);

    let retried = run(&["dead-letters", "--retry", "--policy", p]);
    assert!(retried.status.success(), "{}", text(&retried));
    assert!(
        text(&retried).contains("3 record(s) queued"),
        "{}",
        text(&retried)
    );
    assert!(run_once(&policy).status.success());
    let seen = collector.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[1].batch, seen[1].status),
        (refused, 200),
        "sent again with its id"
    );
    assert_eq!(collector.accepted().0.len(), 3);
    let listed = run(&["dead-letters", "--policy", p]);
    assert!(
        text(&listed).contains("no dead letters"),
        "{}",
        text(&listed)
    );
}

#[test]
fn batches_in_flight_together_each_end_acknowledged_or_kept_never_twice() {
    let tmp = tempfile::tempdir().unwrap();
    // Every third batch to arrive is refused, whichever of the two in flight it is.
    let collector = Scripted::start(|n, batch| match n % 3 {
        1 => (400, vec![], "{\"error\":\"no\"}".into()),
        _ => ok(batch),
    });
    let (policy, _) = log_policy(tmp.path(), collector.endpoint(), 21);
    edit_policy(&policy, "batch_max_records = 500", "batch_max_records = 2");

    let out = run_once(&policy);
    assert!(out.status.success(), "{}", text(&out));
    let seen = collector.seen();
    let refused: usize = seen
        .iter()
        .filter(|s| s.status == 400)
        .map(|s| s.records.len())
        .sum();
    let (ids, twice) = collector.accepted();
    assert_eq!(twice, 0, "{seen:?}");
    assert_eq!(ids.len() + refused, 21, "{seen:?}");
    assert!(refused > 0 && seen.iter().all(|s| s.records.len() <= 2));
    let records = records_json(&policy);
    let dead = records
        .iter()
        .filter(|r| r["delivery"]["state"] == "dead")
        .count();
    let sent = records
        .iter()
        .filter(|r| r["delivery"]["state"] == "sent")
        .count();
    assert_eq!((sent, dead), (ids.len(), refused), "{records:?}");
}

#[test]
fn a_second_batch_is_sent_while_the_first_waits_for_its_answer() {
    let tmp = tempfile::tempdir().unwrap();
    // The first batch's answer waits until another request arrives; an agent that sends one
    // batch at a time would only send again after its 5 s timeout, and then the same batch.
    let collector = Scripted::start_holding(&[0], |_, batch| ok(batch));
    let (policy, _) = log_policy(tmp.path(), collector.endpoint(), 10);
    edit_policy(&policy, "batch_max_records = 500", "batch_max_records = 2");

    let out = run_once(&policy);
    assert!(out.status.success(), "{}", text(&out));
    let seen = collector.seen();
    assert!(!collector.hold_expired(), "{seen:?}");
    assert_ne!(
        seen[0].batch, seen[1].batch,
        "the request that released the first was another batch, not its resend: {seen:?}"
    );
    let (ids, twice) = collector.accepted();
    assert_eq!((ids.len(), twice), (10, 0), "{seen:?}");
}

#[test]
fn a_collector_slower_than_the_timeout_gets_the_same_batch_again() {
    let tmp = tempfile::tempdir().unwrap();
    // The first answer waits until the agent has given up on it and sent the batch again.
    let collector = Scripted::start_holding(&[0], |_, batch| ok(batch));
    let (policy, _) = log_policy(tmp.path(), collector.endpoint(), 4);
    edit_policy(&policy, "timeout = \"5s\"", "timeout = \"1s\"");

    let out = run_once(&policy);
    assert!(out.status.success(), "{}", text(&out));
    let seen = collector.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        !collector.hold_expired(),
        "the agent waited for the held answer"
    );
    assert_eq!(
        seen[0].batch, seen[1].batch,
        "the resend carries the id a collector dedups by"
    );
    assert_eq!(seen[0].records, seen[1].records);
    let records = records_json(&policy);
    assert!(
        records.iter().all(|r| r["delivery"]["state"] == "sent"),
        "{records:?}"
    );
}

#[test]
fn the_standard_proxy_variable_carries_the_batches() {
    let tmp = tempfile::tempdir().unwrap();
    // A plain-HTTP proxy gets the request in absolute form and routes it by its path.
    let proxy = Scripted::start(|_, batch| ok(batch));
    let proxy_addr = proxy
        .endpoint()
        .trim_end_matches(noticed::wire::BATCHES_PATH)
        .to_owned();
    let (policy, _) = log_policy(tmp.path(), "http://collector.invalid:4390/v1/batches", 2);
    edit_policy(
        &policy,
        "[collector]\n",
        "[collector]\nallow_insecure = true\n",
    );

    let direct = bin()
        .args(["run", "--once", "--policy", policy.to_str().unwrap()])
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .output()
        .unwrap();
    assert_eq!(
        direct.status.code(),
        Some(75),
        "no such host without the proxy: {}",
        text(&direct)
    );
    let proxied = bin()
        .args(["run", "--once", "--policy", policy.to_str().unwrap()])
        .env("HTTP_PROXY", &proxy_addr)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    assert!(proxied.status.success(), "{}", text(&proxied));
    assert_eq!(proxy.accepted().0.len(), 2);
}

/// A daemon following a 20 MB log (10,000 lines of 2 KB) into a spool capped at 16 MB while the
/// collector refuses every batch until `open` is set; returns it, its data folder and policy,
/// and the collector.
fn follow_into_a_small_spool(
    tmp: &Path,
    when_full: &str,
    open: &Arc<AtomicBool>,
) -> (Daemon, PathBuf, PathBuf, Scripted) {
    let open = Arc::clone(open);
    let collector = Scripted::start(move |_, batch| {
        if open.load(Ordering::SeqCst) {
            ok(batch)
        } else {
            (503, vec![("retry-after", "1".into())], String::new())
        }
    });
    let pad = "x".repeat(2000);
    let text: String = (0..10_000).map(|i| format!("line {i} {pad}\n")).collect();
    let (p, data) = log_file_policy(
        tmp,
        collector.endpoint(),
        &text,
        &format!("[retention]\nspool_max_bytes = 16000000\nwhen_full = \"{when_full}\"\n\n"),
    );
    let (daemon, _) = start_daemon(&p, "info", &["noticed running"]);
    (daemon, data, p, collector)
}

fn dropped_over_size(status: &Value) -> u64 {
    counter(status, "dropped.over_size.service-logs")
}

#[test]
fn log_sources_wait_for_a_full_spool_and_lose_no_line() {
    let tmp = tempfile::tempdir().unwrap();
    let open = Arc::new(AtomicBool::new(false));
    let (daemon, data, p, collector) = follow_into_a_small_spool(tmp.path(), "wait", &open);

    let status = wait_for(
        "the log source to wait for room",
        Duration::from_secs(60),
        || {
            admin_status(&data)
                .filter(|s| s["daemon"]["sources"]["log_file"]["waiting_for_room"] == true)
        },
    );
    assert_eq!(dropped_over_size(&status), 0, "{status}");
    let unsent = status["unsent"].as_u64();
    assert!(
        unsent.is_some_and(|n| n < 10_000),
        "it stopped reading before the end: {unsent:?}"
    );
    let human = text(&run(&["status", "--policy", p.to_str().unwrap()]));
    assert!(
        human.contains("log_file: ") && human.contains("waiting: unsent records fill the spool"),
        "{human}"
    );

    open.store(true, Ordering::SeqCst);
    wait_for(
        "every line at the collector",
        Duration::from_secs(90),
        || (collector.accepted().0.len() >= 10_000).then_some(()),
    );
    let (ids, twice) = collector.accepted();
    assert_eq!((ids.len(), twice), (10_000, 0));
    let status = admin_status(&data).expect("the daemon answers");
    assert_eq!(dropped_over_size(&status), 0, "{status}");
    assert!(counter(&status, "source.waited_for_room") >= 1, "{status}");
    assert_ne!(
        status["daemon"]["sources"]["log_file"]["waiting_for_room"],
        true
    );
    terminate(daemon);
}

#[test]
fn with_drop_oldest_the_same_spool_drops_and_counts_what_the_cap_cannot_hold() {
    let tmp = tempfile::tempdir().unwrap();
    let open = Arc::new(AtomicBool::new(false));
    let (daemon, data, _, _collector) = follow_into_a_small_spool(tmp.path(), "drop-oldest", &open);
    let status = wait_for(
        "records dropped at the cap",
        Duration::from_secs(60),
        || admin_status(&data).filter(|s| dropped_over_size(s) > 0),
    );
    assert!(
        status["daemon"]["sources"]["log_file"]["waiting_for_room"].is_null(),
        "{status}"
    );
    assert_eq!(counter(&status, "source.waited_for_room"), 0);
    terminate(daemon);
}

#[test]
fn a_refused_deletion_request_stays_queued_and_does_not_hold_the_batches_back() {
    let tmp = tempfile::tempdir().unwrap();
    // This collector knows batches only: a control message gets a 404, a refusal that
    // retrying would not change.
    let collector = Scripted::start(|_, batch| ok(batch));
    let (policy, _) = log_policy(tmp.path(), collector.endpoint(), 6);
    let p = policy.to_str().unwrap();
    let out = run(&["forget", "--subject", "someone", "--policy", p]);
    assert!(out.status.success(), "{}", text(&out));

    let out = run_once(&policy);
    assert!(out.status.success(), "{}", text(&out));
    let (ids, twice) = collector.accepted();
    assert_eq!((ids.len(), twice), (6, 0), "{:?}", collector.seen());
    let out = run(&["status", "--json", "--policy", p]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        status["spool"]["controls_queued"], 1,
        "the request waits for a collector that takes it: {status}"
    );
}
