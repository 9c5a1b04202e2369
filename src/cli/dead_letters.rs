//! `noticed dead-letters`: the batches the collector refused (kept, never dropped), and
//! `--retry` to queue them again once the cause is fixed.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;

use super::ask::ask;
use super::output;
use crate::admin::{Op, Response};
use crate::spool::DeadBatch;

/// Lists dead batches, or with `retry` queues one (`Some(id)`) or all of them again.
///
/// # Errors
/// Neither the daemon nor the spool could answer.
pub async fn dead_letters(
    policy: Option<PathBuf>,
    json: bool,
    retry: Option<Option<uuid::Uuid>>,
) -> anyhow::Result<ExitCode> {
    let loaded = match super::load_or_exit(policy.as_deref())? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    if let Some(batch) = retry {
        let n = match ask(&loaded.policy, Op::RetryDead { batch }, |spool| {
            Ok(Response::Retried {
                records: spool.retry_dead(batch)?,
            })
        })
        .await?
        {
            Response::Retried { records } => records,
            other => bail!("the daemon answered something else: {other:?}"),
        };
        if batch.is_some() && n == 0 {
            bail!("no dead batch with that id; `noticed dead-letters` lists them");
        }
        let text = if json {
            format!("{}\n", serde_json::json!({ "retried": n }))
        } else {
            format!("{n} record(s) queued to be sent again with their batch ids\n")
        };
        output::print(&text)?;
        return Ok(ExitCode::SUCCESS);
    }
    let batches = match ask(&loaded.policy, Op::DeadLetters, |spool| {
        Ok(Response::DeadLetters {
            batches: spool.dead_letters()?,
        })
    })
    .await?
    {
        Response::DeadLetters { batches } => batches,
        other => bail!("the daemon answered something else: {other:?}"),
    };
    let text = if json {
        batches
            .iter()
            .map(|b| serde_json::to_string(b).expect("dead batches serialize") + "\n")
            .collect()
    } else {
        table(&batches)
    };
    output::print(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn table(batches: &[DeadBatch]) -> String {
    if batches.is_empty() {
        return "no dead letters: the collector has refused nothing\n".into();
    }
    let mut out = format!(
        "{:<36}  {:<24}  {:>6}  {:>7}  REASON\n",
        "BATCH", "SET ASIDE", "STATUS", "RECORDS"
    );
    for b in batches {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(b.at_ms);
        let _ = writeln!(
            out,
            "{:<36}  {:<24}  {:>6}  {:>7}  {}",
            b.batch,
            crate::record::rfc3339(at),
            b.status,
            b.records,
            b.reason
        );
    }
    out.push_str("retry with `noticed dead-letters --retry [BATCH]` once the cause is fixed\n");
    out
}
