//! `noticed report`: a transparency report over a window: records per category and purpose,
//! what the policy did to fields (removed, pseudonymised, masked), what scrubbing found, and
//! how much was sent; as text, or HTML with a bar chart (inline SVG, no scripts).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use serde::Serialize;

use super::ask::ask;
use super::output;
use crate::admin::{Op, Response};
use crate::record::Action;
use crate::spool::{Delivery, Filter, Stored};

/// Most records one report reads.
const MAX_RECORDS: usize = 1_000_000;

/// Report format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Plain text.
    Text,
    /// A standalone HTML page with a chart.
    Html,
    /// One JSON object.
    Json,
}

/// The figures.
#[derive(Debug, Default, Serialize)]
struct Figures {
    window: String,
    records: u64,
    sent: u64,
    /// category → purpose → records.
    by_category: BTreeMap<String, BTreeMap<String, u64>>,
    /// removed / pseudonymized / masked → fields.
    by_action: BTreeMap<String, u64>,
    /// detector → hits in free text.
    scrubbed: BTreeMap<String, u64>,
}

fn figures(stored: &[Stored], window: Duration) -> Figures {
    let secs = window.as_secs();
    let window = match secs {
        s if s > 0 && s % 86_400 == 0 => format!("{} day(s)", s / 86_400),
        s if s > 0 && s % 3_600 == 0 => format!("{} hour(s)", s / 3_600),
        _ => humantime::format_duration(window).to_string(),
    };
    let mut f = Figures {
        window,
        ..Figures::default()
    };
    for s in stored {
        let r = &s.record;
        f.records += 1;
        f.sent += u64::from(matches!(s.delivery, Delivery::Sent { .. }));
        *f.by_category
            .entry(r.category.to_string())
            .or_default()
            .entry(r.purpose.to_string())
            .or_default() += 1;
        for p in &r.provenance {
            if p.span.is_some() {
                let d = p.rule.strip_prefix("scrub.").unwrap_or(&p.rule);
                *f.scrubbed.entry(d.to_owned()).or_default() += 1;
            } else {
                let a = match p.action {
                    Action::Removed => "removed",
                    Action::Pseudonymized => "pseudonymized",
                    Action::Masked => "masked",
                };
                *f.by_action.entry(a.to_owned()).or_default() += 1;
            }
        }
    }
    f
}

/// Prints the report for the last `since`.
///
/// # Errors
/// Neither the daemon nor the spool could be read.
pub async fn report(
    policy: Option<PathBuf>,
    since: Duration,
    format: ReportFormat,
) -> anyhow::Result<ExitCode> {
    let loaded = match super::load_or_exit(policy.as_deref())? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let filter = Filter {
        since_ms: Filter::since(since),
        ..Filter::default()
    };
    let op = Op::Records {
        limit: MAX_RECORDS,
        filter: filter.clone(),
    };
    let stored = match ask(&loaded.policy, op, |spool| {
        Ok(Response::Records {
            records: spool.list_matching(MAX_RECORDS, &filter)?,
        })
    })
    .await?
    {
        Response::Records { records } => records,
        other => bail!("the daemon answered something else: {other:?}"),
    };
    let f = figures(&stored, since);
    let text = match format {
        ReportFormat::Json => serde_json::to_string(&f).expect("figures serialize") + "\n",
        ReportFormat::Text => text(&f, &loaded.policy.file.notice.title),
        ReportFormat::Html => html(&f, &loaded.policy.file.notice.title),
    };
    output::print(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn text(f: &Figures, title: &str) -> String {
    let mut out = format!(
        "Transparency report: {title}\nlast {}: {} records collected, {} sent\n\nrecords by category and purpose\n",
        f.window, f.records, f.sent
    );
    for (c, purposes) in &f.by_category {
        for (p, n) in purposes {
            let _ = writeln!(out, "  {c:<16} {p:<20} {n:>8}");
        }
    }
    out.push_str("\nfields the policy changed\n");
    for (a, n) in &f.by_action {
        let _ = writeln!(out, "  {a:<37} {n:>8}");
    }
    out.push_str("\npersonal data found in free text\n");
    for (d, n) in &f.scrubbed {
        let _ = writeln!(out, "  {d:<37} {n:>8}");
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn html(f: &Figures, title: &str) -> String {
    let rows: Vec<(String, u64)> = f
        .by_category
        .iter()
        .flat_map(|(c, ps)| ps.iter().map(move |(p, n)| (format!("{c} · {p}"), *n)))
        .collect();
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"records by category\" width=\"640\" height=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"system-ui,sans-serif\" font-size=\"13\">",
        rows.len() * 28 + 10
    );
    for (i, (label, n)) in rows.iter().enumerate() {
        let y = i * 28 + 5;
        let w = (*n as f64 / max as f64 * 330.0).round().max(1.0);
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\">{}</text><rect x=\"250\" y=\"{y}\" width=\"{w}\" height=\"20\" fill=\"#2f6f4f\"/><text x=\"{}\" y=\"{}\">{n}</text>",
            y + 15,
            escape(label),
            255.0 + w,
            y + 15
        );
    }
    svg.push_str("</svg>");
    let table = |m: &BTreeMap<String, u64>| {
        let mut t = String::from("<table>");
        for (k, n) in m {
            let _ = write!(t, "<tr><td>{}</td><td>{n}</td></tr>", escape(k));
        }
        t + "</table>"
    };
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Transparency report: {t}</title>\n<style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}}h1{{border-bottom:3px solid #2f6f4f}}td{{padding:.1rem 1rem .1rem 0}}td:last-child{{text-align:right}}</style>\n</head>\n<body>\n<h1>Transparency report: {t}</h1>\n<p>Last {w}: {r} records collected, {s} sent.</p>\n<h2>Records by category and purpose</h2>\n{svg}\n<h2>Fields the policy changed</h2>\n{a}\n<h2>Personal data found in free text</h2>\n{d}\n</body>\n</html>\n",
        t = escape(title),
        w = f.window,
        r = f.records,
        s = f.sent,
        a = table(&f.by_action),
        d = table(&f.scrubbed),
    )
}
