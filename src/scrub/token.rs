//! Opaque credentials with no telling key or prefix: long runs of token characters mixing upper
//! case, lower case and digits, with many distinct symbols (API keys, base64 secrets), and the
//! `appid|secret` shape of app access tokens. Hex hashes, paths, words and ids stay: they lack a
//! class, the length or the variety.

use super::classes::{Class, Classes};
use super::{Detector, Hit, Label};

/// Shortest run taken for a credential.
const MIN_LEN: usize = 32;
/// How many digits an app token's id has.
const APP_ID_LEN: std::ops::RangeInclusive<usize> = 15..=16;
/// Fewest distinct bytes in such a run (random base62 of 32 has ~25; prose-like names far fewer).
const MIN_DISTINCT: usize = 16;

/// Adds a secret hit for every opaque credential-like run in `line`, walking its runs of token
/// bytes ([`Class::Token`]).
#[inline(never)]
pub(super) fn find_opaque(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    if line.len() < MIN_LEN {
        return;
    }
    let mut from = 0;
    for (start, end) in classes.long_runs(Class::Token, *APP_ID_LEN.start()) {
        if end <= from {
            continue;
        }
        let start = start.max(from);
        if end - start >= MIN_LEN
            && credential_like(&line[start..end])
            && !integrity(&line[start..end])
        {
            push(hits, start, end);
        } else if line.get(end) == Some(&b'|')
            && let Some(token_end) = app_token(line, start, end)
        {
            push(hits, start, token_end);
            from = token_end;
        } else {
            from = end;
        }
    }
}

fn push(hits: &mut Vec<Hit>, start: usize, end: usize) {
    hits.push(Hit {
        start,
        end,
        detector: Detector::Secret,
        label: Label::Secret,
    });
}

/// Upper, lower and digit all present, enough distinct bytes, and the character class changing
/// at 45 % or more of positions (random text: ~60 %; `CamelCaseNames` switch at word starts
/// only, ~30 %); paths (`/`-separated words) are not credentials.
fn credential_like(run: &[u8]) -> bool {
    let class = |b: u8| match b {
        b'A'..=b'Z' => 1u8,
        b'a'..=b'z' => 2,
        b'0'..=b'9' => 4,
        _ => 8,
    };
    // Most long runs are hex or words, without one of the three classes: no need to count.
    if !(run.iter().any(u8::is_ascii_uppercase)
        && run.iter().any(u8::is_ascii_lowercase)
        && run.iter().any(u8::is_ascii_digit))
    {
        return false;
    }
    let mut classes = 0u8;
    let mut changes = 0;
    let mut seen = [false; 128];
    let mut distinct = 0;
    let mut prev = 0u8;
    for &b in run {
        let c = class(b);
        classes |= c;
        changes += usize::from(c != prev);
        prev = c;
        if !seen[usize::from(b & 0x7f)] {
            seen[usize::from(b & 0x7f)] = true;
            distinct += 1;
        }
    }
    let slashes = run.iter().filter(|&&b| b == b'/').count();
    let path_like = slashes >= 2 && run.len() / (slashes + 1) < 16;
    classes & 7 == 7 && distinct >= MIN_DISTINCT && changes * 20 >= run.len() * 9 && !path_like
}

/// `sha512-<base64>`: a subresource-integrity hash, which is public; and a Windows package
/// identity (`Package_for_KB2928120~31bf3856ad364e35~amd64~~6.1.1.0`), fields joined by `~`.
fn integrity(run: &[u8]) -> bool {
    [&b"sha256-"[..], b"sha384-", b"sha512-", b"sha1-"]
        .iter()
        .any(|p| run.starts_with(p))
        || run.iter().filter(|&&b| b == b'~').count() >= 3
}

/// `<15–16 digits>|<27+ token bytes>`: an app id and its secret.
fn app_token(line: &[u8], start: usize, bar: usize) -> Option<usize> {
    let id = &line[start..bar];
    if !APP_ID_LEN.contains(&id.len()) || !id.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut end = bar + 1;
    while end < line.len()
        && (line[end].is_ascii_alphanumeric() || matches!(line[end], b'_' | b'-'))
    {
        end += 1;
    }
    (end - bar > 27).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(line: &str) -> Vec<&str> {
        crate::scrub::spans(line, find_opaque)
    }

    #[test]
    fn opaque_credentials_are_found() {
        assert_eq!(
            found("sourcegraph: 6d2FabeB6ADd229Bc199FabA28fD3efb57dF0bD3"),
            ["6d2FabeB6ADd229Bc199FabA28fD3efb57dF0bD3"]
        );
        assert_eq!(
            found("facebook 1308742762612587|rhoK1cbv0DOU_RTX_87O4MkX7AI"),
            ["1308742762612587|rhoK1cbv0DOU_RTX_87O4MkX7AI"]
        );
    }

    #[test]
    fn hashes_paths_and_names_stay() {
        assert!(
            found("sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
                .is_empty()
        );
        assert!(found("/usr/lib/x86_64-linux-gnu/libSystemdShared254.so.0").is_empty());
        assert!(found("org.apache.hadoop.mapreduce.v2.app.MRAppMaster").is_empty());
        assert!(found("blk_-1608999687919862906 blk_7503483334202473044").is_empty());
        assert!(found("AbstractSingletonProxyFactoryBean2Helper").is_empty());
        assert!(found("package: Package_for_KB2928120~31bf3856ad364e35~amd64~~6.1.1.0").is_empty());
    }
}
