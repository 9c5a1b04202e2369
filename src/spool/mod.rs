//! The durable local spool: records wait here, after the policy and before the collector.
//!
//! # Design
//! One redb file, `DATA_DIR/spool.redb`, the only store access in the crate. redb rather than
//! sled: measured for this workload it is faster, smaller on disk, gives space back after
//! deletes, is maintained and has a stable crash-safe format (ARCHITECTURE.md has the figures).
//!
//! Records are stored in segments (`segment.rs`): runs of consecutive records of one purpose and
//! category in one value, their JSON (exactly as it will be sent) joined by commas and kept as one
//! gzip member, which a batch sends as it is; the byte cap counts the JSON. Delivery state is kept
//! per segment; a segment is split where a batch, a byte cap or an age limit cuts through it.
//!
//! Tables (keys are UUIDv7 as `u128`, so key order is time order; a segment's key is the id of
//! its first record):
//! - `segments`: segment key → its records; `segment_info`: key → count, bytes, purpose,
//!   category and last id, so batching and retention need not read the records;
//! - `pending`: segments not yet in a batch;
//! - `batches`: batch id → its segments in order; a batch keeps its id across retries and
//!   restarts;
//! - `sent`: segment → (sent-at ms, batch id), the local sent-history;
//! - `dead`: batch id → its segments and the collector's refusal: set aside, never dropped;
//! - `counters`: name → count, what `run --once` and `status` report;
//! - `control`: id → a control message for the collector (deletion request, consent withdrawn),
//!   queued in the same transaction as the local purge it reports;
//! - `meta`: gauges and states the spool keeps for itself (`record_bytes`, what the byte cap counts);
//! - `checkpoints`: a source's position (a log file's offset, a journal cursor), written in the same
//!   transaction as the records read before it.
//!
//! # Invariants
//! - Only [`Record`]s (policy output) are written; raw drafts never reach the file.
//! - Every write is one transaction committed with immediate durability: when a call returns
//!   `Ok`, its effect survives a crash; when it fails, nothing of it happened.
//! - A segment is in exactly one of `pending`, one batch, one dead batch, or `sent`, and each
//!   record in exactly one segment.
//! - A record leaves `batches` for `sent` only through [`Spool::ack`], after the collector's 2xx.
//! - A source position is never durable before the records read up to it: both commit together,
//!   so a restart resumes exactly after the last stored line.
//! - Only one process opens the file (redb locks it); others ask that process over its socket.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redb::{ReadableTable, TableDefinition, TableHandle};
use serde::{Deserialize, Serialize};

use crate::record::Record;

mod control;
mod delivery;
mod query;
mod reopen;
mod retention;
mod segment;
mod stats;

pub use control::QueuedControl;
pub use delivery::{BATCH_MAX_BYTES, DeadBatch};
pub use query::{Filter, State};
pub use retention::{Enforced, Limits};
pub use stats::{PurposeStats, SpoolStats};

/// Where versions before segments kept one record per entry; moved into segments on open.
const LEGACY_RECORDS: TableDefinition<u128, &[u8]> = TableDefinition::new("records");
const PENDING: TableDefinition<u128, ()> = TableDefinition::new("pending");
const BATCHES: TableDefinition<u128, &[u8]> = TableDefinition::new("batches");
const SENT: TableDefinition<u128, (u64, u128)> = TableDefinition::new("sent");
const DEAD: TableDefinition<u128, &[u8]> = TableDefinition::new("dead");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const CONTROL: TableDefinition<u128, &[u8]> = TableDefinition::new("control");
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
const CHECKPOINTS: TableDefinition<&str, &str> = TableDefinition::new("checkpoints");

/// Most records in one segment: a batch takes whole segments, so this is also the step in which
/// batches fill up to their size.
const SEGMENT_RECORDS: u32 = 1_000;

/// Bytes of spool pages redb may cache in memory.
const SPOOL_CACHE_BYTES: usize = 2 << 20;

/// The file name of the spool inside the data directory.
pub const FILE_NAME: &str = "spool.redb";

/// Why a spool operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// Another process (normally the running daemon) holds the spool.
    #[error(
        "the spool {0} is in use by another noticed process; ask that process (is `noticed run` running?) or stop it first"
    )]
    Locked(PathBuf),
    /// The data directory could not be created or opened.
    #[error(
        "cannot use data directory {path}: {source}; check that it exists and is writable, or set agent.data_dir"
    )]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The store itself failed (disk full, IO error, corruption).
    #[error("spool store error: {0}")]
    Store(#[from] redb::Error),
    /// The spool file failed a write (a full disk?) and cannot be opened again yet.
    #[error("the spool {0} failed a write and cannot be reopened yet; free disk space, it retries")]
    Reopen(PathBuf),
    /// A spool call panicked or was cancelled.
    #[error("spool task failed: {0}")]
    Task(String),
    /// A stored value could not be decoded (written by an incompatible version?).
    #[error("spool holds an unreadable entry: {0}")]
    Decode(String),
}

/// Where a record is on its way out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Delivery {
    /// Waiting for a batch.
    Pending,
    /// In a batch that is being sent (or will be resent with the same id).
    InFlight {
        /// The batch's id.
        batch: uuid::Uuid,
    },
    /// In a batch the collector refused; kept until retried (`noticed dead-letters --retry`).
    Dead {
        /// The batch's id.
        batch: uuid::Uuid,
    },
    /// Acknowledged by the collector.
    Sent {
        /// The batch it went in.
        batch: uuid::Uuid,
        /// When the collector acknowledged it (ms since the Unix epoch).
        at_ms: u64,
    },
}

/// A record with its delivery state, as `records` lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    /// The record as stored and sent.
    pub record: Record,
    /// Where it is.
    pub delivery: Delivery,
}

/// A batch ready to send; resending it must use the same id.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboundBatch {
    /// Stable id, the collector's dedup key.
    pub id: uuid::Uuid,
    /// Its segments as stored (compressed), oldest first: the wire format takes their gzip
    /// members verbatim, so a send neither decodes nor recompresses its records.
    segments: Vec<Vec<u8>>,
    records: usize,
    json_bytes: usize,
}

impl OutboundBatch {
    /// How many records the batch holds.
    pub fn len(&self) -> usize {
        self.records
    }

    /// Whether the batch holds no record.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Bytes of its records' JSON together.
    pub fn json_bytes(&self) -> usize {
        self.json_bytes
    }

    /// One gzip member per segment, oldest first, each its records' JSON joined by commas.
    pub fn gzip_members(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.segments
            .iter()
            .map(|v| segment::member(v).expect("a batch holds compressed segments"))
    }

    /// Its records, decoded (for formats that rebuild each record, and for tests).
    ///
    /// # Errors
    /// A stored record does not decode.
    pub fn records(&self) -> Result<Vec<Record>, SpoolError> {
        let mut out = Vec::with_capacity(self.records);
        for value in &self.segments {
            let view = segment::View::parse(value)?;
            for i in 0..view.len() {
                out.push(decode_record(view.json(i))?);
            }
        }
        Ok(out)
    }
}

/// Records serialized into segments, in order, ready for [`Spool::append_sealed`]: the
/// policy step fills it record by record, so a round's records are freed as they are made,
/// and each segment is compressed as soon as it is full, so a round waiting to be stored
/// holds its records' compressed form (a tenth of their JSON) and one open segment.
#[derive(Default)]
pub struct Sealed {
    /// Full segments: key, value, summary.
    done: Vec<(u128, Vec<u8>, segment::Info)>,
    /// The segment being filled; its buffers are reused for the next.
    open: Option<segment::Builder>,
    records: usize,
}

impl Sealed {
    /// Appends a record: to the open segment while it has room and the same purpose and
    /// category, else to a new one.
    pub fn push(&mut self, r: &Record) {
        let (purpose, category) = (r.purpose, r.category);
        let open = self
            .open
            .get_or_insert_with(|| segment::Builder::new(purpose, category));
        if !open.takes(purpose, category) {
            close(open, &mut self.done, purpose, category);
        }
        open.push_record(r);
        if open.count() >= SEGMENT_RECORDS {
            close(open, &mut self.done, purpose, category);
        }
        self.records += 1;
    }

    /// How many records it holds.
    pub fn len(&self) -> usize {
        self.records
    }

    /// Whether it holds no record.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }
}

/// Moves `open`'s records, compressed, to `done` (if it has any) and empties it for a run of
/// `purpose` and `category`, keeping its buffers.
fn close(
    open: &mut segment::Builder,
    done: &mut Vec<(u128, Vec<u8>, segment::Info)>,
    purpose: crate::record::Purpose,
    category: crate::record::Category,
) {
    if open.count() > 0 {
        done.push((open.first(), open.finish_value(), open.info()));
    }
    open.reset(purpose, category);
}

/// The spool. Cheap to share behind an `Arc`; every method is a blocking call.
pub struct Spool {
    db: reopen::Reopening,
    path: PathBuf,
}

impl Spool {
    /// Lets the spool heal after `error`: a write that failed (a full disk) leaves redb
    /// refusing all work until its file is opened again, which the next call then does.
    pub fn recover(&self, error: &SpoolError) {
        self.db.recover(error);
    }

    /// Opens (or creates) the spool in `data_dir`, creating the directory with mode 0700.
    ///
    /// # Errors
    /// [`SpoolError::Locked`] when another process holds it; other variants for IO trouble.
    pub fn open(data_dir: &Path) -> Result<Spool, SpoolError> {
        create_private_dir(data_dir).map_err(|source| SpoolError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(FILE_NAME);
        // redb caches up to 1 GiB of pages by default; the spool is written once and read once,
        // so a small cache keeps the agent's memory bounded by configuration, not by backlog.
        let db = match reopen::Reopening::open(&path) {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => return Err(SpoolError::Locked(path)),
            Err(e) => return Err(SpoolError::Store(e.into())),
        };
        make_private(&path).map_err(|source| SpoolError::DataDir {
            path: path.clone(),
            source,
        })?;
        let txn = db.begin_write().map_err(redb::Error::from)?;
        {
            txn.open_table(segment::SEGMENTS)
                .map_err(redb::Error::from)?;
            txn.open_table(segment::INFO).map_err(redb::Error::from)?;
            txn.open_table(PENDING).map_err(redb::Error::from)?;
            txn.open_table(BATCHES).map_err(redb::Error::from)?;
            txn.open_table(SENT).map_err(redb::Error::from)?;
            txn.open_table(DEAD).map_err(redb::Error::from)?;
            txn.open_table(CONTROL).map_err(redb::Error::from)?;
            let meta = txn.open_table(META).map_err(redb::Error::from)?;
            let counted = meta
                .get(retention::RECORD_BYTES)
                .map_err(redb::Error::from)?
                .is_some();
            drop(meta);
            txn.open_table(COUNTERS).map_err(redb::Error::from)?;
            txn.open_table(CHECKPOINTS).map_err(redb::Error::from)?;
            migrate_records(&txn)?;
            if !counted {
                retention::recount_bytes(&txn)?;
            }
        }
        txn.commit().map_err(redb::Error::from)?;
        Ok(Spool {
            db: reopen::Reopening::new(path.clone(), db),
            path,
        })
    }

    /// The spool file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Durably stores `records` as pending and adds `counts` to the counters, in one transaction.
    ///
    /// # Errors
    /// [`SpoolError::Store`] when the write or commit fails; then nothing was stored.
    pub fn append(&self, records: &[Record], counts: &[(&str, u64)]) -> Result<u64, SpoolError> {
        self.append_with_checkpoints(records, counts, &[])
    }

    /// Like [`Spool::append`], and sets source checkpoints in the same transaction: a position
    /// becomes durable exactly when the records read before it do. Returns the bytes of record
    /// JSON stored (what batches are bounded by).
    ///
    /// # Errors
    /// [`SpoolError::Store`] when the write or commit fails; then nothing was stored.
    pub fn append_with_checkpoints(
        &self,
        records: &[Record],
        counts: &[(&str, u64)],
        checkpoints: &[(String, String)],
    ) -> Result<u64, SpoolError> {
        let mut sealed = Sealed::default();
        for r in records {
            sealed.push(r);
        }
        self.append_sealed(&sealed, counts, checkpoints)
    }

    /// Like [`Spool::append_with_checkpoints`] for records already serialized by the caller
    /// (the policy step), so that the store step only compresses and writes.
    ///
    /// # Errors
    /// [`SpoolError::Store`] when the write or commit fails; then nothing was stored.
    pub fn append_sealed(
        &self,
        sealed: &Sealed,
        counts: &[(&str, u64)],
        checkpoints: &[(String, String)],
    ) -> Result<u64, SpoolError> {
        // The open segment is compressed before the transaction begins, so the write lock
        // is held only to write.
        let last = sealed
            .open
            .as_ref()
            .filter(|b| b.count() > 0)
            .map(|b| (b.first(), b.finish_value(), b.info()));
        let segments = sealed.done.iter().chain(&last);
        let txn = self.db.begin_write()?;
        let mut stored = 0;
        {
            for (first, value, info) in segments {
                stored += info.bytes;
                segment::put(&txn, *first, value, info)?;
                txn.open_table(PENDING)
                    .map_err(redb::Error::from)?
                    .insert(*first, ())
                    .map_err(redb::Error::from)?;
            }
            let mut counters = txn.open_table(COUNTERS).map_err(redb::Error::from)?;
            add_counts(&mut counters, counts)?;
            let mut positions = txn.open_table(CHECKPOINTS).map_err(redb::Error::from)?;
            for (key, value) in checkpoints {
                positions
                    .insert(key.as_str(), value.as_str())
                    .map_err(redb::Error::from)?;
            }
        }
        let records = sealed.done.len() + usize::from(last.is_some());
        if records > 0 {
            crate::crashpoint::reach(crate::crashpoint::SPOOL_BEFORE_COMMIT);
        }
        txn.commit().map_err(redb::Error::from)?;
        if records > 0 {
            crate::crashpoint::reach(crate::crashpoint::SPOOL_AFTER_COMMIT);
        }
        Ok(stored)
    }

    /// A source checkpoint (a log offset, a journal cursor), if one was stored.
    ///
    /// # Errors
    /// [`SpoolError`] on store failure.
    pub fn checkpoint(&self, key: &str) -> Result<Option<String>, SpoolError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(CHECKPOINTS).map_err(redb::Error::from)?;
        Ok(table
            .get(key)
            .map_err(redb::Error::from)?
            .map(|v| v.value().to_owned()))
    }

    /// Up to `limit` records, newest first, with their delivery state.
    ///
    /// # Errors
    /// [`SpoolError`] on store failure or an undecodable entry.
    pub fn list(&self, limit: usize) -> Result<Vec<Stored>, SpoolError> {
        self.list_matching(limit, &Filter::default())
    }

    /// Every counter and its value, sorted by name.
    ///
    /// # Errors
    /// [`SpoolError`] on store failure.
    pub fn counters(&self) -> Result<Vec<(String, u64)>, SpoolError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(COUNTERS).map_err(redb::Error::from)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(redb::Error::from)? {
            let (k, v) = entry.map_err(redb::Error::from)?;
            out.push((k.value().to_owned(), v.value()));
        }
        Ok(out)
    }

    /// How many records wait to be sent (pending or in a batch).
    ///
    /// # Errors
    /// [`SpoolError`] on store failure.
    pub fn unsent(&self) -> Result<u64, SpoolError> {
        self.sum_unsent(|i| i.count)
    }

    /// Bytes of the records that wait to be sent, as the byte cap counts them (their JSON).
    ///
    /// # Errors
    /// [`SpoolError`] on store failure.
    pub fn unsent_bytes(&self) -> Result<u64, SpoolError> {
        self.sum_unsent(|i| i.bytes)
    }

    /// Sums `of` over the segments that wait to be sent (pending or in a batch).
    fn sum_unsent(&self, of: impl Fn(&segment::Info) -> u64) -> Result<u64, SpoolError> {
        let txn = self.db.begin_read()?;
        let info = txn.open_table(segment::INFO).map_err(redb::Error::from)?;
        let pending = txn.open_table(PENDING).map_err(redb::Error::from)?;
        let batches = txn.open_table(BATCHES).map_err(redb::Error::from)?;
        let mut n = 0;
        for entry in pending.iter().map_err(redb::Error::from)? {
            n += of(&segment::info(
                &info,
                entry.map_err(redb::Error::from)?.0.value(),
            )?);
        }
        for entry in batches.iter().map_err(redb::Error::from)? {
            for seg in decode_ids(entry.map_err(redb::Error::from)?.1.value())? {
                n += of(&segment::info(&info, seg)?);
            }
        }
        Ok(n)
    }
}

/// Moves a spool written before segments (one `records` entry per record) into one-record
/// segments keyed by the record id, which the state tables already name: nothing else changes.
fn migrate_records(txn: &redb::WriteTransaction) -> Result<(), SpoolError> {
    let legacy = txn
        .list_tables()
        .map_err(redb::Error::from)?
        .any(|t| t.name() == LEGACY_RECORDS.name());
    if !legacy {
        return Ok(());
    }
    let old: Vec<(u128, Vec<u8>)> = {
        let table = txn.open_table(LEGACY_RECORDS).map_err(redb::Error::from)?;
        let mut out = Vec::new();
        for e in table.iter().map_err(redb::Error::from)? {
            let (k, v) = e.map_err(redb::Error::from)?;
            out.push((k.value(), v.value().to_vec()));
        }
        out
    };
    retention::add_bytes(txn, -(old.iter().map(|(_, v)| v.len() as i64).sum::<i64>()))?;
    for (id, json) in old {
        let r = decode_record(&json)?;
        let mut b = segment::Builder::new(r.purpose, r.category);
        b.push(id, &json);
        let (value, info) = b.finish();
        segment::put(txn, id, &value, &info)?;
    }
    txn.delete_table(LEGACY_RECORDS)
        .map_err(redb::Error::from)?;
    Ok(())
}

fn add_counts(
    table: &mut redb::Table<'_, &'static str, u64>,
    counts: &[(&str, u64)],
) -> Result<(), SpoolError> {
    for (name, n) in counts.iter().filter(|(_, n)| *n > 0) {
        let old = table
            .get(*name)
            .map_err(redb::Error::from)?
            .map_or(0, |v| v.value());
        table
            .insert(*name, old.saturating_add(*n))
            .map_err(redb::Error::from)?;
    }
    Ok(())
}

fn encode_ids(ids: &[u128]) -> Vec<u8> {
    ids.iter().flat_map(|id| id.to_be_bytes()).collect()
}

fn decode_ids(bytes: &[u8]) -> Result<Vec<u128>, SpoolError> {
    if !bytes.len().is_multiple_of(16) {
        return Err(SpoolError::Decode("batch entry of odd length".into()));
    }
    Ok(bytes
        .chunks_exact(16)
        .map(|c| u128::from_be_bytes(c.try_into().expect("chunks are 16 bytes")))
        .collect())
}

fn decode_record(bytes: &[u8]) -> Result<Record, SpoolError> {
    serde_json::from_slice(bytes).map_err(|e| SpoolError::Decode(e.to_string()))
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis()
        .try_into()
        .unwrap_or(u64::MAX)
}

/// Runs a blocking spool call on tokio's blocking pool, so async tasks never wait on the disk.
///
/// # Errors
/// The call's own error, or [`SpoolError::Task`] if it panicked.
pub async fn on_blocking_pool<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, SpoolError> + Send + 'static,
) -> Result<T, SpoolError> {
    tokio::task::spawn_blocking(call)
        .await
        .unwrap_or_else(|e| Err(SpoolError::Task(e.to_string())))
}

/// Restricts a file to its owner (0600): the spool holds pseudonymised, not anonymous, data.
fn make_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

/// Creates `dir` (and parents) if missing; a directory this creates is private (0700).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(test)]
pub(crate) mod tests;
