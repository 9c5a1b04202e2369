//! The collector's storage: JSON-lines files per purpose and day, and an append-only index of
//! stored batch ids that makes resent batches harmless, also across restarts.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, IoSlice, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::incoming::{Incoming, Line};
use crate::wire::ControlV1;

/// The dedup index's file name in the data directory.
pub const INDEX_FILE: &str = "batches.idx";

/// While a batch is being appended: its id and where each file it appends to ended before,
/// so that an append cut by a crash is undone at the next start (a batch is stored whole or
/// not at all, and its resend then stores it once).
const APPENDING_FILE: &str = "appending";

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
    /// The index's length after its last whole line: a failed append of an id is cut back to it.
    index_len: u64,
    /// A failed append could not be undone (the disk refused that too): undo it before the next.
    undo_pending: bool,
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
        let mut index_len = 0;
        if let Ok(f) = File::open(&index_path) {
            let mut lines = BufReader::new(f);
            let mut line = String::new();
            while lines.read_line(&mut line)? > 0 {
                // A torn last line (crash mid-append) is not a stored batch: it is cut off
                // below, so that the next id starts a line of its own.
                if line.ends_with('\n') {
                    index_len += line.len() as u64;
                    if let Ok(id) = line.trim().parse::<uuid::Uuid>() {
                        ids.insert(id);
                    }
                }
                line.clear();
            }
        }
        undo_cut_append(dir, &ids)?;
        let index = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&index_path)?;
        if index.metadata()?.len() > index_len {
            index.set_len(index_len)?;
            index.sync_data()?;
        }
        Ok(BatchStore {
            dir: dir.to_owned(),
            seen: Mutex::new(Seen {
                ids,
                index,
                index_len,
                undo_pending: false,
            }),
        })
    }

    /// Stores a validated batch unless its id was stored before. Records are durable before
    /// the id enters the index, so a crash in between leads to a resend, never to a loss.
    ///
    /// # Errors
    /// Writing failed; what was appended is cut off again (or before the next batch, if the disk
    /// refuses that too), the batch is not marked stored, and the sender will retry.
    pub fn store(&self, batch: &Incoming) -> std::io::Result<StoreOutcome> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.undo_pending {
            self.undo_append(&mut seen)?;
        }
        if seen.ids.contains(&batch.batch_id) {
            return Ok(StoreOutcome::Duplicate);
        }
        let mut files = Vec::with_capacity(batch.lines.len());
        let mut journal = format!("{}\n", batch.batch_id);
        for (purpose, day) in batch.lines.keys() {
            let dir = self.dir.join(purpose.as_str());
            std::fs::create_dir_all(&dir)?;
            let path = dir.join(format!("{day}.jsonl"));
            let f = OpenOptions::new().create(true).append(true).open(&path)?;
            let len = f.metadata()?.len();
            journal.push_str(&format!("{len}\t{purpose}/{day}.jsonl\n"));
            files.push(f);
        }
        let journal_path = self.dir.join(APPENDING_FILE);
        let mut j = File::create(&journal_path)?;
        j.write_all(journal.as_bytes())?;
        j.sync_data()?;
        let id_line = format!("{}\n", batch.batch_id);
        let appended = files
            .into_iter()
            .zip(batch.lines.values())
            .try_for_each(|(mut f, lines)| {
                append_lines(&mut f, batch, lines)?;
                f.sync_data()
            })
            .map(|()| crate::crashpoint::reach(crate::crashpoint::COLLECTOR_BEFORE_INDEX))
            .and_then(|()| seen.index.write_all(id_line.as_bytes()))
            .and_then(|()| seen.index.sync_data());
        if let Err(e) = appended {
            // Left in place, the partial lines would stay in the files, and the resend's
            // journal would count them as before the batch.
            if let Err(undo) = self.undo_append(&mut seen) {
                seen.undo_pending = true;
                tracing::warn!(error = %undo, "cannot undo a failed append yet; will before the next batch");
            }
            return Err(e);
        }
        seen.index_len += id_line.len() as u64;
        seen.ids.insert(batch.batch_id);
        if let Err(e) = std::fs::remove_file(&journal_path) {
            // The batch is stored; a journal naming a stored batch is removed at the next start.
            tracing::warn!(error = %e, "cannot remove the append journal");
        }
        Ok(StoreOutcome::Stored(batch.records))
    }

    /// Cuts the files the journal names, and the index, back to where they ended before the
    /// append that failed.
    fn undo_append(&self, seen: &mut Seen) -> std::io::Result<()> {
        undo_cut_append(&self.dir, &seen.ids)?;
        seen.index.set_len(seen.index_len)?;
        seen.index.sync_data()?;
        seen.undo_pending = false;
        Ok(())
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

/// Undoes an append a crash or a write error cut short: when the journal names a batch the index
/// does not hold, each file it appended to is truncated back to where it ended before (a torn
/// last line and the batch's first records go; the sender resends the whole batch). A journal
/// whose batch is in the index is from a completed append and is simply removed.
fn undo_cut_append(dir: &Path, stored: &HashSet<uuid::Uuid>) -> std::io::Result<()> {
    let path = dir.join(APPENDING_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut lines = text.lines();
    let done = lines
        .next()
        .and_then(|id| id.parse::<uuid::Uuid>().ok())
        .is_some_and(|id| stored.contains(&id));
    if !done {
        for line in lines {
            // The journal is synced before any append, so a line cut short means no append began.
            let Some((len, name)) = line.split_once('\t') else {
                continue;
            };
            let (Ok(len), Some((purpose, file))) = (len.parse::<u64>(), name.split_once('/'))
            else {
                continue;
            };
            let target = dir.join(purpose).join(file);
            if let Ok(f) = OpenOptions::new().write(true).open(&target)
                && f.metadata()?.len() > len
            {
                f.set_len(len)?;
                f.sync_data()?;
                tracing::warn!(file = %name, "undid a batch append cut short; the sender resends it");
            }
        }
    }
    std::fs::remove_file(&path)
}

/// Writes `lines` of `batch` to `f`, each followed by a newline, straight from the batch body
/// (vectored writes of up to [`WRITE_SLICES`] pieces: no copy of the records into a buffer).
fn append_lines(f: &mut File, batch: &Incoming, lines: &[Line]) -> std::io::Result<()> {
    for chunk in lines.chunks(WRITE_SLICES / 2) {
        let mut slices: Vec<IoSlice<'_>> = chunk
            .iter()
            .flat_map(|l| [IoSlice::new(batch.text(l)), IoSlice::new(b"\n")])
            .collect();
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            match f.write_vectored(rest) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => IoSlice::advance_slices(&mut rest, n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// Pieces handed to one `writev` (Linux takes up to 1,024).
const WRITE_SLICES: usize = 1024;

/// Where the collector records the control messages it handled.
pub const CONTROL_LOG: &str = "control.log";

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::record::Purpose;

    fn batch(text: &str) -> Incoming {
        let mut at = 0;
        let lines = text
            .split_inclusive('\n')
            .map(|l| {
                let line = Line::InBody(at..at + l.trim_end_matches('\n').len());
                at += l.len();
                line
            })
            .collect();
        Incoming {
            batch_id: uuid::Uuid::now_v7(),
            records: text.lines().count(),
            body: text.as_bytes().to_vec(),
            lines: BTreeMap::from([(
                (Purpose::ServiceOperational, "2026-11-30".to_owned()),
                lines,
            )]),
        }
    }

    fn file(dir: &Path) -> PathBuf {
        dir.join("service-operational/2026-11-30.jsonl")
    }

    #[test]
    fn lines_go_to_the_file_whole_and_in_order_across_write_calls() {
        let dir = tempfile::tempdir().unwrap();
        // More lines than one vectored write takes, one of them rewritten (not in the body).
        let text: String = (0..WRITE_SLICES + 7)
            .map(|i| format!("{{\"n\":{i}}}\n"))
            .collect();
        let mut b = batch(&text);
        let lines = b.lines.values_mut().next().unwrap();
        lines[600] = Line::Rewritten(b"{\"n\":\"six hundred\"}".to_vec());
        BatchStore::open(dir.path()).unwrap().store(&b).unwrap();
        let want = text.replacen("{\"n\":600}", "{\"n\":\"six hundred\"}", 1);
        assert_eq!(std::fs::read_to_string(file(dir.path())).unwrap(), want);
    }

    #[test]
    fn an_append_cut_by_a_crash_is_undone_at_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let first = batch("{\"a\":1}\n");
        BatchStore::open(dir.path()).unwrap().store(&first).unwrap();
        // A crash while appending the next batch: its journal is written, half its lines are.
        let cut = batch("{\"b\":1}\n{\"b\":2}\n");
        std::fs::write(
            dir.path().join(APPENDING_FILE),
            format!(
                "{}\n8\tservice-operational/2026-11-30.jsonl\n",
                cut.batch_id
            ),
        )
        .unwrap();
        let mut f = OpenOptions::new()
            .append(true)
            .open(file(dir.path()))
            .unwrap();
        f.write_all(b"{\"b\":1}\n{\"b\"").unwrap();
        drop(f);

        let store = BatchStore::open(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(file(dir.path())).unwrap(),
            "{\"a\":1}\n"
        );
        assert!(!dir.path().join(APPENDING_FILE).exists());
        assert_eq!(
            store.store(&cut).unwrap(),
            StoreOutcome::Stored(2),
            "the resend"
        );
        assert_eq!(store.store(&first).unwrap(), StoreOutcome::Duplicate);
        assert_eq!(
            std::fs::read_to_string(file(dir.path())).unwrap(),
            "{\"a\":1}\n{\"b\":1}\n{\"b\":2}\n",
            "each record once, no torn line"
        );
    }

    #[test]
    fn an_id_torn_by_a_crash_is_cut_off_so_the_next_id_stays_on_a_line_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let first = batch("{\"a\":1}\n");
        BatchStore::open(dir.path()).unwrap().store(&first).unwrap();
        let mut index = OpenOptions::new()
            .append(true)
            .open(dir.path().join(INDEX_FILE))
            .unwrap();
        index.write_all(b"0190f2a4-77").unwrap();
        drop(index);

        let next = batch("{\"b\":1}\n");
        BatchStore::open(dir.path()).unwrap().store(&next).unwrap();
        let reopened = BatchStore::open(dir.path()).unwrap();
        assert_eq!(reopened.store(&next).unwrap(), StoreOutcome::Duplicate);
        assert_eq!(reopened.store(&first).unwrap(), StoreOutcome::Duplicate);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(INDEX_FILE)).unwrap(),
            format!("{}\n{}\n", first.batch_id, next.batch_id)
        );
    }

    #[test]
    fn a_journal_left_after_a_completed_append_truncates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let done = batch("{\"a\":1}\n");
        BatchStore::open(dir.path()).unwrap().store(&done).unwrap();
        std::fs::write(
            dir.path().join(APPENDING_FILE),
            format!(
                "{}\n0\tservice-operational/2026-11-30.jsonl\n",
                done.batch_id
            ),
        )
        .unwrap();
        BatchStore::open(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(file(dir.path())).unwrap(),
            "{\"a\":1}\n"
        );
        assert!(!dir.path().join(APPENDING_FILE).exists());
    }
}
