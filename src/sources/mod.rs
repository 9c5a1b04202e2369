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
mod round;

pub use host_config::HostConfig;
pub use host_metrics::HostMetrics;
pub use journald::Journald;
pub use log_file::LogFile;
pub use round::{Drafts, IntoDrafts, LogLine, Round};

use crate::policy::SourceSpec;

/// A source of drafts, polled in rounds.
pub trait Source: Send + 'static {
    /// The source's type name, as in the policy.
    fn kind(&self) -> &'static str;

    /// Collects one round. Blocking; may take a moment (CPU usage needs two samples).
    ///
    /// # Errors
    /// A message (free of collected values) when the round could not be collected at all.
    fn round(&mut self) -> Result<Round, String>;

    /// Whether what the source has not read yet waits for it (a log file, the journal), so it
    /// may pause while the spool is full instead of having the oldest unsent records dropped.
    fn can_wait(&self) -> bool {
        false
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
