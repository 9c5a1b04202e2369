//! Wire types between agent and collector, kept apart from internal types: changing these
//! changes the protocol (docs/WIRE.md), so they change only with a new version.
//!
//! The records inside a batch are [`Record`]s in their serde form, which is therefore part of
//! this contract too.

use serde::{Deserialize, Serialize};

use crate::record::{PolicyStamp, Record};

/// The path the collector accepts batches on.
pub const BATCHES_PATH: &str = "/v1/batches";

/// One batch of records, as POSTed (gzip JSON) to the collector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchV1 {
    /// Stable across retries and restarts: the collector's dedup key.
    pub batch_id: uuid::Uuid,
    /// The sending agent.
    pub agent: AgentInfo,
    /// The host's pseudonym (keyed HMAC of its name): tells hosts apart without naming them.
    pub host: String,
    /// RFC 3339 time of this send attempt.
    pub sent_at: String,
    /// The policy in force when the batch was sent (each record carries its own too).
    pub policy: PolicyStamp,
    /// The records, oldest first.
    pub records: Vec<Record>,
}

/// Who sent a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentInfo {
    /// The agent's version.
    pub version: String,
}

/// The collector's answer to an accepted batch (HTTP 200).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckV1 {
    /// The batch acknowledged.
    pub batch_id: uuid::Uuid,
    /// Records stored by this request (0 for a duplicate).
    pub stored: usize,
    /// Whether the batch had been stored before (a resend after a lost acknowledgement).
    pub duplicate: bool,
}

/// The collector's answer to a rejected batch (HTTP 4xx).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectionV1 {
    /// Why, in words.
    pub error: String,
}
