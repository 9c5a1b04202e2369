//! The scrubber: finds personal data and secrets in free text and replaces each hit with a
//! typed token, `[email:h:1f3a9c0d]` (keyed pseudonym) or `[email]` (mask); secrets are always
//! `[secret]`.
//!
//! Pure and byte-oriented: it works on `&[u8]`, so invalid UTF-8 and NUL bytes pass through, and
//! every span it replaces starts and ends on an ASCII byte, so valid UTF-8 stays valid. It never
//! panics on any input. One vector pass per line records where each trigger byte class stands
//! (`classes.rs`: `@ . - : =`, spaces, digit and token runs, word starts); detectors walk those
//! bitmasks, so pattern work only runs where a candidate exists, and a line without hits is
//! copied without allocating.

/// A 256-entry membership table built at compile time, for byte tests on hot loops.
macro_rules! byte_table {
    (|$b:ident| $pred:expr) => {{
        let mut table = [false; 256];
        let mut i = 0;
        while i < 256 {
            let $b = i as u8;
            table[i] = $pred;
            i += 1;
        }
        table
    }};
}

/// A substring searcher built once, for the literals searched on every line (building one per
/// call cost more than the search).
macro_rules! finder {
    ($needle:expr) => {{
        static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new($needle));
        &*FINDER
    }};
}

mod card;
mod classes;
mod digest;
mod email;
mod formats;
mod hosts;
mod keywords;
mod kinds;
mod location;
mod net;
mod normalise;
mod numbers;
mod paths;
mod pattern;
mod stream;
mod syntax;
mod timestamp;
mod token;
mod users;
mod values;
mod vocabulary;

use std::fmt;

use crate::policy::PseudonymKey;

pub use kinds::{Detector, Hit, Label, ScrubAction};
pub use pattern::{
    MAX_PATTERNS, PatternConfig, PatternError, Validator, check as check_pattern,
    check_set as check_pattern_set,
};
pub use stream::LineState;

/// The scrubber's settings: the policy's `[scrub]` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScrubConfig {
    /// Detectors switched on.
    pub detectors: Vec<Detector>,
    /// Pseudonymise or mask (secrets are always masked).
    pub action: ScrubAction,
    /// Names always treated as user names, as whole words, case-insensitively.
    pub user_names: Vec<String>,
    /// Domains whose host names are infrastructure, kept as written (`example.com` keeps
    /// `mx.example.com`).
    pub keep_domains: Vec<String>,
    /// The administrator's own patterns, checked by the policy.
    pub patterns: Vec<PatternConfig>,
}

impl Default for ScrubConfig {
    fn default() -> Self {
        ScrubConfig {
            detectors: Detector::ALL.to_vec(),
            action: ScrubAction::Pseudonymize,
            user_names: Vec::new(),
            keep_domains: Vec::new(),
            patterns: Vec::new(),
        }
    }
}

/// Buffers reused across lines so that scrubbing allocates nothing in the steady state, and a
/// bounded cache of pseudonym digests. Values live only in this process's memory.
#[derive(Default)]
pub struct Scratch {
    classes: classes::Classes,
    /// The line without its control bytes, when it had any.
    clean: Vec<u8>,
    /// The line with its escapes decoded, when it had any.
    decoded: normalise::Decoded,
    found: Vec<Hit>,
    /// Hits in the decoded line, before they are mapped back.
    found_decoded: Vec<Hit>,
    merged: Vec<Hit>,
    digests: digest::DigestCache,
}

impl fmt::Debug for Scratch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scratch")
            .field("hits", &self.merged.len())
            .finish_non_exhaustive()
    }
}

impl Scratch {
    /// The hits of the last line scrubbed, merged, in order.
    pub fn hits(&self) -> &[Hit] {
        &self.merged
    }
}

/// A compiled scrubber. Cheap to share; build once per policy.
pub struct Scrubber {
    on: [bool; Detector::COUNT],
    action: ScrubAction,
    keywords: keywords::Keywords,
    names: Option<aho_corasick::AhoCorasick>,
    /// `keep_domains`, lower case, without a leading dot.
    keep_domains: Vec<Vec<u8>>,
    /// The `keep_domains` without a dot: the single-label machine names kept.
    keep_labels: Vec<Vec<u8>>,
    patterns: Option<pattern::Patterns>,
}

impl fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scrubber")
            .field("on", &self.on)
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}

impl Scrubber {
    /// Compiles a scrubber for `config`.
    pub fn new(config: &ScrubConfig) -> Scrubber {
        let mut on = [false; Detector::COUNT];
        for d in &config.detectors {
            on[d.index()] = true;
        }
        let names: Vec<&str> = config
            .user_names
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
            .collect();
        let names = (on[Detector::UserName.index()] && !names.is_empty()).then(|| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(&names)
                .expect("a handful of literal names always compiles")
        });
        let keep_domains: Vec<Vec<u8>> = config
            .keep_domains
            .iter()
            .map(|d| {
                d.trim()
                    .trim_start_matches('.')
                    .to_ascii_lowercase()
                    .into_bytes()
            })
            .filter(|d| !d.is_empty())
            .collect();
        let keep_labels: Vec<Vec<u8>> = keep_domains
            .iter()
            .filter(|d| !d.contains(&b'.'))
            .cloned()
            .collect();
        Scrubber {
            on,
            action: config.action,
            keywords: keywords::Keywords::new(&on, &keep_labels),
            names,
            keep_domains,
            keep_labels,
            patterns: pattern::Patterns::new(&config.patterns),
        }
    }

    /// Whether a hit with `label` is written as its kind alone (`[secret]`, `[email]`) rather
    /// than with a pseudonym.
    pub fn masks(&self, label: Label) -> bool {
        let action = match (label, &self.patterns) {
            (Label::Secret, _) => return true,
            (Label::Pattern(i), Some(p)) => p.action(usize::from(i)).unwrap_or(self.action),
            _ => self.action,
        };
        action == ScrubAction::Mask
    }

    /// The name of the admin pattern a [`Label::Pattern`] stands for.
    pub fn pattern_name(&self, label: Label) -> Option<&str> {
        match (label, &self.patterns) {
            (Label::Pattern(i), Some(p)) => Some(p.name(usize::from(i))),
            _ => None,
        }
    }

    /// Pseudonymise or mask.
    pub fn action(&self) -> ScrubAction {
        self.action
    }

    /// Whether a detector is switched on.
    pub fn is_on(&self, d: Detector) -> bool {
        self.on[d.index()]
    }

    /// Scrubs one line (without its line ending) of the stream whose state is `state`,
    /// appending the result to `out` and advancing `state` past it. The hits are left in
    /// `scratch`. Returns whether anything was replaced.
    pub fn scrub_line(
        &self,
        key: &PseudonymKey,
        line: &[u8],
        state: &mut LineState,
        scratch: &mut Scratch,
        out: &mut Vec<u8>,
    ) -> bool {
        let entry = state.advance(line);
        self.scrub_from(key, line, 0, entry, scratch, out)
    }

    /// Scrubs one line whose stream state at its start was `entry` (from
    /// [`LineState::advance`], called by whoever reads the stream in order), appending the
    /// result to `out`. `line[..from]` is context only (already written): detectors see it,
    /// output starts at `from`; hits in the context are dropped, one that crosses `from` is cut
    /// there (used for lines too long to hold whole). Control bytes and terminal escape
    /// sequences are removed from the output.
    pub fn scrub_from(
        &self,
        key: &PseudonymKey,
        line: &[u8],
        from: usize,
        entry: LineState,
        scratch: &mut Scratch,
        out: &mut Vec<u8>,
    ) -> bool {
        scratch.classes.scan(line);
        if !normalise::has_controls_in(line, &scratch.classes) {
            return self.scrub_clean(key, line, from, entry, scratch, out);
        }
        let mut clean = std::mem::take(&mut scratch.clean);
        clean.clear();
        let from = from.min(line.len());
        normalise::strip_controls(&line[..from], &mut clean);
        let clean_from = clean.len();
        normalise::strip_controls(&line[from..], &mut clean);
        scratch.classes.scan(&clean);
        let changed = self.scrub_clean(key, &clean, clean_from, entry, scratch, out);
        scratch.clean = clean;
        changed
    }

    /// Scrubs a line free of control bytes whose classes `scratch.classes` holds.
    fn scrub_clean(
        &self,
        key: &PseudonymKey,
        line: &[u8],
        from: usize,
        entry: LineState,
        scratch: &mut Scratch,
        out: &mut Vec<u8>,
    ) -> bool {
        scratch.found.clear();
        scratch.classes.mute(timestamp::leading(line));
        self.find(line, &scratch.classes, entry, &mut scratch.found);
        if scratch.classes.any(classes::Class::Escape)
            && normalise::decode(line, &mut scratch.decoded)
        {
            // Escaped forms (`bob%40example.com`) are found in the decoded line and replaced
            // where they stand in the original.
            let decoded = &scratch.decoded;
            scratch.classes.scan(&decoded.bytes);
            scratch.classes.mute(timestamp::leading(&decoded.bytes));
            scratch.found_decoded.clear();
            self.find(
                &decoded.bytes,
                &scratch.classes,
                entry,
                &mut scratch.found_decoded,
            );
            scratch.found.extend(scratch.found_decoded.iter().map(|h| {
                let (start, end) = decoded.original(h.start, h.end);
                Hit { start, end, ..*h }
            }));
        }
        merge(line, &mut scratch.found, &mut scratch.merged);
        if from > 0 {
            scratch.merged.retain_mut(|h| {
                h.start = h.start.max(from);
                h.end > from
            });
        }
        if scratch.merged.is_empty() {
            out.extend_from_slice(&line[from.min(line.len())..]);
            return false;
        }
        let mut at = from;
        for h in &scratch.merged {
            out.extend_from_slice(&line[at..h.start]);
            // A token is text: where it replaces a JSON number (`"lat":52.37`), it is quoted
            // so that the record still parses.
            let quote = bare_json_value(line, h.start, h.end);
            if quote {
                out.push(b'"');
            }
            self.write_token(
                key,
                &line[h.start..h.end],
                h.label,
                &mut scratch.digests,
                out,
            );
            if quote {
                out.push(b'"');
            }
            at = h.end;
        }
        out.extend_from_slice(&line[at..]);
        true
    }

    /// Scrubs a text that may hold several lines; `None` when nothing was found. Hits are
    /// offsets in `text`.
    pub fn scrub_text(&self, key: &PseudonymKey, text: &str) -> Option<(String, Vec<Hit>)> {
        self.scrub_text_with(key, text, &mut Scratch::default())
    }

    /// Like [`Scrubber::scrub_text`], with buffers and digest cache kept by the caller across
    /// texts (the policy step scrubs thousands of record fields a round; names and addresses
    /// recur across them, and a fresh cache would compute every HMAC again).
    pub fn scrub_text_with(
        &self,
        key: &PseudonymKey,
        text: &str,
        scratch: &mut Scratch,
    ) -> Option<(String, Vec<Hit>)> {
        self.scrub_stream_text(key, text, LineState::default(), scratch)
    }

    /// Like [`Scrubber::scrub_text_with`], for a text that continues a stream whose state at
    /// its start is `entry` (a log line read after others of its file, whose reader advanced
    /// the state). The state is advanced only between the text's own lines: the reader has
    /// already computed where the stream stands after it.
    pub fn scrub_stream_text(
        &self,
        key: &PseudonymKey,
        text: &str,
        entry: LineState,
        scratch: &mut Scratch,
    ) -> Option<(String, Vec<Hit>)> {
        let mut state = entry;
        // Room for the text and a few tokens longer than what they replace, so a line is
        // written without regrowing.
        let mut out: Vec<u8> = Vec::with_capacity(text.len() + text.len() / 4 + 32);
        let mut hits = Vec::new();
        let mut changed = false;
        let mut offset = 0;
        let mut lines = text.as_bytes().split_inclusive(|&b| b == b'\n').peekable();
        while let Some(line) = lines.next() {
            let (body, ending) = match line.strip_suffix(b"\n") {
                Some(b) => (b, &b"\n"[..]),
                None => (line, &b""[..]),
            };
            let entry = if lines.peek().is_some() {
                state.advance(body)
            } else {
                state
            };
            if self.scrub_from(key, body, 0, entry, scratch, &mut out) {
                changed = true;
                hits.extend(scratch.hits().iter().map(|h| Hit {
                    start: h.start + offset,
                    end: h.end + offset,
                    ..*h
                }));
            }
            out.extend_from_slice(ending);
            offset += line.len();
        }
        if !changed {
            return None;
        }
        // Spans start and end on ASCII bytes and tokens are ASCII, so the text stays UTF-8.
        let out = String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Some((out, hits))
    }

    fn find(&self, line: &[u8], classes: &classes::Classes, entry: LineState, hits: &mut Vec<Hit>) {
        if self.on[Detector::Secret.index()] {
            if carried_secret(line, entry.entry(), hits) {
                return;
            }
            keywords::private_key_begins(line, classes, hits);
        }
        self.keywords.find(line, classes, hits);
        if self.on[Detector::Secret.index()] {
            syntax::find(line, classes, hits);
        }
        if self.on[Detector::UserName.index()] {
            users::find(line, classes, hits);
        }
        if let Some(names) = &self.names {
            keywords::listed_names(names, line, hits);
        }
        if self.on[Detector::Email.index()] {
            email::find(line, classes, hits);
        }
        if self.on[Detector::Ipv4.index()] {
            net::find_ipv4(line, classes, hits);
        }
        if self.on[Detector::Ipv6.index()] || self.on[Detector::Mac.index()] {
            net::find_colon_forms(
                line,
                classes,
                self.on[Detector::Ipv6.index()],
                self.on[Detector::Mac.index()],
                hits,
            );
        }
        if self.on[Detector::Mac.index()] {
            net::find_mac_dash_dot(line, classes, hits);
        }
        if self.on[Detector::CreditCard.index()] {
            card::find(line, classes, hits);
        }
        if self.on[Detector::Secret.index()] {
            token::find_opaque(line, classes, hits);
        }
        if self.on[Detector::Iban.index()] {
            numbers::find_iban(line, classes, hits);
        }
        if self.on[Detector::NationalId.index()] {
            numbers::find_national_id(line, classes, hits);
        }
        if self.on[Detector::Phone.index()] {
            numbers::find_phone(line, classes, hits);
        }
        if self.on[Detector::Gps.index()] {
            location::find(line, classes, hits);
        }
        let (home, ids) = (
            self.on[Detector::HomePath.index()],
            self.on[Detector::UserId.index()],
        );
        if home || ids {
            paths::find(line, home, ids, hits);
        }
        if self.on[Detector::Hostname.index()] {
            hosts::find(line, classes, &self.keep_domains, hits);
            hosts::syslog_host(line, classes.stamp(), &self.keep_labels, hits);
        }
        if let Some(patterns) = &self.patterns {
            patterns.find(line, hits);
        }
    }

    fn write_token(
        &self,
        key: &PseudonymKey,
        value: &[u8],
        label: Label,
        cache: &mut digest::DigestCache,
        out: &mut Vec<u8>,
    ) {
        out.push(b'[');
        let name = self.pattern_name(label).unwrap_or(label.as_str());
        out.extend_from_slice(name.as_bytes());
        if !self.masks(label) {
            let digest = cache.digest(key, value);
            out.extend_from_slice(b":h:");
            const HEX: &[u8; 16] = b"0123456789abcdef";
            for b in &digest {
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
        out.push(b']');
    }
}

/// Whether `line[start..end]` is a whole unquoted JSON value: after `"key":`, or an element
/// of a number array that a key holds (`"coordinates":[52.37,4.89]`), before `,`, `}` or `]`.
fn bare_json_value(line: &[u8], start: usize, end: usize) -> bool {
    let after = line[end..].trim_ascii_start();
    if line[start..end].starts_with(b"\"")
        || !matches!(after.first(), None | Some(b',' | b'}' | b']'))
    {
        return false;
    }
    let keyed = |before: &[u8]| {
        before
            .trim_ascii_end()
            .strip_suffix(b":")
            .is_some_and(|k| k.trim_ascii_end().ends_with(b"\""))
    };
    let before = &line[..start];
    if keyed(before) {
        return true;
    }
    let Some(open) = memchr::memrchr(b'[', before) else {
        return false;
    };
    before[open + 1..]
        .iter()
        .all(|b| b.is_ascii_digit() || b".-+eE, ".contains(b))
        && keyed(&before[..open])
}

/// The secret a line holds because of the lines before it (a private key's body, a secret's
/// indented block, the word after a continued flag). Returns true when the whole line is secret.
fn carried_secret(line: &[u8], entry: stream::Entry, hits: &mut Vec<Hit>) -> bool {
    let secret = |hits: &mut Vec<Hit>, a: usize, b: usize| {
        if b > a {
            values::push(hits, a, b, Detector::Secret, Label::Secret);
        }
    };
    match entry {
        stream::Entry::PrivateKey => match finder!(b"-----END").find(line) {
            Some(p) => {
                secret(hits, values::skip_blanks(line, 0), p);
                false
            }
            None => {
                secret(hits, values::skip_blanks(line, 0), line.len());
                true
            }
        },
        stream::Entry::Block(indent) if stream::indentation(line) > usize::from(indent) => {
            let end = line.trim_ascii_end().len();
            secret(hits, stream::indentation(line), end);
            true
        }
        stream::Entry::NextWord => {
            if let Some((a, b)) = values::shell_word(line, 0) {
                secret(hits, a, b);
            }
            false
        }
        _ => false,
    }
}

/// Sorts hits and merges overlapping ones into their union, labelled by the strongest, so no
/// fragment of any hit survives. Each hit is first widened to whole UTF-8 characters: a detector
/// that stops at a length cap inside a multi-byte character must not split it.
fn merge(line: &[u8], hits: &mut [Hit], merged: &mut Vec<Hit>) {
    merged.clear();
    let continuation = |b: u8| (0x80..0xc0).contains(&b);
    for h in hits.iter_mut() {
        h.end = h.end.min(line.len());
        while h.start > 0 && h.start < line.len() && continuation(line[h.start]) {
            h.start -= 1;
        }
        while h.end < line.len() && continuation(line[h.end]) {
            h.end += 1;
        }
    }
    hits.sort_unstable_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
    for h in hits.iter() {
        if h.start >= h.end {
            continue;
        }
        match merged.last_mut() {
            Some(last) if h.start < last.end => {
                last.end = last.end.max(h.end);
                if h.label > last.label {
                    last.label = h.label;
                    last.detector = h.detector;
                }
            }
            _ => merged.push(*h),
        }
    }
}

/// ASCII case-insensitive equality of two byte strings, inlined: detectors compare short words
/// several times a line, where the standard library's compare costs a call each.
#[inline]
fn eq_fold(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// Whether `b` can be part of a word (for boundary checks).
fn is_word(b: u8) -> bool {
    static WORD: [bool; 256] = byte_table!(|b| b.is_ascii_alphanumeric() || b == b'_');
    WORD[usize::from(b)]
}

/// Whether `text` is exactly one of the scrubber's own tokens (`[ipv4]`, `[email:h:1f3a9c0d]`),
/// so that scrubbing output again changes nothing.
fn is_token(text: &[u8]) -> bool {
    let Some(inner) = text.strip_prefix(b"[").and_then(|t| t.strip_suffix(b"]")) else {
        return false;
    };
    let (label, rest) = match memchr::memchr(b':', inner) {
        Some(c) => (&inner[..c], Some(&inner[c + 1..])),
        None => (inner, None),
    };
    (Label::BUILT_IN
        .iter()
        .any(|l| l.as_str().as_bytes() == label)
        || pattern::is_label(label))
        && rest.is_none_or(|r| {
            r.len() == 10 && r.starts_with(b"h:") && r[2..].iter().all(|b| b.is_ascii_hexdigit())
        })
}

/// The spans a detector finds in `line`, in order and each once, for the detectors' own tests.
#[cfg(test)]
fn spans(line: &str, find: fn(&[u8], &classes::Classes, &mut Vec<Hit>)) -> Vec<&str> {
    let mut hits = Vec::new();
    find(
        line.as_bytes(),
        &classes::Classes::of(line.as_bytes()),
        &mut hits,
    );
    hits.sort_by_key(|h| (h.start, h.end));
    hits.dedup_by_key(|h| (h.start, h.end));
    hits.iter().map(|h| &line[h.start..h.end]).collect()
}

#[cfg(test)]
mod tests;
