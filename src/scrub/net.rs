//! Network addresses: IPv4 (dotted, and dashed as reverse-DNS names embed it), IPv6 (validated
//! by the standard library's parser, so every compression and embedded IPv4 is right), and MAC
//! addresses in colon, dash and Cisco dot form. Times such as `12:30:45` are not addresses.

use std::net::Ipv6Addr;

use super::classes::{Class, Classes};
use super::{Detector, Hit, Label, is_word};

fn hit(start: usize, end: usize, detector: Detector, label: Label) -> Hit {
    Hit {
        start,
        end,
        detector,
        label,
    }
}

/// Parses up to three digits forming a value ≤ 255 at `i`; returns the end.
fn octet(line: &[u8], i: usize) -> Option<usize> {
    let mut end = i;
    let mut value = 0u32;
    while end < line.len() && end - i < 3 && line[end].is_ascii_digit() {
        value = value * 10 + u32::from(line[end] - b'0');
        end += 1;
    }
    (end > i && value <= 255 && !(end < line.len() && line[end].is_ascii_digit())).then_some(end)
}

/// Four octets joined by `sep` starting at `start`; returns the end.
pub(super) fn quad(line: &[u8], start: usize, sep: u8) -> Option<usize> {
    let mut i = octet(line, start)?;
    for _ in 0..3 {
        if line.get(i) != Some(&sep) {
            return None;
        }
        i = octet(line, i + 1)?;
    }
    Some(i)
}

/// Whether the byte before `start` lets an address begin there: no digit, and no `sep`
/// directly after a digit (which would make this the tail of a longer dotted number).
fn clean_left(line: &[u8], start: usize, sep: u8) -> bool {
    match start.checked_sub(1).map(|i| line[i]) {
        None => true,
        Some(b) if b.is_ascii_digit() => false,
        Some(b) if b == sep => {
            !(start >= 2 && line[start - 2].is_ascii_digit()) || {
                // `ec2-172-4-197-118`: a dashed address after a label that merely ends in a digit.
                let label = line[..start - 1]
                    .iter()
                    .rev()
                    .take_while(|b| b.is_ascii_alphanumeric());
                sep == b'-' && label.clone().any(u8::is_ascii_alphabetic)
            }
        }
        Some(_) => true,
    }
}

fn clean_right(line: &[u8], end: usize, sep: u8) -> bool {
    match line.get(end) {
        None => true,
        Some(b) if b.is_ascii_digit() => false,
        Some(&b) if b == sep => !line.get(end + 1).is_some_and(u8::is_ascii_digit),
        Some(_) => true,
    }
}

/// Adds IPv4 addresses: `192.0.2.1` anywhere a number does not continue it, and `192-0-2-1`
/// inside host names such as `customer-192-0-2-1.example.net`.
#[inline(never)]
pub(super) fn find_ipv4(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    for (sep, class) in [(b'.', Class::Dot), (b'-', Class::Dash)] {
        let mut next_free = 0;
        for p in classes.ones_after(class, Class::Digit) {
            if p < next_free {
                continue;
            }
            let mut start = p - 1;
            while start > 0 && p - start < 3 && line[start - 1].is_ascii_digit() {
                start -= 1;
            }
            if !clean_left(line, start, sep) {
                continue;
            }
            if let Some(end) = quad(line, start, sep).filter(|&e| clean_right(line, e, sep)) {
                next_free = end;
                if sep == b'.' && (names_no_host(&line[start..end]) || is_version(line, start)) {
                    continue;
                }
                hits.push(hit(start, end, Detector::Ipv4, Label::Ipv4));
            }
        }
    }
}

/// `0.0.0.0` (every interface), `255.255.255.255` (broadcast) and loopback (`127.0.0.1`) name
/// no host.
fn names_no_host(address: &[u8]) -> bool {
    address == b"0.0.0.0"
        || address == b"255.255.255.255"
        || address.starts_with(b"127.")
        // A large network's number (`10.128.0.0`), not a host's; a small one (`172.16.30.0/29`)
        // can name a customer, and goes.
        || address.ends_with(b".0.0")
        // X.500 attribute types and X.509 extensions (`2.5.4.3` is CN, `2.5.29.17` SAN): OIDs
        // that certificate logs print, in two /24 networks no log names as hosts.
        || address.starts_with(b"2.5.4.")
        || address.starts_with(b"2.5.29.")
}

/// A four-part version rather than an address: `v6.1.1.0`, or after a version key or word
/// (`java.version=11.0.8.1`, `version 6.1.7601.0`, `Version: …`).
fn is_version(line: &[u8], start: usize) -> bool {
    // Windows package identities end `~amd64~~6.1.34.0`.
    if start > 0 && line[start - 1] == b'~' {
        return true;
    }
    if start > 0
        && (line[start - 1] | 0x20) == b'v'
        && (start == 1 || !line[start - 2].is_ascii_alphabetic())
    {
        return true;
    }
    let mut j = start;
    while j > 0 && matches!(line[j - 1], b' ' | b'=' | b':' | b'"' | b'\'') {
        j -= 1;
    }
    if j == start {
        return false;
    }
    let mut k = j;
    while k > 0 && line[k - 1].is_ascii_alphabetic() {
        k -= 1;
    }
    let word = &line[k..j];
    // `version`, `FileVersion`, `ver`, `release`, `build`; not a word that merely ends in one
    // (`DataXceiver: 10.251.…`).
    (word.len() >= 7 && word[word.len() - 7..].eq_ignore_ascii_case(b"version"))
        || [&b"ver"[..], b"release", b"build", b"rev"]
            .iter()
            .any(|w| word.eq_ignore_ascii_case(w))
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// What an address run extends over backwards from a colon, and forwards (an IPv4 tail).
static HEX_COLON: [bool; 256] = byte_table!(|b| b.is_ascii_hexdigit() || b == b':');
static HEX_COLON_DOT: [bool; 256] =
    byte_table!(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');

/// Adds IPv6 addresses and colon-separated MAC addresses, examining each run of hex digits,
/// colons and dots that holds a colon.
#[inline(never)]
pub(super) fn find_colon_forms(
    line: &[u8],
    classes: &Classes,
    ipv6: bool,
    mac: bool,
    hits: &mut Vec<Hit>,
) {
    let mut next_free = 0;
    for p in classes.ones(Class::Colon) {
        if p < next_free {
            continue;
        }
        let mut start = p;
        while start > 0 && HEX_COLON[usize::from(line[start - 1])] {
            start -= 1;
        }
        let mut end = p + 1;
        while end < line.len() && HEX_COLON_DOT[usize::from(line[end])] {
            end += 1;
        }
        next_free = end;
        if mac && let Some(h) = colon_mac(line, start, end) {
            hits.push(h);
            continue;
        }
        if ipv6 && let Some(h) = ipv6_in(line, start, end) {
            next_free = next_free.max(h.end);
            // Loopback and the unspecified address (`0:0:0:0:0:0:0:0`, `::`) name no host.
            let text = &line[h.start..h.end];
            let unspecified = text.iter().all(|&b| b == b'0' || b == b':');
            let loopback = text == b"::1" || text == b"0:0:0:0:0:0:0:1";
            if !(unspecified || loopback) {
                hits.push(h);
            }
        }
    }
}

/// `aa:bb:cc:dd:ee:ff` with word boundaries, octets of one or two hex digits as some tools print
/// them (`4a:0:f3:6:eb:aa`), at least two of them two digits long.
fn colon_mac(line: &[u8], start: usize, end: usize) -> Option<Hit> {
    let run = &line[start..end];
    if link_header(line, start, end) {
        return Some(hit(start, end, Detector::Mac, Label::Mac));
    }
    // Six octets of one or two digits and five colons: 11 to 17 bytes (times are shorter).
    if !(11..=17).contains(&run.len()) {
        return None;
    }
    let octets = || run.split(|&b| b == b':');
    let ok = run.len() <= 17
        && octets().count() == 6
        && octets().all(|o| (1..=2).contains(&o.len()) && o.iter().all(|&b| is_hex(b)))
        && octets().filter(|o| o.len() == 2).count() >= 2;
    let bounded =
        (start == 0 || !is_word(line[start - 1])) && (end == line.len() || !is_word(line[end]));
    (ok && bounded).then(|| hit(start, end, Detector::Mac, Label::Mac))
}

/// Netfilter's `MAC=` field: the frame's link header, destination and source addresses and the
/// type, as 14 (or, for other links, up to 16) two-digit octets: `MAC=f0:66:…:e9:08:00`.
fn link_header(line: &[u8], start: usize, end: usize) -> bool {
    let run = &line[start..end];
    start >= 4
        && &line[start - 4..start] == b"MAC="
        && (14 * 3 - 1..=16 * 3 - 1).contains(&run.len())
        && run.chunks(3).all(|o| {
            o[0].is_ascii_hexdigit()
                && o.get(1).is_some_and(u8::is_ascii_hexdigit)
                && o.get(2).is_none_or(|&c| c == b':')
        })
}

/// Longest IPv6 text (`ffff:…:255.255.255.255`), and the most start positions tried per run:
/// together they bound the work per run, whatever the input.
const MAX_IPV6_TEXT: usize = 45;
const MAX_STARTS: usize = 8;

/// The first valid IPv6 address in the run `start..end`. When the run's start is glued to a
/// word (`addr:2001:db8::1` gives the run `dd:2001:db8::1`), later starts right after a colon
/// are tried; trailing run bytes that do not belong to it are trimmed. A `%zone` is included.
fn ipv6_in(line: &[u8], start: usize, end: usize) -> Option<Hit> {
    let run = &line[start..end];
    let colons = run.iter().filter(|&&b| b == b':').count();
    // More than eight groups is a serial or a hardware id, not an address.
    if !(2..=8).contains(&colons)
        || (colons < 6 && !run.windows(2).any(|w| w == b"::"))
        || !run.iter().any(|&b| is_hex(b))
    {
        return None;
    }
    let starts = std::iter::once(start)
        .chain((start..end).filter(|&i| line[i] == b':').map(|i| i + 1))
        .take(MAX_STARTS);
    for s in starts {
        if s > 0 && (is_word(line[s - 1]) || line[s - 1] == b'.') {
            continue;
        }
        let mut e = end.min(s + MAX_IPV6_TEXT);
        while e >= s + 2 {
            let right_ok = e == line.len() || !is_word(line[e]);
            if right_ok
                && let Ok(text) = std::str::from_utf8(&line[s..e])
                && text.parse::<Ipv6Addr>().is_ok()
            {
                return Some(hit(s, zone_end(line, e), Detector::Ipv6, Label::Ipv6));
            }
            e -= 1;
        }
    }
    None
}

/// Extends an address ending at `e` over a `%zone` suffix such as `%eth0`.
fn zone_end(line: &[u8], e: usize) -> usize {
    if line.get(e) != Some(&b'%') {
        return e;
    }
    let mut z = e + 1;
    while z < line.len() && (line[z].is_ascii_alphanumeric() || line[z] == b'_') {
        z += 1;
    }
    if z == e + 1 { e } else { z }
}

/// Words after which 12 bare hex digits are a MAC address (`hwaddr b8444cbef727`).
const MAC_WORDS: &[&[u8]] = &[
    b"hwaddr",
    b"mac",
    b"ether",
    b"lladdr",
    b"chaddr",
    b"macaddr",
    b"mac_address",
    b"macaddress",
    b"bssid",
    b"sta",
    b"station",
    b"ieeeaddr",
    b"ieee_address",
    b"eui64",
];

/// Adds a MAC address for 12 bare hex digits (or an EUI-64, `0x` and 16, as Zigbee writes
/// it) that a MAC word (key or label) stands before.
fn bare_mac(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    for (s, e) in classes.long_runs(Class::Word, 12) {
        let run = &line[s..e];
        let eui48 = run.len() == 12 && run.iter().all(|&b| is_hex(b));
        let eui64 =
            run.len() == 18 && run.starts_with(b"0x") && run[2..].iter().all(|&b| is_hex(b));
        if !(eui48 || eui64) {
            continue;
        }
        let mut k = s;
        while k > 0 && matches!(line[k - 1], b' ' | b'=' | b':' | b'"' | b'\'') && s - k < 4 {
            k -= 1;
        }
        let mut w = k;
        while w > 0 && (line[w - 1].is_ascii_alphanumeric() || line[w - 1] == b'_') {
            w -= 1;
        }
        let word = &line[w..k];
        // A DHCP server's `DHCPACK on ADDR to MAC`, `DHCPDISCOVER from MAC`.
        let dhcp = || {
            [&b"to"[..], b"from", b"for"].contains(&word)
                && memchr::memmem::find(&line[..w], b"DHCP").is_some()
        };
        if k < s
            && (MAC_WORDS.iter().any(|m| {
                word.len() >= m.len() && word[word.len() - m.len()..].eq_ignore_ascii_case(m)
            }) || dhcp())
        {
            hits.push(hit(s, e, Detector::Mac, Label::Mac));
        }
    }
}

/// Adds MAC addresses written `aa-bb-cc-dd-ee-ff`, `aabb.ccdd.eeff`, or bare after a MAC word.
#[inline(never)]
pub(super) fn find_mac_dash_dot(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    bare_mac(line, classes, hits);
    let mut next_free = 0;
    for p in classes.ones(Class::Dash) {
        if p < 2 || p - 2 < next_free {
            continue;
        }
        let s = p - 2;
        let e = s + 17;
        if e <= line.len()
            && line[s..e]
                .chunks(3)
                .all(|c| is_hex(c[0]) && is_hex(c[1]) && (c.len() == 2 || c[2] == b'-'))
            && (s == 0 || !(is_word(line[s - 1]) || line[s - 1] == b'-'))
            && (e == line.len() || !(is_word(line[e]) || line[e] == b'-'))
        {
            hits.push(hit(s, e, Detector::Mac, Label::Mac));
            next_free = e;
        }
    }
    let mut next_free = 0;
    for p in classes.ones(Class::Dot) {
        if p < 4 || p - 4 < next_free {
            continue;
        }
        let s = p - 4;
        let e = s + 14;
        if e <= line.len()
            && line[s..e]
                .chunks(5)
                .all(|c| c[..4].iter().all(|&b| is_hex(b)) && (c.len() == 4 || c[4] == b'.'))
            && (s == 0 || !(is_word(line[s - 1]) || line[s - 1] == b'.'))
            && (e == line.len()
                || !(is_word(line[e])
                    || (line[e] == b'.' && line.get(e + 1).is_some_and(|&b| is_word(b)))))
        {
            hits.push(hit(s, e, Detector::Mac, Label::Mac));
            next_free = e;
        }
    }
}

#[cfg(test)]
mod version_tests {
    use super::*;

    #[test]
    fn versions_stay_and_addresses_after_words_ending_like_one_go() {
        let found = |line: &str| {
            let mut h = Vec::new();
            find_ipv4(line.as_bytes(), &Classes::of(line.as_bytes()), &mut h);
            h.len()
        };
        assert_eq!(
            found("java.version=11.0.8.1 FileVersion: 6.1.7601.0 v6.6.4.2"),
            0
        );
        assert_eq!(
            found("Package_for_KB947821~31bf3856ad364e35~amd64~~6.1.34.0, x"),
            0
        );
        assert_eq!(found("dfs.DataNode$DataXceiver: 10.251.194.213:50010"), 1);
        assert_eq!(found("listening on 0.0.0.0:80 and 127.0.0.1:81"), 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(line: &str) -> Vec<&str> {
        let mut h = Vec::new();
        find_ipv4(line.as_bytes(), &Classes::of(line.as_bytes()), &mut h);
        h.iter().map(|h| &line[h.start..h.end]).collect()
    }

    fn colon(line: &str) -> Vec<(&str, Label)> {
        let mut h = Vec::new();
        find_colon_forms(
            line.as_bytes(),
            &Classes::of(line.as_bytes()),
            true,
            true,
            &mut h,
        );
        find_mac_dash_dot(line.as_bytes(), &Classes::of(line.as_bytes()), &mut h);
        h.iter().map(|h| (&line[h.start..h.end], h.label)).collect()
    }

    #[test]
    fn ipv4_in_its_forms() {
        assert_eq!(v4("from 192.0.2.17 port 22"), ["192.0.2.17"]);
        assert_eq!(
            v4("[10.0.0.1]:8080,203.0.113.9"),
            ["10.0.0.1", "203.0.113.9"]
        );
        assert_eq!(
            v4("X-Forwarded-For: 198.51.100.1, 198.51.100.2"),
            ["198.51.100.1", "198.51.100.2"]
        );
        assert_eq!(v4("host218.188.1.38.maximumasp.com"), ["218.188.1.38"]);
        assert_eq!(
            v4("rhost=customer-187-141-143-180-sta.uninet.mx"),
            ["187-141-143-180"]
        );
        assert_eq!(v4("::ffff:192.0.2.1"), ["192.0.2.1"]);
        // Found whether or not the policy keeps the name's domain.
        assert_eq!(
            v4("peer ec2-172-4-197-118.compute-1.amazonaws.com"),
            ["172-4-197-118"]
        );
        assert!(v4("build 2024-10-14-1-2 done").is_empty());
    }

    #[test]
    fn ipv4_leaves_numbers_that_are_not_addresses() {
        assert!(v4("version 1.2.3 and 1.2.3.4.5 and 256.1.1.1").is_empty());
        assert!(v4("date 2024-01-02 and 12.5 and 1234.1.1.1").is_empty());
        assert!(v4("uuid 12345678-1234-1234-1234-123456789012").is_empty());
    }

    #[test]
    fn ipv6_in_its_forms() {
        for addr in [
            "2001:db8::1",
            "fe80::1%eth0",
            "::ffff:192.0.2.1",
            "2001:db8:0:0:0:0:2:1",
            "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        ] {
            let line = format!("addr {addr} ok");
            assert_eq!(colon(&line), [(addr, Label::Ipv6)], "{line}");
        }
        assert_eq!(colon("[2001:db8::7]:443"), [("2001:db8::7", Label::Ipv6)]);
        assert_eq!(colon("ip=2001:db8::2,"), [("2001:db8::2", Label::Ipv6)]);
        assert!(colon("listen [::1]:8080").is_empty(), "loopback");
    }

    #[test]
    fn colons_that_are_not_addresses() {
        for line in [
            "at 12:30:45 ok",
            "std::vector<int>",
            "Foo::bar()",
            "a:b:c",
            "sshd[42]: ok",
            "ratio 1:2",
            "dead::beefy",
        ] {
            assert!(colon(line).is_empty(), "{line}: {:?}", colon(line));
        }
    }

    #[test]
    fn mac_in_three_forms() {
        assert_eq!(
            colon("hwaddr aa:bb:cc:dd:ee:ff"),
            [("aa:bb:cc:dd:ee:ff", Label::Mac)]
        );
        assert_eq!(
            colon("hwaddr AA-BB-CC-0D-EE-FF."),
            [("AA-BB-CC-0D-EE-FF", Label::Mac)]
        );
        assert_eq!(
            colon("mac aabb.ccdd.eeff"),
            [("aabb.ccdd.eeff", Label::Mac)]
        );
        assert!(colon("12:30:45:10:11:12:13").is_empty());
        let header = "f0:66:44:13:49:e9:a4:d3:ea:de:71:e9:08:00";
        assert_eq!(
            colon(&format!("OUT= MAC={header} SRC=")),
            [(header, Label::Mac)]
        );
    }
}
