//! Host names: dotted names that end in a top-level domain (`db-7k2q.corp.example`,
//! `relay=mx1.acme.nl`), pseudonymised unless the policy keeps their domain
//! (`[scrub] keep_domains`). Java packages and classes (`org.apache.Foo`, reverse names that
//! start with a top-level domain), file names (`api.py`: no such top-level domain here) and
//! path segments (`/lib/x.so`) stay.

use super::classes::{Class, Classes};
use super::values::push;
use super::{Detector, Hit, Label};

/// The top-level domains taken as ending a host name: generic ones, the names of private
/// networks, and the country codes a log of this market carries (two-letter codes that are
/// also file extensions, such as `.py`, `.sh`, `.rs`, `.md`, are left out on purpose).
const TLDS: &[&[u8]] = &[
    b"com",
    b"net",
    b"org",
    b"edu",
    b"gov",
    b"mil",
    b"int",
    b"io",
    b"info",
    b"biz",
    b"cloud",
    b"dev",
    b"app",
    b"local",
    b"internal",
    b"corp",
    b"lan",
    b"home",
    b"example",
    b"test",
    b"invalid",
    b"localdomain",
    b"intra",
    b"intranet",
    b"priv",
    b"svc",
    b"nl",
    b"de",
    b"fr",
    b"be",
    b"uk",
    b"eu",
    b"us",
    b"ca",
    b"au",
    b"ch",
    b"at",
    b"se",
    b"no",
    b"dk",
    b"fi",
    b"es",
    b"it",
    b"pl",
    b"ie",
    b"pt",
    b"lu",
    b"cz",
    b"jp",
    b"cn",
    b"ru",
    b"br",
    b"nz",
    b"za",
    b"co",
    b"arpa",
];

/// First labels of reverse-DNS names (Java and Android packages), which are not hosts.
const REVERSE_ROOTS: &[&[u8]] = &[
    b"com", b"org", b"net", b"io", b"java", b"javax", b"sun", b"android", b"kotlin", b"jdk",
    b"edu", b"de", b"nl", b"uk", b"fr",
];

fn is_label(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Adds a hit for every host name not under one of `keep` (lower-case domains).
#[inline(never)]
pub(super) fn find(line: &[u8], classes: &Classes, keep: &[Vec<u8>], hits: &mut Vec<Hit>) {
    let mut next_free = 0;
    for dot in classes.ones(Class::Dot) {
        // A host name's labels after a dot start with a letter (`.corp`, `.example`); digits
        // after a dot are numbers, versions and addresses.
        if dot < next_free
            || dot == 0
            || !is_label(line[dot - 1])
            || !line.get(dot + 1).is_some_and(u8::is_ascii_alphabetic)
        {
            continue;
        }
        let mut s = dot;
        while s > 0 && (is_label(line[s - 1]) || line[s - 1] == b'.') {
            s -= 1;
        }
        let mut e = dot + 1;
        while e < line.len()
            && (is_label(line[e])
                || (line[e] == b'.' && line.get(e + 1).is_some_and(|&b| is_label(b))))
        {
            e += 1;
        }
        next_free = e;
        if let Some((a, b)) = host_name(line, s, e, keep) {
            push(hits, a, b, Detector::Hostname, Label::Hostname);
        }
    }
    windows_machine_names(line, classes, hits);
}

/// Windows' generated machine names, which carry no dot: `DESKTOP-9J4YOMS`, `LAPTOP-…`,
/// `WIN-…` (an upper-case prefix, a dash, 6–15 capitals and digits).
fn windows_machine_names(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    for d in classes.ones(Class::Dash) {
        let prefix = [&b"DESKTOP"[..], b"LAPTOP", b"WIN"]
            .into_iter()
            .find(|p| d >= p.len() && &line[d - p.len()..d] == *p);
        let Some(prefix) = prefix else {
            continue;
        };
        let s = d - prefix.len();
        if s > 0 && is_label(line[s - 1]) {
            continue;
        }
        let mut e = d + 1;
        while e < line.len() && (line[e].is_ascii_uppercase() || line[e].is_ascii_digit()) {
            e += 1;
        }
        if (6..=15).contains(&(e - d - 1))
            && !line.get(e).is_some_and(|&b| is_label(b) || b == b'.')
        {
            push(hits, s, e, Detector::Hostname, Label::Hostname);
        }
    }
}

/// Whether `line[s..e]` (labels and dots) is a host name to hide.
fn host_name(line: &[u8], s: usize, e: usize, keep: &[Vec<u8>]) -> Option<(usize, usize)> {
    let name = &line[s..e];
    if name.first() == Some(&b'.') || name.len() > 253 {
        return None;
    }
    let last_dot = memchr::memrchr(b'.', name)?;
    let tld = &name[last_dot + 1..];
    let first = &name[..memchr::memchr(b'.', name)?];
    // Host names' labels hold no `_` (`azurerm_dns_a_record.app` is a resource address).
    if !TLDS.iter().any(|t| t.eq_ignore_ascii_case(tld))
        || REVERSE_ROOTS.iter().any(|r| r.eq_ignore_ascii_case(first))
        || name.iter().all(|b| b.is_ascii_digit() || *b == b'.')
        || memchr::memchr(b'_', name).is_some()
    {
        return None;
    }
    // A path segment (`/lib/x.so`) or a method call (`a.b.run(`) is not a host; `//host` is.
    let after_slash = s > 0 && line[s - 1] == b'/' && !(s > 1 && line[s - 2] == b'/');
    let call = line.get(e) == Some(&b'(');
    // An address's domain is the e-mail rule's; a URL's host after its userinfo is ours.
    let word_glued = line.get(e).is_some_and(|&b| b == b'@')
        || (s > 0 && line[s - 1] == b'@' && !after_userinfo(line, s - 1));
    if after_slash || call || word_glued {
        return None;
    }
    let kept = keep.iter().any(|k| {
        name.len() >= k.len()
            && name[name.len() - k.len()..].eq_ignore_ascii_case(k)
            && (name.len() == k.len() || name[name.len() - k.len() - 1] == b'.')
    });
    (!kept).then_some((s, e))
}

/// Whether the `@` at `at` ends a URL's userinfo: `://` stands before it in the same word.
fn after_userinfo(line: &[u8], at: usize) -> bool {
    let start = line[..at]
        .iter()
        .rposition(|&b| matches!(b, b' ' | b'"' | b'\'' | b'<' | b'(' | b'\t'))
        .map_or(0, |p| p + 1);
    memchr::memmem::find(&line[start..at], b"://").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(line: &str, keep: &[&str]) -> Vec<String> {
        let keep: Vec<Vec<u8>> = keep.iter().map(|k| k.as_bytes().to_vec()).collect();
        let mut h = Vec::new();
        find(
            line.as_bytes(),
            &Classes::of(line.as_bytes()),
            &keep,
            &mut h,
        );
        h.iter().map(|h| line[h.start..h.end].to_owned()).collect()
    }

    #[test]
    fn host_names_are_found_where_they_stand() {
        assert_eq!(
            found("relay=vux.zeka.corp[192.0.2.1]:25", &[]),
            ["vux.zeka.corp"]
        );
        assert_eq!(
            found("Host: becu-w9c.corp-hdz.example", &[]),
            ["becu-w9c.corp-hdz.example"]
        );
        assert_eq!(
            found("GET https://git.kivoge.fr/repo", &[]),
            ["git.kivoge.fr"]
        );
        assert_eq!(
            found(
                "DATABASE_URL=postgres://app:p@ss@db3.ad.hooli.corp:5432/app",
                &[]
            ),
            ["db3.ad.hooli.corp"]
        );
        assert_eq!(
            found("query[A] db.prod.acme.com from x", &["acme.com"]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn packages_files_and_paths_stay() {
        for line in [
            "at org.apache.hadoop.mapreduce.Job.run(Job.java:12)",
            "io.acme.api.UserController - ok",
            "File /usr/lib/python3.11/site-packages/requests/api.py",
            "loaded libc.so.6 and config.json from app.log",
            "version 1.2.3 at 10.0.0.1",
            "alice@example.com",
            "resource azurerm_dns_a_record.app created",
            "WIN-32 build",
        ] {
            assert!(
                found(line, &[]).is_empty(),
                "{line}: {:?}",
                found(line, &[])
            );
        }
    }
}
