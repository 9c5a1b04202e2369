//! Evaluating a draft against the policy: admit or refuse it, then keep, pseudonymise, mask or
//! remove each field, fail-closed, and note what was done without the values.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Map, Value};

use super::schema::CategoryRules;
use super::{Policy, PseudonymKey};
use crate::record::{Action, Category, Draft, Provenance, Purpose, Record, RecordId, rfc3339};
use crate::scrub::{Detector, LineState, Scratch};

/// The text that replaces a masked value.
pub const MASK: &str = "[masked]";

/// The policy's answer for one draft.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// The draft becomes this record (possibly with every field removed).
    Keep(Record),
    /// The draft is not collected at all.
    Refuse(Refusal),
}

/// Why a draft was not collected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Refusal {
    /// The policy has no `[category.X]` section for the draft's category.
    CategoryNotCollected,
    /// The draft's purpose is `usage` and the customer has not opted in.
    NoUsageConsent,
}

impl Refusal {
    /// A stable name for counters and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::CategoryNotCollected => "category-not-collected",
            Refusal::NoUsageConsent => "no-usage-consent",
        }
    }
}

/// Applies `policy` to `draft`. Pure and total: it cannot fail or panic on any input.
pub fn evaluate(policy: &Policy, key: &PseudonymKey, draft: Draft) -> Verdict {
    Evaluator::new(policy, key).evaluate(draft)
}

/// Applies one policy to drafts one after another, keeping the scrubber's buffers and digest
/// cache between them (raw values stay in this process's memory, as in [`Scratch`]).
pub struct Evaluator<'a> {
    policy: &'a Policy,
    key: &'a PseudonymKey,
    scratch: Scratch,
    /// `scrub.<detector>` for each detector, shared by every hit's provenance.
    scrub_rules: [Arc<str>; Detector::ALL.len()],
    /// The field path being walked, one buffer for every draft.
    path: String,
    /// The last collection time formatted: lines read together share one.
    time: Option<(SystemTime, String)>,
}

impl<'a> Evaluator<'a> {
    /// An evaluator of `policy` pseudonymising under `key`.
    pub fn new(policy: &'a Policy, key: &'a PseudonymKey) -> Self {
        Evaluator::with_scratch(policy, key, Scratch::default())
    }

    /// As [`Evaluator::new`], starting from the buffers and digests an earlier evaluator under
    /// the same `key` left (see [`Evaluator::into_scratch`]), so a new round starts warm.
    pub fn with_scratch(policy: &'a Policy, key: &'a PseudonymKey, scratch: Scratch) -> Self {
        Evaluator {
            policy,
            key,
            scratch,
            scrub_rules: Detector::ALL.map(|d| Arc::from(format!("scrub.{d}"))),
            path: String::with_capacity(64),
            time: None,
        }
    }

    /// Its buffers and digest cache, for the next evaluator under the same key.
    pub fn into_scratch(self) -> Scratch {
        self.scratch
    }

    /// Applies the policy to `draft`, as [`evaluate`] does.
    pub fn evaluate(&mut self, draft: Draft) -> Verdict {
        evaluate_with(self, draft, RecordId::new())
    }

    /// As [`Evaluator::evaluate`], the record kept (if any) getting `id`: ids drawn in order
    /// before a round is evaluated keep the spool in id order when rounds run side by side.
    pub fn evaluate_as(&mut self, draft: Draft, id: RecordId) -> Verdict {
        evaluate_with(self, draft, id)
    }
}

fn evaluate_with(evaluator: &mut Evaluator<'_>, draft: Draft, id: RecordId) -> Verdict {
    let (policy, key) = (evaluator.policy, evaluator.key);
    let Some(rules) = policy.category(draft.category) else {
        return Verdict::Refuse(Refusal::CategoryNotCollected);
    };
    let purpose = policy
        .file
        .rules
        .iter()
        .find(|r| {
            r.category == draft.category
                && draft
                    .event
                    .as_deref()
                    .is_some_and(|e| r.matches.event.covers(e))
        })
        .map_or(rules.purpose, |r| r.purpose);
    if purpose == Purpose::Usage && !policy.file.consent.usage {
        return Verdict::Refuse(Refusal::NoUsageConsent);
    }
    let mut walker = Walker {
        stream: draft.stream,
        rules,
        category: draft.category,
        key,
        policy,
        scratch: &mut evaluator.scratch,
        scrub_rules: &evaluator.scrub_rules,
        provenance: Vec::new(),
    };
    evaluator.path.clear();
    let fields = walker.map(&mut evaluator.path, draft.fields);
    let body = draft.body.and_then(|text| {
        if rules.scrub.iter().any(|g| g.covers("body")) {
            Some(walker.scrubbed("body", text))
        } else {
            let rule = format!(
                "category.{} (body is not in its scrub list)",
                draft.category
            );
            walker.note("body", rule, Action::Removed);
            None
        }
    });
    let mut provenance = walker.provenance;
    provenance.sort_unstable();
    provenance.dedup();
    let collected_at = match &evaluator.time {
        Some((at, text)) if *at == draft.collected_at => text.clone(),
        _ => {
            let text = rfc3339(draft.collected_at);
            evaluator.time = Some((draft.collected_at, text.clone()));
            text
        }
    };
    Verdict::Keep(Record {
        id,
        collected_at,
        category: draft.category,
        purpose,
        source: draft.source,
        event: draft.event,
        fields,
        body,
        policy: policy.stamp.clone(),
        provenance,
    })
}

struct Walker<'a> {
    /// The draft's stream state, for its `message` and body.
    stream: LineState,
    rules: &'a CategoryRules,
    category: Category,
    key: &'a PseudonymKey,
    policy: &'a Policy,
    scratch: &'a mut Scratch,
    scrub_rules: &'a [Arc<str>; Detector::ALL.len()],
    /// What was done, sorted and deduplicated once the draft is walked.
    provenance: Vec<Provenance>,
}

impl Walker<'_> {
    /// Walks an object whose own path is `path` (empty at the root); `path` is one buffer,
    /// extended and truncated in place, so walking allocates no path strings.
    /// The map is edited in place (values replaced, removed entries taken out), so a draft's
    /// map becomes its record's without building a second one.
    fn map(&mut self, path: &mut String, mut map: Map<String, Value>) -> Map<String, Value> {
        let base = path.len();
        map.retain(|name, value| {
            if base > 0 {
                path.push('.');
            }
            path.push_str(name);
            let kept = self.value(path, std::mem::take(value));
            path.truncate(base);
            match kept {
                Some(v) => {
                    *value = v;
                    true
                }
                None => false,
            }
        });
        map
    }

    /// Objects and arrays are walked (array elements share the array's path); other values,
    /// and empty containers, are leaves. A container left empty is removed.
    fn value(&mut self, path: &mut String, value: Value) -> Option<Value> {
        match value {
            Value::Object(m) if !m.is_empty() => {
                let m = self.map(path, m);
                (!m.is_empty()).then_some(Value::Object(m))
            }
            Value::Array(a) if !a.is_empty() => {
                let a: Vec<Value> = a.into_iter().filter_map(|v| self.value(path, v)).collect();
                (!a.is_empty()).then_some(Value::Array(a))
            }
            leaf => self.leaf(path, leaf),
        }
    }

    fn leaf(&mut self, path: &str, value: Value) -> Option<Value> {
        let r = self.rules;
        if let Some(g) = r.drop.iter().find(|g| g.covers(path)) {
            self.note(path, self.rule("drop", g.as_str()), Action::Removed);
            return None;
        }
        if let Some(g) = r.pseudonymize.iter().find(|g| g.covers(path)) {
            self.note(
                path,
                self.rule("pseudonymize", g.as_str()),
                Action::Pseudonymized,
            );
            return Some(Value::String(self.key.pseudonym(&value)));
        }
        if let Some(g) = r.mask.iter().find(|g| g.covers(path)) {
            self.note(path, self.rule("mask", g.as_str()), Action::Masked);
            return Some(Value::String(MASK.to_owned()));
        }
        if r.scrub.iter().any(|g| g.covers(path)) {
            return Some(match value {
                Value::String(text) => Value::String(self.scrubbed(path, text)),
                Value::Number(n) => {
                    let text = n.to_string();
                    let scrubbed = self.scrubbed(path, text.clone());
                    if scrubbed == text {
                        Value::Number(n)
                    } else {
                        Value::String(scrubbed)
                    }
                }
                other => other,
            });
        }
        if r.allow.iter().any(|g| g.covers(path)) {
            return Some(value);
        }
        let rule = format!("category.{}.allow (no pattern matches)", self.category);
        self.note(path, rule, Action::Removed);
        None
    }

    /// Free text through the scrubber; each hit is noted with its detector and span.
    fn scrubbed(&mut self, field: &str, text: String) -> String {
        let scrubber = self.policy.scrubber();
        let entry = if matches!(field, "message" | "body") {
            self.stream
        } else {
            LineState::default()
        };
        let Some((out, hits)) = scrubber.scrub_stream_text(self.key, &text, entry, self.scratch)
        else {
            return text;
        };
        let field: Arc<str> = field.into();
        for h in hits {
            let action = if scrubber.masks(h.label) {
                Action::Masked
            } else {
                Action::Pseudonymized
            };
            let rule = match scrubber.pattern_name(h.label) {
                Some(name) => Arc::from(format!("scrub.pattern.{name}")),
                None => Arc::clone(&self.scrub_rules[h.detector.index()]),
            };
            self.provenance.push(Provenance {
                field: Arc::clone(&field),
                rule,
                action,
                span: Some((h.start, h.end)),
            });
        }
        out
    }

    fn rule(&self, list: &str, pattern: &str) -> String {
        format!("category.{}.{list}[{pattern:?}]", self.category)
    }

    fn note(&mut self, field: &str, rule: String, action: Action) {
        self.provenance.push(Provenance {
            field: field.into(),
            rule: rule.into(),
            action,
            span: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::policy::KEY_LEN;

    const HEAD: &str = "[notice]\ntitle = \"t\"\nversion = \"v1\"\ncontact = \"c\"\n";

    fn policy(body: &str) -> Policy {
        Policy::parse(&format!("{HEAD}{body}"), "test.toml").unwrap()
    }

    fn draft(category: Category, fields: Value) -> Draft {
        let Value::Object(map) = fields else {
            panic!("fields must be an object")
        };
        Draft::new(category, "test", map)
    }

    fn key() -> PseudonymKey {
        PseudonymKey::from_bytes(&[9; KEY_LEN])
    }

    fn keep(p: &Policy, d: Draft) -> Record {
        match evaluate(p, &key(), d) {
            Verdict::Keep(r) => r,
            other => panic!("expected a record, got {other:?}"),
        }
    }

    #[test]
    fn fields_no_rule_allows_are_removed_and_noted() {
        let p = policy(
            "[category.performance]\npurpose = \"service-operational\"\nallow = [\"memory.*\"]\n",
        );
        let r = keep(
            &p,
            draft(
                Category::Performance,
                json!({
                    "memory": {"used_bytes": 5, "total_bytes": 9},
                    "cpu": {"brand": "x", "usage": 3},
                }),
            ),
        );
        assert_eq!(
            Value::Object(r.fields),
            json!({"memory": {"used_bytes": 5, "total_bytes": 9}})
        );
        let removed: Vec<&str> = r.provenance.iter().map(|p| &*p.field).collect();
        assert_eq!(removed, ["cpu.brand", "cpu.usage"]);
        assert!(r.provenance.iter().all(|p| p.action == Action::Removed
            && &*p.rule == "category.performance.allow (no pattern matches)"));
        assert_eq!(r.purpose, Purpose::ServiceOperational);
        assert_eq!(r.policy, p.stamp);
    }

    #[test]
    fn drop_beats_every_other_rule() {
        let p = policy(
            "[category.performance]\npurpose = \"service-operational\"\nallow = [\"*\"]\nscrub = [\"message\"]\npseudonymize = [\"user.*\"]\ndrop = [\"user.email\"]\n",
        );
        let r = keep(
            &p,
            draft(
                Category::Performance,
                json!({"user": {"email": "a@b.c", "id": 7}}),
            ),
        );
        let id = key().pseudonym(&json!(7));
        assert_eq!(Value::Object(r.fields), json!({"user": {"id": id}}));
        assert_eq!(
            r.provenance,
            vec![
                Provenance {
                    field: "user.email".into(),
                    rule: "category.performance.drop[\"user.email\"]".into(),
                    action: Action::Removed,
                    span: None,
                },
                Provenance {
                    field: "user.id".into(),
                    rule: "category.performance.pseudonymize[\"user.*\"]".into(),
                    action: Action::Pseudonymized,
                    span: None,
                },
            ]
        );
    }

    #[test]
    fn pseudonymize_and_mask_imply_allow_and_never_keep_the_value() {
        let p = policy(
            "[category.configuration]\npurpose = \"service-operational\"\npseudonymize = [\"host.name\"]\nmask = [\"host.serial\"]\n",
        );
        let r = keep(
            &p,
            draft(
                Category::Configuration,
                json!({"host": {"name": "db-7.example", "serial": "SN123"}}),
            ),
        );
        let text = serde_json::to_string(&r).unwrap();
        assert!(
            !text.contains("db-7.example") && !text.contains("SN123"),
            "{text}"
        );
        assert_eq!(
            r.fields["host"]["name"],
            json!(key().pseudonym_str("db-7.example"))
        );
        assert_eq!(r.fields["host"]["serial"], json!(MASK));
    }

    #[test]
    fn array_elements_share_their_array_path() {
        let p = policy(
            "[category.performance]\npurpose = \"service-operational\"\nallow = [\"disk.mounts.total_bytes\"]\npseudonymize = [\"disk.mounts.mount\"]\n",
        );
        let r = keep(
            &p,
            draft(
                Category::Performance,
                json!({
                    "disk": {"mounts": [{"mount": "/", "total_bytes": 1, "fs": "ext4"}, {"mount": "/home/alice", "total_bytes": 2}]}
                }),
            ),
        );
        let mounts = r.fields["disk"]["mounts"].as_array().unwrap();
        assert_eq!(mounts.len(), 2);
        assert_eq!(
            mounts[1]["mount"],
            json!(key().pseudonym_str("/home/alice"))
        );
        assert!(mounts[0].get("fs").is_none());
        assert_eq!(
            r.provenance
                .iter()
                .filter(|p| &*p.field == "disk.mounts.mount")
                .count(),
            1,
            "deduplicated"
        );
    }

    #[test]
    fn containers_emptied_by_the_policy_disappear() {
        let p = policy(
            "[category.performance]\npurpose = \"service-operational\"\nallow = [\"a.keep\"]\n",
        );
        let r = keep(
            &p,
            draft(
                Category::Performance,
                json!({"a": {"keep": 1, "b": {"c": 2}}, "list": [1, 2], "empty": {}}),
            ),
        );
        assert_eq!(Value::Object(r.fields), json!({"a": {"keep": 1}}));
        assert!(r.provenance.iter().any(|p| &*p.field == "empty"));
    }

    #[test]
    fn refusals_need_no_field_rules() {
        let p = policy(
            "[category.feature-usage]\npurpose = \"usage\"\nallow = [\"*\"]\nscrub = [\"message\"]\n",
        );
        let d = draft(Category::FeatureUsage, json!({"feature": "x"}));
        assert_eq!(
            evaluate(&p, &key(), d.clone()),
            Verdict::Refuse(Refusal::NoUsageConsent)
        );
        let d2 = draft(Category::Performance, json!({}));
        assert_eq!(
            evaluate(&p, &key(), d2),
            Verdict::Refuse(Refusal::CategoryNotCollected)
        );
        let consenting = policy(
            "[consent]\nusage = true\n[category.feature-usage]\npurpose = \"usage\"\nallow = [\"*\"]\nscrub = [\"message\"]\n",
        );
        assert_eq!(keep(&consenting, d).purpose, Purpose::Usage);
    }

    #[test]
    fn an_event_rule_gives_matching_events_another_purpose() {
        let p = policy(
            "[category.feature-usage]\npurpose = \"usage\"\nallow = [\"*\"]\nscrub = [\"message\"]\n[[rule]]\ncategory = \"feature-usage\"\nmatch = { event = \"license.*\" }\npurpose = \"service-operational\"\n",
        );
        let mut d = draft(Category::FeatureUsage, json!({"seats": 5}));
        d.event = Some("license.check".into());
        assert_eq!(
            keep(&p, d.clone()).purpose,
            Purpose::ServiceOperational,
            "operational needs no consent"
        );
        d.event = Some("report.exported".into());
        assert_eq!(
            evaluate(&p, &key(), d.clone()),
            Verdict::Refuse(Refusal::NoUsageConsent)
        );
        d.event = None;
        assert_eq!(
            evaluate(&p, &key(), d),
            Verdict::Refuse(Refusal::NoUsageConsent)
        );
    }

    #[test]
    fn admin_pattern_hits_carry_their_name_as_provenance() {
        let p = policy(
            "[[scrub.pattern]]\nname = \"ticket\"\nregex = \"TCK-[0-9]{5}\"\n[category.service-logs]\npurpose = \"service-operational\"\nscrub = [\"message\"]\n",
        );
        let mut d = draft(Category::ServiceLogs, json!({}));
        d.fields
            .insert("message".into(), json!("closed TCK-00042 for 192.0.2.9"));
        let r = keep(&p, d);
        let message = r.fields["message"].as_str().unwrap();
        assert!(message.starts_with("closed [ticket:h:"), "{message}");
        let rules: Vec<_> = r.provenance.iter().map(|p| &*p.rule).collect();
        assert!(rules.contains(&"scrub.pattern.ticket"), "{rules:?}");
        assert!(rules.contains(&"scrub.ipv4"), "{rules:?}");
    }

    #[test]
    fn free_text_is_removed_unless_listed_for_scrubbing() {
        let p = policy(
            "[category.service-logs]\npurpose = \"service-operational\"\nallow = [\"*\"]\nscrub = [\"message\"]\n",
        );
        let mut d = draft(Category::ServiceLogs, json!({}));
        d.body = Some("login by alice@example.com".into());
        let r = keep(&p, d.clone());
        assert_eq!(r.body, None);
        assert_eq!(&*r.provenance[0].field, "body");
        assert_eq!(r.provenance[0].action, Action::Removed);

        let p = policy(
            "[scrub]\naction = \"mask\"\n[category.service-logs]\npurpose = \"service-operational\"\nscrub = [\"body\", \"message\"]\n",
        );
        d.fields.insert(
            "message".into(),
            json!("Failed password for root from 192.0.2.9 port 22"),
        );
        d.fields.insert("card".into(), json!(4111111111111111u64));
        let r = keep(&p, d);
        assert_eq!(r.body.as_deref(), Some("login by [email]"));
        assert_eq!(
            r.fields["message"],
            json!("Failed password for [user_name] from [ipv4] port 22")
        );
        assert!(r.fields.get("card").is_none(), "not free text, not allowed");
        let scrub_notes: Vec<_> = r
            .provenance
            .iter()
            .filter(|p| p.span.is_some())
            .map(|p| (&*p.field, &*p.rule, p.span.unwrap()))
            .collect();
        assert_eq!(
            scrub_notes,
            [
                ("body", "scrub.email", (9, 26)),
                ("message", "scrub.ipv4", (30, 39)),
                ("message", "scrub.user_name", (20, 24))
            ]
        );
        let text = serde_json::to_string(&r).unwrap();
        assert!(
            !text.contains("alice") && !text.contains("192.0.2.9"),
            "{text}"
        );
    }

    #[test]
    fn an_evaluator_kept_across_drafts_decides_as_evaluate_does_alone() {
        let p = policy(
            "[category.service-logs]\npurpose = \"service-operational\"\nallow = [\"file\"]\nscrub = [\"message\"]\n",
        );
        let lines = [
            "login alice@example.com from 192.0.2.9",
            "login alice@example.com from 192.0.2.10",
            "nothing here",
            "card 4111 1111 1111 1111 for alice@example.com",
        ];
        let k = key();
        let mut evaluator = Evaluator::new(&p, &k);
        for line in lines {
            let d = draft(
                Category::ServiceLogs,
                json!({"message": line, "file": "/var/log/x.log"}),
            );
            let (Verdict::Keep(kept), Verdict::Keep(alone)) =
                (evaluator.evaluate(d.clone()), evaluate(&p, &k, d))
            else {
                panic!("both keep the line")
            };
            assert_eq!(
                (kept.fields, kept.provenance),
                (alone.fields, alone.provenance),
                "{line}"
            );
        }
    }
}
