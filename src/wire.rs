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

/// A [`BatchV1`] without its records: what the agent writes before them.
#[derive(Serialize)]
pub struct BatchHeaderV1<'a> {
    /// See [`BatchV1::batch_id`].
    pub batch_id: uuid::Uuid,
    /// See [`BatchV1::agent`].
    pub agent: AgentInfo,
    /// See [`BatchV1::host`].
    pub host: &'a str,
    /// See [`BatchV1::sent_at`].
    pub sent_at: String,
    /// See [`BatchV1::policy`].
    pub policy: &'a PolicyStamp,
}

/// A [`BatchV1`]'s JSON up to its first record: `{...header...,"records":[`. The records'
/// JSON, joined by commas, and [`BATCH_JSON_TAIL`] complete it.
pub fn batch_json_head(header: &BatchHeaderV1<'_>) -> Vec<u8> {
    let mut head = serde_json::to_vec(header).expect("a batch header always serializes");
    head.pop();
    head.extend_from_slice(b",\"records\":[");
    head
}

/// What closes a [`BatchV1`]'s JSON after its last record.
pub const BATCH_JSON_TAIL: &[u8] = b"]}";

/// A [`BatchV1`]'s JSON from its header and its records' JSON, copied verbatim (they come
/// from the spool, which stores what `serde_json` wrote): a send copies bytes instead of
/// decoding and re-encoding thousands of records.
///
/// # Errors
/// Writing to `out` failed.
pub fn write_batch_json<'r>(
    header: &BatchHeaderV1<'_>,
    records: impl Iterator<Item = &'r [u8]>,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    out.write_all(&batch_json_head(header))?;
    for (i, r) in records.enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(r)?;
    }
    out.write_all(BATCH_JSON_TAIL)
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
    fn a_batch_from_stored_records_is_the_batch_serialized() {
        let policy = PolicyStamp {
            version: "1".into(),
            sha256: "abc".into(),
        };
        let record: Record = serde_json::from_value(serde_json::json!({
            "id": "01a228dc-4d08-76f1-9d92-6e880762ff84",
            "collected_at": "2026-11-29T19:50:56.008Z",
            "category": "service-logs",
            "purpose": "service-operational",
            "source": "log_file",
            "fields": {"message": "[ipv4:h:1f3a9c0d] up"},
            "provenance": [{"field": "message", "rule": "scrub.ipv4", "action": "pseudonymized", "span": [0, 18]}],
            "policy": {"version": "1", "sha256": "abc"}
        }))
        .unwrap();
        let header = BatchHeaderV1 {
            batch_id: uuid::Uuid::from_u128(7),
            agent: AgentInfo {
                version: "1".into(),
            },
            host: "h:00",
            sent_at: "2026-11-30T00:00:00Z".into(),
            policy: &policy,
        };
        for records in [vec![], vec![record.clone()], vec![record.clone(), record]] {
            let encoded: Vec<Vec<u8>> = records
                .iter()
                .map(|r| serde_json::to_vec(r).unwrap())
                .collect();
            let whole = BatchV1 {
                batch_id: header.batch_id,
                agent: header.agent.clone(),
                host: header.host.to_owned(),
                sent_at: header.sent_at.clone(),
                policy: policy.clone(),
                records: records.clone(),
            };
            let mut written = Vec::new();
            write_batch_json(&header, encoded.iter().map(Vec::as_slice), &mut written).unwrap();
            assert_eq!(
                written,
                serde_json::to_vec(&whole).unwrap(),
                "the same bytes as the whole batch serialized"
            );
        }
    }

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
