//! `noticed records`: asks the running daemon, or reads the spool when no daemon holds it.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use serde_json::Value;

use super::ask::ask;
use super::output;
use crate::admin::{Op, Response};
use crate::agent::setup::data_dir;
use crate::record::Action;
use crate::spool::{Delivery, Stored};

/// Lists the newest `limit` records as a table or JSON lines.
///
/// # Errors
/// Neither the daemon nor the spool could be read.
pub async fn records(
    policy: Option<PathBuf>,
    json: bool,
    limit: usize,
) -> anyhow::Result<ExitCode> {
    let loaded = match super::load_or_exit(policy.as_deref())? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let dir = data_dir(&loaded.policy)?;
    let stored = match ask(&dir, Op::Records { limit }, |spool| {
        Ok(Response::Records {
            records: spool.list(limit)?,
        })
    })
    .await?
    {
        Response::Records { records } => records,
        other => bail!("the daemon answered something else: {other:?}"),
    };
    let text = if json {
        json_lines(&stored)
    } else {
        table(&stored)
    };
    output::print(&text)?;
    Ok(ExitCode::SUCCESS)
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
        let state = match s.delivery {
            Delivery::Pending => "pending",
            Delivery::InFlight { .. } => "sending",
            Delivery::Sent { .. } => "sent",
            Delivery::Dead { .. } => "dead",
        };
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
