//! kill -9 of the agent, again and again, while it follows a growing log file: afterwards the
//! collector holds every line exactly once (checkpoints commit with their records; batches keep
//! their ids; the collector deduplicates). `NOTICED_CRASH_KILLS` sets the number of kills
//! (default 10; docs/RELIABILITY.md records a longer run).

mod common;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;

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
    let seen = wait_for(
        &format!("{LINES} distinct lines at the collector"),
        Duration::from_secs(60),
        || {
            let a = arrivals(&collector);
            (a.len() as u64 >= LINES).then_some(a)
        },
    );
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
