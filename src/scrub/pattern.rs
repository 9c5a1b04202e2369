//! Patterns the administrator adds in `[[scrub.pattern]]`: a name, a regular expression, an
//! optional keyword prefilter and checksum. They are compiled once into one multi-pattern
//! matcher, so a line pays one pass for all of them; matches become `[NAME:h:…]` tokens with
//! the provenance `scrub.pattern.NAME`.

use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use aho_corasick::AhoCorasick;
use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::{Deserialize, Serialize};

use super::{Detector, Hit, Label, ScrubAction};

/// Most patterns a policy may define (one bit each in the prefilter's masks).
pub const MAX_PATTERNS: usize = 64;
/// Longest regex accepted, in bytes.
const MAX_REGEX_LEN: usize = 1024;
/// Most memory one compiled regex may take; a larger one is refused as pathological.
const SIZE_LIMIT: usize = 1 << 20;
/// Most memory the compiled set of all of a policy's patterns may take.
const SET_LIMIT: usize = 4 << 20;

/// A checksum a match must pass to count, as the built-in detectors' own do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validator {
    /// The payment-card check over the match's digits.
    Luhn,
    /// The IBAN check over the match's letters and digits.
    Mod97,
    /// The Dutch BSN 11-check over nine digits.
    Bsn,
}

/// One admin-defined pattern, as the policy writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternConfig {
    /// The token's label and the provenance's name: `[NAME:h:…]`, `scrub.pattern.NAME`.
    pub name: String,
    /// What to find (Rust regex syntax, matched against the line's bytes).
    pub regex: String,
    /// Words (any case) of which one must be on the line for the regex to run.
    pub keywords: Vec<String>,
    /// A checksum a match must pass.
    pub validator: Option<Validator>,
    /// Pseudonymise or mask this pattern's matches; the `[scrub]` action if not said.
    pub action: Option<ScrubAction>,
}

/// Why a pattern cannot be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The name cannot be a token label.
    #[error(
        "pattern name `{0}` must be 1 to 32 lower-case letters, digits and `_`, starting with a letter"
    )]
    Name(String),
    /// The name is a built-in label's or another pattern's.
    #[error("pattern name `{0}` is already used by a built-in detector or another pattern")]
    Taken(String),
    /// More patterns than the matcher holds.
    #[error("at most {MAX_PATTERNS} patterns are supported")]
    TooMany,
    /// The regex does not parse.
    #[error("invalid regex: {0}")]
    Invalid(String),
    /// The regex can match empty text, so it would match everywhere (and an empty match
    /// preferred at a position hides the value a longer branch would find there).
    #[error(
        "regex can match empty text, so it would match everywhere: make every branch require at least one character"
    )]
    Empty,
    /// The regex can never match anything.
    #[error("regex can never match anything: it would scrub nothing")]
    Never,
    /// The regex is longer or compiles larger than allowed.
    #[error(
        "regex is too large (over {MAX_REGEX_LEN} bytes or {SIZE_LIMIT} bytes compiled): simplify or split it"
    )]
    TooLarge,
    /// A keyword is blank.
    #[error("keywords must not be empty strings")]
    EmptyKeyword,
    /// The patterns together compile larger than allowed.
    #[error(
        "the patterns together compile larger than {SET_LIMIT} bytes: simplify them or use fewer"
    )]
    SetTooLarge,
}

/// Compiles one regex with the limits every pattern gets.
pub fn compile(regex: &str) -> Result<Regex, PatternError> {
    if regex.len() > MAX_REGEX_LEN {
        return Err(PatternError::TooLarge);
    }
    let re = RegexBuilder::new(regex)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => PatternError::TooLarge,
            // The parser's message ends with its one-line reason (`error: unclosed group`).
            other => {
                let text = other.to_string();
                let reason = text.lines().last().unwrap_or_default().trim();
                PatternError::Invalid(reason.trim_start_matches("error: ").to_owned())
            }
        })?;
    // The shortest match any branch can make: zero for `\b`, `a*` or `\b|X` (whose empty branch
    // wins at every word boundary), none for `[^\s\S]`.
    let shortest = regex_syntax::ParserBuilder::new()
        .build()
        .parse(regex)
        .map_err(|e| PatternError::Invalid(e.to_string()))?
        .properties()
        .minimum_len();
    match shortest {
        Some(0) => Err(PatternError::Empty),
        None => Err(PatternError::Never),
        Some(_) => Ok(re),
    }
}

/// Checks a pattern's name, keywords and regex; `taken` holds the names defined before it.
pub fn check(pattern: &PatternConfig, taken: &[&str]) -> Result<(), PatternError> {
    let name = pattern.name.as_str();
    let mut bytes = name.bytes();
    let well_formed = name.len() <= 32
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !well_formed {
        return Err(PatternError::Name(name.to_owned()));
    }
    let built_in = Label::BUILT_IN.iter().any(|l| l.as_str() == name)
        || Detector::ALL.iter().any(|d| d.as_str() == name)
        || name == Detector::Pattern.as_str();
    if built_in || taken.contains(&name) {
        return Err(PatternError::Taken(name.to_owned()));
    }
    if pattern.keywords.iter().any(|k| k.trim().is_empty()) {
        return Err(PatternError::EmptyKeyword);
    }
    compile(&pattern.regex).map(|_| ())
}

/// Checks that all `patterns` (each already checked) compile together into one set within its
/// memory limit, as the scrubber will compile them.
pub fn check_set(patterns: &[PatternConfig]) -> Result<(), PatternError> {
    if patterns.is_empty() {
        return Ok(());
    }
    set(patterns.iter().map(|p| p.regex.as_str()))
        .map(|_| ())
        .map_err(|_| PatternError::SetTooLarge)
}

fn set<'a>(regexes: impl IntoIterator<Item = &'a str>) -> Result<RegexSet, regex::Error> {
    RegexSetBuilder::new(regexes)
        .size_limit(SET_LIMIT)
        .dfa_size_limit(SET_LIMIT)
        .build()
}

/// Labels of the patterns compiled in this process, so that their tokens are recognised as
/// tokens wherever [`super::is_token`] asks (scrubbing output again must change nothing).
static LABELS: RwLock<Vec<String>> = RwLock::new(Vec::new());
/// Whether any label was registered: most policies define no pattern, and `is_token` runs on
/// every bracketed span the detectors meet.
static ANY_LABEL: AtomicBool = AtomicBool::new(false);

/// Whether `label` is an admin-defined pattern's.
pub(super) fn is_label(label: &[u8]) -> bool {
    ANY_LABEL.load(Ordering::Acquire)
        && LABELS
            .read()
            .is_ok_and(|l| l.iter().any(|n| n.as_bytes() == label))
}

struct Compiled {
    regex: Regex,
    validator: Option<Validator>,
}

/// The compiled patterns of one policy.
pub(super) struct Patterns {
    set: RegexSet,
    each: Vec<Compiled>,
    names: Vec<String>,
    actions: Vec<Option<ScrubAction>>,
    /// Patterns that run on every line (no keywords), one bit each.
    always: u64,
    /// Keywords, and for each keyword the patterns it lets run.
    prefilter: Option<(AhoCorasick, Vec<u64>)>,
}

impl Patterns {
    /// Compiles `patterns`, which the policy has already checked one by one and as a set
    /// ([`check`], [`check_set`]); a pattern that fails anyway is left out, never a panic.
    pub(super) fn new(patterns: &[PatternConfig]) -> Option<Patterns> {
        let ok: Vec<(&PatternConfig, Regex)> = patterns
            .iter()
            .take(MAX_PATTERNS)
            .filter_map(|p| compile(&p.regex).ok().map(|r| (p, r)))
            .collect();
        if ok.is_empty() {
            return None;
        }
        let set = set(ok.iter().map(|(p, _)| p.regex.as_str())).ok()?;
        let mut always = 0u64;
        let mut words: Vec<String> = Vec::new();
        let mut masks: Vec<u64> = Vec::new();
        for (i, (p, _)) in ok.iter().enumerate() {
            if p.keywords.is_empty() {
                always |= 1 << i;
            }
            for k in &p.keywords {
                let k = k.trim().to_ascii_lowercase();
                match words.iter().position(|w| *w == k) {
                    Some(at) => masks[at] |= 1 << i,
                    None => {
                        words.push(k);
                        masks.push(1 << i);
                    }
                }
            }
        }
        let prefilter = (!words.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(&words)
                    .ok()
                    .map(|ac| (ac, masks))
            })
            .flatten();
        let names: Vec<String> = ok.iter().map(|(p, _)| p.name.clone()).collect();
        if let Ok(mut labels) = LABELS.write() {
            for n in &names {
                if !labels.contains(n) {
                    labels.push(n.clone());
                }
            }
            ANY_LABEL.store(true, Ordering::Release);
        }
        Some(Patterns {
            set,
            actions: ok.iter().map(|(p, _)| p.action).collect(),
            each: ok
                .into_iter()
                .map(|(p, regex)| Compiled {
                    regex,
                    validator: p.validator,
                })
                .collect(),
            names,
            always,
            prefilter,
        })
    }

    /// The name of pattern `i`.
    pub(super) fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    /// The action of pattern `i`, if it has its own.
    pub(super) fn action(&self, i: usize) -> Option<ScrubAction> {
        self.actions[i]
    }

    /// Adds a hit for every match of a pattern whose keyword (if any) is on the line.
    pub(super) fn find(&self, line: &[u8], hits: &mut Vec<Hit>) {
        let mut run = self.always;
        if let Some((ac, masks)) = &self.prefilter {
            for m in ac.find_iter(line) {
                run |= masks[m.pattern().as_usize()];
            }
        }
        if run == 0 {
            return;
        }
        for i in self.set.matches(line).iter() {
            if run & (1 << i) == 0 {
                continue;
            }
            let c = &self.each[i];
            for m in c.regex.find_iter(line) {
                let (s, e) = (m.start(), m.end());
                if s == e
                    || super::values::inside_token(line, s)
                    || overlaps_token(line, s, e)
                    || !c.validator.is_none_or(|v| valid(v, m.as_bytes()))
                {
                    continue;
                }
                hits.push(Hit {
                    start: s,
                    end: e,
                    detector: Detector::Pattern,
                    label: Label::Pattern(i as u8),
                });
            }
        }
    }
}

/// Whether one of our tokens (`[secret]`, `[email:h:1f3a9c0d]`) overlaps `line[s..e]`: a pattern
/// that matches tokens must not rewrite them, or scrubbing output again would change it.
fn overlaps_token(line: &[u8], s: usize, e: usize) -> bool {
    let from = s.saturating_sub(48);
    line[from..e].iter().enumerate().any(|(k, &b)| {
        let open = from + k;
        b == b'['
            && line[open..line.len().min(open + 64)]
                .iter()
                .position(|&c| c == b']')
                .is_some_and(|c| open + c >= s && super::is_token(&line[open..=open + c]))
    })
}

fn valid(v: Validator, text: &[u8]) -> bool {
    let digits: Vec<u8> = text
        .iter()
        .filter(|b| b.is_ascii_digit())
        .map(|b| b - b'0')
        .collect();
    match v {
        Validator::Luhn => digits.len() >= 2 && super::card::luhn(&digits),
        Validator::Bsn => {
            <[u8; 9]>::try_from(digits.as_slice()).is_ok_and(|d| super::numbers::eleven_check(&d))
        }
        Validator::Mod97 => {
            let chars: Vec<u8> = text
                .iter()
                .filter(|b| b.is_ascii_alphanumeric())
                .map(u8::to_ascii_uppercase)
                .collect();
            chars.len() >= 5 && super::numbers::mod97(&chars)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(name: &str, regex: &str) -> PatternConfig {
        PatternConfig {
            name: name.into(),
            regex: regex.into(),
            keywords: Vec::new(),
            validator: None,
            action: None,
        }
    }

    #[test]
    fn bad_patterns_are_refused_with_the_reason() {
        let check1 = |p: PatternConfig| check(&p, &["ticket"]);
        assert_eq!(
            check1(pattern("Emp", "E\\d+")),
            Err(PatternError::Name("Emp".into()))
        );
        assert_eq!(
            check1(pattern("email", "E\\d+")),
            Err(PatternError::Taken("email".into()))
        );
        assert_eq!(
            check1(pattern("ticket", "T\\d+")),
            Err(PatternError::Taken("ticket".into()))
        );
        assert!(matches!(
            check1(pattern("emp", "E(\\d+")),
            Err(PatternError::Invalid(_))
        ));
        assert_eq!(check1(pattern("emp", "\\d*")), Err(PatternError::Empty));
        assert_eq!(check1(pattern("emp", "a|")), Err(PatternError::Empty));
        assert_eq!(
            check1(pattern("emp", "\\b|SECRET")),
            Err(PatternError::Empty)
        );
        assert_eq!(
            check1(pattern("emp", "[^\\s\\S]")),
            Err(PatternError::Never)
        );
        for name in ["url_credentials", "home_path", "pattern"] {
            assert_eq!(
                check1(pattern(name, "x\\d")),
                Err(PatternError::Taken(name.into()))
            );
        }
        assert_eq!(
            check1(pattern("emp", "\\w{1000}\\w{1000}")),
            Err(PatternError::TooLarge)
        );
        assert_eq!(check1(pattern("emp", "E\\d{6}")), Ok(()));
    }

    #[test]
    fn patterns_that_fit_alone_but_not_together_are_refused() {
        let one = pattern("word", "\\w{12}-[0-9]{4}");
        assert_eq!(check(&one, &[]), Ok(()));
        let many: Vec<PatternConfig> = (0..MAX_PATTERNS)
            .map(|i| pattern(&format!("p{i}"), &format!("\\w{{12}}-{i}[0-9]{{4}}")))
            .collect();
        assert_eq!(check_set(&many), Err(PatternError::SetTooLarge));
        assert_eq!(check_set(&many[..2]), Ok(()));
    }

    #[test]
    fn our_tokens_are_never_matched_again() {
        let p = Patterns::new(&[pattern("tok", "\\[secret\\]"), pattern("word", "[^ ]+")])
            .expect("compiles");
        let line = b"password=[secret] mail [email:h:1543fc6a] plain";
        let mut hits = Vec::new();
        p.find(line, &mut hits);
        let found: Vec<&[u8]> = hits.iter().map(|h| &line[h.start..h.end]).collect();
        assert_eq!(found, [&b"mail"[..], b"plain"]);
    }

    #[test]
    fn keywords_gate_and_validators_filter() {
        let mut emp = pattern("employee", "EMP-\\d{6}");
        emp.keywords = vec!["employee".into()];
        let mut acct = pattern("account_no", "\\b\\d{9}\\b");
        acct.validator = Some(Validator::Bsn);
        let p = Patterns::new(&[emp, acct]).expect("compiles");
        let found = |line: &str| {
            let mut hits = Vec::new();
            p.find(line.as_bytes(), &mut hits);
            hits.iter()
                .map(|h| line[h.start..h.end].to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(found("Employee EMP-123456 badge"), ["EMP-123456"]);
        assert!(found("order EMP-123456 shipped").is_empty());
        // 111222333 passes the 11-check, 111222334 does not.
        assert_eq!(found("acct 111222333 and 111222334"), ["111222333"]);
    }
}
