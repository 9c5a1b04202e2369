//! `log_file`: follows files matching globs, one draft per line (`message` holds the line,
//! `file` its path), through rotation by rename and by copy-truncate.
//!
//! A file is known by its device and inode, so a renamed file keeps its position. Each round's
//! checkpoints (the offset after the last complete line) commit with its records, so a restart
//! resumes exactly after the last stored line: no loss, no repeats. A partial last line is held
//! until its newline arrives; a line longer than `max_line_bytes` is cut there, marked
//! `truncated`, and the rest of it skipped. Invalid UTF-8 is replaced, never fatal.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::{LogLine, Round, Source};
use crate::policy::{LogFileSpec, StartAt};
use crate::scrub::LineState;
use crate::spool::Spool;

/// Most bytes read in one round, from all files together: what bounds the memory a burst takes
/// (a round's lines wait as their text, about its size, and become drafts one at a time in the
/// policy step), however many files are followed. A round that leaves something unread says
/// so, and the next runs at once. 640 KiB (some 4,500 lines of syslog) took less CPU per line
/// than 256 KiB (fewer transactions and hand-offs) at lower peak memory than 256 KiB of drafts
/// had; 1 MiB and 2 MiB took no less CPU, and 2 MiB more memory.
const READ_BUDGET: usize = 640 << 10;

/// One followed file.
struct Followed {
    file: File,
    dev: u64,
    ino: u64,
    /// Offset of the next byte to read.
    read_at: u64,
    /// Offset after the last complete line handed out (the checkpoint).
    done_at: u64,
    /// Bytes of a line whose newline has not arrived.
    partial: Vec<u8>,
    /// Inside an overlong line whose head was already handed out.
    skipping: bool,
    /// The checkpoint last handed out, so idle files write nothing.
    reported_at: Option<u64>,
    /// The scrubber's stream state after the last line handed out (inside a private key, …).
    stream: LineState,
}

/// Follows the files a `log_file` entry names.
pub struct LogFile {
    spec: LogFileSpec,
    spool: Arc<Spool>,
    files: HashMap<PathBuf, Followed>,
    first_round: bool,
    /// Rounds so far: each starts reading at the next file, so a busy file cannot starve the
    /// others of the shared budget.
    rounds: usize,
}

impl LogFile {
    /// A source that looks up and stores its positions in `spool`.
    pub fn new(spec: LogFileSpec, spool: Arc<Spool>) -> Self {
        LogFile {
            spec,
            spool,
            files: HashMap::new(),
            first_round: true,
            rounds: 0,
        }
    }

    fn checkpoint_key(dev: u64, ino: u64) -> String {
        format!("log_file:{dev}:{ino}")
    }

    /// Opens a file not followed yet, at its checkpoint, else where `start_at` says.
    fn open(&self, path: &Path) -> std::io::Result<Followed> {
        let mut file = File::open(path)?;
        let meta = file.metadata()?;
        let stored = self
            .spool
            .checkpoint(&Self::checkpoint_key(meta.dev(), meta.ino()))
            .map_err(std::io::Error::other)?
            .and_then(|v| parse_checkpoint(&v));
        let (stored, stream) = match stored {
            Some((at, stream)) => (Some(at), stream),
            None => (None, LineState::default()),
        };
        let (start, stream) = match stored {
            Some(at) if at <= meta.len() => (at, stream),
            Some(_) => (0, LineState::default()),
            None if self.first_round && self.spec.start_at == StartAt::End => {
                (meta.len(), LineState::default())
            }
            None => (0, LineState::default()),
        };
        file.seek(SeekFrom::Start(start))?;
        Ok(Followed {
            file,
            dev: meta.dev(),
            ino: meta.ino(),
            read_at: start,
            done_at: start,
            partial: Vec::new(),
            skipping: false,
            reported_at: stored,
            stream,
        })
    }

    fn matching_paths(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = self
            .spec
            .paths
            .iter()
            .filter_map(|g| glob::glob(&g.0).ok())
            .flatten()
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        paths.dedup();
        paths
    }
}

impl Source for LogFile {
    fn kind(&self) -> &'static str {
        "log_file"
    }

    fn can_wait(&self) -> bool {
        true
    }

    fn round(&mut self) -> Result<Round, String> {
        let mut round = Round::default();
        let paths = self.matching_paths();
        let mut budget = READ_BUDGET;
        let start = self.rounds % paths.len().max(1);
        self.rounds = self.rounds.wrapping_add(1);
        for path in paths[start..].iter().chain(&paths[..start]) {
            let Ok(meta) = std::fs::metadata(path) else {
                continue;
            };
            let replace = match self.files.get(path) {
                None => true,
                Some(f) if (f.dev, f.ino) != (meta.dev(), meta.ino()) => {
                    // Rotated by rename: finish the old file through the handle we hold.
                    // Its last lines are read whole: the handle is dropped after this round.
                    let mut old = self.files.remove(path).expect("just looked up");
                    let mut whole = usize::MAX;
                    read_lines(&mut old, path, &self.spec, &mut round, &mut whole);
                    true
                }
                Some(f) if meta.len() < f.read_at => {
                    // Truncated in place (copy-truncate): start over.
                    let f = self.files.get_mut(path).expect("just looked up");
                    if f.file.seek(SeekFrom::Start(0)).is_ok() {
                        (f.read_at, f.done_at, f.skipping) = (0, 0, false);
                        f.partial.clear();
                        round.counts.push(("log_file.truncations", 1));
                    }
                    false
                }
                Some(_) => false,
            };
            if replace {
                match self.open(path) {
                    Ok(f) => {
                        self.files.insert(path.clone(), f);
                    }
                    Err(e) => {
                        tracing::warn!(file = %path.display(), error = %e, "cannot follow a log file");
                        round.counts.push(("log_file.open_errors", 1));
                        continue;
                    }
                }
            }
            let f = self.files.get_mut(path).expect("followed");
            read_lines(f, path, &self.spec, &mut round, &mut budget);
        }
        // Files gone from the globs (deleted, or rotated to a name they no longer match) are
        // finished above when their name was reused; otherwise they are dropped here.
        self.files.retain(|p, _| paths.contains(p));
        self.first_round = false;
        Ok(round)
    }
}

/// Reads what is new in `f`, up to `budget` bytes (taken from it), and turns complete lines
/// into drafts, advancing its checkpoint.
fn read_lines(
    f: &mut Followed,
    path: &Path,
    spec: &LogFileSpec,
    round: &mut Round,
    budget: &mut usize,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let file = path.display().to_string();
    loop {
        if *budget == 0 {
            round.more = true;
            break;
        }
        let want = buf.len().min(*budget);
        let n = match f.file.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot read a log file");
                round.counts.push(("log_file.read_errors", 1));
                break;
            }
        };
        *budget = budget.saturating_sub(n);
        let at = SystemTime::now();
        let mut chunk = &buf[..n];
        while let Some(nl) = memchr::memchr(b'\n', chunk) {
            let piece = &chunk[..nl];
            if f.skipping {
                f.skipping = false;
            } else if f.partial.len() + piece.len() > spec.max_line_bytes {
                f.partial.extend_from_slice(
                    &piece[..piece
                        .len()
                        .min(spec.max_line_bytes.saturating_sub(f.partial.len()))],
                );
                emit(round, &f.partial, (&file, at), spec, true, &mut f.stream);
            } else if f.partial.is_empty() {
                emit(round, piece, (&file, at), spec, false, &mut f.stream);
            } else {
                f.partial.extend_from_slice(piece);
                emit(round, &f.partial, (&file, at), spec, false, &mut f.stream);
            }
            f.partial.clear();
            f.read_at += nl as u64 + 1;
            f.done_at = f.read_at;
            chunk = &chunk[nl + 1..];
        }
        f.read_at += chunk.len() as u64;
        if !f.skipping {
            let room = spec.max_line_bytes.saturating_sub(f.partial.len());
            if chunk.len() > room {
                f.partial.extend_from_slice(&chunk[..room]);
                emit(round, &f.partial, (&file, at), spec, true, &mut f.stream);
                f.partial.clear();
                f.skipping = true;
            } else {
                f.partial.extend_from_slice(chunk);
            }
        }
    }
    if f.reported_at != Some(f.done_at) {
        f.reported_at = Some(f.done_at);
        round.checkpoints.push((
            LogFile::checkpoint_key(f.dev, f.ino),
            checkpoint(f.done_at, f.stream),
        ));
    }
}

/// A file's checkpoint: the offset after its last stored line, and the scrubber's stream state
/// there when it is not plain (`1234` or `1234 k3`), so that a restart inside a private-key
/// block goes on hiding it.
fn checkpoint(at: u64, stream: LineState) -> String {
    match stream.encode() {
        Some(state) => format!("{at} {state}"),
        None => at.to_string(),
    }
}

fn parse_checkpoint(text: &str) -> Option<(u64, LineState)> {
    let (at, state) = text.split_once(' ').unwrap_or((text, ""));
    Some((at.parse().ok()?, LineState::decode(state)))
}

/// Hands one line to the round; `at` is when the read that completed it returned.
fn emit(
    round: &mut Round,
    line: &[u8],
    (file, at): (&str, SystemTime),
    spec: &LogFileSpec,
    truncated: bool,
    stream: &mut LineState,
) {
    if truncated {
        round.counts.push(("log_file.truncated_lines", 1));
    }
    let text = line.strip_suffix(b"\r").unwrap_or(line);
    round.drafts.push_line(LogLine {
        stream: stream.advance(text),
        text,
        file,
        category: spec.category,
        at,
        truncated,
    });
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::policy::{FileGlob, Interval};

    fn spec(dir: &Path, start_at: StartAt, max: usize) -> LogFileSpec {
        LogFileSpec {
            paths: vec![FileGlob(format!("{}/*.log", dir.display()))],
            category: crate::record::Category::ServiceLogs,
            start_at,
            max_line_bytes: max,
            poll_interval: Interval(std::time::Duration::from_millis(100)),
        }
    }

    fn append(path: &Path, text: &[u8]) {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap()
            .write_all(text)
            .unwrap();
    }

    /// Runs a round and stores its checkpoints as the agent would; returns the messages.
    fn round(source: &mut LogFile, spool: &Spool) -> Vec<String> {
        let r = source.round().unwrap();
        spool
            .append_with_checkpoints(&[], &[], &r.checkpoints)
            .unwrap();
        r.drafts
            .into_iter()
            .map(|d| d.fields["message"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn lines_partial_lines_and_rotation_by_rename_and_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let spool = Arc::new(Spool::open(state.path()).unwrap());
        let log = dir.path().join("app.log");
        append(&log, b"one\ntwo\r\nthr");
        let mut source = LogFile::new(
            spec(dir.path(), StartAt::Beginning, 1024),
            Arc::clone(&spool),
        );
        assert_eq!(
            round(&mut source, &spool),
            ["one", "two"],
            "CRLF trimmed, partial held"
        );
        append(&log, b"ee\n");
        assert_eq!(round(&mut source, &spool), ["three"]);
        assert!(round(&mut source, &spool).is_empty());

        append(&log, b"last of old\n");
        std::fs::rename(&log, dir.path().join("app.log.1")).unwrap();
        append(&log, b"first of new\n");
        assert_eq!(
            round(&mut source, &spool),
            ["last of old", "first of new"],
            "rename: old finished, new from its start"
        );

        append(&log, b"before truncation\n");
        assert_eq!(round(&mut source, &spool), ["before truncation"]);
        std::fs::write(&log, b"after\n").unwrap();
        assert_eq!(
            round(&mut source, &spool),
            ["after"],
            "copy-truncate: from the start again"
        );
    }

    #[test]
    fn a_restart_resumes_exactly_after_the_last_stored_line() {
        let dir = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let log = dir.path().join("app.log");
        append(&log, b"a\nb\n");
        {
            let spool = Arc::new(Spool::open(state.path()).unwrap());
            let mut source = LogFile::new(
                spec(dir.path(), StartAt::Beginning, 1024),
                Arc::clone(&spool),
            );
            assert_eq!(round(&mut source, &spool), ["a", "b"]);
            append(&log, b"c\n");
            // Read but never stored: as if the agent died before the commit.
            assert_eq!(source.round().unwrap().drafts.len(), 1);
        }
        append(&log, b"d\n");
        let spool = Arc::new(Spool::open(state.path()).unwrap());
        let mut source = LogFile::new(spec(dir.path(), StartAt::End, 1024), Arc::clone(&spool));
        assert_eq!(
            round(&mut source, &spool),
            ["c", "d"],
            "from the checkpoint, not the end"
        );
    }

    #[test]
    fn start_at_end_skips_old_lines_but_not_new_files() {
        let dir = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let spool = Arc::new(Spool::open(state.path()).unwrap());
        append(&dir.path().join("old.log"), b"history\n");
        let mut source = LogFile::new(spec(dir.path(), StartAt::End, 1024), Arc::clone(&spool));
        assert!(round(&mut source, &spool).is_empty());
        append(&dir.path().join("old.log"), b"fresh\n");
        append(&dir.path().join("new.log"), b"born later\n");
        let mut got = round(&mut source, &spool);
        got.sort();
        assert_eq!(got, ["born later", "fresh"]);
    }

    #[test]
    fn overlong_and_invalid_lines_are_cut_and_replaced_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let spool = Arc::new(Spool::open(state.path()).unwrap());
        let log = dir.path().join("app.log");
        let mut text = b"x".repeat(100);
        text.extend_from_slice(b"\nbad \xff byte\nok\n");
        append(&log, &text);
        let mut source = LogFile::new(spec(dir.path(), StartAt::Beginning, 10), Arc::clone(&spool));
        let r = source.round().unwrap();
        let drafts = r.drafts.into_vec();
        let messages: Vec<&str> = drafts
            .iter()
            .map(|d| d.fields["message"].as_str().unwrap())
            .collect();
        assert_eq!(
            messages,
            ["xxxxxxxxxx", "bad \u{fffd} byte", "ok"],
            "10 bytes fit a limit of 10"
        );
        assert_eq!(drafts[0].fields["truncated"], serde_json::json!(true));
        assert!(r.counts.contains(&("log_file.truncated_lines", 1)));
    }

    #[test]
    fn files_share_one_read_budget_and_take_turns() {
        let dir = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let spool = Arc::new(Spool::open(state.path()).unwrap());
        // Each file holds two rounds' worth of 100-byte lines.
        let lines = 2 * READ_BUDGET / 100;
        let text = format!("{}\n", "x".repeat(99)).repeat(lines);
        for name in ["a.log", "b.log", "c.log"] {
            append(&dir.path().join(name), text.as_bytes());
        }
        let mut source = LogFile::new(spec(dir.path(), StartAt::Beginning, 1024), spool);
        let mut files = std::collections::BTreeSet::new();
        let mut total = 0;
        for n in 0.. {
            let r = source.round().unwrap();
            // The budget, plus at most the line each file carried over from the round before.
            assert!(
                r.drafts.len() * 100 <= READ_BUDGET + 3 * 100,
                "round {n} read {} lines",
                r.drafts.len()
            );
            total += r.drafts.len();
            if n < 3 {
                files.extend(r.drafts.into_iter().map(|d| d.fields["file"].to_string()));
            }
            if !r.more {
                break;
            }
        }
        assert_eq!(files.len(), 3, "each file read within three rounds");
        assert_eq!(total, 3 * lines, "every line once");
    }
}
