//! How full the spool is, by delivery state and by purpose, for `noticed status`.

use std::collections::BTreeMap;

use redb::{ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};

use super::{BATCHES, CONTROL, DEAD, PENDING, RECORDS, SENT, Spool, SpoolError, decode_ids};

/// Record counts by state, bytes, and unsent records by purpose.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpoolStats {
    /// Waiting for a batch.
    pub pending: u64,
    /// In batches being sent.
    pub in_flight: u64,
    /// In batches the collector refused.
    pub dead: u64,
    /// In the sent-history.
    pub sent: u64,
    /// Bytes of all stored records.
    pub bytes: u64,
    /// Control messages waiting for the collector.
    pub controls_queued: u64,
    /// Unsent records (pending, in flight, dead) and their bytes, by purpose.
    pub unsent_by_purpose: BTreeMap<String, PurposeStats>,
}

/// Unsent records of one purpose.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurposeStats {
    /// How many.
    pub records: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl Spool {
    /// The spool's fill, read in one snapshot.
    ///
    /// # Errors
    /// [`SpoolError`] on store failure or an undecodable entry.
    pub fn stats(&self) -> Result<SpoolStats, SpoolError> {
        let txn = self.db.begin_read()?;
        let records = txn.open_table(RECORDS).map_err(redb::Error::from)?;
        let pending = txn.open_table(PENDING).map_err(redb::Error::from)?;
        let batches = txn.open_table(BATCHES).map_err(redb::Error::from)?;
        let dead = txn.open_table(DEAD).map_err(redb::Error::from)?;
        let sent = txn.open_table(SENT).map_err(redb::Error::from)?;
        let control = txn.open_table(CONTROL).map_err(redb::Error::from)?;
        let mut stats = SpoolStats {
            pending: pending.len().map_err(redb::Error::from)?,
            sent: sent.len().map_err(redb::Error::from)?,
            controls_queued: control.len().map_err(redb::Error::from)?,
            bytes: self.record_bytes()?,
            ..SpoolStats::default()
        };
        let mut unsent: Vec<u128> = Vec::new();
        for e in pending.iter().map_err(redb::Error::from)? {
            unsent.push(e.map_err(redb::Error::from)?.0.value());
        }
        for e in batches.iter().map_err(redb::Error::from)? {
            let ids = decode_ids(e.map_err(redb::Error::from)?.1.value())?;
            stats.in_flight += ids.len() as u64;
            unsent.extend(ids);
        }
        for e in dead.iter().map_err(redb::Error::from)? {
            let ids = super::delivery::dead_entry_ids(e.map_err(redb::Error::from)?.1.value())?;
            stats.dead += ids.len() as u64;
            unsent.extend(ids);
        }
        for id in unsent {
            if let Some(v) = records.get(id).map_err(redb::Error::from)? {
                let r = super::decode_record(v.value())?;
                let p = stats
                    .unsent_by_purpose
                    .entry(r.purpose.as_str().to_owned())
                    .or_default();
                p.records += 1;
                p.bytes += v.value().len() as u64;
            }
        }
        Ok(stats)
    }
}
