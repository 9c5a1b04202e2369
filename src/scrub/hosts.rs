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
    device_names(line, classes, hits);
}

/// Whether a dotted `name`'s last label is a top-level domain (`db.corp.example`).
pub(super) fn ends_in_tld(name: &[u8]) -> bool {
    memchr::memrchr(b'.', name)
        .is_some_and(|d| TLDS.iter().any(|t| t.eq_ignore_ascii_case(&name[d + 1..])))
}

/// Whether `name` (after a host key, or in a syslog header) is a single-label machine name
/// to hide: letters in it, not `localhost` or a placeholder, not under a kept domain.
pub(super) fn single_label(name: &[u8], keep: &[Vec<u8>]) -> bool {
    !is_pod_name(name)
        && name.iter().all(|&b| is_label(b))
        && name.iter().any(u8::is_ascii_alphabetic)
        && !name.eq_ignore_ascii_case(b"localhost")
        && !name.eq_ignore_ascii_case(b"none")
        && !keep.iter().any(|k| name.eq_ignore_ascii_case(k))
}

/// A Kubernetes pod's name (`api-7d9f8b6c5-x2k4q`): its last part is five characters of the
/// alphabet Kubernetes draws suffixes from (no vowels, no `0 1 3`). A workload's replica, not
/// anybody's machine.
fn is_pod_name(name: &[u8]) -> bool {
    const SUFFIX: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let Some(dash) = memchr::memrchr(b'-', name) else {
        return false;
    };
    let suffix = &name[dash + 1..];
    dash > 0 && suffix.len() == 5 && suffix.iter().all(|b| SUFFIX.contains(b))
}

/// The host field of a syslog header after its timestamp at `stamp` (`Jan  1 00:00:00 web01
/// sshd[7]:`): a machine's name, hidden like any other. A dotted name is [`find`]'s.
pub(super) fn syslog_host(line: &[u8], stamp: usize, keep: &[Vec<u8>], hits: &mut Vec<Hit>) {
    if stamp == 0 {
        return;
    }
    let a = stamp + 1;
    let Some(len) = line[a.min(line.len())..].iter().position(|&b| b == b' ') else {
        return;
    };
    let b = a + len;
    // The program's tag follows: `sshd[7]:`, `kernel:`.
    let tag = &line[b + 1..];
    let tag_len = tag
        .iter()
        .take_while(|&&t| is_label(t) || matches!(t, b'/' | b'.' | b'(' | b')'))
        .count();
    // RFC 5424 writes `HOST APP PROCID MSGID`.
    let rfc5424 = super::timestamp::rfc5424_prefix(line) > 0;
    let tagged = tag_len > 0
        && (matches!(tag.get(tag_len), Some(b'[' | b':'))
            || (rfc5424 && tag.get(tag_len) == Some(&b' ')));
    // `2024-01-01 10:00:00 ERROR app: …` puts a level where the host stands.
    const LEVELS: &[&[u8]] = &[
        b"trace",
        b"debug",
        b"info",
        b"notice",
        b"warn",
        b"warning",
        b"error",
        b"err",
        b"crit",
        b"critical",
        b"alert",
        b"emerg",
        b"fatal",
        b"severe",
        b"fine",
    ];
    let level = LEVELS.iter().any(|l| line[a..b].eq_ignore_ascii_case(l));
    if tagged && !level && single_label(&line[a..b], keep) {
        push(hits, a, b, Detector::Hostname, Label::Hostname);
    }
}

/// Phone and tablet brands: with any other word beside them a device's name carries its
/// owner (`Annas-iPhone`, `Galaxy-S23-Kiara63`, `OnePlus-14-alice`, `android-5ebb4e6f…`).
const PHONE_BRANDS: &[&[u8]] = &[
    b"iphone", b"ipad", b"ipod", b"galaxy", b"pixel", b"android", b"oneplus", b"xiaomi", b"redmi",
    b"huawei", b"oppo", b"nokia", b"moto",
];

/// Computer words: a device's name with one of them carries its owner when another word is
/// possessive (`olgas-laptop`, `Johns-MacBook-Pro`), not otherwise (`build-pc-01`).
const COMPUTER_WORDS: &[&[u8]] = &[
    b"macbook",
    b"macbookpro",
    b"macbookair",
    b"mbp",
    b"imac",
    b"laptop",
    b"desktop",
    b"pc",
    b"surface",
    b"thinkpad",
    b"chromebook",
    b"notebook",
];

/// Model words in a device name, which name no owner (`MacBook-Pro`, `Galaxy-S23-Ultra`).
const MODEL_WORDS: &[&[u8]] = &[
    b"pro",
    b"max",
    b"plus",
    b"ultra",
    b"air",
    b"mini",
    b"lite",
    b"fold",
    b"flip",
    b"edge",
    b"note",
    b"tab",
    b"watch",
    b"phone",
    b"pad",
    b"book",
    b"home",
    b"work",
    b"office",
    b"sdk",
    b"studio",
    b"buds",
    b"app",
    b"apps",
    b"tools",
    b"sim",
    b"simulator",
    b"emulator",
    b"device",
    b"devices",
    b"build",
    b"builds",
    b"test",
    b"tests",
    b"windows",
    b"linux",
    b"mac",
    b"ios",
    b"series",
    b"users",
    b"uploads",
    b"downloads",
    b"settings",
    b"sync",
];

fn is_in(words: &[&[u8]], word: &[u8]) -> bool {
    words.iter().any(|w| word.eq_ignore_ascii_case(w))
}

fn is_brand(word: &[u8]) -> bool {
    is_in(PHONE_BRANDS, word) || is_in(COMPUTER_WORDS, word)
}

/// A personal device's name: dash-joined words of which one is a brand or computer word and
/// another names its owner (see [`PHONE_BRANDS`], [`COMPUTER_WORDS`]) or is the device's hex
/// id. A name with no owner in it (`Galaxy-S23`, `MacBook-Pro`) stays.
fn device_names(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    let word_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut next_free = 0;
    for d in classes.ones(Class::Dash) {
        if d < next_free || d == 0 {
            continue;
        }
        let mut l = d;
        while l > 0 && word_byte(line[l - 1]) {
            l -= 1;
        }
        let mut r = d + 1;
        while r < line.len() && word_byte(line[r]) {
            r += 1;
        }
        if !(is_brand(&line[l..d]) || is_brand(&line[d + 1..r])) {
            continue;
        }
        let mut s = d;
        while s > 0 && is_label(line[s - 1]) {
            s -= 1;
        }
        let mut e = d;
        while e < line.len() && is_label(line[e]) {
            e += 1;
        }
        next_free = e;
        let bounded = (s == 0 || !matches!(line[s - 1], b'.' | b'/' | b'[' | b':'))
            && !matches!(line.get(e), Some(b'.' | b'/' | b':' | b']'));
        let name = &line[s..e];
        let android = name.len() > 8 && name[..8].eq_ignore_ascii_case(b"android-");
        let phone = name.split(|&b| b == b'-').any(|p| is_in(PHONE_BRANDS, p));
        let owned = name.split(|&b| b == b'-').any(|part| {
            let letters = part.iter().take_while(|b| b.is_ascii_alphabetic()).count();
            let named = letters >= 3
                && part[letters..].iter().all(u8::is_ascii_digit)
                && !is_brand(part)
                && !is_in(MODEL_WORDS, &part[..letters]);
            let possessive = named && part[..letters].ends_with(b"s");
            let hex_id = android && part.len() >= 8 && part.iter().all(u8::is_ascii_hexdigit);
            (named && (phone || possessive)) || hex_id
        });
        if bounded && owned {
            push(hits, s, e, Detector::Hostname, Label::Hostname);
        }
    }
    // `Anna's iPhone`: the owner before the possessive.
    for q in memchr::memchr_iter(b'\'', line) {
        if !line[q + 1..].starts_with(b"s ") || q == 0 {
            continue;
        }
        let brand_end = line[q + 3..]
            .iter()
            .position(|&b| !word_byte(b))
            .map_or(line.len(), |n| q + 3 + n);
        let mut s = q;
        while s > 0 && line[s - 1].is_ascii_alphabetic() {
            s -= 1;
        }
        if is_brand(&line[q + 3..brand_end])
            && q - s >= 2
            && line[s].is_ascii_uppercase()
            && (s == 0 || !word_byte(line[s - 1]))
        {
            push(hits, s, q, Detector::Hostname, Label::Hostname);
        }
    }
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
    let first = &name[..memchr::memchr(b'.', name)?];
    // Host names' labels hold no `_` (`azurerm_dns_a_record.app` is a resource address).
    if !ends_in_tld(name)
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
