//! The agent's own log: its level comes from the policy (`[agent] log_level`) unless
//! NOTICED_LOG says otherwise, and at any level it holds no record value.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;

#[test]
fn the_policy_sets_the_log_level_and_the_log_never_holds_record_values() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let planted = [
        "alice.planted@example.com",
        "192.0.2.77",
        "hunter2planted",
        "4111111111111111",
        "mallory",
    ];
    std::fs::write(
        logs.join("app.log"),
        format!(
            "login {} from {} password={} card={} for invalid user {}\n",
            planted[0], planted[1], planted[2], planted[3], planted[4]
        ),
    )
    .unwrap();
    let body = format!(
        "{}[[source]]\ntype = \"log_file\"\npaths = [\"{}/*.log\"]\nstart_at = \"beginning\"\npoll_interval = \"50ms\"\n\n\
         [category.service-logs]\npurpose = \"service-operational\"\nallow = [\"file\"]\nscrub = [\"message\"]\n",
        collector_section(&collector.endpoint()),
        logs.display()
    );
    let p = policy(tmp.path(), "p.toml", &tmp.path().join("agent"), &body);
    let text_of = std::fs::read_to_string(&p).unwrap();
    std::fs::write(
        &p,
        text_of.replacen("[agent]\n", "[agent]\nlog_level = \"debug\"\n", 1),
    )
    .unwrap();
    let log = tmp.path().join("agent.log");
    let child = Daemon::new(
        bin()
            .env_remove("NOTICED_LOG")
            .args(["run", "--policy", p.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_for("the line at the collector", Duration::from_secs(30), || {
        (collector.records().len() == 1).then_some(())
    });
    terminate(child);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("DEBUG"),
        "the policy's level applies: {logged}"
    );
    for value in planted {
        assert!(
            !logged.contains(value),
            "the agent logged {value}: {logged}"
        );
    }
    let stored = collector.records()[0]["fields"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    for value in planted {
        assert!(!stored.contains(value), "{stored}");
    }
}
