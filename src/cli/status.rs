//! `noticed status`: the daemon's health, policy, sources, spool and delivery, and every
//! counter; from the spool alone when no daemon runs.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;

use super::ask::ask;
use super::output;
use crate::admin::{Op, Response};
use crate::agent::health::HealthSnapshot;
use crate::spool::SpoolStats;

/// Prints the status as a report for people, or one JSON object.
///
/// # Errors
/// Neither the daemon nor the spool could answer.
pub async fn status(policy: Option<PathBuf>, json: bool) -> anyhow::Result<ExitCode> {
    let loaded = match super::load_or_exit(policy.as_deref())? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let response = ask(&loaded.policy, Op::Status, |spool| {
        Ok(Response::Status {
            counters: spool.counters()?,
            unsent: spool.unsent()?,
            daemon: None,
            spool: Some(Box::new(spool.stats()?)),
        })
    })
    .await?;
    let Response::Status {
        counters,
        unsent,
        daemon,
        spool,
    } = &response
    else {
        bail!("the daemon answered something else: {response:?}");
    };
    let text = if json {
        serde_json::to_string(&response).expect("responses serialize") + "\n"
    } else {
        report(counters, *unsent, daemon.as_deref(), spool.as_deref())
    };
    output::print(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / f64::from(1 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

fn report(
    counters: &[(String, u64)],
    unsent: u64,
    daemon: Option<&HealthSnapshot>,
    spool: Option<&SpoolStats>,
) -> String {
    let mut out = String::new();
    match daemon {
        Some(d) => {
            let uptime = humantime::format_duration(std::time::Duration::from_secs(d.uptime_secs));
            let _ = writeln!(out, "daemon    running since {} ({uptime})", d.started_at);
            let p = &d.policy;
            let _ = writeln!(
                out,
                "policy    {} (notice {}, sha256 {}), in force since {}",
                p.origin,
                p.version,
                p.sha256.get(..12).unwrap_or(&p.sha256),
                p.since
            );
            let _ = writeln!(
                out,
                "consent   usage {}",
                if p.usage_consent {
                    "given"
                } else {
                    "not given: no usage record is collected"
                }
            );
            if d.sources.is_empty() {
                let _ = writeln!(out, "sources   none has run yet");
            }
            for (i, (name, s)) in d.sources.iter().enumerate() {
                let label = if i == 0 { "sources" } else { "" };
                let state = match (&s.last_error, s.waiting_for_room) {
                    (Some(e), _) => format!("failing: {e}"),
                    (None, true) => {
                        "waiting: unsent records fill the spool, its lines wait in place".to_owned()
                    }
                    (None, false) => "ok".to_owned(),
                };
                let _ = writeln!(
                    out,
                    "{label:<9} {name}: {} round(s), last {}, {state}",
                    s.rounds,
                    s.last_run.as_deref().unwrap_or("never")
                );
            }
            let del = &d.delivery;
            match &del.collector {
                None => {
                    let _ = writeln!(out, "delivery  none: no [collector], records stay here");
                }
                Some(c) => {
                    let _ = writeln!(
                        out,
                        "delivery  {c}; last success {}",
                        del.last_success.as_deref().unwrap_or("not yet")
                    );
                    if let (Some(e), Some(at)) = (&del.last_error, &del.retry_at) {
                        let _ = writeln!(out, "          retrying at {at} after: {e}");
                    }
                }
            }
        }
        None => {
            let _ = writeln!(out, "daemon    not running (figures read from the spool)");
        }
    }
    if let Some(s) = spool {
        let _ = writeln!(
            out,
            "spool     {unsent} unsent (pending {}, sending {}, dead {}), {} in the sent-history, {}",
            s.pending,
            s.in_flight,
            s.dead,
            s.sent,
            bytes(s.bytes)
        );
        for (purpose, p) in &s.unsent_by_purpose {
            let _ = writeln!(
                out,
                "          unsent {purpose}: {} ({})",
                p.records,
                bytes(p.bytes)
            );
        }
        if s.controls_queued > 0 {
            let _ = writeln!(
                out,
                "          {} control message(s) (deletion requests, consent) wait for the collector",
                s.controls_queued
            );
        }
    }
    if !counters.is_empty() {
        let _ = writeln!(out, "counters");
        for (name, value) in counters {
            let _ = writeln!(out, "  {name:<56} {value:>10}");
        }
    }
    out
}
