//! Golden tests of policy outcomes: each folder under tests/golden/policy/ holds a policy, input
//! drafts (one JSON object a line) and the expected outcome of each. Run with UPDATE_GOLDEN=1 to
//! rewrite the expectations, then review the diff before committing it.

use std::path::Path;

use noticed::policy::{KEY_LEN, Policy, PseudonymKey, Verdict, evaluate};
use noticed::record::{Category, Draft};
use serde_json::{Value, json};

/// A fixed key, so pseudonyms in golden files are stable.
const GOLDEN_KEY: [u8; KEY_LEN] = [0x42; KEY_LEN];

fn draft(line: &str) -> Draft {
    let v: Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("bad input line {line}: {e}"));
    let category: Category = v["category"].as_str().expect("category").parse().unwrap();
    let fields = v["fields"].as_object().cloned().unwrap_or_default();
    let mut d = Draft::new(category, v["source"].as_str().unwrap_or("golden"), fields);
    d.body = v["body"].as_str().map(str::to_owned);
    d.event = v["event"].as_str().map(str::to_owned);
    d
}

fn outcome(policy: &Policy, key: &PseudonymKey, d: Draft) -> Value {
    match evaluate(policy, key, d) {
        Verdict::Keep(r) => json!({
            "verdict": "keep",
            "purpose": r.purpose,
            "fields": r.fields,
            "body": r.body,
            "provenance": r.provenance,
        }),
        Verdict::Refuse(why) => json!({"verdict": "refuse", "reason": why.as_str()}),
    }
}

fn check_case(dir: &Path) {
    let policy_path = dir.join("policy.toml");
    let text = std::fs::read_to_string(&policy_path).unwrap();
    let policy =
        Policy::parse(&text, &policy_path.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
    let key = PseudonymKey::from_bytes(&GOLDEN_KEY);
    let input = std::fs::read_to_string(dir.join("input.jsonl")).unwrap();
    let mut actual = String::new();
    for line in input.lines().filter(|l| !l.trim().is_empty()) {
        actual.push_str(&serde_json::to_string(&outcome(&policy, &key, draft(line))).unwrap());
        actual.push('\n');
    }
    let expected_path = dir.join("expected.jsonl");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&expected_path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
        panic!(
            "{} is missing; run with UPDATE_GOLDEN=1",
            expected_path.display()
        )
    });
    for (n, (a, e)) in actual.lines().zip(expected.lines()).enumerate() {
        assert_eq!(
            a,
            e,
            "{}: outcome of input line {} differs",
            dir.display(),
            n + 1
        );
    }
    assert_eq!(
        actual.lines().count(),
        expected.lines().count(),
        "{}: line count",
        dir.display()
    );
}

#[test]
fn policy_outcomes_match_the_golden_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/policy");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 3,
        "golden cases missing under {}",
        root.display()
    );
    for case in cases {
        check_case(&case);
    }
}
