//! The collector's storage: JSON-lines files per purpose and day, and an append-only index of
//! stored batch ids that makes resent batches harmless, also across restarts.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::incoming::Incoming;
use crate::wire::ControlV1;

/// The dedup index's file name in the data directory.
pub const INDEX_FILE: &str = "batches.idx";

/// What storing a batch did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreOutcome {
    /// Newly stored, this many records.
    Stored(usize),
    /// Stored before; nothing written.
    Duplicate,
}

/// Stored records and the set of batch ids already stored.
pub struct BatchStore {
    dir: PathBuf,
    seen: Mutex<Seen>,
}

struct Seen {
    ids: HashSet<uuid::Uuid>,
    index: File,
}

impl BatchStore {
    /// Opens the store in `dir`, reloading the ids of batches stored before.
    ///
    /// # Errors
    /// The directory or index cannot be created or read.
    pub fn open(dir: &Path) -> std::io::Result<BatchStore> {
        std::fs::create_dir_all(dir)?;
        let index_path = dir.join(INDEX_FILE);
        let mut ids = HashSet::new();
        if let Ok(f) = File::open(&index_path) {
            for line in BufReader::new(f).lines() {
                // A torn last line (crash mid-append) is not a stored batch: skip it.
                if let Ok(id) = line?.trim().parse::<uuid::Uuid>() {
                    ids.insert(id);
                }
            }
        }
        let index = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&index_path)?;
        Ok(BatchStore {
            dir: dir.to_owned(),
            seen: Mutex::new(Seen { ids, index }),
        })
    }

    /// Stores a validated batch unless its id was stored before. Records are durable before
    /// the id enters the index, so a crash in between leads to a resend, never to a loss.
    ///
    /// # Errors
    /// Writing failed; the batch is then not marked stored and the sender will retry.
    pub fn store(&self, batch: &Incoming) -> std::io::Result<StoreOutcome> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.ids.contains(&batch.batch_id) {
            return Ok(StoreOutcome::Duplicate);
        }
        for ((purpose, day), lines) in &batch.lines {
            let dir = self.dir.join(purpose.as_str());
            std::fs::create_dir_all(&dir)?;
            let path = dir.join(format!("{day}.jsonl"));
            let mut f = OpenOptions::new().create(true).append(true).open(&path)?;
            f.write_all(lines)?;
            f.sync_data()?;
        }
        writeln!(seen.index, "{}", batch.batch_id)?;
        seen.index.sync_data()?;
        seen.ids.insert(batch.batch_id);
        Ok(StoreOutcome::Stored(batch.records))
    }

    /// Deletes every stored record whose line contains `needle` (a pseudonym), rewriting each
    /// affected file atomically; returns how many went. Repeating it deletes nothing more.
    ///
    /// # Errors
    /// Reading or rewriting a file failed; files already rewritten stay rewritten.
    pub fn forget(&self, needle: &[u8]) -> std::io::Result<u64> {
        let _appends = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let finder = memchr::memmem::Finder::new(needle);
        let mut deleted = 0;
        for purpose in std::fs::read_dir(&self.dir)? {
            let purpose = purpose?.path();
            if !purpose.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(&purpose)? {
                let path = file?.path();
                if path.extension().is_none_or(|e| e != "jsonl") {
                    continue;
                }
                let text = std::fs::read(&path)?;
                let mut kept = Vec::with_capacity(text.len());
                let mut gone = 0;
                for line in text.split_inclusive(|&b| b == b'\n') {
                    if finder.find(line).is_some() {
                        gone += 1;
                    } else {
                        kept.extend_from_slice(line);
                    }
                }
                if gone > 0 {
                    let tmp = path.with_extension("jsonl.tmp");
                    let mut f = File::create(&tmp)?;
                    f.write_all(&kept)?;
                    f.sync_data()?;
                    std::fs::rename(&tmp, &path)?;
                    deleted += gone;
                }
            }
        }
        Ok(deleted)
    }

    /// Appends a control message to `DIR/control.log` (JSON lines), the record of requests.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn log_control(&self, control: &ControlV1, deleted: u64) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(&serde_json::json!({
            "control": control,
            "deleted": deleted,
        }))
        .expect("a control message serializes");
        line.push(b'\n');
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(CONTROL_LOG))?;
        f.write_all(&line)?;
        f.sync_data()
    }
}

/// Where the collector records the control messages it handled.
pub const CONTROL_LOG: &str = "control.log";
