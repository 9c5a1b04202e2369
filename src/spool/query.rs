//! Reading records back for `noticed records`: filters by category, purpose, delivery state,
//! source, age and text, applied in the spool so that `--limit` counts matches.

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::{
    BATCHES, Delivery, PENDING, SENT, Spool, SpoolError, Stored, decode_ids, decode_record,
    delivery, segment,
};
use crate::record::{Category, Purpose, RecordId};

/// A delivery state, as `--state` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Waiting for a batch.
    Pending,
    /// In a batch being sent.
    Sending,
    /// Acknowledged by the collector.
    Sent,
    /// Refused by the collector, kept.
    Dead,
}

impl State {
    /// The name `--state` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Sending => "sending",
            State::Sent => "sent",
            State::Dead => "dead",
        }
    }
}

impl Delivery {
    /// The state, without its batch and time.
    pub fn state(&self) -> State {
        match self {
            Delivery::Pending => State::Pending,
            Delivery::InFlight { .. } => State::Sending,
            Delivery::Sent { .. } => State::Sent,
            Delivery::Dead { .. } => State::Dead,
        }
    }
}

/// Which records to list; every set condition must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// Only this category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// Only this purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    /// Only records in this delivery state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    /// Only records from this source (`log_file`, `host_metrics`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Only records collected at or after this time (ms since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_ms: Option<u64>,
    /// Only records whose stored form contains this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grep: Option<String>,
    /// Only the record with this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RecordId>,
}

impl Filter {
    /// Only records collected in the last `window`.
    pub fn since(window: std::time::Duration) -> Option<u64> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Some(now.saturating_sub(window).as_millis() as u64)
    }

    /// Whether `s` passes every condition.
    pub fn matches(&self, s: &Stored) -> bool {
        let state = s.delivery.state();
        self.category.is_none_or(|c| c == s.record.category)
            && self.purpose.is_none_or(|p| p == s.record.purpose)
            && self.state.is_none_or(|st| st == state)
            && self
                .source
                .as_ref()
                .is_none_or(|src| *src == s.record.source)
            && self.id.is_none_or(|id| id == s.record.id)
    }
}

impl Spool {
    /// Up to `limit` records that match `filter`, newest first, with their delivery state.
    ///
    /// # Errors
    /// [`SpoolError`] on store failure or an undecodable entry.
    pub fn list_matching(&self, limit: usize, filter: &Filter) -> Result<Vec<Stored>, SpoolError> {
        let txn = self.db.begin_read()?;
        let segments = txn
            .open_table(segment::SEGMENTS)
            .map_err(redb::Error::from)?;
        let info = txn.open_table(segment::INFO).map_err(redb::Error::from)?;
        let sent = txn.open_table(SENT).map_err(redb::Error::from)?;
        let pending = txn.open_table(PENDING).map_err(redb::Error::from)?;
        let mut in_batch = std::collections::HashMap::new();
        let batches = txn.open_table(BATCHES).map_err(redb::Error::from)?;
        for entry in batches.iter().map_err(redb::Error::from)? {
            let (k, v) = entry.map_err(redb::Error::from)?;
            for key in decode_ids(v.value())? {
                in_batch.insert(key, uuid::Uuid::from_u128(k.value()));
            }
        }
        let mut dead = std::collections::HashMap::new();
        for (batch, keys) in delivery::dead_ids(&txn)? {
            for key in keys {
                dead.insert(key, uuid::Uuid::from_u128(batch));
            }
        }
        let mut out = Vec::new();
        'segments: for entry in segments.iter().map_err(redb::Error::from)?.rev() {
            let (k, v) = entry.map_err(redb::Error::from)?;
            let key = k.value();
            // Keys are time-ordered and read newest first: once a segment's newest record is
            // too old, nothing older can match.
            let last = segment::info(&info, key)?.last;
            if filter
                .since_ms
                .is_some_and(|since| ((last >> 80) as u64) < since)
                || filter.id.is_some_and(|want| last < want.as_u128())
            {
                break;
            }
            let delivery = if let Some(s) = sent.get(key).map_err(redb::Error::from)? {
                let (at_ms, batch) = s.value();
                Delivery::Sent {
                    batch: uuid::Uuid::from_u128(batch),
                    at_ms,
                }
            } else if let Some(batch) = in_batch.get(&key) {
                Delivery::InFlight { batch: *batch }
            } else if pending.get(key).map_err(redb::Error::from)?.is_some() {
                Delivery::Pending
            } else if let Some(batch) = dead.get(&key) {
                Delivery::Dead { batch: *batch }
            } else {
                return Err(SpoolError::Decode(format!(
                    "segment {} has no delivery state",
                    RecordId::from_u128(key)
                )));
            };
            let view = segment::View::parse(v.value())?;
            for i in (0..view.len()).rev() {
                if out.len() >= limit {
                    break 'segments;
                }
                let id = view.id(i);
                if filter
                    .since_ms
                    .is_some_and(|since| ((id >> 80) as u64) < since)
                    || filter.id.is_some_and(|want| id < want.as_u128())
                {
                    break 'segments;
                }
                let json = view.json(i);
                if filter
                    .grep
                    .as_ref()
                    .is_some_and(|g| memchr::memmem::find(json, g.as_bytes()).is_none())
                {
                    continue;
                }
                let stored = Stored {
                    record: decode_record(json)?,
                    delivery,
                };
                if filter.matches(&stored) {
                    out.push(stored);
                }
            }
        }
        Ok(out)
    }
}
