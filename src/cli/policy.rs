//! `noticed policy check FILE`.

use std::path::Path;
use std::process::ExitCode;

use super::{EXIT_CONFIG, output};

/// Validates a policy file and prints a one-line summary, or the fault with its position.
///
/// # Errors
/// Only when stdout cannot be written.
pub fn check(file: &Path) -> anyhow::Result<ExitCode> {
    let loaded = match super::load_or_exit(Some(file))? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let p = &loaded.policy;
    for c in p.uncollected_categories() {
        eprintln!(
            "{}: warning: a source makes `{c}` records but there is no [category.{c}]; they will not be collected",
            loaded.origin
        );
    }
    let collector = p.file.collector.as_ref().map_or_else(
        || "no collector (local only)".to_owned(),
        |c| format!("collector {}", c.endpoint),
    );
    output::print(&format!(
        "{}: valid: notice {:?} version {}, sha256 {}, {} sources, {} categories, usage consent {}, {}\n",
        loaded.origin,
        p.file.notice.title,
        p.stamp.version,
        &p.stamp.sha256[..12],
        p.file.sources.len(),
        p.file.categories.len(),
        if p.file.consent.usage { "on" } else { "off" },
        collector
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// `noticed policy diff OLD NEW`: what changes in collected data; material changes first.
///
/// # Errors
/// Only when stdout cannot be written.
pub fn diff(old: &Path, new: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let (Ok(a), Ok(b)) = (
        super::load_or_exit(Some(old))?,
        super::load_or_exit(Some(new))?,
    ) else {
        return Ok(ExitCode::from(EXIT_CONFIG));
    };
    let changes = crate::policy::diff(&a.policy.file, &b.policy.file);
    let material = changes.iter().any(|c| c.material);
    let text = if json {
        serde_json::json!({"material": material, "changes": changes}).to_string() + "\n"
    } else if changes.is_empty() {
        "no change in what is collected, why, or for how long\n".to_owned()
    } else {
        let mut out = String::new();
        for c in &changes {
            out.push_str(if c.material { "! " } else { "  " });
            out.push_str(&c.what);
            out.push('\n');
        }
        if material {
            out.push_str("MATERIAL CHANGE (!): more data or a new purpose; announce it in the notice before deploying\n");
        }
        out
    };
    output::print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// `noticed policy test`: runs sample drafts (JSON lines) or one live round of the policy's
/// sources through the policy and shows each record before and after. Pseudonyms use a
/// throwaway key, so they differ from the agent's; nothing is stored or sent.
///
/// # Errors
/// The input cannot be read or holds a malformed line (named by its number).
pub async fn test(
    policy: &Path,
    input: Option<&Path>,
    live: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    let loaded = match super::load_or_exit(Some(policy))? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let drafts = match (input, live) {
        (Some(path), false) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let mut drafts = Vec::new();
            for (n, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                drafts.push(sample_draft(line).with_context(|| {
                    format!("{}:{}: not a sample record", path.display(), n + 1)
                })?);
            }
            drafts
        }
        (None, true) => {
            let tmp = tempfile_dir()?;
            let spool = std::sync::Arc::new(crate::spool::Spool::open(&tmp)?);
            let p = &loaded.policy;
            let (round, errors) =
                crate::agent::collect_round(&p.file.sources, &spool, &p.stamp.version).await;
            for (kind, e) in errors {
                eprintln!("source {kind} failed: {e}");
            }
            drop(spool);
            let _ = std::fs::remove_dir_all(&tmp);
            round.drafts.into_vec()
        }
        _ => anyhow::bail!("give either --input SAMPLE.jsonl or --live"),
    };
    let mut key = [0u8; crate::policy::KEY_LEN];
    getrandom::fill(&mut key)
        .map_err(|e| anyhow::anyhow!("no randomness for a throwaway key: {e}"))?;
    let key = crate::policy::PseudonymKey::from_bytes(&key);
    let mut out = String::new();
    for d in drafts {
        let before = serde_json::json!({
            "category": d.category, "source": d.source, "event": d.event,
            "fields": d.fields, "body": d.body,
        });
        let after = match crate::policy::evaluate(&loaded.policy, &key, d) {
            crate::policy::Verdict::Keep(r) => serde_json::json!({
                "verdict": "keep", "purpose": r.purpose, "fields": r.fields, "body": r.body,
                "provenance": r.provenance,
            }),
            crate::policy::Verdict::Refuse(why) => {
                serde_json::json!({"verdict": "refuse", "reason": why.as_str()})
            }
        };
        if json {
            out.push_str(&serde_json::json!({"before": before, "after": after}).to_string());
            out.push('\n');
        } else {
            out.push_str(&format!("before: {before}\nafter:  {after}\n\n"));
        }
    }
    output::print(&out)?;
    Ok(ExitCode::SUCCESS)
}

fn sample_draft(line: &str) -> anyhow::Result<crate::record::Draft> {
    use anyhow::Context;
    let v: serde_json::Value = serde_json::from_str(line)?;
    let category: crate::record::Category = v["category"]
        .as_str()
        .context("`category` is missing")?
        .parse()
        .map_err(anyhow::Error::msg)?;
    let fields = v["fields"].as_object().cloned().unwrap_or_default();
    let mut d =
        crate::record::Draft::new(category, v["source"].as_str().unwrap_or("sample"), fields);
    d.body = v["body"].as_str().map(str::to_owned);
    d.event = v["event"].as_str().map(str::to_owned);
    Ok(d)
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("noticed-policy-test-{}", uuid::Uuid::now_v7()));
    crate::spool::create_private_dir(&dir)?;
    Ok(dir)
}
