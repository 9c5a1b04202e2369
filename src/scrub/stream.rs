//! State carried from one line of a stream to the next: a private-key block (PEM, OpenSSH, PGP)
//! between its BEGIN and END lines, the indented lines of a secret's YAML block
//! (`password: |`), and the word after a shell continuation (`--password \`). Every path that
//! scrubs a stream (`noticed scrub`, log files, journald, bundles) advances the same state with
//! [`LineState::advance`], so one file gives the same text whichever path read it.

use super::keywords::{is_ident, private_key_marker};
use super::syntax::is_secret_key;

/// Most lines a private-key block may span before its END is given up on (an RSA 8192 PEM is
/// about 100 lines; a long PGP block a few hundred): a BEGIN without an END must not silence
/// the rest of a log.
const MAX_KEY_LINES: u16 = 600;

/// Where a line stands in its stream, as far as the scrubber cares; carried from line to line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LineState {
    mode: Mode,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Mode {
    #[default]
    Plain,
    /// Inside a private-key block; the count of lines so far.
    PrivateKey(u16),
    /// Lines indented deeper than this belong to a secret's block.
    Block(u16),
    /// The first word of the next line is a secret.
    NextWord,
    /// This many more lines are key material (PuTTY's `Private-Lines: N`).
    Lines(u16),
}

/// What the state says about one line, for the detectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Entry {
    /// Nothing carried over.
    Plain,
    /// The line continues a private-key block.
    PrivateKey,
    /// The line is inside a secret's block if indented deeper than this.
    Block(u16),
    /// The line's first word is a secret.
    NextWord,
}

impl LineState {
    /// The state at the start of `line`, which it returns, and the state after it, which it
    /// keeps. Cheap: one vector search for `-----`, and a look at the line's last bytes.
    pub fn advance(&mut self, line: &[u8]) -> LineState {
        if super::normalise::has_controls(line) {
            // The detectors see the line without its colours; so must the state.
            let mut clean = Vec::with_capacity(line.len());
            super::normalise::strip_controls(line, &mut clean);
            return self.advance_clean(&clean);
        }
        self.advance_clean(line)
    }

    fn advance_clean(&mut self, line: &[u8]) -> LineState {
        let entry = *self;
        self.mode = match entry.mode {
            Mode::PrivateKey(n) => {
                if finder!(b"-----END").find(line).is_some() || n >= MAX_KEY_LINES {
                    Mode::Plain
                } else {
                    Mode::PrivateKey(n + 1)
                }
            }
            Mode::Block(indent) if is_blank(line) || indentation(line) > usize::from(indent) => {
                Mode::Block(indent)
            }
            Mode::Lines(n) if n > 1 => Mode::Lines(n - 1),
            _ => Self::opened_by(line),
        };
        entry
    }

    /// A short text for a checkpoint (`k12`, `b4`, `w`); `None` when plain.
    pub fn encode(self) -> Option<String> {
        match self.mode {
            Mode::Plain => None,
            Mode::PrivateKey(n) => Some(format!("k{n}")),
            Mode::Block(i) => Some(format!("b{i}")),
            Mode::NextWord => Some("w".to_owned()),
            Mode::Lines(n) => Some(format!("l{n}")),
        }
    }

    /// The state [`LineState::encode`] wrote; plain for anything else.
    pub fn decode(text: &str) -> LineState {
        let number = |s: &str| s.parse::<u16>().ok();
        let mode = match text.split_at_checked(1) {
            Some(("k", n)) => number(n).map(Mode::PrivateKey),
            Some(("b", n)) => number(n).map(Mode::Block),
            Some(("w", "")) => Some(Mode::NextWord),
            Some(("l", n)) => number(n).map(Mode::Lines),
            _ => None,
        };
        LineState {
            mode: mode.unwrap_or_default(),
        }
    }

    /// What the state means for the line it was the entry state of.
    pub(super) fn entry(self) -> Entry {
        match self.mode {
            Mode::Plain => Entry::Plain,
            Mode::PrivateKey(_) => Entry::PrivateKey,
            Mode::Block(i) => Entry::Block(i),
            Mode::NextWord => Entry::NextWord,
            Mode::Lines(_) => Entry::PrivateKey,
        }
    }

    /// The state a line opens for the lines after it.
    fn opened_by(line: &[u8]) -> Mode {
        if let Some((_, None)) = private_key_marker(line) {
            return Mode::PrivateKey(0);
        }
        // PuTTY key files start the line with it (a log prefix, if any, is short).
        let head = &line[..line.len().min(80)];
        if let Some(p) = finder!(b"Private-Lines:").find(head) {
            let count = line[p + 14..].trim_ascii();
            if let Ok(n) = std::str::from_utf8(count)
                .unwrap_or_default()
                .parse::<u16>()
            {
                return if n == 0 {
                    Mode::Plain
                } else {
                    Mode::Lines(n.min(MAX_KEY_LINES))
                };
            }
        }
        let body = trim_end(line);
        let Some(&last) = body.last() else {
            return Mode::Plain;
        };
        match last {
            // `password: |`, `secret: >-`, or a key whose value starts on the next line.
            b'|' | b'>' | b'-' | b'+' | b':' | b'=' => {
                let mut k = body.len();
                while k > 0 && matches!(body[k - 1], b'|' | b'>' | b'-' | b'+' | b'0'..=b'9') {
                    k -= 1;
                }
                let indicator = k < body.len();
                k = trim_end(&body[..k]).len();
                if indicator && !matches!(body.get(k.wrapping_sub(1)), Some(b':' | b'=')) {
                    return Mode::Plain;
                }
                if k == 0 || !matches!(body[k - 1], b':' | b'=') {
                    return Mode::Plain;
                }
                let key_end = trim_end(&body[..k - 1]).len();
                let key_end = key_end
                    - usize::from(matches!(
                        body.get(key_end.wrapping_sub(1)),
                        Some(b'"' | b'\'')
                    ));
                let mut key_start = key_end;
                while key_start > 0 && is_ident(body[key_start - 1]) {
                    key_start -= 1;
                }
                let key_start = key_start
                    - usize::from(key_start > 0 && matches!(body[key_start - 1], b'"' | b'\''));
                let ident = &body[key_start..key_end];
                if !is_secret_key(ident) {
                    return Mode::Plain;
                }
                let indent = indentation(line);
                if indent != key_start || indent > usize::from(u16::MAX) {
                    // The key does not start its line (a log prefix stands before it): only the
                    // next line's first word can be taken as its value.
                    return Mode::NextWord;
                }
                Mode::Block(indent as u16)
            }
            // `mysql --password \` continued on the next line.
            b'\\' => {
                let before = trim_end(&body[..body.len() - 1]);
                let word_start = before
                    .iter()
                    .rposition(|b| b.is_ascii_whitespace())
                    .map_or(0, |p| p + 1);
                let word = &before[word_start..];
                let flag = word.starts_with(b"-") && is_secret_key(word.trim_ascii_start());
                if flag { Mode::NextWord } else { Mode::Plain }
            }
            _ => Mode::Plain,
        }
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// How many blanks the line starts with.
pub(super) fn indentation(line: &[u8]) -> usize {
    line.iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count()
}

fn trim_end(line: &[u8]) -> &[u8] {
    let mut e = line.len();
    while e > 0 && line[e - 1].is_ascii_whitespace() {
        e -= 1;
    }
    &line[..e]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &str) -> Vec<Entry> {
        let mut state = LineState::default();
        text.lines()
            .map(|l| state.advance(l.as_bytes()).entry())
            .collect()
    }

    #[test]
    fn key_blocks_span_from_begin_to_end() {
        let e = entries(
            "x\n-----BEGIN OPENSSH PRIVATE KEY-----\nAAA\nBBB\n-----END OPENSSH PRIVATE KEY-----\ny",
        );
        assert_eq!(
            e,
            [
                Entry::Plain,
                Entry::Plain,
                Entry::PrivateKey,
                Entry::PrivateKey,
                Entry::PrivateKey,
                Entry::Plain
            ]
        );
        // A public key or a certificate opens nothing.
        assert!(
            entries("-----BEGIN CERTIFICATE-----\nMIIB\n")
                .iter()
                .all(|e| *e == Entry::Plain)
        );
    }

    #[test]
    fn putty_private_lines_are_counted() {
        let e = entries("Public-Lines: 1\nAAAA\nPrivate-Lines: 2\nBBBB\nCCCC\nPrivate-MAC: 00\n");
        assert_eq!(
            e,
            [
                Entry::Plain,
                Entry::Plain,
                Entry::Plain,
                Entry::PrivateKey,
                Entry::PrivateKey,
                Entry::Plain
            ]
        );
    }

    #[test]
    fn a_coloured_key_opens_its_block() {
        let e = entries("\x1b[31mtoken\x1b[0m: >\n  abc\n");
        assert_eq!(e[1], Entry::Block(0));
    }

    #[test]
    fn yaml_blocks_hold_their_deeper_lines() {
        let e = entries(
            "db:\n  password: |\n    line one\n\n    line two\n  user: x\n  token:\n    abc\n",
        );
        assert_eq!(
            e,
            [
                Entry::Plain,
                Entry::Plain,
                Entry::Block(2),
                Entry::Block(2),
                Entry::Block(2),
                Entry::Block(2),
                Entry::Plain,
                Entry::Block(2),
            ]
        );
        assert!(
            entries("name: |\n  text\n")
                .iter()
                .all(|e| *e == Entry::Plain)
        );
    }

    #[test]
    fn states_survive_a_checkpoint() {
        let mut state = LineState::default();
        for line in ["-----BEGIN RSA PRIVATE KEY-----", "MIIE", "abcd"] {
            state.advance(line.as_bytes());
        }
        assert_eq!(state.encode().as_deref(), Some("k2"));
        for s in [
            state,
            LineState {
                mode: Mode::Block(4),
            },
            LineState {
                mode: Mode::NextWord,
            },
        ] {
            assert_eq!(LineState::decode(&s.encode().unwrap()), s);
        }
        assert_eq!(LineState::default().encode(), None);
        assert_eq!(LineState::decode("zz"), LineState::default());
        assert_eq!(LineState::decode("l3").encode().as_deref(), Some("l3"));
    }

    #[test]
    fn continued_flags_and_prefixed_keys_take_the_next_word() {
        assert_eq!(
            entries("mysql -u root --password \\\n  s3cret db")[1],
            Entry::NextWord
        );
        assert_eq!(entries("Dec 1 app: password:\nvalue")[1], Entry::NextWord);
        assert_eq!(entries("mysql -u root \\\n db")[1], Entry::Plain);
    }
}
