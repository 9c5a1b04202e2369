//! `noticed run --once`: one round from every source, stored, then everything pending sent.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{Agent, Tally, admit, as_str};
use crate::policy::SourceSpec;
use crate::ship::{Backoff, Drained, drain};
use crate::sources::{self, Round};
use crate::spool::{SpoolError, on_blocking_pool};

/// How many times `--once` tries one batch before giving up for this run.
const ONCE_ATTEMPTS: u32 = 4;

/// What one round did, for the summary line and the exit code.
#[derive(Clone, Debug)]
pub struct OnceSummary {
    /// Where the policy came from.
    pub origin: String,
    /// Its notice version.
    pub version: String,
    /// Its hash.
    pub sha256: String,
    /// Sources run.
    pub sources: usize,
    /// Sources whose round failed, with a value-free reason.
    pub source_errors: Vec<(String, String)>,
    /// What the policy did.
    pub tally: Tally,
    /// The spool file.
    pub spool: PathBuf,
    /// Where records were sent, if a collector is configured.
    pub collector: Option<String>,
    /// What was sent.
    pub sent: Drained,
    /// Why sending stopped, if it did.
    pub send_error: Option<String>,
    /// Records still waiting after this run.
    pub unsent: u64,
    /// Records in batches the collector refused, kept as dead letters.
    pub dead: usize,
}

impl OnceSummary {
    /// Whether everything collected reached the collector (or none is configured).
    pub fn delivered(&self) -> bool {
        self.send_error.is_none()
    }
}

/// Collects one round from every source, stores it, and sends what is pending.
///
/// # Errors
/// Only a spool failure; send failures are reported in the summary (nothing is lost).
pub async fn run_once(agent: &Agent) -> Result<OnceSummary, SpoolError> {
    let policy = &agent.loaded.policy;
    let (round, source_errors) =
        collect_round(&policy.file.sources, &agent.spool, &policy.stamp.version).await;
    let (records, tally) = admit(policy, &agent.key, round.drafts);
    let mut counters = tally.counters();
    counters.extend(round.counts.into_iter().map(|(k, v)| (k.to_owned(), v)));
    let checkpoints = round.checkpoints;
    let spool = Arc::clone(&agent.spool);
    let limits = super::setup::limits(&policy.file.retention);
    on_blocking_pool(move || {
        spool.append_sealed(&records, &as_str(&counters), &checkpoints)?;
        spool.enforce(&limits, std::time::SystemTime::now())
    })
    .await?;

    let mut summary = OnceSummary {
        origin: agent.loaded.origin.clone(),
        version: policy.stamp.version.to_string(),
        sha256: policy.stamp.sha256.to_string(),
        sources: policy
            .file
            .sources
            .iter()
            .filter(|s| s.interval().is_some())
            .count(),
        source_errors,
        tally,
        spool: agent.spool.path().to_owned(),
        collector: agent.shipper.as_ref().map(|s| s.endpoint().to_string()),
        sent: Drained::default(),
        send_error: None,
        unsent: 0,
        dead: 0,
    };
    if let Some(shipper) = &agent.shipper {
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
        match drain(
            &agent.spool,
            shipper,
            &policy.stamp,
            ONCE_ATTEMPTS,
            &mut backoff,
        )
        .await
        {
            Ok(d) => summary.sent = d,
            Err((d, e)) => {
                summary.sent = d;
                summary.send_error = Some(e.to_string());
            }
        }
    }
    let spool = Arc::clone(&agent.spool);
    let (unsent, dead) = on_blocking_pool(move || {
        let dead = spool.dead_letters()?.iter().map(|b| b.records).sum();
        Ok((spool.unsent()?, dead))
    })
    .await?;
    summary.unsent = unsent;
    summary.dead = dead;
    Ok(summary)
}

/// Runs every source's round concurrently on the blocking pool.
pub(crate) async fn collect_round(
    specs: &[SourceSpec],
    spool: &Arc<crate::spool::Spool>,
    policy_version: &str,
) -> (Round, Vec<(String, String)>) {
    let handles: Vec<_> = specs
        .iter()
        .filter_map(|spec| {
            let mut source = sources::build(spec, spool, policy_version)?;
            Some((
                spec.kind(),
                tokio::task::spawn_blocking(move || source.round()),
            ))
        })
        .collect();
    let mut round = Round::default();
    let mut errors = Vec::new();
    for (kind, h) in handles {
        match h.await {
            Ok(Ok(r)) => round.extend(r),
            Ok(Err(e)) => errors.push((kind.to_owned(), e)),
            Err(e) => errors.push((kind.to_owned(), format!("source task failed: {e}"))),
        }
    }
    (round, errors)
}

impl fmt::Display for OnceSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.tally;
        writeln!(
            f,
            "policy     {} (notice {}, sha256 {})",
            self.origin,
            self.version,
            &self.sha256[..12]
        )?;
        writeln!(
            f,
            "collected  {} records from {} sources",
            t.collected, self.sources
        )?;
        for (kind, e) in &self.source_errors {
            writeln!(f, "  failed   source {kind}: {e}")?;
        }
        if t.refused_category + t.refused_consent > 0 {
            writeln!(
                f,
                "refused    {} (category not in policy: {}, usage without consent: {})",
                t.refused_category + t.refused_consent,
                t.refused_category,
                t.refused_consent
            )?;
        }
        writeln!(
            f,
            "fields     {} removed, {} pseudonymized, {} masked (`noticed records --json` shows which and why)",
            t.removed, t.pseudonymized, t.masked
        )?;
        writeln!(
            f,
            "stored     {} records in {}",
            t.kept,
            self.spool.display()
        )?;
        match (&self.collector, &self.send_error) {
            (None, _) => writeln!(
                f,
                "sent       none: the policy has no [collector], so records stay on this host"
            )?,
            (Some(c), None) => writeln!(f, "sent       {} to {c}", self.sent)?,
            (Some(c), Some(e)) => {
                writeln!(f, "sent       {} to {c}, then stopped: {e}", self.sent)?
            }
        }
        if self.dead > 0 {
            writeln!(
                f,
                "dead       {} records the collector refused are kept (`noticed dead-letters`)",
                self.dead
            )?;
        }
        write!(f, "pending    {} records wait in the spool", self.unsent)
    }
}
