//! Sources: where drafts come from. Each source turns some part of the host into [`Draft`]s;
//! none of them decides what leaves the host (that is the policy's job).
//!
//! Most sources are round-based: [`Source::round`] is a blocking call that the agent runs on its
//! blocking pool at the source's interval, so a slow source never stalls the others. `ingest`
//! streams: it serves local applications and sends each event as it arrives.

mod host_config;
mod host_metrics;
pub mod ingest;

pub use host_config::HostConfig;
pub use host_metrics::HostMetrics;

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
    fn round(&mut self) -> Result<Vec<Draft>, String>;
}

/// What sources hand to the admit step: drafts, and counts of what they refused (bad lines).
#[derive(Debug, Default)]
pub struct Round {
    /// Drafts for the policy.
    pub drafts: Vec<Draft>,
    /// Counter names and increments, stored with the round.
    pub counts: Vec<(&'static str, u64)>,
}

/// Builds the round-based source a policy entry describes; `None` for streaming sources.
pub fn build(spec: &SourceSpec) -> Option<Box<dyn Source>> {
    match spec {
        SourceSpec::HostMetrics(spec) => Some(Box::new(HostMetrics::new(spec.top_processes))),
        SourceSpec::HostConfig(spec) => Some(Box::new(HostConfig::new(spec.clone()))),
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
