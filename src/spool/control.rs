//! Data the customer takes back: records forgotten by subject, unsent records purged when
//! consent is withdrawn, and the queue of control messages that tell the collector to do the
//! same. Each purge and its message commit in one transaction, so neither happens without the
//! other.

use redb::{ReadableTable, WriteTransaction};

use super::segment::{self, INFO, SEGMENTS};
use super::{
    BATCHES, CONTROL, COUNTERS, DEAD, META, PENDING, SENT, Spool, SpoolError, add_counts,
    decode_ids,
};
use crate::record::Purpose;

/// A control message waiting for the collector's acknowledgement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedControl {
    /// Its id (also inside the payload).
    pub id: uuid::Uuid,
    /// The message as it will be sent (JSON).
    pub payload: Vec<u8>,
}

impl Spool {
    /// Removes every record whose stored form contains `needle` (a pseudonym), in any state
    /// (rewriting the segments it sat in),
    /// and queues `control` (id, payload) in the same transaction. Returns how many went.
    ///
    /// # Errors
    /// [`SpoolError`] on store failure; then nothing was removed or queued.
    pub fn forget(&self, needle: &[u8], control: (uuid::Uuid, &[u8])) -> Result<u64, SpoolError> {
        let finder = memchr::memmem::Finder::new(needle);
        let txn = self.db.begin_write()?;
        // Each segment that holds the needle, with the records of it to keep.
        let hits = {
            let segments = txn.open_table(SEGMENTS).map_err(redb::Error::from)?;
            let mut hits = Vec::new();
            for e in segments.iter().map_err(redb::Error::from)? {
                let (k, v) = e.map_err(redb::Error::from)?;
                let view = segment::View::parse(v.value())?;
                let keep: Vec<usize> = (0..view.len())
                    .filter(|i| finder.find(view.json(*i)).is_none())
                    .collect();
                if keep.len() < view.len() {
                    hits.push((k.value(), keep, view.len()));
                }
            }
            hits
        };
        let mut forgotten = 0;
        let mut emptied = Vec::new();
        for (key, keep, had) in hits {
            forgotten += (had - keep.len()) as u64;
            if keep.is_empty() {
                emptied.push(key);
            } else {
                segment::rewrite(&txn, key, &keep)?;
            }
        }
        remove_everywhere(&txn, &emptied)?;
        queue(&txn, control)?;
        {
            let mut counters = txn.open_table(COUNTERS).map_err(redb::Error::from)?;
            add_counts(
                &mut counters,
                &[("forgotten", forgotten), ("deletion_requests", 1)],
            )?;
        }
        txn.commit().map_err(redb::Error::from)?;
        Ok(forgotten)
    }

    /// Records the consent for usage; when it goes from given to withdrawn, purges every unsent
    /// usage record and queues `control(purged)` in the same transaction, returning the count.
    ///
    /// # Errors
    /// [`SpoolError`] on store failure; then nothing changed.
    pub fn set_usage_consent(
        &self,
        given: bool,
        control: impl FnOnce(u64) -> (uuid::Uuid, Vec<u8>),
    ) -> Result<Option<u64>, SpoolError> {
        const KEY: &str = "consent.usage";
        let txn = self.db.begin_write()?;
        let before = {
            let meta = txn.open_table(META).map_err(redb::Error::from)?;
            meta.get(KEY).map_err(redb::Error::from)?.map(|v| v.value())
        };
        let withdrawn = before == Some(1) && !given;
        let mut purged = None;
        if withdrawn {
            let keys = unsent_of(&txn, Purpose::Usage)?;
            let n = segment::count(&txn.open_table(INFO).map_err(redb::Error::from)?, &keys)?;
            remove_everywhere(&txn, &keys)?;
            let (id, payload) = control(n);
            queue(&txn, (id, &payload))?;
            let mut counters = txn.open_table(COUNTERS).map_err(redb::Error::from)?;
            add_counts(&mut counters, &[("purged.consent_withdrawn", n)])?;
            purged = Some(n);
        }
        if before != Some(u64::from(given)) {
            let mut meta = txn.open_table(META).map_err(redb::Error::from)?;
            meta.insert(KEY, u64::from(given))
                .map_err(redb::Error::from)?;
        }
        txn.commit().map_err(redb::Error::from)?;
        Ok(purged)
    }

    /// Control messages waiting to be sent, oldest first.
    ///
    /// # Errors
    /// [`SpoolError`] on store failure.
    pub fn queued_controls(&self) -> Result<Vec<QueuedControl>, SpoolError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(CONTROL).map_err(redb::Error::from)?;
        let mut out = Vec::new();
        for e in table.iter().map_err(redb::Error::from)? {
            let (k, v) = e.map_err(redb::Error::from)?;
            out.push(QueuedControl {
                id: uuid::Uuid::from_u128(k.value()),
                payload: v.value().to_vec(),
            });
        }
        Ok(out)
    }

    /// Removes an acknowledged control message and counts what the collector deleted for it.
    ///
    /// # Errors
    /// [`SpoolError`] on store failure; then the message stays queued and is sent again.
    pub fn control_done(&self, id: uuid::Uuid, deleted: u64) -> Result<(), SpoolError> {
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(CONTROL).map_err(redb::Error::from)?;
            table.remove(id.as_u128()).map_err(redb::Error::from)?;
            let mut counters = txn.open_table(COUNTERS).map_err(redb::Error::from)?;
            add_counts(
                &mut counters,
                &[
                    ("controls_acknowledged", 1),
                    ("deleted_at_collector", deleted),
                ],
            )?;
        }
        txn.commit().map_err(redb::Error::from)?;
        Ok(())
    }
}

fn queue(txn: &WriteTransaction, (id, payload): (uuid::Uuid, &[u8])) -> Result<(), SpoolError> {
    let mut table = txn.open_table(CONTROL).map_err(redb::Error::from)?;
    table
        .insert(id.as_u128(), payload)
        .map_err(redb::Error::from)?;
    Ok(())
}

/// Unsent segments (pending, in a batch, or dead) of `purpose`.
fn unsent_of(txn: &WriteTransaction, purpose: Purpose) -> Result<Vec<u128>, SpoolError> {
    let mut candidates = Vec::new();
    {
        let pending = txn.open_table(PENDING).map_err(redb::Error::from)?;
        for e in pending.iter().map_err(redb::Error::from)? {
            candidates.push(e.map_err(redb::Error::from)?.0.value());
        }
        for (table, dead) in [(BATCHES, false), (DEAD, true)] {
            let t = txn.open_table(table).map_err(redb::Error::from)?;
            for e in t.iter().map_err(redb::Error::from)? {
                let (_, v) = e.map_err(redb::Error::from)?;
                candidates.extend(ids_of(dead, v.value())?);
            }
        }
    }
    let info = txn.open_table(INFO).map_err(redb::Error::from)?;
    let mut out = Vec::new();
    for key in candidates {
        if segment::info(&info, key)?.purpose == purpose {
            out.push(key);
        }
    }
    Ok(out)
}

/// The segments in a `batches` (or, if `dead`, a `dead`) entry.
fn ids_of(dead: bool, value: &[u8]) -> Result<Vec<u128>, SpoolError> {
    if dead {
        super::delivery::dead_entry_ids(value)
    } else {
        decode_ids(value)
    }
}

/// Removes segments from every state they can be in, and from the store.
fn remove_everywhere(txn: &WriteTransaction, ids: &[u128]) -> Result<(), SpoolError> {
    if ids.is_empty() {
        return Ok(());
    }
    let gone: std::collections::HashSet<u128> = ids.iter().copied().collect();
    {
        let mut pending = txn.open_table(PENDING).map_err(redb::Error::from)?;
        let mut sent = txn.open_table(SENT).map_err(redb::Error::from)?;
        for id in ids {
            pending.remove(id).map_err(redb::Error::from)?;
            sent.remove(id).map_err(redb::Error::from)?;
        }
    }
    super::delivery::edit_segment_lists(txn, |held| {
        held.iter().any(|id| gone.contains(id)).then(|| {
            held.iter()
                .copied()
                .filter(|id| !gone.contains(id))
                .collect()
        })
    })?;
    for id in ids {
        segment::remove(txn, *id)?;
    }
    Ok(())
}
