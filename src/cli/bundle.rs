//! `noticed bundle`: a support bundle (.tar.gz) built on demand: the agent's status, one
//! `host_config` round through the policy, the agent's journal where there is one, and the files
//! the admin lists in `[bundle]`, every text scrubbed on the way in, with a manifest of what is
//! inside and how many values of each kind were redacted.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

use super::output;
use super::scrub::Filter;
use crate::admin::{AdminClientError, Op, Response, request};
use crate::agent::setup::{data_dir, key_path, load_or_create_key};
use crate::policy::{HostConfigSpec, Interval, PseudonymKey, Verdict, evaluate};
use crate::record::rfc3339;
use crate::scrub::Scrubber;
use crate::sources::{HostConfig, Source};
use crate::spool::{Spool, SpoolError};

/// Files larger than this are listed in the manifest but not copied into a bundle.
const MAX_FILE_BYTES: u64 = 256 << 20;

/// What the manifest says of one entry.
struct Entry {
    name: String,
    source: String,
    bytes: usize,
    redacted: BTreeMap<String, u64>,
    note: Option<String>,
}

/// Builds the bundle, showing progress on stderr, and prints where it went.
///
/// # Errors
/// The bundle file cannot be written.
pub async fn bundle(policy: Option<PathBuf>, out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let loaded = match super::load_or_exit(policy.as_deref())? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let p = &loaded.policy;
    let dir = data_dir(p)?;
    let key = load_or_create_key(&key_path(p, &dir))?;
    let stamp = rfc3339(SystemTime::now()).replace([':', '.'], "");
    let out = out.unwrap_or_else(|| PathBuf::from(format!("noticed-bundle-{stamp}.tar.gz")));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&out)
        .with_context(|| format!("cannot create the bundle {}", out.display()))?;
    let mut tar = tar::Builder::new(GzEncoder::new(file, Compression::default()));
    let steps = 3 + p.file.bundle.files.len();
    let mut step = 0;
    let mut progress = |what: &str| {
        step += 1;
        eprintln!("[{step}/{steps}] {what}");
    };
    let mut entries = Vec::new();

    let scrubber = p.scrubber();
    progress("agent status");
    let status = status(p, &dir).await;
    let (status, redacted) = scrubbed_json(scrubber, &key, status);
    let bytes = pretty(&status);
    entries.push(add(
        &mut tar,
        "status.json",
        "the agent's counters and spool depth",
        bytes,
        redacted,
        None,
    )?);

    progress("host configuration, through the policy");
    let config = host_config(p, &key).await;
    let (config, redacted) = scrubbed_json(scrubber, &key, config);
    let bytes = pretty(&config);
    entries.push(add(
        &mut tar,
        "host_config.json",
        "one host_config round after the policy",
        bytes,
        redacted,
        None,
    )?);

    progress("the agent's journal");
    match agent_journal() {
        Some(text) => {
            let (bytes, redacted) = scrubbed(scrubber, &key, text.as_bytes())?;
            entries.push(add(
                &mut tar,
                "agent-journal.log",
                "journalctl -u noticed.service, scrubbed",
                bytes,
                redacted,
                None,
            )?);
        }
        None => entries.push(Entry {
            name: "agent-journal.log".into(),
            source: "journalctl -u noticed.service".into(),
            bytes: 0,
            redacted: BTreeMap::new(),
            note: Some("not included: no journal on this host".into()),
        }),
    }

    for path in &p.file.bundle.files {
        progress(&path.display().to_string());
        let name = format!(
            "files/{}",
            path.display().to_string().trim_start_matches('/')
        );
        let source = path.display().to_string();
        let entry = match std::fs::metadata(path) {
            Err(e) => skipped(
                name,
                source,
                format!("not included: cannot read ({})", e.kind()),
            ),
            Ok(m) if m.len() > MAX_FILE_BYTES => skipped(
                name,
                source,
                format!("not included: larger than {MAX_FILE_BYTES} bytes"),
            ),
            Ok(_) => match std::fs::read(path) {
                Ok(raw) => {
                    let (bytes, redacted) = scrubbed(scrubber, &key, &raw)?;
                    add(&mut tar, &name, &source, bytes, redacted, None)?
                }
                Err(e) => skipped(
                    name,
                    source,
                    format!("not included: cannot read ({})", e.kind()),
                ),
            },
        };
        entries.push(entry);
    }

    let total: u64 = entries.iter().flat_map(|e| e.redacted.values()).sum();
    let manifest = json!({
        "created_at": rfc3339(SystemTime::now()),
        "agent": {"version": env!("CARGO_PKG_VERSION")},
        "policy": {"origin": loaded.origin, "version": p.stamp.version, "sha256": p.stamp.sha256},
        "entries": entries.iter().map(|e| json!({
            "name": e.name, "source": e.source, "bytes": e.bytes, "redacted": e.redacted, "note": e.note,
        })).collect::<Vec<_>>(),
        "redacted_total": total,
    });
    add(
        &mut tar,
        "manifest.json",
        "this list",
        pretty(&manifest),
        BTreeMap::new(),
        None,
    )?;
    let gz = tar.into_inner().context("cannot finish the bundle")?;
    gz.finish()
        .context("cannot finish the bundle")?
        .sync_all()?;
    let included = entries.iter().filter(|e| e.note.is_none()).count();
    output::print(&format!(
        "bundle written to {}: {included} entries, {total} values redacted (manifest.json lists them)\n",
        out.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn skipped(name: String, source: String, note: String) -> Entry {
    Entry {
        name,
        source,
        bytes: 0,
        redacted: BTreeMap::new(),
        note: Some(note),
    }
}

fn add<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    source: &str,
    bytes: Vec<u8>,
    redacted: BTreeMap<String, u64>,
    note: Option<String>,
) -> anyhow::Result<Entry> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    header.set_cksum();
    tar.append_data(&mut header, name, bytes.as_slice())
        .with_context(|| format!("cannot add {name} to the bundle"))?;
    Ok(Entry {
        name: name.to_owned(),
        source: source.to_owned(),
        bytes: bytes.len(),
        redacted,
        note,
    })
}

fn pretty(v: &Value) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(v).expect("JSON values serialize");
    b.push(b'\n');
    b
}

/// Text through the scrubber, with its per-detector counts.
fn scrubbed(
    scrubber: &Scrubber,
    key: &PseudonymKey,
    raw: &[u8],
) -> anyhow::Result<(Vec<u8>, BTreeMap<String, u64>)> {
    let mut filter = Filter::new(scrubber, key.clone());
    let mut out = Vec::with_capacity(raw.len());
    filter.run(raw, &mut out)?;
    let redacted = filter
        .redactions()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(d, n)| (d.to_string(), n))
        .collect();
    Ok((out, redacted))
}

/// A JSON document with every string value scrubbed (numbers and keys stay, so it stays valid
/// JSON), with per-detector counts.
fn scrubbed_json(
    scrubber: &Scrubber,
    key: &PseudonymKey,
    value: Value,
) -> (Value, BTreeMap<String, u64>) {
    fn walk(s: &Scrubber, k: &PseudonymKey, v: Value, counts: &mut BTreeMap<String, u64>) -> Value {
        match v {
            Value::String(text) => match s.scrub_text(k, &text) {
                Some((out, hits)) => {
                    for h in hits {
                        *counts.entry(h.detector.to_string()).or_default() += 1;
                    }
                    Value::String(out)
                }
                None => Value::String(text),
            },
            Value::Array(a) => Value::Array(a.into_iter().map(|v| walk(s, k, v, counts)).collect()),
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(name, v)| (name, walk(s, k, v, counts)))
                    .collect(),
            ),
            other => other,
        }
    }
    let mut counts = BTreeMap::new();
    let out = walk(scrubber, key, value, &mut counts);
    (out, counts)
}

/// The running daemon's status, else the spool's, else why neither could be read.
async fn status(policy: &crate::policy::Policy, dir: &Path) -> Value {
    match request(&crate::agent::setup::admin_socket(policy, dir), Op::Status).await {
        Ok(Response::Status {
            counters, unsent, ..
        }) => {
            json!({"from": "daemon", "counters": counters, "unsent": unsent})
        }
        Ok(other) => json!({"error": format!("unexpected answer: {other:?}")}),
        Err(AdminClientError::NoDaemon(_)) => {
            match Spool::open(dir).and_then(|s| Ok((s.counters()?, s.unsent()?))) {
                Ok((counters, unsent)) => {
                    json!({"from": "spool (no daemon running)", "counters": counters, "unsent": unsent})
                }
                Err(SpoolError::Locked(_)) => {
                    json!({"error": "the spool is busy and no daemon answers"})
                }
                Err(e) => json!({"error": e.to_string()}),
            }
        }
        Err(e) => json!({"error": e.to_string()}),
    }
}

/// One host_config round, after the policy: only what the policy lets leave the host.
async fn host_config(p: &crate::policy::Policy, key: &PseudonymKey) -> Value {
    let spec = p
        .file
        .sources
        .iter()
        .find_map(|s| match s {
            crate::policy::SourceSpec::HostConfig(h) => Some(h.clone()),
            _ => None,
        })
        .unwrap_or(HostConfigSpec {
            interval: Interval(std::time::Duration::from_secs(3600)),
            packages: true,
            services: true,
            files: Vec::new(),
        });
    let version = p.stamp.version.to_string();
    let round = tokio::task::spawn_blocking(move || HostConfig::new(spec, version).round()).await;
    let drafts = match round {
        Ok(Ok(r)) => r.drafts,
        Ok(Err(e)) => return json!({"error": e}),
        Err(e) => return json!({"error": e.to_string()}),
    };
    let Some(draft) = drafts.into_iter().next() else {
        return json!({"error": "no configuration round"});
    };
    match evaluate(p, key, draft) {
        Verdict::Keep(r) => {
            json!({"fields": r.fields, "provenance": r.provenance, "purpose": r.purpose})
        }
        Verdict::Refuse(why) => json!({"not_included": why.as_str()}),
    }
}

/// The agent's own journal entries, where a journal exists.
fn agent_journal() -> Option<String> {
    let out = std::process::Command::new("journalctl")
        .args([
            "--unit=noticed.service",
            "--output=short-iso",
            "--lines=2000",
            "--no-pager",
            "--quiet",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.success() && !text.trim().is_empty()).then_some(text)
}
