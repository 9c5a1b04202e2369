//! `[retention]`: how much and how long the spool keeps, overall and per purpose.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Interval;
use crate::record::Purpose;

/// `[retention]`; every key has a default, so the section is optional.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSection {
    /// Most bytes of records the spool keeps; past it the sent-history goes first, then the
    /// oldest unsent records, each counted.
    #[serde(default = "default_spool_max_bytes")]
    pub spool_max_bytes: u64,
    /// What log sources do as unsent records fill the spool: wait (their lines stay in the
    /// files) or read on while the cap drops the oldest unsent records.
    #[serde(default, skip_serializing_if = "WhenFull::is_wait")]
    pub when_full: WhenFull,
    /// Unsent records older than this are dropped and counted (a collector down for longer).
    #[serde(default = "default_age")]
    pub pending_max_age: Interval,
    /// How long sent records stay in the local history that `noticed records` shows.
    #[serde(default = "default_age")]
    pub history: Interval,
    /// Shorter or longer limits for one purpose: `[retention.purpose.usage]`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub purpose: BTreeMap<Purpose, PurposeRetention>,
}

/// `[retention] when_full`: how log sources (`log_file`, `journald`) meet a spool that unsent
/// records fill; other sources cannot wait (their data is gone once not read), so the cap applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WhenFull {
    /// With a collector, stop reading while unsent records take half the cap and go on below
    /// three eighths: nothing is dropped while the files keep the lines (the default).
    #[default]
    Wait,
    /// Read on; past the cap the oldest unsent records are dropped and counted.
    DropOldest,
}

impl WhenFull {
    /// The default, left out of the canonical form so that the hash of a policy written before
    /// the key existed does not change.
    fn is_wait(&self) -> bool {
        *self == WhenFull::Wait
    }

    /// The policy's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WhenFull::Wait => "wait",
            WhenFull::DropOldest => "drop-oldest",
        }
    }
}

/// `[retention.purpose.<purpose>]`: overrides for records of that purpose.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurposeRetention {
    /// Replaces `pending_max_age` for this purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_max_age: Option<Interval>,
    /// Replaces `history` for this purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Interval>,
}

fn default_spool_max_bytes() -> u64 {
    256 << 20
}

fn default_age() -> Interval {
    Interval(Duration::from_secs(7 * 24 * 3600))
}

impl Default for RetentionSection {
    fn default() -> Self {
        RetentionSection {
            spool_max_bytes: default_spool_max_bytes(),
            when_full: WhenFull::Wait,
            pending_max_age: default_age(),
            history: default_age(),
            purpose: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_sources_wait_unless_the_policy_says_drop_oldest() {
        let parse = |t: &str| toml::from_str::<RetentionSection>(t);
        assert_eq!(parse("").unwrap().when_full, WhenFull::Wait);
        assert_eq!(
            parse("when_full = \"drop-oldest\"").unwrap().when_full,
            WhenFull::DropOldest
        );
        let e = parse("when_full = \"block\"").unwrap_err().to_string();
        assert!(
            e.contains("unknown variant `block`") && e.contains("wait"),
            "{e}"
        );
    }
}
