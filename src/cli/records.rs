//! `noticed records`: asks the running daemon, or reads the spool when no daemon holds it.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use serde_json::Value;

use super::ask::ask;
use super::output;
use crate::admin::{Op, Response};
use crate::record::{Action, RecordId};
use crate::spool::{Delivery, Filter, Stored};

/// Lists the newest `limit` records that match `filter`, as a table or JSON lines.
///
/// # Errors
/// Neither the daemon nor the spool could be read.
pub async fn records(
    policy: Option<PathBuf>,
    json: bool,
    limit: usize,
    filter: Filter,
) -> anyhow::Result<ExitCode> {
    let Some(stored) = fetch(policy, limit, filter).await? else {
        return Ok(ExitCode::from(super::EXIT_CONFIG));
    };
    let text = if json {
        json_lines(&stored)
    } else {
        table(&stored)
    };
    output::print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// `noticed records show ID`: one record as stored, and how it was (or will be) sent.
///
/// # Errors
/// No such record, or neither the daemon nor the spool could be read.
pub async fn show(policy: Option<PathBuf>, id: RecordId, json: bool) -> anyhow::Result<ExitCode> {
    let Some(stored) = one(policy, id).await? else {
        return Ok(ExitCode::from(super::EXIT_CONFIG));
    };
    let text = if json {
        serde_json::to_string(&stored).expect("records serialize") + "\n"
    } else {
        let sent = match &stored.delivery {
            Delivery::Dead { .. } => format!(
                "{}; kept (`noticed dead-letters`)",
                delivery(&stored.delivery)
            ),
            d => format!("{}, in exactly this form", delivery(d)),
        };
        format!(
            "as stored:\n{}\nas sent: {sent}\n",
            serde_json::to_string_pretty(&stored.record).expect("records serialize")
        )
    };
    output::print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Where a record is on its way out, in words.
pub fn delivery(d: &Delivery) -> String {
    match d {
        Delivery::Pending => "waiting to be sent".into(),
        Delivery::InFlight { batch } => format!("being sent in batch {batch}"),
        Delivery::Sent { batch, at_ms } => format!(
            "sent in batch {batch} at {}",
            crate::record::rfc3339(
                std::time::UNIX_EPOCH + std::time::Duration::from_millis(*at_ms)
            )
        ),
        Delivery::Dead { batch } => format!("refused by the collector in batch {batch}"),
    }
}

/// The record `id`, from the daemon or the spool; `Ok(None)` when the policy is unusable.
///
/// # Errors
/// No such record, or neither the daemon nor the spool could be read.
pub async fn one(policy: Option<PathBuf>, id: RecordId) -> anyhow::Result<Option<Stored>> {
    let filter = Filter {
        id: Some(id),
        ..Filter::default()
    };
    let Some(mut found) = fetch(policy, 1, filter).await? else {
        return Ok(None);
    };
    match found.pop() {
        Some(s) => Ok(Some(s)),
        None => bail!(
            "no record {id} in the spool (it may have aged out of the history); `noticed records` lists them"
        ),
    }
}

async fn fetch(
    policy: Option<PathBuf>,
    limit: usize,
    filter: Filter,
) -> anyhow::Result<Option<Vec<Stored>>> {
    let loaded = match super::load_or_exit(policy.as_deref())? {
        Ok(l) => l,
        Err(_) => return Ok(None),
    };
    let op = Op::Records {
        limit,
        filter: filter.clone(),
    };
    match ask(&loaded.policy, op, |spool| {
        Ok(Response::Records {
            records: spool.list_matching(limit, &filter)?,
        })
    })
    .await?
    {
        Response::Records { records } => Ok(Some(records)),
        other => bail!("the daemon answered something else: {other:?}"),
    }
}

fn json_lines(stored: &[Stored]) -> String {
    let mut out = String::new();
    for s in stored {
        out.push_str(&serde_json::to_string(s).expect("records serialize"));
        out.push('\n');
    }
    out
}

fn table(stored: &[Stored]) -> String {
    if stored.is_empty() {
        return "no records yet: run `noticed run --once` to collect a round\n".to_owned();
    }
    let mut out = format!(
        "{:<36}  {:<24}  {:<14}  {:<19}  {:<12}  {:<8}  {:>6}  {:>7}\n",
        "ID", "COLLECTED", "CATEGORY", "PURPOSE", "SOURCE", "STATE", "FIELDS", "REMOVED"
    );
    for s in stored {
        let r = &s.record;
        let state = s.delivery.state().as_str();
        let removed = r
            .provenance
            .iter()
            .filter(|p| p.action == Action::Removed)
            .count();
        let fields: usize = r.fields.values().map(leaves).sum();
        let _ = writeln!(
            out,
            "{:<36}  {:<24}  {:<14}  {:<19}  {:<12}  {:<8}  {:>6}  {:>7}",
            r.id, r.collected_at, r.category, r.purpose, r.source, state, fields, removed
        );
    }
    out
}

fn leaves(v: &Value) -> usize {
    match v {
        Value::Object(m) if !m.is_empty() => m.values().map(leaves).sum(),
        Value::Array(a) if !a.is_empty() => a.iter().map(leaves).sum(),
        _ => 1,
    }
}
