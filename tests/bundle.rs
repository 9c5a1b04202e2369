//! `noticed bundle`: what goes into a support bundle, scrubbed, with its manifest.

mod common;

use std::io::Read;

use common::*;
use serde_json::Value;

#[test]
fn a_bundle_holds_scrubbed_files_configuration_status_and_a_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let app_log = tmp.path().join("app.log");
    std::fs::write(
        &app_log,
        "Failed password for alice from 192.0.2.7\npassword=hunter2 and mail bob@example.com\nok\n",
    )
    .unwrap();
    let missing = tmp.path().join("missing.log");
    let body = format!(
        "[[source]]\ntype = \"host_config\"\n\n[category.configuration]\npurpose = \"service-operational\"\nallow = [\"os.*\", \"network.*\"]\npseudonymize = [\"host.name\"]\n\n\
         [bundle]\nfiles = [{:?}, {:?}]\n",
        app_log.display().to_string(),
        missing.display().to_string()
    );
    let p = policy(tmp.path(), "p.toml", &tmp.path().join("agent"), &body);
    let out_path = tmp.path().join("case-42.tar.gz");
    let out = run(&[
        "bundle",
        "--policy",
        p.to_str().unwrap(),
        "--out",
        out_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[1/5] agent status") && stderr.contains("[5/5]"),
        "progress shown: {stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("values redacted"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&out_path).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let mut entries = std::collections::BTreeMap::new();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(&out_path).unwrap(),
    ));
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().display().to_string();
        let mut text = String::new();
        e.read_to_string(&mut text).unwrap();
        entries.insert(name, text);
    }
    let log_name = format!(
        "files/{}",
        app_log.display().to_string().trim_start_matches('/')
    );
    let names: Vec<&String> = entries.keys().collect();
    assert!(
        entries.contains_key("manifest.json")
            && entries.contains_key("status.json")
            && entries.contains_key("host_config.json"),
        "{names:?}"
    );
    let log = &entries[&log_name];
    assert_eq!(log.lines().count(), 3);
    for raw in ["alice", "192.0.2.7", "hunter2", "bob@example.com"] {
        assert!(!log.contains(raw), "{raw} in {log}");
    }
    let config: Value = serde_json::from_str(&entries["host_config.json"]).unwrap();
    assert!(config["fields"]["os"].is_object());
    assert!(
        config["fields"]["host"]["name"]
            .as_str()
            .unwrap()
            .starts_with("h:"),
        "the policy applies: {config}"
    );
    assert!(
        config["fields"].get("packages").is_none(),
        "not allowed by the policy"
    );
    // Every dotted address left is loopback, which names no host; the others were scrubbed.
    let raw_addresses: Vec<&str> = entries["host_config.json"]
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|w| w.split('.').count() == 4 && w.split('.').all(|o| o.parse::<u8>().is_ok()))
        .filter(|w| !w.starts_with("127."))
        .collect();
    assert!(
        raw_addresses.is_empty(),
        "addresses the policy lets through are still scrubbed in a bundle: {raw_addresses:?}"
    );
    let status: Value = serde_json::from_str(&entries["status.json"]).unwrap();
    assert_eq!(status["from"], "spool (no daemon running)");

    let manifest: Value = serde_json::from_str(&entries["manifest.json"]).unwrap();
    let listed = manifest["entries"].as_array().unwrap();
    let entry = |name: &str| listed.iter().find(|e| e["name"] == name).unwrap().clone();
    let redacted = &entry(&log_name)["redacted"];
    for (detector, n) in [("user_name", 1), ("ipv4", 1), ("secret", 1), ("email", 1)] {
        assert_eq!(redacted[detector], n, "{detector}: {redacted}");
    }
    let host_redacted = &entry("host_config.json")["redacted"];
    assert!(
        host_redacted["ipv4"].as_u64().unwrap_or(0) + host_redacted["ipv6"].as_u64().unwrap_or(0)
            >= 1,
        "the host's own addresses are scrubbed: {host_redacted}"
    );
    let missing_name = format!(
        "files/{}",
        missing.display().to_string().trim_start_matches('/')
    );
    assert!(
        entry(&missing_name)["note"]
            .as_str()
            .unwrap()
            .starts_with("not included: cannot read")
    );
    assert!(!entries.contains_key(&missing_name));
    let sum: u64 = listed
        .iter()
        .flat_map(|e| e["redacted"].as_object().unwrap().values())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(manifest["redacted_total"].as_u64().unwrap(), sum);
}
