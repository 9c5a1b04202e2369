//! `noticed policy diff` and `noticed policy test`, through the real binary.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn diff_flags_material_changes_between_the_shipped_examples() {
    let root = env!("CARGO_MANIFEST_DIR");
    let strict = format!("{root}/config/examples/strict.toml");
    let vendor = format!("{root}/config/examples/vendor-notice.toml");
    let out = run(&["policy", "diff", &strict, &vendor, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["material"], true);
    let changes: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["what"].as_str().unwrap())
        .collect();
    assert!(
        changes.contains(&"category feature-usage is newly collected, for purpose usage"),
        "{changes:?}"
    );
    let human = text(&run(&["policy", "diff", &strict, &vendor]));
    assert!(human.contains("MATERIAL CHANGE"), "{human}");
    let same = text(&run(&["policy", "diff", &strict, &strict]));
    assert!(same.contains("no change"), "{same}");
    let tmp = tempfile::tempdir().unwrap();
    let broken = tmp.path().join("b.toml");
    std::fs::write(&broken, "[notice\n").unwrap();
    let out = run(&["policy", "diff", &strict, broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(78));
    assert!(text(&out).contains("b.toml:1:"), "{}", text(&out));
}

#[test]
fn test_shows_each_sample_before_and_after_and_stores_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("agent");
    let p = policy(
        tmp.path(),
        "p.toml",
        &data,
        "[category.performance]\npurpose = \"service-operational\"\nallow = [\"cpu.*\"]\npseudonymize = [\"host\"]\n\n\
         [category.service-logs]\npurpose = \"service-operational\"\nscrub = [\"message\"]\n",
    );
    let input = tmp.path().join("sample.jsonl");
    std::fs::write(
        &input,
        "{\"category\": \"performance\", \"fields\": {\"cpu\": {\"busy\": 0.5}, \"host\": \"web-1\", \"secret\": \"x\"}}\n\
         {\"category\": \"service-logs\", \"fields\": {\"message\": \"login user=alice from 192.0.2.7\"}}\n\
         {\"category\": \"survey\", \"fields\": {\"score\": 9}}\n",
    )
    .unwrap();
    let out = run(&[
        "policy",
        "test",
        "--policy",
        p.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let perf = &lines[0]["after"];
    assert_eq!(perf["verdict"], "keep");
    assert_eq!(perf["fields"]["cpu"]["busy"], 0.5);
    assert!(perf["fields"]["host"].as_str().unwrap().starts_with("h:"));
    assert!(perf["fields"].get("secret").is_none(), "{perf}");
    let log = lines[1]["after"]["fields"]["message"].as_str().unwrap();
    assert!(
        log.starts_with("login user=[user_name:h:") && !log.contains("192.0.2.7"),
        "{log}"
    );
    assert_eq!(
        lines[2]["after"],
        serde_json::json!({"verdict": "refuse", "reason": "category-not-collected"})
    );
    assert!(!data.exists(), "a dry run stores nothing");

    std::fs::write(&input, "{\"category\": \"nonsense\"}\n").unwrap();
    let bad = run(&[
        "policy",
        "test",
        "--policy",
        p.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
    ]);
    assert!(!bad.status.success());
    assert!(
        text(&bad).contains("sample.jsonl:1: not a sample record"),
        "{}",
        text(&bad)
    );
}

#[test]
fn test_live_runs_one_round_of_the_policys_sources() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = run(&[
        "policy",
        "test",
        "--policy",
        &format!("{root}/config/examples/local-only.toml"),
        "--live",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let first: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(first["before"]["category"], "performance");
    assert_eq!(first["after"]["verdict"], "keep");
    assert!(first["after"]["fields"]["memory"].is_object(), "{first}");
    assert!(
        first["after"]["fields"].get("network").is_none(),
        "not allowed by local-only: {first}"
    );
}
