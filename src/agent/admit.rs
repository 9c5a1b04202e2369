//! The admit step: the policy applied to a round of drafts, and the tally of what it did.

use std::sync::Arc;

use crate::policy::{Evaluator, Policy, PseudonymKey, Refusal, Verdict};
use crate::record::{Action, Category, Draft, Provenance, Purpose, Record, RecordId};
use crate::scrub::Scratch;
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
    /// `n` ids (one for each draft of a round), each later than every id drawn before.
    pub fn draw(n: usize) -> Ids {
        Ids((0..n)
            .map(|_| RecordId::new())
            .collect::<Vec<_>>()
            .into_iter())
    }
}

/// Applies the policy to each draft; returns the records to store, serialized as they are
/// made (so each is freed at once, on the thread that made it), and what was done.
pub fn admit<D>(policy: &Policy, key: &PseudonymKey, drafts: D) -> (Sealed, Tally)
where
    D: IntoIterator<Item = Draft>,
    D::IntoIter: ExactSizeIterator,
{
    let drafts = drafts.into_iter();
    let ids = Ids::draw(drafts.len());
    admit_as(policy, key, drafts, ids, &mut Scratch::default())
}

/// As [`admit`], the n-th kept record taking the n-th of `ids` (drawn before the round was
/// handed to a worker, so rounds admitted side by side keep their read order), starting from
/// and leaving `scratch` (buffers and digests kept under `key` from round to round).
pub fn admit_as(
    policy: &Policy,
    key: &PseudonymKey,
    drafts: impl IntoIterator<Item = Draft>,
    ids: Ids,
    scratch: &mut Scratch,
) -> (Sealed, Tally) {
    let mut tally = Tally::default();
    let mut records = Sealed::default();
    let mut evaluator = Evaluator::with_scratch(policy, key, std::mem::take(scratch));
    let mut counts = Counts::default();
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
                    counts.rule(p);
                }
                tally.kept += 1;
                counts.stream(&r);
                records.push(&r);
            }
            Verdict::Refuse(Refusal::CategoryNotCollected) => tally.refused_category += 1,
            Verdict::Refuse(Refusal::NoUsageConsent) => tally.refused_consent += 1,
        }
    }
    counts.name_into(&mut tally);
    *scratch = evaluator.into_scratch();
    (records, tally)
}

/// Per-rule and per-stream counts of one round, keyed as found and named once at its end:
/// naming them per record (formatting a string and looking it up) cost more than the policy
/// step's map edits.
#[derive(Default)]
struct Counts {
    rules: Vec<(Action, bool, Arc<str>, u64)>,
    streams: Vec<(String, Category, Purpose, u64)>,
}

impl Counts {
    fn rule(&mut self, p: &Provenance) {
        let scrubbed = p.span.is_some();
        match self.rules.iter_mut().find(|(a, s, rule, _)| {
            *a == p.action && *s == scrubbed && (Arc::ptr_eq(rule, &p.rule) || *rule == p.rule)
        }) {
            Some(n) => n.3 += 1,
            None => self
                .rules
                .push((p.action, scrubbed, Arc::clone(&p.rule), 1)),
        }
    }

    fn stream(&mut self, r: &Record) {
        match self
            .streams
            .iter_mut()
            .find(|(s, c, p, _)| *s == r.source && *c == r.category && *p == r.purpose)
        {
            Some(n) => n.3 += 1,
            None => self
                .streams
                .push((r.source.clone(), r.category, r.purpose, 1)),
        }
    }

    /// Adds the counts to `tally` under their counter names.
    fn name_into(self, tally: &mut Tally) {
        for (action, scrubbed, rule, n) in self.rules {
            let name = match (scrubbed, rule.strip_prefix("scrub.")) {
                (true, Some(detector)) => format!("scrubbed.{detector}"),
                _ => format!("{action}.{rule}"),
            };
            *tally.per_rule.entry(name).or_default() += n;
        }
        for (source, category, purpose, n) in self.streams {
            *tally
                .per_stream
                .entry(format!("stored.{source}.{category}.{purpose}"))
                .or_default() += n;
        }
    }
}

/// Borrowed counter names, as the spool takes them.
pub fn as_str(counters: &[(String, u64)]) -> Vec<(&str, u64)> {
    counters.iter().map(|(k, v)| (k.as_str(), *v)).collect()
}
