//! A line's leading timestamp (`Jan  1 00:00:00`, `2024-01-01T10:00:00.123Z`): it never holds
//! personal data, yet its digits, colons and capitals are candidates for half the detectors,
//! so its class bits are cleared before they run.

/// The length of the timestamp that starts `line` and is followed by a space, or 0.
pub(super) fn leading(line: &[u8]) -> usize {
    let pri = rfc5424_prefix(line);
    syslog(&line[pri..])
        .or_else(|| iso(&line[pri..]))
        .map_or(0, |n| pri + n)
}

/// RFC 5424's `<PRI>1 ` before the timestamp (its length, or 0).
pub(super) fn rfc5424_prefix(line: &[u8]) -> usize {
    if line.first() != Some(&b'<') {
        return 0;
    }
    let digits = line[1..].iter().take_while(|b| b.is_ascii_digit()).count();
    let at = 1 + digits;
    if (1..=3).contains(&digits) && line.get(at..at + 3) == Some(b">1 ") {
        at + 3
    } else {
        0
    }
}

fn digits(line: &[u8], at: usize, n: usize) -> bool {
    line.get(at..at + n)
        .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
}

/// `hh:mm:ss` at `at`.
fn clock(line: &[u8], at: usize) -> bool {
    digits(line, at, 2)
        && line.get(at + 2) == Some(&b':')
        && digits(line, at + 3, 2)
        && line.get(at + 5) == Some(&b':')
        && digits(line, at + 6, 2)
}

/// RFC 3164's `Mmm dd hh:mm:ss` (the day space-padded).
fn syslog(line: &[u8]) -> Option<usize> {
    let ok = line.len() > 15
        && line[0].is_ascii_uppercase()
        && line[1].is_ascii_lowercase()
        && line[2].is_ascii_lowercase()
        && line[3] == b' '
        && (line[4] == b' ' || line[4].is_ascii_digit())
        && line[5].is_ascii_digit()
        && line[6] == b' '
        && clock(line, 7)
        && line[15] == b' ';
    ok.then_some(15)
}

/// ISO 8601 / RFC 3339: `yyyy-mm-dd`, `T` or a space, `hh:mm:ss`, an optional fraction after
/// `.` or `,`, an optional `Z` or offset.
fn iso(line: &[u8]) -> Option<usize> {
    let date = digits(line, 0, 4)
        && line.get(4) == Some(&b'-')
        && digits(line, 5, 2)
        && line.get(7) == Some(&b'-')
        && digits(line, 8, 2)
        && matches!(line.get(10), Some(b'T' | b' '))
        && clock(line, 11);
    if !date {
        return None;
    }
    let mut e = 19;
    if matches!(line.get(e), Some(b'.' | b',')) && digits(line, e + 1, 1) {
        e += 1;
        while line.get(e).is_some_and(u8::is_ascii_digit) {
            e += 1;
        }
    }
    match line.get(e) {
        Some(b'Z') => e += 1,
        Some(b'+' | b'-') if digits(line, e + 1, 2) => {
            e += 3;
            if line.get(e) == Some(&b':') {
                e += 1;
            }
            if !digits(line, e, 2) {
                return None;
            }
            e += 2;
        }
        _ => {}
    }
    (line.get(e) == Some(&b' ')).then_some(e)
}

#[cfg(test)]
mod tests {
    use super::leading;

    #[test]
    fn syslog_and_iso_stamps_followed_by_a_space() {
        let cases: [(&str, usize); 11] = [
            ("Jan  1 00:00:23 host01 kernel: x", 15),
            ("Dec 24 23:59:59 h", 15),
            ("2024-01-01T10:00:00Z app", 20),
            ("2024-01-01 10:00:00,123 INFO", 23),
            ("2024-01-01T10:00:00.123456+02:00 x", 32),
            ("2024-01-01T10:00:00-0500 x", 24),
            ("2024-01-01T10:00:00+02 x", 0),
            ("Jan  1 00:00:23", 0),
            ("user 1 00:00:23 x", 0),
            ("<60>1 2024-02-22T04:30:01.966500Z db-p-49 authsvc", 33),
            ("<60>2 2024-02-22T04:30:01Z x", 0),
        ];
        for (line, want) in cases {
            assert_eq!(leading(line.as_bytes()), want, "{line}");
        }
    }
}
