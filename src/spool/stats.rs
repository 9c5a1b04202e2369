//! How full the spool is, by delivery state and by purpose, for `noticed status`.

use std::collections::BTreeMap;

use redb::{ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};

use super::{BATCHES, CONTROL, DEAD, PENDING, SENT, Spool, SpoolError, decode_ids, segment};

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
        let info = txn.open_table(segment::INFO).map_err(redb::Error::from)?;
        let pending = txn.open_table(PENDING).map_err(redb::Error::from)?;
        let batches = txn.open_table(BATCHES).map_err(redb::Error::from)?;
        let dead = txn.open_table(DEAD).map_err(redb::Error::from)?;
        let sent = txn.open_table(SENT).map_err(redb::Error::from)?;
        let control = txn.open_table(CONTROL).map_err(redb::Error::from)?;
        let mut stats = SpoolStats {
            controls_queued: control.len().map_err(redb::Error::from)?,
            bytes: self.record_bytes()?,
            ..SpoolStats::default()
        };
        let by_purpose = &mut stats.unsent_by_purpose;
        let mut unsent = |key: u128| -> Result<u64, SpoolError> {
            let i = segment::info(&info, key)?;
            let p = by_purpose.entry(i.purpose.as_str().to_owned()).or_default();
            p.records += i.count;
            p.bytes += i.bytes;
            Ok(i.count)
        };
        let (mut in_pending, mut in_flight, mut in_dead) = (0, 0, 0);
        for e in pending.iter().map_err(redb::Error::from)? {
            in_pending += unsent(e.map_err(redb::Error::from)?.0.value())?;
        }
        for e in batches.iter().map_err(redb::Error::from)? {
            for key in decode_ids(e.map_err(redb::Error::from)?.1.value())? {
                in_flight += unsent(key)?;
            }
        }
        for e in dead.iter().map_err(redb::Error::from)? {
            let keys = super::delivery::dead_entry_ids(e.map_err(redb::Error::from)?.1.value())?;
            for key in keys {
                in_dead += unsent(key)?;
            }
        }
        (stats.pending, stats.in_flight, stats.dead) = (in_pending, in_flight, in_dead);
        for e in sent.iter().map_err(redb::Error::from)? {
            stats.sent += segment::info(&info, e.map_err(redb::Error::from)?.0.value())?.count;
        }
        Ok(stats)
    }
}
