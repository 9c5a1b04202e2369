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
            pending_max_age: default_age(),
            history: default_age(),
            purpose: BTreeMap::new(),
        }
    }
}
