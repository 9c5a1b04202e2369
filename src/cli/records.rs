//! `noticed records`: asks the running daemon, or reads the spool when no daemon holds it.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::Value;

use super::output;
use crate::admin::{AdminClientError, Op, Response, request};
use crate::agent::ADMIN_SOCKET;
use crate::agent::setup::data_dir;
use crate::record::Action;
use crate::spool::{Delivery, Spool, SpoolError, Stored};

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
    let socket = dir.join(ADMIN_SOCKET);
    let stored = match request(&socket, Op::Records { limit }).await {
        Ok(Response::Records { records }) => records,
        Ok(Response::Error { message }) => bail!("the daemon refused: {message}"),
        Ok(other) => bail!("the daemon answered something else: {other:?}"),
        Err(AdminClientError::NoDaemon(_)) => match Spool::open(&dir) {
            Ok(spool) => spool.list(limit)?,
            Err(SpoolError::Locked(p)) => bail!(
                "{} is held by another process but no daemon answers on {}; is a `noticed run --once` still running?",
                p.display(),
                socket.display()
            ),
            Err(e) => return Err(e).context("cannot read the spool"),
        },
        Err(e) => return Err(e.into()),
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
