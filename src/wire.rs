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

/// The path the collector accepts control messages on, beside [`BATCHES_PATH`].
pub const CONTROL_PATH: &str = "/v1/control";

/// A control message: something the collector must do about data it already holds. Queued
/// durably by the agent and retried until acknowledged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlV1 {
    /// Stable across retries: the collector may see it more than once.
    pub id: uuid::Uuid,
    /// The host's pseudonym, as in batches.
    pub host: String,
    /// RFC 3339 time the request was made on the host.
    pub created_at: String,
    /// What is asked.
    #[serde(flatten)]
    pub kind: ControlKind,
}

/// What a control message asks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ControlKind {
    /// Delete every stored record that carries this pseudonym (`h:` and 16 hex digits, the
    /// keyed HMAC of the subject's value; scrubbed tokens carry its first 8 hex digits).
    Forget {
        /// The subject's pseudonym; never the value.
        subject: String,
    },
    /// The customer withdrew consent for a purpose; the agent purged what it had not sent.
    ConsentWithdrawn {
        /// The purpose (`usage`).
        purpose: crate::record::Purpose,
        /// Unsent records the agent purged.
        purged: u64,
    },
}

/// The collector's answer to a control message (HTTP 200).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlAckV1 {
    /// The message acknowledged.
    pub id: uuid::Uuid,
    /// Stored records deleted because of it.
    pub deleted: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_messages_have_a_flat_tagged_form() {
        let c = ControlV1 {
            id: uuid::Uuid::nil(),
            host: "h:00".into(),
            created_at: "2026-11-29T10:00:00.000Z".into(),
            kind: ControlKind::Forget {
                subject: "h:0123456789abcdef".into(),
            },
        };
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["kind"], "forget");
        assert_eq!(json["subject"], "h:0123456789abcdef");
        assert_eq!(serde_json::from_value::<ControlV1>(json).unwrap(), c);
        let withdrawn: ControlV1 = serde_json::from_str(
            r#"{"id":"00000000-0000-0000-0000-000000000000","host":"h:00","created_at":"x","kind":"consent-withdrawn","purpose":"usage","purged":2}"#,
        )
        .unwrap();
        assert_eq!(
            withdrawn.kind,
            ControlKind::ConsentWithdrawn {
                purpose: crate::record::Purpose::Usage,
                purged: 2
            }
        );
    }
}
