//! `journald`: the systemd journal through `journalctl --output=json` (category
//! `service-logs`). The first round reads what the journal holds after the stored cursor; then a
//! `journalctl --follow` child streams new entries to a reader thread, and each round takes what
//! has arrived. The cursor commits with the records read up to it. Where `journalctl` is missing
//! or fails, the round fails with a reason, the failure is counted, the child is started again
//! from the cursor next round, and the agent goes on.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;

use serde_json::{Map, Value};

use super::{Round, Source};
use crate::policy::{JournaldSpec, StartAt};
use crate::record::Draft;
use crate::scrub::LineState;
use crate::spool::Spool;

/// Most entries read in one round.
const MAX_ENTRIES: usize = 10_000;

/// Reads journal entries through `journalctl`.
pub struct Journald {
    spec: JournaldSpec,
    spool: Arc<Spool>,
    key: String,
    cursor: Option<String>,
    loaded: bool,
    follower: Option<Follower>,
    /// The scrubber's stream state per program (`SYSLOG_IDENTIFIER`, else unit): a key logged
    /// line by line is one entry per line.
    streams: HashMap<String, LineState>,
}

/// Most programs whose stream state is kept; past it the states start afresh.
const MAX_STREAMS: usize = 4096;

/// A `journalctl --follow` child and the lines its reader thread has passed on.
struct Follower {
    child: Child,
    lines: mpsc::Receiver<Vec<u8>>,
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Journald {
    /// A source that keeps its cursor in `spool`, under a key naming its filters.
    pub fn new(spec: JournaldSpec, spool: Arc<Spool>) -> Self {
        let key = format!(
            "journald:{}:{}:{}",
            spec.units.join(","),
            spec.identifiers.join(","),
            spec.priority
        );
        Journald {
            spec,
            spool,
            key,
            cursor: None,
            loaded: false,
            follower: None,
            streams: HashMap::new(),
        }
    }

    /// Starts `journalctl --follow` after the current cursor, its output read on a thread.
    fn follow(&self) -> Result<Follower, String> {
        let mut c = self.command();
        c.arg("--follow").stdout(Stdio::piped());
        match &self.cursor {
            Some(cursor) => c.arg(format!("--after-cursor={cursor}")),
            None => c.arg("--lines=0"),
        };
        let mut child = c
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.spec.journalctl.display()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = mpsc::sync_channel(MAX_ENTRIES);
        std::thread::Builder::new()
            .name("journalctl-reader".into())
            .spawn(move || {
                for line in BufReader::new(stdout).split(b'\n').map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| format!("cannot start the journal reader: {e}"))?;
        Ok(Follower { child, lines })
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.spec.journalctl);
        c.args(["--output=json", "--no-pager", "--quiet"])
            .arg(format!("--priority={}", self.spec.priority))
            .stdin(Stdio::null())
            .stderr(Stdio::piped());
        for u in &self.spec.units {
            c.arg(format!("--unit={u}"));
        }
        for i in &self.spec.identifiers {
            c.arg(format!("--identifier={i}"));
        }
        c
    }

    fn run(&self, extra: &[String]) -> Result<Vec<Map<String, Value>>, String> {
        let out = self
            .command()
            .args(extra)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.spec.journalctl.display()))?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr);
            return Err(format!(
                "{} failed ({}): {}",
                self.spec.journalctl.display(),
                out.status,
                why.lines().next().unwrap_or("no message")
            ));
        }
        Ok(out
            .stdout
            .split(|&b| b == b'\n')
            .filter_map(|l| serde_json::from_slice::<Map<String, Value>>(l).ok())
            .take(MAX_ENTRIES)
            .collect())
    }
}

impl Source for Journald {
    fn kind(&self) -> &'static str {
        "journald"
    }

    fn can_wait(&self) -> bool {
        true
    }

    fn round(&mut self) -> Result<Round, String> {
        if !self.loaded {
            self.cursor = self
                .spool
                .checkpoint(&self.key)
                .map_err(|e| e.to_string())?;
            self.loaded = true;
            if self.cursor.is_none() && self.spec.start_at == StartAt::End {
                // Start after the newest entry: remember its cursor, send nothing.
                let last = self.run(&["--lines=1".to_owned()])?;
                self.cursor = last.last().and_then(cursor);
                let mut round = Round::default();
                if let Some(c) = &self.cursor {
                    round.checkpoints.push((self.key.clone(), c.clone()));
                }
                return Ok(round);
            }
        }
        let entries = match self.follower.as_mut() {
            None => {
                // The backlog after the cursor, read whole; then follow from where it ends.
                let args: Vec<String> = self
                    .cursor
                    .iter()
                    .map(|c| format!("--after-cursor={c}"))
                    .collect();
                self.run(&args)?
            }
            Some(f) => {
                let mut got = Vec::new();
                while got.len() < MAX_ENTRIES {
                    match f.lines.try_recv() {
                        Ok(line) => {
                            got.extend(serde_json::from_slice::<Map<String, Value>>(&line).ok())
                        }
                        Err(_) => break,
                    }
                }
                if got.is_empty() && matches!(f.child.try_wait(), Ok(Some(_))) {
                    let mut f = self.follower.take().expect("checked above");
                    let status = f.child.wait().map_err(|e| e.to_string())?;
                    let mut why = String::new();
                    if let Some(mut err) = f.child.stderr.take() {
                        let _ = err.read_to_string(&mut why);
                    }
                    return Err(format!(
                        "{} --follow ended ({status}): {}",
                        self.spec.journalctl.display(),
                        why.lines().next().unwrap_or("no message")
                    ));
                }
                got
            }
        };
        let mut round = Round::default();
        for e in &entries {
            let mut d = draft(e, &self.spec);
            let program = ["identifier", "unit"]
                .iter()
                .find_map(|k| d.fields.get(*k).and_then(Value::as_str))
                .unwrap_or_default();
            if self.streams.len() >= MAX_STREAMS && !self.streams.contains_key(program) {
                self.streams.clear();
            }
            let state = self.streams.entry(program.to_owned()).or_default();
            d.stream = *state;
            if let Some(Value::String(m)) = d.fields.get("message") {
                // Lines as the scrubber splits them, so the state ends where its own would.
                for line in m.as_bytes().split_inclusive(|&b| b == b'\n') {
                    state.advance(line.strip_suffix(b"\n").unwrap_or(line));
                }
            }
            round.drafts.push(d);
        }
        if let Some(c) = entries.last().and_then(cursor) {
            round.checkpoints.push((self.key.clone(), c.clone()));
            self.cursor = Some(c);
        }
        if self.follower.is_none() {
            self.follower = Some(self.follow()?);
        }
        Ok(round)
    }
}

fn cursor(entry: &Map<String, Value>) -> Option<String> {
    entry
        .get("__CURSOR")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// A journal entry as a draft: `message`, `unit`, `identifier`, `priority`, `pid`, and its
/// time. A binary message (an array of bytes in journalctl's JSON) is decoded lossily.
fn draft(e: &Map<String, Value>, spec: &JournaldSpec) -> Draft {
    let text = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_owned);
    let message = match e.get("MESSAGE") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(bytes)) => {
            let raw: Vec<u8> = bytes
                .iter()
                .filter_map(|b| b.as_u64())
                .map(|b| b as u8)
                .collect();
            String::from_utf8_lossy(&raw).into_owned()
        }
        _ => String::new(),
    };
    let mut fields = Map::new();
    fields.insert("message".into(), Value::String(message));
    for (field, key) in [
        ("unit", "_SYSTEMD_UNIT"),
        ("identifier", "SYSLOG_IDENTIFIER"),
    ] {
        if let Some(v) = text(key) {
            fields.insert(field.into(), Value::String(v));
        }
    }
    for (field, key) in [("priority", "PRIORITY"), ("pid", "_PID")] {
        if let Some(n) = text(key).and_then(|v| v.parse::<u64>().ok()) {
            fields.insert(field.into(), Value::from(n));
        }
    }
    let mut d = Draft::new(spec.category, "journald", fields);
    if let Some(us) = text("__REALTIME_TIMESTAMP").and_then(|v| v.parse::<u64>().ok()) {
        d.collected_at = std::time::UNIX_EPOCH + std::time::Duration::from_micros(us);
    }
    d
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::policy::{Interval, Priority};

    fn fake() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/fake-journalctl")
    }

    fn entry(n: u32, unit: &str, priority: u8) -> String {
        serde_json::json!({
            "__CURSOR": format!("s=1;i={n}"),
            "__REALTIME_TIMESTAMP": format!("{}", 1_764_400_000_000_000u64 + u64::from(n)),
            "MESSAGE": format!("entry {n}"),
            "_SYSTEMD_UNIT": unit,
            "SYSLOG_IDENTIFIER": "app",
            "PRIORITY": priority.to_string(),
            "_PID": "42",
        })
        .to_string()
    }

    fn write(journal: &Path, lines: &[String]) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(journal)
            .unwrap();
        for l in lines {
            writeln!(f, "{l}").unwrap();
        }
    }

    fn spec(start_at: StartAt, journalctl: PathBuf, units: &[&str]) -> JournaldSpec {
        JournaldSpec {
            units: units.iter().map(|u| (*u).to_owned()).collect(),
            identifiers: vec![],
            priority: Priority("info".into()),
            category: crate::record::Category::ServiceLogs,
            start_at,
            journalctl,
            interval: Interval(std::time::Duration::from_secs(1)),
        }
    }

    fn messages(r: &Round) -> Vec<String> {
        r.drafts
            .clone()
            .into_iter()
            .map(|d| d.fields["message"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The tests set FAKE_JOURNAL for the child; each test uses its own file through a wrapper.
    fn wrapper(dir: &Path, journal: &Path, fail: bool) -> PathBuf {
        let path = dir.join("journalctl");
        let env = if fail { "FAKE_JOURNAL_FAIL=1 " } else { "" };
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\n{env}FAKE_JOURNAL={} exec {} \"$@\"\n",
                journal.display(),
                fake().display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        path
    }

    #[test]
    fn entries_resume_after_the_stored_cursor_and_filters_apply() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("journal.jsonl");
        write(
            &journal,
            &[
                entry(1, "a.service", 6),
                entry(2, "b.service", 6),
                entry(3, "a.service", 7),
            ],
        );
        let jctl = wrapper(dir.path(), &journal, false);
        let spool = Arc::new(Spool::open(&dir.path().join("state")).unwrap());
        let mut source = Journald::new(
            spec(StartAt::Beginning, jctl.clone(), &["a.service"]),
            Arc::clone(&spool),
        );
        let r = source.round().unwrap();
        assert_eq!(
            messages(&r),
            ["entry 1"],
            "unit filter, and debug is above info"
        );
        let d = &r.drafts.clone().into_vec()[0];
        assert_eq!(d.fields["unit"], "a.service");
        assert_eq!(d.fields["priority"], 6);
        assert_eq!(
            crate::record::rfc3339(d.collected_at),
            "2025-11-29T07:06:40.000Z"
        );
        spool
            .append_with_checkpoints(&[], &[], &r.checkpoints)
            .unwrap();

        write(&journal, &[entry(4, "a.service", 3)]);
        let mut restarted =
            Journald::new(spec(StartAt::End, jctl, &["a.service"]), Arc::clone(&spool));
        assert_eq!(
            messages(&restarted.round().unwrap()),
            ["entry 4"],
            "from the cursor, not the end"
        );
        assert!(restarted.round().unwrap().drafts.is_empty());
    }

    #[test]
    fn start_at_end_sends_only_what_comes_later() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("journal.jsonl");
        write(&journal, &[entry(1, "a.service", 6)]);
        let spool = Arc::new(Spool::open(&dir.path().join("state")).unwrap());
        let mut source = Journald::new(
            spec(StartAt::End, wrapper(dir.path(), &journal, false), &[]),
            spool,
        );
        assert!(source.round().unwrap().drafts.is_empty());
        write(&journal, &[entry(2, "a.service", 6)]);
        assert_eq!(messages(&source.round().unwrap()), ["entry 2"]);
    }

    #[test]
    fn later_entries_arrive_through_the_follower_and_a_dead_one_is_restarted() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("journal.jsonl");
        write(&journal, &[entry(1, "a.service", 6)]);
        let spool = Arc::new(Spool::open(&dir.path().join("state")).unwrap());
        let mut source = Journald::new(
            spec(
                StartAt::Beginning,
                wrapper(dir.path(), &journal, false),
                &[],
            ),
            spool,
        );
        assert_eq!(
            messages(&source.round().unwrap()),
            ["entry 1"],
            "the backlog, read whole"
        );
        assert!(source.follower.is_some());

        write(&journal, &[entry(2, "a.service", 6)]);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let got = loop {
            let r = source.round().unwrap();
            if !r.drafts.is_empty() {
                break r;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the follower never passed entry 2 on"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert_eq!(messages(&got), ["entry 2"]);

        let f = source.follower.as_mut().unwrap();
        f.child.kill().unwrap();
        f.child.wait().unwrap();
        let err = source.round().unwrap_err();
        assert!(err.contains("--follow ended"), "{err}");
        write(&journal, &[entry(3, "a.service", 6)]);
        assert_eq!(
            messages(&source.round().unwrap()),
            ["entry 3"],
            "restarted from the cursor: nothing lost or repeated"
        );
    }

    #[test]
    fn a_missing_or_failing_journalctl_is_an_error_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Arc::new(Spool::open(&dir.path().join("state")).unwrap());
        let mut missing = Journald::new(
            spec(
                StartAt::Beginning,
                dir.path().join("no-such-journalctl"),
                &[],
            ),
            Arc::clone(&spool),
        );
        assert!(missing.round().unwrap_err().contains("cannot run"));
        let journal = dir.path().join("journal.jsonl");
        write(&journal, &[]);
        let mut failing = Journald::new(
            spec(StartAt::Beginning, wrapper(dir.path(), &journal, true), &[]),
            spool,
        );
        let err = failing.round().unwrap_err();
        assert!(err.contains("failed") && err.contains("corrupted"), "{err}");
    }
}
