//! Sources: where drafts come from. Each source turns some part of the host into [`Draft`]s;
//! none of them decides what leaves the host (that is the policy's job).
//!
//! Most sources are round-based: [`Source::round`] is a blocking call that the agent runs on its
//! blocking pool at the source's interval, so a slow source never stalls the others. `ingest`
//! streams: it serves local applications and sends each event as it arrives.

mod host_config;
mod host_metrics;
pub mod ingest;
mod journald;
mod log_file;

pub use host_config::HostConfig;
pub use host_metrics::HostMetrics;
pub use journald::Journald;
pub use log_file::LogFile;

use crate::policy::SourceSpec;
use crate::record::Draft;

/// A source of drafts, polled in rounds.
pub trait Source: Send + 'static {
    /// The source's type name, as in the policy.
    fn kind(&self) -> &'static str;

    /// Collects one round. Blocking; may take a moment (CPU usage needs two samples).
    ///
    /// # Errors
    /// A message (free of collected values) when the round could not be collected at all.
    fn round(&mut self) -> Result<Round, String>;
}

/// What sources hand to the admit step; all of it is stored in one transaction.
#[derive(Debug, Default)]
pub struct Round {
    /// Drafts for the policy.
    pub drafts: Vec<Draft>,
    /// Counter names and increments (bad lines, truncations).
    pub counts: Vec<(&'static str, u64)>,
    /// Source positions reached by these drafts (a log file's offset, a journal cursor).
    pub checkpoints: Vec<(String, String)>,
    /// The source stopped at its per-round budget with data left: the next round runs at once
    /// (the admit queue's backpressure paces it) instead of after the poll interval.
    pub more: bool,
}

impl Round {
    /// A round of drafts alone.
    pub fn of(drafts: Vec<Draft>) -> Round {
        Round {
            drafts,
            ..Round::default()
        }
    }

    /// Whether there is nothing to store.
    pub fn is_empty(&self) -> bool {
        self.drafts.is_empty() && self.counts.is_empty() && self.checkpoints.is_empty()
    }

    /// Appends another round to this one.
    pub fn extend(&mut self, other: Round) {
        self.drafts.extend(other.drafts);
        self.counts.extend(other.counts);
        self.checkpoints.extend(other.checkpoints);
        self.more |= other.more;
    }
}

/// Builds the round-based source a policy entry describes; `None` for streaming sources.
pub fn build(
    spec: &SourceSpec,
    spool: &std::sync::Arc<crate::spool::Spool>,
    policy_version: &str,
) -> Option<Box<dyn Source>> {
    match spec {
        SourceSpec::HostMetrics(spec) => Some(Box::new(HostMetrics::new(spec.top_processes))),
        SourceSpec::HostConfig(spec) => Some(Box::new(HostConfig::new(
            spec.clone(),
            policy_version.to_owned(),
        ))),
        SourceSpec::LogFile(spec) => Some(Box::new(LogFile::new(
            spec.clone(),
            std::sync::Arc::clone(spool),
        ))),
        SourceSpec::Journald(spec) => Some(Box::new(Journald::new(
            spec.clone(),
            std::sync::Arc::clone(spool),
        ))),
        SourceSpec::Ingest(_) => None,
    }
}

/// Shorthand for building a JSON object field by field.
pub(crate) fn object<const N: usize>(
    entries: [(&str, serde_json::Value); N],
) -> serde_json::Map<String, serde_json::Value> {
    entries
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}
