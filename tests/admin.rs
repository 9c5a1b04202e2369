//! The admin CLI against a running daemon, as separate processes over the real socket:
//! `status`, `records` with filters, `records show`, `explain` (checked against what the
//! collector received).

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

fn json_lines(out: &std::process::Output) -> Vec<Value> {
    assert!(out.status.success(), "{}", text(out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn status_records_show_and_explain_answer_from_the_running_daemon() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("app.log"),
        "login user=alice from 192.0.2.7\nhealth ok\n",
    )
    .unwrap();
    let body = format!(
        "{}[[source]]\ntype = \"log_file\"\npaths = [\"{}/*.log\"]\nstart_at = \"beginning\"\npoll_interval = \"50ms\"\n\n\
         [[source]]\ntype = \"host_metrics\"\ninterval = \"1h\"\n\n\
         [category.service-logs]\npurpose = \"service-operational\"\nallow = [\"file\"]\nscrub = [\"message\"]\n\n\
         [category.performance]\npurpose = \"service-operational\"\nallow = [\"memory.*\"]\n",
        collector_section(&collector.endpoint()),
        logs.display()
    );
    let data = tmp.path().join("agent");
    let p = policy(tmp.path(), "p.toml", &data, &body);
    let ps = p.to_str().unwrap();
    let (daemon, _) = start_daemon(&p, "info", &["noticed running"]);
    wait_for(
        "three records at the collector",
        Duration::from_secs(30),
        || (collector.records().len() == 3).then_some(()),
    );

    // The collector stores a batch before it answers; the agent counts it sent on the answer.
    let status: Value = wait_for(
        "the agent to record the acknowledgement",
        Duration::from_secs(10),
        || {
            let out = run(&["status", "--json", "--policy", ps]);
            let status: Value = serde_json::from_slice(&out.stdout).ok()?;
            (status["spool"]["sent"] == 3).then_some(status)
        },
    );
    assert_eq!(status["result"], "status");
    assert_eq!(status["daemon"]["policy"]["version"], "2019-07-01");
    assert_eq!(status["daemon"]["policy"]["usage_consent"], false);
    assert!(
        status["daemon"]["sources"]["log_file"]["rounds"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(status["daemon"]["sources"]["host_metrics"]["last_run"].is_string());
    assert!(
        status["daemon"]["delivery"]["collector"]
            .as_str()
            .unwrap()
            .ends_with("/v1/batches")
    );
    assert_eq!(status["spool"]["sent"], 3);
    assert_eq!(
        counter(&status, "scrubbed.user_name"),
        1,
        "hits by detector: {status}"
    );
    assert_eq!(counter(&status, "scrubbed.ipv4"), 1);
    let by_rule = status["counters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c[0].as_str()
                .unwrap()
                .starts_with("removed.category.performance")
        })
        .count();
    assert!(by_rule > 0, "removed fields by rule: {status}");
    assert!(status["spool"]["bytes"].as_u64().unwrap() > 0);
    let human = text(&run(&["status", "--policy", ps]));
    assert!(
        human.contains("daemon    running since") && human.contains("log_file:"),
        "{human}"
    );

    let logs_only = json_lines(&run(&[
        "records",
        "--json",
        "--category",
        "service-logs",
        "--policy",
        ps,
    ]));
    assert_eq!(logs_only.len(), 2);
    let metrics = json_lines(&run(&[
        "records",
        "--json",
        "--source",
        "host_metrics",
        "--state",
        "sent",
        "--policy",
        ps,
    ]));
    assert_eq!(metrics.len(), 1);
    assert!(
        json_lines(&run(&[
            "records", "--json", "--state", "pending", "--policy", ps
        ]))
        .is_empty()
    );
    assert!(
        json_lines(&run(&[
            "records",
            "--json",
            "--purpose",
            "usage",
            "--policy",
            ps
        ]))
        .is_empty()
    );
    let grep = json_lines(&run(&[
        "records",
        "--json",
        "--grep",
        "health ok",
        "--policy",
        ps,
    ]));
    assert_eq!(grep.len(), 1);
    assert_eq!(
        json_lines(&run(&[
            "records", "--json", "--since", "1h", "--policy", ps
        ]))
        .len(),
        3
    );
    let bad = run(&["records", "--state", "lost", "--policy", ps]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));

    let login = logs_only
        .iter()
        .find(|r| {
            r["record"]["fields"]["message"]
                .as_str()
                .unwrap()
                .starts_with("login")
        })
        .unwrap();
    let id = login["record"]["id"].as_str().unwrap();
    let shown = run(&["records", "show", id, "--policy", ps]);
    assert!(
        text(&shown).contains("as stored:") && text(&shown).contains("sent in batch"),
        "{}",
        text(&shown)
    );

    let explained: Value =
        serde_json::from_slice(&run(&["explain", id, "--json", "--policy", ps]).stdout).unwrap();
    let at_collector = collector
        .records()
        .into_iter()
        .find(|r| r["id"] == id)
        .expect("the collector has it");
    let steps = explained["steps"].as_array().unwrap();
    let scrubbed: Vec<&Value> = steps
        .iter()
        .filter(|s| s["outcome"] == "scrubbed")
        .collect();
    let provenance = at_collector["provenance"].as_array().unwrap();
    assert_eq!(
        scrubbed
            .iter()
            .map(|s| s["spans"].as_array().unwrap().len())
            .sum::<usize>(),
        provenance.iter().filter(|p| p["span"].is_array()).count(),
        "every scrub hit the collector's copy records is explained: {explained}"
    );
    assert!(scrubbed.iter().any(|s| s["rule"] == "scrub.user_name"));
    assert!(scrubbed.iter().any(|s| s["rule"] == "scrub.ipv4"));
    assert!(
        steps
            .iter()
            .any(|s| s["field"] == "file" && s["outcome"] == "kept")
    );
    let words = text(&run(&["explain", id, "--policy", ps]));
    assert!(
        words.contains("scrubbed       message: user_name at bytes 11..16"),
        "{words}"
    );
    assert!(
        !words.contains("alice") && !words.contains("192.0.2.7"),
        "{words}"
    );
    let report: Value = serde_json::from_slice(
        &run(&[
            "report", "--since", "1h", "--format", "json", "--policy", ps,
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(report["records"], 3);
    assert_eq!(report["sent"], 3);
    assert_eq!(
        report["by_category"]["service-logs"]["service-operational"],
        2
    );
    assert_eq!(
        report["by_category"]["performance"]["service-operational"],
        1
    );
    assert_eq!(report["scrubbed"]["user_name"], 1);
    assert_eq!(report["scrubbed"]["ipv4"], 1);
    assert!(
        report["by_action"]["removed"].as_u64().unwrap() > 0,
        "metrics fields not allowed: {report}"
    );
    let page = text(&run(&["report", "--format", "html", "--policy", ps]));
    assert!(
        page.contains("<svg") && page.contains("service-logs · service-operational"),
        "{page}"
    );
    assert!(!page.contains("alice"), "{page}");
    let unknown = run(&[
        "explain",
        "01a2296c-0000-7000-8000-000000000000",
        "--policy",
        ps,
    ]);
    assert!(
        !unknown.status.success() && text(&unknown).contains("no record"),
        "{}",
        text(&unknown)
    );
    terminate(daemon);
}

#[test]
fn the_admin_api_refuses_a_user_outside_the_noticed_group() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    if !common::root_or_skip("switching to another uid needs root") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let public = tmp.path().join("public");
    std::fs::create_dir(&public).unwrap();
    std::fs::set_permissions(&public, std::fs::Permissions::from_mode(0o755)).unwrap();
    let socket = public.join("admin.sock");
    let p = policy(
        &public,
        "p.toml",
        &tmp.path().join("agent"),
        "[[source]]\ntype = \"host_metrics\"\ninterval = \"1h\"\n\n[category.performance]\npurpose = \"service-operational\"\nallow = [\"memory.*\"]\n",
    );
    let text_of = std::fs::read_to_string(&p).unwrap();
    std::fs::write(
        &p,
        text_of.replacen(
            "[agent]\n",
            &format!("[agent]\nadmin_socket = {:?}\n", socket.to_str().unwrap()),
            1,
        ),
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (daemon, _) = start_daemon(&p, "info", &["noticed running"]);
    assert!(socket.exists());

    let as_root = run(&["status", "--json", "--policy", p.to_str().unwrap()]);
    assert!(as_root.status.success(), "{}", text(&as_root));
    let nobody = bin()
        .args(["status", "--policy", p.to_str().unwrap()])
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    assert!(!nobody.status.success());
    let err = text(&nobody);
    assert!(
        err.contains("access denied: uid 65534") && err.contains("`noticed` group"),
        "{err}"
    );
    terminate(daemon);
}
