//! `noticed explain ID`: a record's provenance in words: which rule kept, pseudonymised, masked
//! or removed each field, which detectors fired where in free text. Never the removed values:
//! the provenance holds none.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use super::output;
use crate::record::{Action, Record, RecordId};
use crate::spool::Stored;

/// One line of an explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The field (dotted path) or `body`.
    pub field: String,
    /// `kept`, `removed`, `pseudonymized`, `masked`, or `scrubbed`.
    pub outcome: String,
    /// The rule that decided (`category.performance.drop["cpu.brand"]`, `scrub.email`).
    pub rule: String,
    /// For scrubbed text: the byte ranges replaced, in the original text.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub spans: Vec<(usize, usize)>,
}

/// The explanation of one record, in order: kept fields, then what the policy did.
pub fn steps(record: &Record) -> Vec<Step> {
    let mut out = Vec::new();
    let touched: std::collections::HashSet<&str> =
        record.provenance.iter().map(|p| &*p.field).collect();
    let mut leaves = Vec::new();
    for (k, v) in &record.fields {
        collect_leaves(k, v, &mut leaves);
    }
    for leaf in leaves.into_iter().filter(|l| !touched.contains(l.as_str())) {
        out.push(Step {
            field: leaf,
            outcome: "kept".into(),
            rule: format!("category.{}.allow", record.category),
            spans: Vec::new(),
        });
    }
    // Scrub hits on one field and detector are grouped, with their spans.
    let mut grouped: BTreeMap<(String, String, String), Vec<(usize, usize)>> = BTreeMap::new();
    for p in &record.provenance {
        let outcome = match (p.action, p.span.is_some()) {
            (Action::Removed, _) => "removed",
            (_, true) => "scrubbed",
            (Action::Pseudonymized, false) => "pseudonymized",
            (Action::Masked, false) => "masked",
        };
        let spans = grouped
            .entry((p.field.to_string(), outcome.into(), p.rule.to_string()))
            .or_default();
        spans.extend(p.span);
    }
    for ((field, outcome, rule), spans) in grouped {
        out.push(Step {
            field,
            outcome,
            rule,
            spans,
        });
    }
    out
}

fn collect_leaves(path: &str, v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                collect_leaves(&format!("{path}.{k}"), v, out);
            }
        }
        _ => out.push(path.to_owned()),
    }
}

fn words(s: &Stored) -> String {
    let r = &s.record;
    let mut out = format!(
        "record {} — {} for {}, from {}{}, collected {}\n",
        r.id,
        r.category,
        r.purpose,
        r.source,
        r.event
            .as_deref()
            .map_or(String::new(), |e| format!(" (event {e})")),
        r.collected_at
    );
    let _ = writeln!(
        out,
        "policy notice {} (sha256 {})",
        r.policy.version,
        r.policy.sha256.get(..12).unwrap_or(&r.policy.sha256)
    );
    for step in steps(r) {
        let line = match step.outcome.as_str() {
            "kept" => format!(
                "kept           {} as collected (allowed by {})",
                step.field, step.rule
            ),
            "removed" => format!(
                "removed        {} ({}); its value was never stored",
                step.field, step.rule
            ),
            "pseudonymized" => format!(
                "pseudonymized  {} by keyed HMAC ({})",
                step.field, step.rule
            ),
            "masked" => format!("masked         {} ({})", step.field, step.rule),
            _ => {
                let spans: Vec<String> = step
                    .spans
                    .iter()
                    .map(|(a, b)| format!("{a}..{b}"))
                    .collect();
                let detector = step.rule.strip_prefix("scrub.").unwrap_or(&step.rule);
                format!(
                    "scrubbed       {}: {detector} at bytes {} of the original text",
                    step.field,
                    spans.join(", ")
                )
            }
        };
        out.push_str(&line);
        out.push('\n');
    }
    let delivery = super::records::delivery(&s.delivery);
    let _ = writeln!(out, "delivery       {delivery}");
    out
}

/// Prints the explanation of record `id`.
///
/// # Errors
/// No such record, or neither the daemon nor the spool could be read.
pub async fn explain(
    policy: Option<PathBuf>,
    id: RecordId,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let Some(stored) = super::records::one(policy, id).await? else {
        return Ok(ExitCode::from(super::EXIT_CONFIG));
    };
    let text = if json {
        serde_json::json!({
            "id": stored.record.id,
            "category": stored.record.category,
            "purpose": stored.record.purpose,
            "source": stored.record.source,
            "steps": steps(&stored.record),
            "delivery": stored.delivery,
        })
        .to_string()
            + "\n"
    } else {
        words(&stored)
    };
    output::print(&text)?;
    Ok(ExitCode::SUCCESS)
}
