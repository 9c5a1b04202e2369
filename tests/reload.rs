//! Reloading a running daemon (SIGHUP and `noticed reload`): a broken policy is refused with
//! its position and the old one keeps working; a good one takes effect without a restart, is
//! recorded as a policy-change event, and a withdrawn consent purges unsent usage records.

mod common;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use common::*;

fn append(log: &Path, line: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    writeln!(f, "{line}").unwrap();
}

fn body(endpoint: &str, logs: &Path, action: &str) -> String {
    format!(
        "[scrub]\naction = \"{action}\"\n\n{}[[source]]\ntype = \"log_file\"\npaths = [\"{}/*.log\"]\nstart_at = \"beginning\"\npoll_interval = \"50ms\"\n\n\
         [category.service-logs]\npurpose = \"service-operational\"\nallow = [\"file\"]\nscrub = [\"message\"]\n\n\
         [category.configuration]\npurpose = \"service-operational\"\nallow = [\"agent.*\"]\n",
        collector_section(endpoint),
        logs.display()
    )
}

fn arrived(collector: &Collector, needle: &str) -> Option<String> {
    collector
        .records()
        .iter()
        .filter_map(|r| r["fields"]["message"].as_str())
        .find(|m| m.starts_with(needle))
        .map(str::to_owned)
}

#[test]
fn a_broken_policy_is_refused_and_a_good_one_takes_effect_without_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let log = logs.join("app.log");
    append(&log, "first user=alice");
    let data = tmp.path().join("agent");
    let p = policy(
        tmp.path(),
        "p.toml",
        &data,
        &body(&collector.endpoint(), &logs, "pseudonymize"),
    );
    let good = std::fs::read_to_string(&p).unwrap();
    let (daemon, _) = start_daemon(&p, "info", &["noticed running"]);
    let wait = |needle: &str| {
        wait_for(
            &format!("`{needle}` at the collector"),
            Duration::from_secs(30),
            || arrived(&collector, needle),
        )
    };
    assert!(wait("first ").contains("[user_name:h:"));

    // Broken: refused by `noticed reload` with the position, and by SIGHUP in the daemon.
    std::fs::write(&p, good.replace("[scrub]\naction", "[scrub]\naction = = ")).unwrap();
    let out = run(&["reload", "--policy", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains("p.toml:10:10: "), "{}", text(&out));
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&daemon),
        rustix::process::Signal::HUP,
    )
    .unwrap();
    append(&log, "second user=alice");
    assert!(
        wait("second ").contains("[user_name:h:"),
        "the old policy still works"
    );

    // Good: masking instead of pseudonyms, from the next line on.
    std::fs::write(
        &p,
        good.replace("pseudonymize", "mask")
            .replace("2019-07-01", "2019-08-01"),
    )
    .unwrap();
    let out = run(&["reload", "--policy", p.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("notice 2019-08-01"), "{}", text(&out));
    append(&log, "third user=alice");
    assert_eq!(wait("third "), "third user=[user_name]");
    let status = admin_status(&data).expect("the daemon still answers");
    assert_eq!(
        counter(&status, "policy.reloads"),
        1,
        "the broken reload did not count"
    );

    // SIGHUP takes a good policy too.
    std::fs::write(&p, good.replace("2019-07-01", "2019-09-01")).unwrap();
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&daemon),
        rustix::process::Signal::HUP,
    )
    .unwrap();
    wait_for("the second reload", Duration::from_secs(30), || {
        admin_status(&data).filter(|s| counter(s, "policy.reloads") == 2)
    });
    append(&log, "fourth user=alice");
    assert!(wait("fourth ").contains("[user_name:h:"));
    terminate(daemon);

    let changes: Vec<_> = collector
        .records()
        .into_iter()
        .filter(|r| r["event"] == "policy-change")
        .collect();
    assert_eq!(
        changes.len(),
        2,
        "each good reload is an event: {changes:?}"
    );
    let versions: Vec<_> = changes
        .iter()
        .map(|c| {
            c["fields"]["agent"]["policy"]["version"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        versions.contains(&"2019-08-01".to_owned()) && versions.contains(&"2019-09-01".to_owned()),
        "{versions:?}"
    );
}

#[test]
fn withdrawing_consent_by_reload_purges_unsent_usage_records_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    append(&logs.join("app.log"), "clicked export");
    let dead_end = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/v1/batches", l.local_addr().unwrap())
    };
    let usage = |consent: bool| {
        format!(
            "[consent]\nusage = {consent}\n\n{}[[source]]\ntype = \"log_file\"\npaths = [\"{}/*.log\"]\nstart_at = \"beginning\"\npoll_interval = \"50ms\"\ncategory = \"feature-usage\"\n\n\
             [category.feature-usage]\npurpose = \"usage\"\nallow = [\"file\"]\nscrub = [\"message\"]\n",
            collector_section(&dead_end),
            logs.display()
        )
    };
    let data = tmp.path().join("agent");
    let p = policy(tmp.path(), "p.toml", &data, &usage(true));
    let (daemon, _) = start_daemon(&p, "info", &["noticed running"]);
    wait_for("a usage record stored", Duration::from_secs(30), || {
        admin_status(&data).filter(|s| s["unsent"] == 1)
    });
    // `noticed consent` edits only the consent value, keeps the admin's comments, and reloads.
    let with_comment = std::fs::read_to_string(&p)
        .unwrap()
        .replace("[consent]\n", "# the customer's choice\n[consent]\n");
    std::fs::write(&p, with_comment).unwrap();
    let out = run(&["consent", "usage", "off", "--policy", p.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("the daemon reloaded"), "{}", text(&out));
    assert!(
        text(&out).contains("1 unsent usage record(s) purged"),
        "{}",
        text(&out)
    );
    let edited = std::fs::read_to_string(&p).unwrap();
    assert!(
        edited.contains("# the customer's choice\n[consent]\nusage = false"),
        "{edited}"
    );
    let status = admin_status(&data).unwrap();
    assert_eq!(status["unsent"], 0);
    assert_eq!(counter(&status, "purged.consent_withdrawn"), 1);
    terminate(daemon);
}
