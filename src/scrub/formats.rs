//! Names and identifiers found by their place in a format that fixes it: an HL7 PID segment's
//! patient name, a Windows account's SID, OpenVPN's client prefix, a certificate's or
//! directory entry's common name. The phrase- and key-based rules are `users.rs`'s.

use super::users::{name_at, user, word_end};
use super::values::push;
use super::{Detector, Hit, Label};

/// An HL7 v2 PID segment's patient name (PID-5) and alias (PID-9), `Family^Given^…`: each
/// name component of the field.
pub(super) fn hl7_patient_names(line: &[u8], hits: &mut Vec<Hit>) {
    let mut start = 0;
    for (field, text) in line.split(|&b| b == b'|').enumerate() {
        if matches!(field, 5 | 9) {
            let mut a = start;
            for part in text.split(|&b| matches!(b, b'^' | b'~')) {
                // Components past the names are codes (`L` for legal name).
                if part.len() > 1 && part.iter().any(u8::is_ascii_lowercase) {
                    user(hits, Some((a, a + part.len())));
                }
                a += part.len() + 1;
            }
        }
        start += text.len() + 1;
    }
}

/// A Windows account's security identifier, `S-1-5-21-<domain>-<domain>-<domain>-<RID>`, whose
/// RID is 1000 or more: a person's account (lower RIDs are built-in accounts and groups).
pub(super) fn windows_sid(line: &[u8], s: usize, hits: &mut Vec<Hit>) {
    if s > 0 && (line[s - 1].is_ascii_alphanumeric() || line[s - 1] == b'-') {
        return;
    }
    let mut e = s + b"S-1-5-21".len();
    let mut parts = 0;
    let mut rid = 0u64;
    while line.get(e) == Some(&b'-') && line.get(e + 1).is_some_and(u8::is_ascii_digit) {
        e += 1;
        rid = 0;
        while let Some(&b) = line.get(e).filter(|b| b.is_ascii_digit()) {
            rid = rid.saturating_mul(10).saturating_add(u64::from(b - b'0'));
            e += 1;
        }
        parts += 1;
    }
    if parts == 4 && rid >= 1000 && !line.get(e).is_some_and(u8::is_ascii_alphanumeric) {
        push(hits, s, e, Detector::UserName, Label::UserId);
    }
}

/// OpenVPN's client prefix, which starts the message: `NAME/203.0.113.9:51234 MULTI: …`.
/// Only there: Java prints `host/addr:port` inside its messages.
pub(super) fn openvpn_client(line: &[u8], stamp: usize, hits: &mut Vec<Hit>) {
    if stamp == 0 {
        return;
    }
    // The message starts right after the stamp, or after the tag that ends in `:` among the
    // next two words (`vpn openvpn[7]: `).
    let mut m = stamp + 1;
    for _ in 0..3 {
        if m >= line.len() {
            return;
        }
        let word = line[m..].iter().take_while(|&&b| b != b' ').count();
        let slash_digit = memchr::memchr(b'/', &line[m..m + word])
            .is_some_and(|d| line.get(m + d + 1).is_some_and(u8::is_ascii_digit));
        if slash_digit
            && let Some((a, b)) = name_at(line, m)
            && line.get(b) == Some(&b'/')
            && let Some(end) = super::net::quad(line, b + 1, b'.')
            && line.get(end) == Some(&b':')
        {
            user(hits, Some((a, b)));
            return;
        }
        if line[m..m + word].ends_with(b":") {
            m += word + 1;
            continue;
        }
        let next = m + word + 1;
        let tag = line.get(next..).is_some_and(|rest| {
            let w = rest.iter().take_while(|&&b| b != b' ').count();
            rest[..w].ends_with(b":")
        });
        if !tag {
            return;
        }
        m = next;
    }
}

pub(super) fn common_name(line: &[u8], v: usize, hits: &mut Vec<Hit>) {
    if let Some(end) = super::values::person_name(line, v) {
        if matches!(
            line.get(end),
            None | Some(b',' | b'/' | b'"' | b'\'' | b')' | b'+')
        ) {
            user(hits, Some((v, end)));
        }
        return;
    }
    let Some((a, b)) = name_at(line, v).map(|(a, b)| (a, b.min(word_end(line, a)))) else {
        return;
    };
    let name = &line[a..b];
    let login = name
        .iter()
        .any(|&c| matches!(c, b'.' | b'_') || c.is_ascii_digit())
        && name.iter().any(u8::is_ascii_alphabetic)
        && name[0].is_ascii_alphabetic();
    if login
        && matches!(
            line.get(b),
            None | Some(b',' | b'/' | b'"' | b'\'' | b')' | b'+' | b' ')
        )
        && !super::hosts::ends_in_tld(name)
    {
        user(hits, Some((a, b)));
    }
}
