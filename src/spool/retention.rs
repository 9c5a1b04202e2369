//! Bounds on what the spool keeps: a byte cap over all records (the sent-history goes first,
//! then the oldest unsent records), an age limit on unsent records, and an age limit on the
//! sent-history; the ages can differ per purpose. Every dropped record is counted by reason and
//! category, never silently lost.

use std::time::{Duration, SystemTime};

use redb::{ReadableTable, WriteTransaction};

use super::{
    COUNTERS, META, PENDING, RECORDS, SENT, Spool, SpoolError, add_counts, decode_record, millis,
};
use crate::record::Purpose;

/// The META key holding the bytes of every stored record.
pub(super) const RECORD_BYTES: &str = "record_bytes";

/// What the spool may keep; built from the policy's `[retention]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes of stored records (JSON), all states together.
    pub max_bytes: u64,
    /// Unsent records older than this are dropped, per purpose ([`Purpose::ALL`] order).
    pub pending_max_age: [Duration; 2],
    /// Sent records older than this leave the history, per purpose.
    pub history: [Duration; 2],
}

/// What one enforcement removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Enforced {
    /// Unsent records dropped because they were too old.
    pub expired: u64,
    /// Unsent records dropped to get under the byte cap.
    pub over_size: u64,
    /// Sent records aged out of (or pushed out of) the history.
    pub history: u64,
}

fn purpose_index(p: Purpose) -> usize {
    Purpose::ALL.iter().position(|q| *q == p).unwrap_or(0)
}

/// The creation time of a record id (UUIDv7 keeps milliseconds in its top 48 bits).
fn id_ms(id: u128) -> u64 {
    (id >> 80) as u64
}

impl Spool {
    /// Bytes of every stored record, as the byte cap counts them.
    ///
    /// # Errors
    /// [`SpoolError`] on store failure.
    pub fn record_bytes(&self) -> Result<u64, SpoolError> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META).map_err(redb::Error::from)?;
        Ok(meta
            .get(RECORD_BYTES)
            .map_err(redb::Error::from)?
            .map_or(0, |v| v.value()))
    }

    /// Applies `limits` as of `now` in one transaction.
    ///
    /// # Errors
    /// [`SpoolError`] on store failure; then nothing was removed.
    pub fn enforce(&self, limits: &Limits, now: SystemTime) -> Result<Enforced, SpoolError> {
        let now_ms = millis(now);
        let txn = self.db.begin_write()?;
        let mut done = Enforced::default();
        let mut counts: Vec<(String, u64)> = Vec::new();
        // Unsent records past their purpose's age, oldest first; in-flight batches are left
        // to finish.
        let cutoff = |ages: &[Duration; 2], p: Purpose| {
            now_ms.saturating_sub(ages[purpose_index(p)].as_millis() as u64)
        };
        let youngest_cutoff = limits
            .pending_max_age
            .iter()
            .map(|a| now_ms.saturating_sub(a.as_millis() as u64))
            .max()
            .unwrap_or(0);
        for id in ids_before(&txn, Table::Pending, youngest_cutoff)? {
            let Some((purpose, category, _)) = describe(&txn, id)? else {
                continue;
            };
            if id_ms(id) < cutoff(&limits.pending_max_age, purpose) {
                remove(&txn, id, Table::Pending)?;
                done.expired += 1;
                counts.push((format!("dropped.expired.{category}"), 1));
            }
        }
        // The sent-history past its purpose's age. A record is sent after it is made, so only
        // records made before the youngest cutoff can qualify.
        let youngest_cutoff = limits
            .history
            .iter()
            .map(|a| now_ms.saturating_sub(a.as_millis() as u64))
            .max()
            .unwrap_or(0);
        for id in ids_before(&txn, Table::Sent, youngest_cutoff)? {
            let sent_ms = {
                let sent = txn.open_table(SENT).map_err(redb::Error::from)?;
                sent.get(id)
                    .map_err(redb::Error::from)?
                    .map(|v| v.value().0)
            };
            let (Some(at), Some((purpose, _, _))) = (sent_ms, describe(&txn, id)?) else {
                continue;
            };
            if at < cutoff(&limits.history, purpose) {
                remove(&txn, id, Table::Sent)?;
                done.history += 1;
            }
        }
        // The byte cap: history first (already delivered), then the oldest unsent records,
        // taken in chunks of oldest ids (one scan per chunk, not per record removed).
        for table in [Table::Sent, Table::Pending] {
            'chunks: while bytes(&txn)? > limits.max_bytes {
                let oldest = ids_before(&txn, table, u64::MAX)?;
                if oldest.is_empty() {
                    break;
                }
                for id in oldest {
                    if bytes(&txn)? <= limits.max_bytes {
                        break 'chunks;
                    }
                    let category = describe(&txn, id)?.map(|(_, c, _)| c);
                    remove(&txn, id, table)?;
                    match (table, category) {
                        (Table::Pending, Some(c)) => {
                            done.over_size += 1;
                            counts.push((format!("dropped.over_size.{c}"), 1));
                        }
                        _ => done.history += 1,
                    }
                }
            }
        }
        counts.push(("history_removed".into(), done.history));
        {
            let mut counters = txn.open_table(COUNTERS).map_err(redb::Error::from)?;
            let refs: Vec<(&str, u64)> = counts.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            add_counts(&mut counters, &refs)?;
        }
        txn.commit().map_err(redb::Error::from)?;
        Ok(done)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    Pending,
    Sent,
}

/// Ids in `table` made before `before_ms`, oldest first (at most 10,000 per call, to bound
/// one transaction; the next run takes the rest).
fn ids_before(
    txn: &WriteTransaction,
    table: Table,
    before_ms: u64,
) -> Result<Vec<u128>, SpoolError> {
    const MAX: usize = 10_000;
    let mut out = Vec::new();
    let mut take = |id: u128| {
        if id_ms(id) >= before_ms || out.len() >= MAX {
            return false;
        }
        out.push(id);
        true
    };
    match table {
        Table::Pending => {
            let t = txn.open_table(PENDING).map_err(redb::Error::from)?;
            for e in t.iter().map_err(redb::Error::from)? {
                if !take(e.map_err(redb::Error::from)?.0.value()) {
                    break;
                }
            }
        }
        Table::Sent => {
            let t = txn.open_table(SENT).map_err(redb::Error::from)?;
            for e in t.iter().map_err(redb::Error::from)? {
                if !take(e.map_err(redb::Error::from)?.0.value()) {
                    break;
                }
            }
        }
    }
    Ok(out)
}

/// A stored record's purpose, category and size.
fn describe(
    txn: &WriteTransaction,
    id: u128,
) -> Result<Option<(Purpose, &'static str, u64)>, SpoolError> {
    let records = txn.open_table(RECORDS).map_err(redb::Error::from)?;
    let Some(v) = records.get(id).map_err(redb::Error::from)? else {
        return Ok(None);
    };
    let r = decode_record(v.value())?;
    Ok(Some((
        r.purpose,
        r.category.as_str(),
        v.value().len() as u64,
    )))
}

/// Removes a record from `table` and from the store, keeping the byte count.
pub(super) fn remove_record(txn: &WriteTransaction, id: u128) -> Result<(), SpoolError> {
    let mut records = txn.open_table(RECORDS).map_err(redb::Error::from)?;
    let freed = records
        .remove(id)
        .map_err(redb::Error::from)?
        .map_or(0, |v| v.value().len() as u64);
    drop(records);
    add_bytes(txn, -(freed as i64))
}

fn remove(txn: &WriteTransaction, id: u128, table: Table) -> Result<(), SpoolError> {
    match table {
        Table::Pending => {
            let mut t = txn.open_table(PENDING).map_err(redb::Error::from)?;
            t.remove(id).map_err(redb::Error::from)?;
        }
        Table::Sent => {
            let mut t = txn.open_table(SENT).map_err(redb::Error::from)?;
            t.remove(id).map_err(redb::Error::from)?;
        }
    }
    remove_record(txn, id)
}

fn bytes(txn: &WriteTransaction) -> Result<u64, SpoolError> {
    let meta = txn.open_table(META).map_err(redb::Error::from)?;
    Ok(meta
        .get(RECORD_BYTES)
        .map_err(redb::Error::from)?
        .map_or(0, |v| v.value()))
}

/// Adds `delta` to the stored-bytes count.
pub(super) fn add_bytes(txn: &WriteTransaction, delta: i64) -> Result<(), SpoolError> {
    let mut meta = txn.open_table(META).map_err(redb::Error::from)?;
    let old = meta
        .get(RECORD_BYTES)
        .map_err(redb::Error::from)?
        .map_or(0, |v| v.value());
    meta.insert(RECORD_BYTES, old.saturating_add_signed(delta))
        .map_err(redb::Error::from)?;
    Ok(())
}

/// Counts the bytes of every record; for spools written before the count existed.
pub(super) fn recount_bytes(txn: &WriteTransaction) -> Result<(), SpoolError> {
    let records = txn.open_table(RECORDS).map_err(redb::Error::from)?;
    let mut total = 0u64;
    for e in records.iter().map_err(redb::Error::from)? {
        total += e.map_err(redb::Error::from)?.1.value().len() as u64;
    }
    drop(records);
    let mut meta = txn.open_table(META).map_err(redb::Error::from)?;
    meta.insert(RECORD_BYTES, total)
        .map_err(redb::Error::from)?;
    Ok(())
}
