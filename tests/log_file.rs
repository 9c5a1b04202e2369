//! The log_file source end to end: a real daemon follows a real file through rotation and a
//! restart; every line reaches the collector exactly once, scrubbed.

mod common;

use std::io::Write;
use std::path::Path;
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

#[test]
fn lines_arrive_once_each_through_rotation_and_restart_and_scrubbed() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let log = logs.join("app.log");
    append(&log, &lines(0..20));
    let data = tmp.path().join("agent");
    let body = format!(
        "{}[[source]]\ntype = \"log_file\"\npaths = [\"{}/*.log\"]\nstart_at = \"beginning\"\npoll_interval = \"50ms\"\n\n\
         [category.service-logs]\npurpose = \"service-operational\"\nallow = [\"file\"]\nscrub = [\"message\"]\n",
        collector_section(&collector.endpoint()),
        logs.display()
    );
    let p = policy(tmp.path(), "p.toml", &data, &body);

    let (daemon, _) = start_daemon(&p, "info", &["noticed running"]);
    let wait = |n: usize| {
        wait_for(
            &format!("{n} distinct lines at the collector"),
            Duration::from_secs(30),
            || {
                let a = arrivals(&collector);
                (a.len() >= n).then_some(a)
            },
        )
    };
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
