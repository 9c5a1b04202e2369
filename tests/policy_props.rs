//! Property tests of the policy engine: fail-closed, value-free provenance, no panics.

use noticed::policy::{KEY_LEN, PathGlob, Policy, PseudonymKey, Verdict, evaluate};
use noticed::record::{Category, Draft};
use proptest::prelude::*;
use serde_json::{Map, Value};

const KEYS: &[&str] = &["a", "b", "user", "email", "name"];

/// Random field trees whose string leaves are filled in later with unique tokens.
fn tree() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::String(String::new())),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ];
    leaf.prop_recursive(4, 40, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(KEYS), inner, 0..4).prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

/// Patterns over the same key alphabet, with wildcards.
fn patterns() -> impl Strategy<Value = Vec<String>> {
    let seg = prop_oneof![
        prop::sample::select(KEYS).prop_map(str::to_owned),
        Just("*".to_owned()),
        Just("**".to_owned()),
        Just("us*".to_owned())
    ];
    prop::collection::vec(
        prop::collection::vec(seg, 1..4).prop_map(|s| s.join(".")),
        0..3,
    )
}

fn toml_list(p: &[String]) -> String {
    format!(
        "[{}]",
        p.iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Gives every string leaf a unique token `<vN>`, and returns each leaf's path and token.
fn label(value: &mut Value, path: &str, leaves: &mut Vec<(String, String)>) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m.iter_mut() {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                label(v, &p, leaves);
            }
        }
        Value::Array(a) if !a.is_empty() => a.iter_mut().for_each(|v| label(v, path, leaves)),
        Value::String(s) => {
            *s = format!("<v{}>", leaves.len());
            leaves.push((path.to_owned(), s.clone()));
        }
        _ => {}
    }
}

fn output_leaves(value: &Value, path: &str, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                output_leaves(v, &p, out);
            }
        }
        Value::Array(a) if !a.is_empty() => a.iter().for_each(|v| output_leaves(v, path, out)),
        leaf => out.push((path.to_owned(), leaf.clone())),
    }
}

fn covered(globs: &[String], path: &str) -> bool {
    globs.iter().any(|g| PathGlob::new(g).unwrap().covers(path))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_policy_that_would_send_free_text_raw_is_refused_unless_acknowledged(
        allow in patterns(), drop in patterns(), mask in patterns(), scrub in patterns(), ack in any::<bool>(),
    ) {
        let text = format!(
            "[notice]\ntitle = \"t\"\nversion = \"1\"\ncontact = \"c\"\n[scrub]\nsend_unscrubbed_free_text = {ack}\n[category.service-logs]\npurpose = \"service-operational\"\nallow = {}\ndrop = {}\nmask = {}\nscrub = {}\n",
            toml_list(&allow), toml_list(&drop), toml_list(&mask), toml_list(&scrub)
        );
        let raw = covered(&allow, "message")
            && !covered(&drop, "message")
            && !covered(&mask, "message")
            && !covered(&scrub, "message");
        let parsed = Policy::parse(&text, "prop.toml");
        prop_assert_eq!(parsed.is_ok(), !raw || ack, "{:?}", parsed.err());
    }

    #[test]
    fn nothing_leaves_that_no_rule_allows(
        fields in prop::collection::btree_map(prop::sample::select(KEYS), tree(), 0..5),
        allow in patterns(), drop in patterns(), pseudo in patterns(), mask in patterns(),
    ) {
        // Field rules alone: free text raw is acknowledged here (its refusal is tested below).
        let text = format!(
            "[notice]\ntitle = \"t\"\nversion = \"1\"\ncontact = \"c\"\n[scrub]\nsend_unscrubbed_free_text = true\n[category.performance]\npurpose = \"service-operational\"\nallow = {}\ndrop = {}\npseudonymize = {}\nmask = {}\n",
            toml_list(&allow), toml_list(&drop), toml_list(&pseudo), toml_list(&mask)
        );
        let policy = Policy::parse(&text, "prop.toml").unwrap();
        let mut root = Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>());
        let mut leaves = Vec::new();
        label(&mut root, "", &mut leaves);
        let Value::Object(map) = root else { unreachable!() };
        let key = PseudonymKey::from_bytes(&[3; KEY_LEN]);
        let Verdict::Keep(record) = evaluate(&policy, &key, Draft::new(Category::Performance, "prop", map)) else {
            panic!("the category is collected");
        };

        let mut out = Vec::new();
        for (k, v) in &record.fields {
            output_leaves(v, k, &mut out);
        }
        for (path, value) in &out {
            prop_assert!(!covered(&drop, path), "dropped field {path} was kept");
            let plain = covered(&allow, path);
            let transformed = covered(&pseudo, path) || covered(&mask, path);
            prop_assert!(plain || transformed, "field {path} left without a rule");
            if covered(&pseudo, path) {
                prop_assert!(value.as_str().is_some_and(|s| s.starts_with("h:") && s.len() == 18), "{path}: {value}");
            }
        }
        // No value that was not plainly allowed appears anywhere in the record, provenance included.
        let serialized = serde_json::to_string(&record).unwrap();
        for (path, token) in &leaves {
            let plainly_kept = covered(&allow, path) && !covered(&drop, path) && !covered(&pseudo, path) && !covered(&mask, path);
            if !plainly_kept {
                prop_assert!(!serialized.contains(token.as_str()), "value of {path} leaked: {serialized}");
            }
        }
    }

    #[test]
    fn parsing_any_text_never_panics(text in "\\PC{0,200}") {
        let _ = Policy::parse(&text, "fuzz.toml");
    }

    #[test]
    fn parsing_mangled_policies_never_panics(cut in 0usize..400, insert in "[\\[\\]=\"#.a-z0-9\n ]{0,12}") {
        let base = "[notice]\ntitle = \"t\"\nversion = \"1\"\ncontact = \"c\"\n[[source]]\ntype = \"host_metrics\"\ninterval = \"5s\"\n[category.performance]\npurpose = \"usage\"\nallow = [\"cpu.*\"]\n";
        let mut at = cut.min(base.len());
        while !base.is_char_boundary(at) { at -= 1; }
        let text = format!("{}{}{}", &base[..at], insert, &base[at..]);
        if let Err(e) = Policy::parse(&text, "m.toml") {
            prop_assert!(e.to_string().starts_with("m.toml"), "{e}");
        }
    }
}
