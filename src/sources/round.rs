//! What a source hands the admit step: a round of drafts, counts and checkpoints. Log lines wait
//! in a compact form (their text back to back) and become drafts only as the policy step takes
//! them, so a queued round costs about its text instead of about 1 KiB of field map per line.

use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::record::{Category, Draft};
use crate::scrub::LineState;

/// What sources hand to the admit step; all of it is stored in one transaction.
#[derive(Debug, Default)]
pub struct Round {
    /// Drafts for the policy.
    pub drafts: Drafts,
    /// Counter names and increments (bad lines, truncations).
    pub counts: Vec<(&'static str, u64)>,
    /// Source positions reached by these drafts (a log file's offset, a journal cursor).
    pub checkpoints: Vec<(String, String)>,
    /// The source stopped at its per-round budget with data left: the next round runs at once
    /// (the admit queue's backpressure paces it) instead of after the poll interval.
    pub more: bool,
    /// Drafts counted as read and not yet stored, for the spool's backpressure (set as the
    /// round is queued; the store step counts them off).
    pub counted: usize,
}

impl Round {
    /// A round of drafts alone.
    pub fn of(drafts: Vec<Draft>) -> Round {
        Round {
            drafts: Drafts {
                full: drafts,
                lines: Lines::default(),
            },
            ..Round::default()
        }
    }

    /// Whether there is nothing to store.
    pub fn is_empty(&self) -> bool {
        self.drafts.is_empty() && self.counts.is_empty() && self.checkpoints.is_empty()
    }

    /// Appends another round to this one.
    pub fn extend(&mut self, other: Round) {
        self.drafts.extend(other.drafts);
        self.counts.extend(other.counts);
        self.checkpoints.extend(other.checkpoints);
        self.more |= other.more;
        self.counted += other.counted;
    }
}

/// A round's drafts: whole ones, then log lines kept compact until they are taken.
#[derive(Clone, Debug, Default)]
pub struct Drafts {
    full: Vec<Draft>,
    lines: Lines,
}

impl Drafts {
    /// Adds a whole draft.
    pub fn push(&mut self, draft: Draft) {
        self.full.push(draft);
    }

    /// Adds a line, to become the draft a `log_file` source makes when it is taken: fields
    /// `message`, `file` and, when the line was cut, `truncated: true`.
    pub fn push_line(&mut self, line: LogLine<'_>) {
        self.lines.push(line);
    }

    /// How many drafts it holds.
    pub fn len(&self) -> usize {
        self.full.len() + self.lines.ends.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `other`'s drafts.
    pub fn extend(&mut self, other: Drafts) {
        self.full.extend(other.full);
        self.lines.extend(other.lines);
    }

    /// Every draft, made now (whole drafts first, then lines in the order they were read).
    pub fn into_vec(self) -> Vec<Draft> {
        self.into_iter().collect()
    }
}

impl IntoIterator for Drafts {
    type Item = Draft;
    type IntoIter = IntoDrafts;

    fn into_iter(self) -> IntoDrafts {
        IntoDrafts {
            full: self.full.into_iter(),
            lines: self.lines,
            next: 0,
        }
    }
}

/// One log line as a source read it.
pub struct LogLine<'a> {
    /// The line, without its newline; invalid UTF-8 is replaced when it is kept.
    pub text: &'a [u8],
    /// The file it came from.
    pub file: &'a str,
    /// Its category, as the source's policy entry says.
    pub category: Category,
    /// When it was read.
    pub at: SystemTime,
    /// Cut at the source's longest line.
    pub truncated: bool,
    /// The scrubber's state of the file's stream at the line's start.
    pub stream: LineState,
}

/// Lines' text back to back, each line's end, file and time.
#[derive(Clone, Debug, Default)]
struct Lines {
    text: String,
    ends: Vec<End>,
    /// Files and their categories, each once per run of lines from it.
    files: Vec<(String, Category)>,
}

#[derive(Clone, Debug)]
struct End {
    end: usize,
    file: usize,
    truncated: bool,
    at: SystemTime,
    stream: LineState,
}

impl Lines {
    fn push(&mut self, line: LogLine<'_>) {
        // Checked whole first: std's validation is several times faster than the lossy walk,
        // which only the rare line with invalid bytes needs.
        match std::str::from_utf8(line.text) {
            Ok(text) => self.text.push_str(text),
            Err(_) => self.text.push_str(&String::from_utf8_lossy(line.text)),
        }
        if self
            .files
            .last()
            .is_none_or(|(f, c)| f != line.file || *c != line.category)
        {
            self.files.push((line.file.to_owned(), line.category));
        }
        self.ends.push(End {
            end: self.text.len(),
            file: self.files.len() - 1,
            truncated: line.truncated,
            at: line.at,
            stream: line.stream,
        });
    }

    fn extend(&mut self, other: Lines) {
        let (base, files) = (self.text.len(), self.files.len());
        self.text.push_str(&other.text);
        self.files.extend(other.files);
        self.ends.extend(other.ends.into_iter().map(|e| End {
            end: e.end + base,
            file: e.file + files,
            ..e
        }));
    }
}

/// A round's drafts, whole ones first; lines become drafts one at a time, as the policy step
/// takes them.
#[derive(Debug)]
pub struct IntoDrafts {
    full: std::vec::IntoIter<Draft>,
    lines: Lines,
    next: usize,
}

impl IntoDrafts {
    fn line(&mut self) -> Option<Draft> {
        let i = self.next;
        let e = self.lines.ends.get(i)?;
        self.next += 1;
        let start = i.checked_sub(1).map_or(0, |p| self.lines.ends[p].end);
        let (file, category) = &self.lines.files[e.file];
        let mut fields = Map::new();
        fields.insert(
            "message".into(),
            Value::String(self.lines.text[start..e.end].to_owned()),
        );
        fields.insert("file".into(), Value::String(file.clone()));
        if e.truncated {
            fields.insert("truncated".into(), Value::Bool(true));
        }
        Some(Draft {
            collected_at: e.at,
            stream: e.stream,
            ..Draft::new(*category, "log_file", fields)
        })
    }
}

impl Iterator for IntoDrafts {
    type Item = Draft;

    fn next(&mut self) -> Option<Draft> {
        self.full.next().or_else(|| self.line())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.full.len() + self.lines.ends.len() - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for IntoDrafts {}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a [u8], file: &'a str, truncated: bool) -> LogLine<'a> {
        LogLine {
            text,
            file,
            category: Category::ServiceLogs,
            at: SystemTime::UNIX_EPOCH,
            truncated,
            stream: LineState::default(),
        }
    }

    #[test]
    fn lines_become_the_drafts_a_log_file_makes_in_the_order_read() {
        let mut a = Drafts::default();
        a.push_line(line(b"one", "/var/log/a.log", false));
        a.push_line(line(b"caf\xc3\xa9 \xff", "/var/log/a.log", true));
        let mut b = Drafts::default();
        b.push_line(line(b"", "/var/log/b.log", false));
        b.push(Draft::new(
            Category::Performance,
            "host_metrics",
            Map::new(),
        ));
        b.push_line(line(b"three", "/var/log/a.log", false));
        a.extend(b);
        assert_eq!(a.len(), 5);
        let drafts = a.into_vec();
        let seen: Vec<(String, &str, Option<&Value>)> = drafts[1..]
            .iter()
            .map(|d| {
                (
                    d.fields["message"].as_str().unwrap().to_owned(),
                    d.fields["file"].as_str().unwrap(),
                    d.fields.get("truncated"),
                )
            })
            .collect();
        assert_eq!(drafts[0].source, "host_metrics", "whole drafts come first");
        assert_eq!(
            seen,
            [
                ("one".to_owned(), "/var/log/a.log", None),
                (
                    "café \u{fffd}".to_owned(),
                    "/var/log/a.log",
                    Some(&Value::Bool(true))
                ),
                (String::new(), "/var/log/b.log", None),
                ("three".to_owned(), "/var/log/a.log", None),
            ]
        );
        for d in &drafts[1..] {
            assert_eq!(
                (
                    d.source.as_str(),
                    d.category,
                    d.collected_at,
                    d.fields.len() >= 2
                ),
                (
                    "log_file",
                    Category::ServiceLogs,
                    SystemTime::UNIX_EPOCH,
                    true
                )
            );
        }
    }
}
