//! The agent's disk fills while it reads a burst: the spool's writes fail (EFBIG under a file
//! size limit set on the agent alone, as in tests/chaos/full_disk.sh with a tmpfs), the agent
//! keeps running, keeps what it read, reopens the spool once the disk has room again, and
//! every line reaches the collector exactly once.

mod common;

use std::time::Duration;

use common::*;

const LINES: u64 = 40_000;

#[test]
fn a_full_disk_stops_the_agent_from_storing_but_loses_no_line() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let text: String = (0..LINES)
        .map(|n| {
            format!(
                "line {n} from 192.0.2.{} user=u{n} took {n}ms\n",
                n % 250 + 1
            )
        })
        .collect();
    let (policy, _) = log_file_policy(tmp.path(), &collector.endpoint(), &text, "");
    let mut cmd = bin();
    // Room for the spool's first pages, not for the burst.
    limit_file_size(&mut cmd, 1 << 20);
    let (daemon, log) = start_daemon_watched(cmd, &policy, "info");
    wait_for_line(&log, "cannot store a round", Duration::from_secs(60));
    let stored_while_full = arrivals(&collector).len() as u64;
    assert!(
        stored_while_full < LINES,
        "the disk filled before the burst was stored"
    );
    lift_file_limit(daemon.id());
    wait_for_line(
        &log,
        "reopening the spool after a write error",
        Duration::from_secs(60),
    );
    let seen = arrivals_at_least(&collector, LINES as usize, Duration::from_secs(60));
    terminate(daemon);
    let twice: Vec<_> = seen.iter().filter(|(_, c)| **c > 1).collect();
    assert!(twice.is_empty(), "lines stored twice: {twice:?}");
    eprintln!("{stored_while_full} of {LINES} lines at the collector while the disk was full");
}
