//! E-mail addresses: found from each `@`, expanded over local-part and domain characters.
//! Handles sub-addressing (`a+b@x`), upper case, IDN (UTF-8) and punycode domains, and
//! addresses inside `<…>`, quotes, JSON, `mailto:` and URL queries.

use super::classes::{Class, Classes};
use super::values::userinfo_end;
use super::{Detector, Hit, Label};

const MAX_LOCAL: usize = 64;
const MAX_DOMAIN: usize = 255;

/// Local-part bytes: RFC 5322's atext without `^` and `|`, which real addresses do not use and
/// HL7 and pipe-separated logs put between fields (`NL||+31 6 1612^PRN^CP~^NET^Internet^x@y`).
fn is_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80 || b"!#$%*+-_`{}~.".contains(&b)
}

fn is_domain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80 || b == b'-' || b == b'.'
}

/// Adds a hit for every e-mail address in `line`.
#[inline(never)]
pub(super) fn find(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    let mut last_end = 0;
    for at in classes.ones(Class::At) {
        if at < last_end {
            continue;
        }
        if let Some((start, end)) = address_around(line, at) {
            hits.push(Hit {
                start,
                end,
                detector: Detector::Email,
                label: Label::Email,
            });
            last_end = end;
        }
    }
}

fn address_around(line: &[u8], at: usize) -> Option<(usize, usize)> {
    // Local part: back from `@`; `=`, `/`, `?`, `&` and quotes end it (queries, paths, JSON).
    let mut start = at;
    if at > 1 && line[at - 1] == b'"' {
        // A quoted local part: `"john doe"@example.org`.
        let from = at.saturating_sub(MAX_LOCAL + 1);
        start = memchr::memrchr(b'"', &line[from..at - 1]).map_or(at, |q| from + q);
    } else {
        while start > 0 && at - start < MAX_LOCAL && is_local(line[start - 1]) {
            start -= 1;
        }
        while start < at && line[start] == b'.' {
            start += 1;
        }
    }
    if start == at || in_url_userinfo(line, at) {
        return None;
    }
    if line.get(at + 1) == Some(&b'[') {
        // An address literal: `user@[192.0.2.1]`, `user@[IPv6:2001:db8::1]`.
        let close = memchr::memchr(b']', &line[at + 2..line.len().min(at + 2 + 46)])?;
        let inner = &line[at + 2..at + 2 + close];
        let literal = !inner.is_empty()
            && inner
                .iter()
                .all(|&b| b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'I' | b'P' | b'v'));
        return literal.then_some((start, at + 3 + close));
    }
    // Domain: forward from `@`, labels of letters, digits, hyphens and UTF-8.
    let mut end = at + 1;
    while end < line.len() && end - at <= MAX_DOMAIN && is_domain(line[end]) {
        end += 1;
    }
    while end > at + 1 && matches!(line[end - 1], b'.' | b'-') {
        end -= 1;
    }
    let domain = &line[at + 1..end];
    let last_dot = memchr::memrchr(b'.', domain)?;
    let tld = &domain[last_dot + 1..];
    let tld_ok = tld.len() >= 2
        && (tld.iter().all(|&b| b.is_ascii_alphabetic() || b >= 0x80)
            || (tld.len() > 4 && tld[..4].eq_ignore_ascii_case(b"xn--")));
    if !tld_ok || domain.starts_with(b".") || domain.windows(2).any(|w| w == b"..") {
        return None;
    }
    Some((start, end))
}

/// `scheme://user:pass@host`: the `@` ends URL credentials (their own detector), not an address.
fn in_url_userinfo(line: &[u8], at: usize) -> bool {
    let word_start = line[..at]
        .iter()
        .rposition(|b| b.is_ascii_whitespace())
        .map_or(0, |p| p + 1);
    finder!(b"://")
        .find(&line[word_start..at])
        .is_some_and(|p| userinfo_end(line, word_start + p + 3) == Some(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(line: &str) -> Vec<&str> {
        crate::scrub::spans(line, find)
    }

    #[test]
    fn quoted_local_parts_and_address_literals() {
        assert_eq!(
            found(r#"bounce "copa.nohu..x"@zuse.eu: full"#),
            [r#""copa.nohu..x"@zuse.eu"#]
        );
        assert_eq!(found("<tpade22@[192.0.2.226]>:"), ["tpade22@[192.0.2.226]"]);
        assert_eq!(
            found("to a@[IPv6:2001:db8::1] ok"),
            ["a@[IPv6:2001:db8::1]"]
        );
        assert!(found("say \"hi\"@ noon").is_empty());
    }

    #[test]
    fn finds_addresses_in_their_usual_wrappings() {
        assert_eq!(found("mail alice@example.com now"), ["alice@example.com"]);
        assert_eq!(
            found("To: <Bob.Smith+news@Mail.Example.ORG>"),
            ["Bob.Smith+news@Mail.Example.ORG"]
        );
        assert_eq!(found(r#"{"email":"c@example.net"}"#), ["c@example.net"]);
        assert_eq!(found("mailto:d@example.com?subject=x"), ["d@example.com"]);
        assert_eq!(
            found("GET /x?email=e.f12@example.com HTTP/1.1"),
            ["e.f12@example.com"]
        );
        assert_eq!(
            found("'g@xn--bcher-kva.example'"),
            ["g@xn--bcher-kva.example"]
        );
        assert_eq!(found("h@bücher.de."), ["h@bücher.de"]);
        assert_eq!(found("x@a.co and y@b.io"), ["x@a.co", "y@b.io"]);
    }

    #[test]
    fn leaves_what_is_not_an_address() {
        assert!(found("user@localhost").is_empty());
        assert!(found("@mention and a@ b").is_empty());
        assert!(found("commit abc@{1}").is_empty());
        assert!(found("pkg@1.2.3").is_empty());
        assert!(found("x@y..com").is_empty());
        assert!(
            found("https://u:pass@db.example.com/").is_empty(),
            "URL credentials"
        );
    }
}
