//! `noticed scrub [FILE…]`: the scrubber as a filter, one output line per input line, in order,
//! in constant memory whatever the file or line size.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::agent::setup::{data_dir, key_path, load_or_create_key};
use crate::policy::PseudonymKey;
use crate::scrub::{Detector, LineState, Scratch, Scrubber};

/// Longest line held whole; longer lines are scrubbed in windows of this size.
pub const MAX_LINE: usize = 1 << 20;
/// Bytes of a window carried into the next as context, so a key and its value split by the
/// window edge are still recognised.
const CONTEXT: usize = 4096;

/// Scrubs the files (or stdin) to stdout; `stats` prints per-detector counts to stderr.
///
/// # Errors
/// A file cannot be read or stdout written.
pub fn scrub(
    policy: Option<PathBuf>,
    files: Vec<PathBuf>,
    stats: bool,
) -> anyhow::Result<ExitCode> {
    let loaded = match super::load_or_exit(policy.as_deref())? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let dir = data_dir(&loaded.policy)?;
    let key = load_or_create_key(&key_path(&loaded.policy, &dir))?;
    let mut filter = Filter::new(loaded.policy.scrubber(), key);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    if files.is_empty() || files.iter().all(|f| f.as_os_str() == "-") {
        filter
            .run(std::io::stdin().lock(), &mut out)
            .context("reading standard input")?;
    } else {
        for f in &files {
            if f.as_os_str() == "-" {
                filter
                    .run(std::io::stdin().lock(), &mut out)
                    .context("reading standard input")?;
                continue;
            }
            let file =
                std::fs::File::open(f).with_context(|| format!("cannot open {}", f.display()))?;
            // Each file is a stream of its own: a key block left open in one ends with it.
            filter.state = LineState::default();
            filter
                .run(file, &mut out)
                .with_context(|| format!("reading {}", f.display()))?;
        }
    }
    out.flush()?;
    if stats {
        eprint!("{}", filter.stats());
    }
    Ok(ExitCode::SUCCESS)
}

/// A streaming line filter around a scrubber.
pub struct Filter<'a> {
    scrubber: &'a Scrubber,
    key: PseudonymKey,
    state: LineState,
    scratch: Scratch,
    line: Vec<u8>,
    out: Vec<u8>,
    lines: u64,
    changed: u64,
    dirty: bool,
    per_detector: [u64; Detector::COUNT + 1],
    /// Length of the context kept at the front of `line` for an overlong line, if any.
    carried: Option<usize>,
}

impl<'a> Filter<'a> {
    /// A filter with fresh state.
    pub fn new(scrubber: &'a Scrubber, key: PseudonymKey) -> Self {
        Filter {
            scrubber,
            key,
            state: LineState::default(),
            scratch: Scratch::default(),
            line: Vec::new(),
            out: Vec::new(),
            lines: 0,
            changed: 0,
            dirty: false,
            per_detector: [0; Detector::COUNT + 1],
            carried: None,
        }
    }

    /// Scrubs all of `input` into `out`, line by line.
    ///
    /// # Errors
    /// Reading or writing failed.
    pub fn run(&mut self, input: impl Read, out: &mut impl Write) -> std::io::Result<()> {
        let mut reader = BufReader::with_capacity(1 << 20, input);
        loop {
            let buf = reader.fill_buf()?;
            if buf.is_empty() {
                if !self.line.is_empty() || self.carried.is_some() {
                    self.finish_line(None, out)?;
                }
                return Ok(());
            }
            match memchr::memchr(b'\n', buf) {
                Some(i) if self.line.is_empty() && self.carried.is_none() => {
                    let (line, ending) = split_ending(&buf[..i]);
                    let ending: &[u8] = if ending { b"\r\n" } else { b"\n" };
                    self.emit(line, 0, Some(ending), out)?;
                    reader.consume(i + 1);
                }
                Some(i) => {
                    self.line.extend_from_slice(&buf[..i]);
                    reader.consume(i + 1);
                    self.finish_line(Some(()), out)?;
                }
                None => {
                    let n = buf.len();
                    self.line.extend_from_slice(buf);
                    reader.consume(n);
                    if self.line.len() >= MAX_LINE + self.carried.unwrap_or(0) {
                        self.window(out)?;
                    }
                }
            }
        }
    }

    /// Ends the line held in `self.line` (`newline`: it ended with one).
    fn finish_line(&mut self, newline: Option<()>, out: &mut impl Write) -> std::io::Result<()> {
        let mut line = std::mem::take(&mut self.line);
        let mut ending: Option<&[u8]> = newline.map(|()| &b"\n"[..]);
        if newline.is_some() && line.last() == Some(&b'\r') {
            line.pop();
            ending = Some(b"\r\n");
        }
        let from = self.carried.take().unwrap_or(0);
        self.emit(&line, from, ending, out)?;
        line.clear();
        self.line = line;
        Ok(())
    }

    /// Scrubs and writes one window of an overlong line, split at the last blank, and keeps its
    /// tail as context for the next.
    fn window(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        let from = self.carried.unwrap_or(0);
        let search = &self.line[from..];
        let split = from
            + search
                .iter()
                .rposition(|b| b.is_ascii_whitespace())
                .filter(|&p| p > search.len() / 2)
                .map_or(search.len(), |p| p + 1);
        self.out.clear();
        // The stream's state moves once per line, when its last window is written.
        if self.scrubber.scrub_from(
            &self.key,
            &self.line[..split],
            from,
            self.state,
            &mut self.scratch,
            &mut self.out,
        ) {
            self.count();
        }
        out.write_all(&self.out)?;
        let keep_from = split.saturating_sub(CONTEXT);
        self.line.drain(..keep_from);
        self.carried = Some(split - keep_from);
        Ok(())
    }

    fn emit(
        &mut self,
        line: &[u8],
        from: usize,
        ending: Option<&[u8]>,
        out: &mut impl Write,
    ) -> std::io::Result<()> {
        self.out.clear();
        let entry = self.state.advance(line);
        if self.scrubber.scrub_from(
            &self.key,
            line,
            from,
            entry,
            &mut self.scratch,
            &mut self.out,
        ) {
            self.count();
        }
        self.lines += 1;
        self.changed += u64::from(std::mem::take(&mut self.dirty));
        if let Some(e) = ending {
            self.out.extend_from_slice(e);
        }
        out.write_all(&self.out)
    }

    fn count(&mut self) {
        self.dirty = true;
        for h in self.scratch.hits() {
            self.per_detector[h.detector.index()] += 1;
        }
    }

    /// Hits per detector so far.
    pub fn redactions(&self) -> Vec<(Detector, u64)> {
        Detector::ALL
            .iter()
            .map(|d| (*d, self.per_detector[d.index()]))
            .collect()
    }

    /// Lines read, lines changed, and hits per detector, one per line.
    pub fn stats(&self) -> String {
        let mut s = format!("lines {}\nlines_changed {}\n", self.lines, self.changed);
        for d in Detector::ALL {
            s.push_str(&format!("{} {}\n", d, self.per_detector[d.index()]));
        }
        let custom = self.per_detector[Detector::Pattern.index()];
        if custom > 0 {
            s.push_str(&format!("{} {custom}\n", Detector::Pattern));
        }
        s
    }
}

fn split_ending(line: &[u8]) -> (&[u8], bool) {
    match line.strip_suffix(b"\r") {
        Some(l) => (l, true),
        None => (line, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::KEY_LEN;
    use crate::scrub::{ScrubAction, ScrubConfig};

    /// Hands out its parts one `read` at a time, so a test decides where windows end.
    struct Parts(Vec<Vec<u8>>);

    impl Read for Parts {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let Some(part) = self.0.first_mut() else {
                return Ok(0);
            };
            let n = part.len().min(buf.len());
            buf[..n].copy_from_slice(&part[..n]);
            part.drain(..n);
            if part.is_empty() {
                self.0.remove(0);
            }
            Ok(n)
        }
    }

    #[test]
    fn a_key_and_its_value_split_by_a_window_edge_are_still_caught() {
        let scrubber = Scrubber::new(&ScrubConfig {
            action: ScrubAction::Mask,
            ..ScrubConfig::default()
        });
        let mut first = b"x ".repeat((MAX_LINE - 10) / 2);
        first.extend_from_slice(b"password: ");
        assert_eq!(
            first.len(),
            MAX_LINE,
            "the first read fills exactly one window"
        );
        let parts = Parts(vec![first, b"hunter2 and 192.0.2.1\nnext\n".to_vec()]);
        let mut filter = Filter::new(&scrubber, PseudonymKey::from_bytes(&[1; KEY_LEN]));
        let mut out = Vec::new();
        filter.run(parts, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with("password: [secret] and [ipv4]\nnext\n"),
            "{}",
            &text[text.len() - 60..]
        );
        assert_eq!(text.lines().count(), 2);
        assert!(
            filter.stats().starts_with("lines 2\nlines_changed 1\n"),
            "{}",
            filter.stats()
        );
    }
}
