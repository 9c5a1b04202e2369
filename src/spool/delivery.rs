//! The outbound side of the spool: batches with stable ids, acknowledgement, splitting a batch
//! the collector finds too large, and the dead-letter set for batches it refuses outright.

use std::time::SystemTime;

use redb::{ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};

use super::{
    BATCHES, COUNTERS, DEAD, OutboundBatch, PENDING, SENT, Spool, SpoolError, add_counts,
    decode_ids, encode_ids, millis, segment,
};

/// A batch the collector refused with a non-retryable status, kept locally until an admin
/// retries it: never silently dropped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadBatch {
    /// The batch's id (kept when it is retried).
    pub batch: uuid::Uuid,
    /// The HTTP status the collector answered.
    pub status: u16,
    /// The collector's reason, in words.
    pub reason: String,
    /// When it was set aside (ms since the Unix epoch).
    pub at_ms: u64,
    /// How many records it holds.
    pub records: usize,
}

/// How a dead batch is stored: its segments and why.
#[derive(Serialize, Deserialize)]
struct DeadEntry {
    status: u16,
    reason: String,
    at_ms: u64,
    ids: Vec<u128>,
}

impl Spool {
    /// The batch to send next: the oldest unacknowledged batch if any (same id as before),
    /// else a new one of the oldest pending records: whole segments up to `max` records, or the
    /// first `max` of the oldest segment when it alone holds more. `None` when nothing waits.
    ///
    /// # Errors
    /// [`SpoolError`] on store failure.
    pub fn next_batch(&self, max: usize) -> Result<Option<OutboundBatch>, SpoolError> {
        self.next_batch_except(max, &[])
    }

    /// Like [`Spool::next_batch`], passing over the unacknowledged batches in `sending` (sent
    /// meanwhile by the caller), so that several batches can be on their way at once.
    ///
    /// # Errors
    /// [`SpoolError`] on store failure.
    pub fn next_batch_except(
        &self,
        max: usize,
        sending: &[uuid::Uuid],
    ) -> Result<Option<OutboundBatch>, SpoolError> {
        let txn = self.db.begin_write()?;
        let oldest = {
            let batches = txn.open_table(BATCHES).map_err(redb::Error::from)?;
            let mut found = None;
            for e in batches.iter().map_err(redb::Error::from)? {
                let (k, v) = e.map_err(redb::Error::from)?;
                if !sending.iter().any(|b| b.as_u128() == k.value()) {
                    found = Some((k.value(), decode_ids(v.value())?));
                    break;
                }
            }
            found
        };
        let (batch_id, segs) = match oldest {
            Some(found) => found,
            None => {
                let segs = take_pending(&txn, max as u64)?;
                if segs.is_empty() {
                    return Ok(None);
                }
                let batch_id = uuid::Uuid::now_v7().as_u128();
                txn.open_table(BATCHES)
                    .map_err(redb::Error::from)?
                    .insert(batch_id, encode_ids(&segs).as_slice())
                    .map_err(redb::Error::from)?;
                (batch_id, segs)
            }
        };
        let batch = {
            let info = txn.open_table(segment::INFO).map_err(redb::Error::from)?;
            let table = txn
                .open_table(segment::SEGMENTS)
                .map_err(redb::Error::from)?;
            let mut batch = OutboundBatch {
                id: uuid::Uuid::from_u128(batch_id),
                segments: Vec::with_capacity(segs.len()),
                records: 0,
                json_bytes: 0,
            };
            for key in &segs {
                let Some(v) = table.get(key).map_err(redb::Error::from)? else {
                    continue;
                };
                let i = segment::info(&info, *key)?;
                batch.segments.push(segment::compressed(v.value(), &i)?);
                batch.records += i.count as usize;
                batch.json_bytes += i.bytes as usize;
            }
            batch
        };
        txn.commit().map_err(redb::Error::from)?;
        Ok(Some(batch))
    }

    /// Marks a batch acknowledged: its records move to the sent-history. Acking an unknown
    /// (already acknowledged) batch does nothing.
    ///
    /// # Errors
    /// [`SpoolError`] on store failure; then the batch stays in flight and will be resent.
    pub fn ack(&self, batch: uuid::Uuid, at: SystemTime) -> Result<usize, SpoolError> {
        let at_ms = millis(at);
        let txn = self.db.begin_write()?;
        let n = {
            let mut batches = txn.open_table(BATCHES).map_err(redb::Error::from)?;
            let segs = match batches.remove(batch.as_u128()).map_err(redb::Error::from)? {
                Some(v) => decode_ids(v.value())?,
                None => Vec::new(),
            };
            let mut sent = txn.open_table(SENT).map_err(redb::Error::from)?;
            for key in &segs {
                sent.insert(*key, (at_ms, batch.as_u128()))
                    .map_err(redb::Error::from)?;
            }
            let info = txn.open_table(segment::INFO).map_err(redb::Error::from)?;
            let n = segment::count(&info, &segs)?;
            let mut counters = txn.open_table(COUNTERS).map_err(redb::Error::from)?;
            add_counts(
                &mut counters,
                &[("sent", n), ("batches_sent", u64::from(!segs.is_empty()))],
            )?;
            n as usize
        };
        txn.commit().map_err(redb::Error::from)?;
        Ok(n)
    }

    /// Replaces an unacknowledged batch by two halves with new ids (the collector answered 413
    /// and stored nothing). Returns false, changing nothing, for a batch of one record or an
    /// unknown batch.
    ///
    /// # Errors
    /// [`SpoolError`] on store failure; then the batch is unchanged.
    pub fn split_batch(&self, batch: uuid::Uuid) -> Result<bool, SpoolError> {
        let txn = self.db.begin_write()?;
        let segs = {
            let batches = txn.open_table(BATCHES).map_err(redb::Error::from)?;
            match batches.get(batch.as_u128()).map_err(redb::Error::from)? {
                Some(v) => decode_ids(v.value())?,
                None => return Ok(false),
            }
        };
        let counts: Vec<u64> = {
            let info = txn.open_table(segment::INFO).map_err(redb::Error::from)?;
            segs.iter()
                .map(|k| Ok(segment::info(&info, *k)?.count))
                .collect::<Result<_, SpoolError>>()?
        };
        let total: u64 = counts.iter().sum();
        if total < 2 {
            return Ok(false);
        }
        // Cut at half the records, splitting the segment the cut falls in.
        let (mut first, mut second) = (Vec::new(), Vec::new());
        let (cut, mut before) = (total / 2, 0);
        for (key, n) in segs.iter().zip(&counts) {
            if before >= cut {
                second.push(*key);
            } else if before + n <= cut {
                first.push(*key);
            } else {
                first.push(*key);
                second.push(segment::split(&txn, *key, (cut - before) as usize)?);
            }
            before += n;
        }
        {
            let mut batches = txn.open_table(BATCHES).map_err(redb::Error::from)?;
            batches.remove(batch.as_u128()).map_err(redb::Error::from)?;
            // Fresh v7 ids sort after every older batch; the halves go out first to last.
            for half in [first, second] {
                batches
                    .insert(uuid::Uuid::now_v7().as_u128(), encode_ids(&half).as_slice())
                    .map_err(redb::Error::from)?;
            }
            let mut counters = txn.open_table(COUNTERS).map_err(redb::Error::from)?;
            add_counts(&mut counters, &[("batches_split", 1)])?;
        }
        txn.commit().map_err(redb::Error::from)?;
        Ok(true)
    }

    /// Moves an unacknowledged batch to the dead-letter set with the collector's answer.
    ///
    /// # Errors
    /// [`SpoolError`] on store failure; then the batch stays in flight.
    pub fn dead_letter(
        &self,
        batch: uuid::Uuid,
        status: u16,
        reason: &str,
        at: SystemTime,
    ) -> Result<usize, SpoolError> {
        let txn = self.db.begin_write()?;
        let n = {
            let mut batches = txn.open_table(BATCHES).map_err(redb::Error::from)?;
            let ids = match batches.remove(batch.as_u128()).map_err(redb::Error::from)? {
                Some(v) => decode_ids(v.value())?,
                None => return Ok(0),
            };
            let n = segment::count(
                &txn.open_table(segment::INFO).map_err(redb::Error::from)?,
                &ids,
            )?;
            let entry = DeadEntry {
                status,
                reason: reason.chars().take(500).collect(),
                at_ms: millis(at),
                ids,
            };
            let json = serde_json::to_vec(&entry).expect("a dead entry serializes");
            let mut dead = txn.open_table(DEAD).map_err(redb::Error::from)?;
            dead.insert(batch.as_u128(), json.as_slice())
                .map_err(redb::Error::from)?;
            let mut counters = txn.open_table(COUNTERS).map_err(redb::Error::from)?;
            add_counts(
                &mut counters,
                &[("dead_lettered", n), ("batches_dead_lettered", 1)],
            )?;
            n as usize
        };
        txn.commit().map_err(redb::Error::from)?;
        Ok(n)
    }

    /// The dead-letter set, oldest first.
    ///
    /// # Errors
    /// [`SpoolError`] on store failure or an undecodable entry.
    pub fn dead_letters(&self) -> Result<Vec<DeadBatch>, SpoolError> {
        let txn = self.db.begin_read()?;
        let dead = txn.open_table(DEAD).map_err(redb::Error::from)?;
        let info = txn.open_table(segment::INFO).map_err(redb::Error::from)?;
        let mut out = Vec::with_capacity(dead.len().map_err(redb::Error::from)? as usize);
        for entry in dead.iter().map_err(redb::Error::from)? {
            let (k, v) = entry.map_err(redb::Error::from)?;
            let e = decode_dead(v.value())?;
            out.push(DeadBatch {
                batch: uuid::Uuid::from_u128(k.value()),
                status: e.status,
                reason: e.reason,
                at_ms: e.at_ms,
                records: segment::count(&info, &e.ids)? as usize,
            });
        }
        Ok(out)
    }

    /// Puts dead batches back in the send queue with their ids: `batch`, or every one when
    /// `None`. Returns how many records will be sent again.
    ///
    /// # Errors
    /// [`SpoolError`] on store failure; then nothing moved.
    pub fn retry_dead(&self, batch: Option<uuid::Uuid>) -> Result<usize, SpoolError> {
        let txn = self.db.begin_write()?;
        let n = {
            let mut dead = txn.open_table(DEAD).map_err(redb::Error::from)?;
            let keys: Vec<u128> = match batch {
                Some(b) => vec![b.as_u128()],
                None => dead
                    .iter()
                    .map_err(redb::Error::from)?
                    .map(|e| e.map(|(k, _)| k.value()))
                    .collect::<Result<_, _>>()
                    .map_err(redb::Error::from)?,
            };
            let mut batches = txn.open_table(BATCHES).map_err(redb::Error::from)?;
            let info = txn.open_table(segment::INFO).map_err(redb::Error::from)?;
            let mut n = 0;
            for key in keys {
                let Some(v) = dead.remove(key).map_err(redb::Error::from)? else {
                    continue;
                };
                let e = decode_dead(v.value())?;
                drop(v);
                n += segment::count(&info, &e.ids)? as usize;
                batches
                    .insert(key, encode_ids(&e.ids).as_slice())
                    .map_err(redb::Error::from)?;
            }
            n
        };
        txn.commit().map_err(redb::Error::from)?;
        Ok(n)
    }
}

/// The segments of a stored dead entry.
pub(super) fn dead_entry_ids(bytes: &[u8]) -> Result<Vec<u128>, SpoolError> {
    Ok(decode_dead(bytes)?.ids)
}

/// A stored dead entry with its segments replaced (split, or records forgotten since).
pub(super) fn dead_entry_with_ids(bytes: &[u8], ids: Vec<u128>) -> Result<Vec<u8>, SpoolError> {
    let entry = DeadEntry {
        ids,
        ..decode_dead(bytes)?
    };
    Ok(serde_json::to_vec(&entry).expect("a dead entry serializes"))
}

fn decode_dead(bytes: &[u8]) -> Result<DeadEntry, SpoolError> {
    serde_json::from_slice(bytes).map_err(|e| SpoolError::Decode(format!("dead letter: {e}")))
}

/// Rewrites the segment list of each batch and dead batch for which `edit` returns a new one;
/// an entry left without segments is removed. What a split or a purge does to batches.
pub(super) fn edit_segment_lists(
    txn: &redb::WriteTransaction,
    mut edit: impl FnMut(&[u128]) -> Option<Vec<u128>>,
) -> Result<(), SpoolError> {
    for (table, dead) in [(BATCHES, false), (DEAD, true)] {
        let mut t = txn.open_table(table).map_err(redb::Error::from)?;
        let mut changed = Vec::new();
        for e in t.iter().map_err(redb::Error::from)? {
            let (k, v) = e.map_err(redb::Error::from)?;
            let held = if dead {
                dead_entry_ids(v.value())?
            } else {
                decode_ids(v.value())?
            };
            if let Some(new) = edit(&held) {
                changed.push((k.value(), v.value().to_vec(), new));
            }
        }
        for (key, old, new) in changed {
            if new.is_empty() {
                t.remove(key).map_err(redb::Error::from)?;
            } else {
                let value = if dead {
                    dead_entry_with_ids(&old, new)?
                } else {
                    encode_ids(&new)
                };
                t.insert(key, value.as_slice()).map_err(redb::Error::from)?;
            }
        }
    }
    Ok(())
}

/// The segments in each dead batch, for listing records with their state.
pub(super) fn dead_ids(txn: &redb::ReadTransaction) -> Result<Vec<(u128, Vec<u128>)>, SpoolError> {
    let dead = txn.open_table(DEAD).map_err(redb::Error::from)?;
    let mut out = Vec::new();
    for entry in dead.iter().map_err(redb::Error::from)? {
        let (k, v) = entry.map_err(redb::Error::from)?;
        out.push((k.value(), decode_dead(v.value())?.ids));
    }
    Ok(out)
}

/// Most bytes of record JSON a new batch takes (whole segments while they fit; the first one
/// always): with long lines, `batch_max_records` alone would let one batch hold hundreds of
/// megabytes, in the agent's memory and in the collector's.
pub const BATCH_MAX_BYTES: u64 = 4 << 20;

/// Takes the oldest pending segments while they fit in `max` records and [`BATCH_MAX_BYTES`]
/// (cutting the oldest one only when it alone holds more than `max` records), so a batch costs
/// no rewrite; returns them, oldest first.
fn take_pending(txn: &redb::WriteTransaction, max: u64) -> Result<Vec<u128>, SpoolError> {
    let max = max.max(1);
    let mut segs = Vec::new();
    let mut cut = None;
    {
        let pending = txn.open_table(PENDING).map_err(redb::Error::from)?;
        let info = txn.open_table(segment::INFO).map_err(redb::Error::from)?;
        let (mut n, mut bytes) = (0, 0);
        for entry in pending.iter().map_err(redb::Error::from)? {
            let key = entry.map_err(redb::Error::from)?.0.value();
            let i = segment::info(&info, key)?;
            let count = i.count;
            if n > 0 && bytes + i.bytes > BATCH_MAX_BYTES {
                break;
            }
            bytes += i.bytes;
            if n + count > max {
                if n == 0 {
                    segs.push(key);
                    cut = Some((key, max));
                }
                break;
            }
            segs.push(key);
            n += count;
        }
    }
    if let Some((key, at)) = cut {
        // The rest of the segment stays pending under its own key.
        segment::split(txn, key, at as usize)?;
    }
    let mut pending = txn.open_table(PENDING).map_err(redb::Error::from)?;
    for key in &segs {
        pending.remove(key).map_err(redb::Error::from)?;
    }
    Ok(segs)
}
