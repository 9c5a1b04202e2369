//! Bounds on what the spool keeps: a byte cap over all records (the sent-history goes first,
//! then the oldest unsent records; a segment is cut where the cap falls), an age limit on unsent records, and an age limit on the
//! sent-history; the ages can differ per purpose. Every dropped record is counted by reason and
//! category, never silently lost.

use std::time::{Duration, SystemTime};

use redb::{ReadableTable, WriteTransaction};

use super::segment::{self, INFO};
use super::{COUNTERS, META, PENDING, SENT, Spool, SpoolError, add_counts, millis};
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
        let cutoff = |ages: &[Duration; 2], p: Purpose| {
            now_ms.saturating_sub(ages[purpose_index(p)].as_millis() as u64)
        };
        let youngest = |ages: &[Duration; 2]| {
            ages.iter()
                .map(|a| now_ms.saturating_sub(a.as_millis() as u64))
                .max()
                .unwrap_or(0)
        };
        // Unsent records past their purpose's age, oldest first; in-flight batches are left
        // to finish. A segment's key is its oldest record's time.
        for key in keys_before(&txn, Table::Pending, youngest(&limits.pending_max_age))? {
            let info = info_of(&txn, key)?;
            let limit = cutoff(&limits.pending_max_age, info.purpose);
            if id_ms(key) >= limit {
                continue;
            }
            let old = if id_ms(info.last) < limit {
                info.count as usize
            } else {
                let value = segment::load(&txn, key)?;
                let view = segment::View::parse(&value)?;
                (0..view.len())
                    .position(|i| id_ms(view.id(i)) >= limit)
                    .unwrap_or(view.len())
            };
            drop_front(&txn, key, old, Table::Pending)?;
            done.expired += old as u64;
            counts.push((format!("dropped.expired.{}", info.category), old as u64));
        }
        // The sent-history past its purpose's age. A record is sent after it is made, so only
        // segments begun before the youngest cutoff can qualify; a segment is sent as a whole.
        for key in keys_before(&txn, Table::Sent, youngest(&limits.history))? {
            let sent_ms = {
                let sent = txn.open_table(SENT).map_err(redb::Error::from)?;
                sent.get(key)
                    .map_err(redb::Error::from)?
                    .map(|v| v.value().0)
            };
            let info = info_of(&txn, key)?;
            if sent_ms.is_some_and(|at| at < cutoff(&limits.history, info.purpose)) {
                drop_front(&txn, key, info.count as usize, Table::Sent)?;
                done.history += info.count;
            }
        }
        // The byte cap: history first (already delivered), then the oldest unsent records,
        // taken in chunks of oldest segments (one scan per chunk, not per segment removed).
        // Over the cap, the history goes down to 7/8 of it, so that a burst does not pay for a
        // trim after every round; unsent records go only as far as the cap requires.
        let over_cap = bytes(&txn)? > limits.max_bytes;
        for table in [Table::Sent, Table::Pending] {
            let goal = match table {
                Table::Sent if over_cap => limits.max_bytes - limits.max_bytes / 8,
                _ => limits.max_bytes,
            };
            'chunks: while bytes(&txn)? > goal {
                let oldest = keys_before(&txn, table, u64::MAX)?;
                if oldest.is_empty() {
                    break;
                }
                for key in oldest {
                    let over = bytes(&txn)?.saturating_sub(goal);
                    if over == 0 {
                        break 'chunks;
                    }
                    let info = info_of(&txn, key)?;
                    let n = if info.bytes <= over {
                        info.count as usize
                    } else {
                        let value = segment::load(&txn, key)?;
                        let view = segment::View::parse(&value)?;
                        let mut freed = 0;
                        (0..view.len())
                            .position(|i| {
                                freed += view.json(i).len() as u64;
                                freed >= over
                            })
                            .map_or(view.len(), |i| i + 1)
                    };
                    drop_front(&txn, key, n, table)?;
                    match table {
                        Table::Pending => {
                            done.over_size += n as u64;
                            counts.push((format!("dropped.over_size.{}", info.category), n as u64));
                        }
                        Table::Sent => done.history += n as u64,
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

/// Segments in `table` begun before `before_ms`, oldest first (at most 10,000 per call, to
/// bound one transaction; the next run takes the rest).
fn keys_before(
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

fn info_of(txn: &WriteTransaction, key: u128) -> Result<segment::Info, SpoolError> {
    segment::info(&txn.open_table(INFO).map_err(redb::Error::from)?, key)
}

/// Removes the first `n` records of segment `key` (in `table`) from the spool; the rest, if
/// any, stays in `table` under its own key.
fn drop_front(txn: &WriteTransaction, key: u128, n: usize, table: Table) -> Result<(), SpoolError> {
    if n == 0 {
        return Ok(());
    }
    if (n as u64) < info_of(txn, key)?.count {
        segment::split(txn, key, n)?;
    }
    match table {
        Table::Pending => {
            let mut t = txn.open_table(PENDING).map_err(redb::Error::from)?;
            t.remove(key).map_err(redb::Error::from)?;
        }
        Table::Sent => {
            let mut t = txn.open_table(SENT).map_err(redb::Error::from)?;
            t.remove(key).map_err(redb::Error::from)?;
        }
    }
    segment::remove(txn, key)?;
    Ok(())
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
    let info = txn.open_table(INFO).map_err(redb::Error::from)?;
    let mut total = 0u64;
    for e in info.iter().map_err(redb::Error::from)? {
        total += e.map_err(redb::Error::from)?.1.value().1;
    }
    drop(info);
    let mut meta = txn.open_table(META).map_err(redb::Error::from)?;
    meta.insert(RECORD_BYTES, total)
        .map_err(redb::Error::from)?;
    Ok(())
}
