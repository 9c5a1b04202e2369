//! The admit step: the policy applied to a round of drafts, and the tally of what it did.

use std::fmt::Write as _;

use crate::policy::{Evaluator, Policy, PseudonymKey, Refusal, Verdict};
use crate::record::{Action, Draft, RecordId};
use crate::spool::Sealed;

/// What the policy did to a set of drafts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Drafts the sources produced.
    pub collected: u64,
    /// Drafts refused because their category is not in the policy.
    pub refused_category: u64,
    /// Drafts refused because usage consent is off.
    pub refused_consent: u64,
    /// Fields (and bodies) removed.
    pub removed: u64,
    /// Fields pseudonymised.
    pub pseudonymized: u64,
    /// Fields masked.
    pub masked: u64,
    /// Records kept for the spool.
    pub kept: u64,
    /// Records kept per source, category and purpose: `stored.log_file.service-logs.usage`.
    pub per_stream: std::collections::BTreeMap<String, u64>,
    /// What each rule did: `removed.<rule>`, `pseudonymized.<rule>`, `masked.<rule>`, and
    /// scrub hits per detector, `scrubbed.<detector>`.
    pub per_rule: std::collections::BTreeMap<String, u64>,
}

impl Tally {
    /// Adds another tally to this one.
    pub fn add(&mut self, o: &Tally) {
        self.collected += o.collected;
        self.refused_category += o.refused_category;
        self.refused_consent += o.refused_consent;
        self.removed += o.removed;
        self.pseudonymized += o.pseudonymized;
        self.masked += o.masked;
        self.kept += o.kept;
        for (k, v) in &o.per_stream {
            *self.per_stream.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.per_rule {
            *self.per_rule.entry(k.clone()).or_default() += v;
        }
    }

    /// The tally as spool counters.
    pub fn counters(&self) -> Vec<(String, u64)> {
        let fixed = [
            ("collected", self.collected),
            ("refused.category-not-collected", self.refused_category),
            ("refused.no-usage-consent", self.refused_consent),
            ("fields.removed", self.removed),
            ("fields.pseudonymized", self.pseudonymized),
            ("fields.masked", self.masked),
            ("stored", self.kept),
        ];
        fixed
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .chain(self.per_stream.iter().map(|(k, v)| (k.clone(), *v)))
            .chain(self.per_rule.iter().map(|(k, v)| (k.clone(), *v)))
            .collect()
    }
}

/// Record ids for one round, drawn in order before its policy step runs: rounds admitted side
/// by side then still reach the spool in id order, which its segments are keyed by.
pub struct Ids(std::vec::IntoIter<RecordId>);

impl Ids {
    /// One id for each of `drafts`, each later than every id drawn before.
    pub fn draw(drafts: &[Draft]) -> Ids {
        Ids(drafts
            .iter()
            .map(|_| RecordId::new())
            .collect::<Vec<_>>()
            .into_iter())
    }
}

/// Applies the policy to each draft, the n-th kept record taking the n-th of `ids`; returns
/// the records to store, serialized as they are made (so each is freed at once, on the
/// thread that made it), and what was done.
pub fn admit(policy: &Policy, key: &PseudonymKey, drafts: Vec<Draft>, ids: Ids) -> (Sealed, Tally) {
    let mut tally = Tally::default();
    let mut name = String::new();
    let mut records = Sealed::default();
    let mut evaluator = Evaluator::new(policy, key);
    let mut ids = ids.0;
    for draft in drafts {
        tally.collected += 1;
        // One id was drawn per draft, so they never run out.
        let id = ids.next().unwrap_or_default();
        match evaluator.evaluate_as(draft, id) {
            Verdict::Keep(r) => {
                for p in &r.provenance {
                    match p.action {
                        Action::Removed => tally.removed += 1,
                        Action::Pseudonymized => tally.pseudonymized += 1,
                        Action::Masked => tally.masked += 1,
                    }
                    name.clear();
                    match (p.span, p.rule.strip_prefix("scrub.")) {
                        (Some(_), Some(detector)) => write!(name, "scrubbed.{detector}"),
                        _ => write!(name, "{}.{}", p.action, p.rule),
                    }
                    .expect("writing to a String cannot fail");
                    bump(&mut tally.per_rule, &name);
                }
                tally.kept += 1;
                name.clear();
                write!(name, "stored.{}.{}.{}", r.source, r.category, r.purpose)
                    .expect("writing to a String cannot fail");
                bump(&mut tally.per_stream, &name);
                records.push(&r);
            }
            Verdict::Refuse(Refusal::CategoryNotCollected) => tally.refused_category += 1,
            Verdict::Refuse(Refusal::NoUsageConsent) => tally.refused_consent += 1,
        }
    }
    (records, tally)
}

/// Adds one to a counter, allocating its name only the first time it is seen.
fn bump(counters: &mut std::collections::BTreeMap<String, u64>, name: &str) {
    match counters.get_mut(name) {
        Some(n) => *n += 1,
        None => {
            counters.insert(name.to_owned(), 1);
        }
    }
}

/// Borrowed counter names, as the spool takes them.
pub fn as_str(counters: &[(String, u64)]) -> Vec<(&str, u64)> {
    counters.iter().map(|(k, v)| (k.as_str(), *v)).collect()
}
