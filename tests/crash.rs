//! kill -9 of the agent, again and again, while it follows a growing log file: afterwards the
//! collector holds every line exactly once (checkpoints commit with their records; batches keep
//! their ids; the collector deduplicates). `NOTICED_CRASH_KILLS` sets the number of kills
//! (default 10; docs/RELIABILITY.md records a longer run).
//!
//! Random kills land between two ordered steps only now and then, so each crash invariant also
//! has a test that stops the process uncleanly exactly there, through a crash point
//! (`NOTICED_CRASH_AT`, src/crashpoint.rs), and then requires every line once.

mod common;

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use noticed::crashpoint;

const LINES: u64 = 4000;
const CHUNK: u64 = 20;

#[test]
fn kill_9_while_ingesting_loses_nothing_and_repeats_nothing() {
    let kills: usize = std::env::var("NOTICED_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let log = logs.join("app.log");
    std::fs::write(&log, "").unwrap();
    let body = format!(
        "{}[[source]]\ntype = \"log_file\"\npaths = [\"{}/*.log\"]\nstart_at = \"beginning\"\npoll_interval = \"20ms\"\n\n\
         [category.service-logs]\npurpose = \"service-operational\"\nallow = [\"file\"]\nscrub = [\"message\"]\n",
        collector_section(&collector.endpoint())
            .replace("batch_max_records = 500", "batch_max_records = 100"),
        logs.display()
    );
    let p = policy(tmp.path(), "p.toml", &tmp.path().join("agent"), &body);

    // The writer paces itself so that the kills land while lines keep arriving.
    let written = Arc::new(AtomicBool::new(false));
    let writer = {
        let (log, written) = (log.clone(), Arc::clone(&written));
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
            for start in (0..LINES).step_by(CHUNK as usize) {
                let chunk: String = (start..start + CHUNK)
                    .map(|n| format!("line {n} from 192.0.2.{} user=u{n}\n", n % 250 + 1))
                    .collect();
                f.write_all(chunk.as_bytes()).unwrap();
                std::thread::sleep(Duration::from_millis(15));
            }
            written.store(true, Ordering::SeqCst);
        })
    };

    let mut done = 0;
    while done < kills || !written.load(Ordering::SeqCst) {
        let (mut daemon, _) = start_daemon(&p, "info", &["noticed running"]);
        std::thread::sleep(Duration::from_millis(fastrand::u64(20..400)));
        daemon.kill().unwrap();
        daemon.wait().unwrap();
        done += 1;
    }
    writer.join().unwrap();

    let (daemon, _) = start_daemon(&p, "info", &["noticed running"]);
    let seen = arrivals_at_least(&collector, LINES as usize, Duration::from_secs(60));
    terminate(daemon);
    let seen = {
        let after = arrivals(&collector);
        assert_eq!(after.len(), seen.len());
        after
    };
    let repeated: Vec<_> = seen.iter().filter(|(_, c)| **c > 1).collect();
    eprintln!(
        "crash test: {done} kills, {LINES} lines, {} distinct at the collector, {} repeated",
        seen.len(),
        repeated.len()
    );
    assert_eq!(seen.len() as u64, LINES);
    assert!(repeated.is_empty(), "lines stored twice: {repeated:?}");
}

/// Lines the crash-point tests follow: more than one round and several batches.
const BURST: u64 = 3000;

fn burst() -> String {
    (0..BURST)
        .map(|n| format!("line {n} from 192.0.2.{} user=u{n}\n", n % 250 + 1))
        .collect()
}

/// A policy following a log that holds [`BURST`] lines, shipping to `endpoint`.
fn burst_policy(tmp: &Path, endpoint: &str) -> std::path::PathBuf {
    log_file_policy(tmp, endpoint, &burst(), "").0
}

/// Runs `noticed ARGS` with `point` armed and requires it to die there (SIGABRT).
fn crash_at(point: &str, args: &[&str]) -> ExitStatus {
    let mut child = bin()
        .env(crashpoint::ENV, point)
        .args(args)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let status = wait_for(
        &format!("the agent to reach {point}"),
        Duration::from_secs(60),
        || child.try_wait().unwrap(),
    );
    assert_eq!(
        status.signal(),
        Some(libc::SIGABRT),
        "the agent did not stop at {point}: {status:?}"
    );
    status
}

/// Restarts the daemon without a crash point and requires every line at the collector once.
fn every_line_once_after_restart(policy: &Path, collector: &Collector) {
    let (daemon, _) = start_daemon(policy, "info", &["noticed running"]);
    arrivals_at_least(collector, BURST as usize, Duration::from_secs(30));
    terminate(daemon);
    let seen = arrivals(collector);
    let twice: Vec<_> = seen.iter().filter(|(_, c)| **c > 1).collect();
    assert_eq!(seen.len() as u64, BURST, "lines lost");
    assert!(twice.is_empty(), "lines stored twice: {twice:?}");
}

fn crash_the_daemon_at(point: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let policy = burst_policy(tmp.path(), &collector.endpoint());
    crash_at(point, &["run", "--policy", policy.to_str().unwrap()]);
    every_line_once_after_restart(&policy, &collector);
}

#[test]
fn a_crash_before_a_round_commits_keeps_neither_its_records_nor_its_positions() {
    crash_the_daemon_at(crashpoint::SPOOL_BEFORE_COMMIT);
}

#[test]
fn a_crash_right_after_a_round_commits_resumes_after_its_last_line() {
    crash_the_daemon_at(crashpoint::SPOOL_AFTER_COMMIT);
}

#[test]
fn a_crash_between_the_collectors_ack_and_the_spools_resends_the_same_batch() {
    crash_the_daemon_at(crashpoint::SHIP_BEFORE_ACK);
}

#[test]
fn a_crash_before_a_persisted_batch_is_sent_sends_it_after_the_restart() {
    crash_the_daemon_at(&format!("{}@2", crashpoint::SHIP_BEFORE_SEND));
}

#[test]
fn run_once_crashing_before_its_round_commits_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let policy = burst_policy(tmp.path(), &collector.endpoint());
    let p = policy.to_str().unwrap();
    crash_at(
        crashpoint::SPOOL_BEFORE_COMMIT,
        &["run", "--once", "--policy", p],
    );
    assert!(arrivals(&collector).is_empty(), "nothing was committed");
    let out = run_once(&policy);
    assert!(out.status.success(), "{}", text(&out));
    let seen = arrivals(&collector);
    assert_eq!(seen.len() as u64, BURST, "lines lost");
    assert!(seen.values().all(|c| *c == 1), "lines stored twice");
}

#[test]
fn a_collector_crash_between_its_append_and_its_index_stores_each_line_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("collector");
    let point = crashpoint::COLLECTOR_BEFORE_INDEX;
    let mut first = Collector::start_env(&dir, "127.0.0.1:0", &[(crashpoint::ENV, point)]);
    let policy = burst_policy(tmp.path(), &first.endpoint());
    let (daemon, _) = start_daemon(&policy, "info", &["noticed running"]);
    let status = first.wait_exit(Duration::from_secs(60));
    assert_eq!(status.signal(), Some(libc::SIGABRT), "{status:?}");
    assert!(
        !arrivals(&first).is_empty(),
        "the cut append is on disk until the restart undoes it"
    );
    let addr = first.addr.to_string();
    drop(first);
    let again = Collector::start_env(&dir, &addr, &[]);
    terminate(daemon);
    every_line_once_after_restart(&policy, &again);
}
