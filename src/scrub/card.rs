//! Payment card numbers: 13–19 digits (12 for Maestro, 15 for JCB's 1800/2131), optionally
//! grouped by single spaces or dashes, starting like a card network's numbers, and passing the
//! Luhn check. No Luhn, no hit, so ids, timestamps and counters stay.

use super::classes::{Class, Classes};
use super::{Detector, Hit, Label};

const MIN_DIGITS: usize = 12;
const MAX_DIGITS: usize = 19;

/// Whether some stretch of digits, spaces and dashes holds 12 digits: every card does.
fn dense_digits(classes: &Classes) -> bool {
    classes.count(Class::Digit) >= MIN_DIGITS as u32
        && classes
            .long_runs(Class::CardStretch, MIN_DIGITS)
            .any(|(s, e)| classes.count_in(Class::Digit, s, e) >= MIN_DIGITS as u32)
}

/// Adds a hit for every card number in `line`, walking its runs of digits.
#[inline(never)]
pub(super) fn find(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    if !dense_digits(classes) {
        return;
    }
    let mut from = 0;
    while let Some(start) = classes.next_in(Class::Digit, from) {
        let i = classes.next_out(Class::Digit, start);
        from = i;
        if start > 0 && (line[start - 1].is_ascii_alphanumeric() || line[start - 1] == b'.') {
            continue;
        }
        let grouped = matches!(line.get(i), Some(b' ' | b'-'))
            && line.get(i + 1).is_some_and(u8::is_ascii_digit);
        if i - start < MIN_DIGITS && !grouped {
            continue;
        }
        let (found, resume) = from_digits(line, start);
        if let Some(end) = found {
            hits.push(Hit {
                start,
                end,
                detector: Detector::CreditCard,
                label: Label::CreditCard,
            });
        }
        from = resume.max(start + 1);
    }
}

/// Tries a number starting at `start`: digit groups joined by one space or dash, the same one
/// throughout. Returns the end of the longest Luhn-valid card found, and where scanning should
/// resume: after the card, else at the next group (so `2024 4111…` still finds the card).
fn from_digits(line: &[u8], start: usize) -> (Option<usize>, usize) {
    let mut digits = [0u8; MAX_DIGITS];
    let mut n = 0;
    let mut i = start;
    let mut best = None;
    let mut first_group_end = None;
    let mut sep: Option<u8> = None;
    'groups: loop {
        while i < line.len() && line[i].is_ascii_digit() {
            if n == MAX_DIGITS {
                break 'groups;
            }
            digits[n] = line[i] - b'0';
            n += 1;
            i += 1;
        }
        first_group_end.get_or_insert(i);
        let glued = i < line.len()
            && (line[i].is_ascii_alphanumeric()
                || line[i] == b'.' && line.get(i + 1).is_some_and(u8::is_ascii_digit));
        if !glued && n >= MIN_DIGITS && plausible(&digits[..n]) {
            best = Some(i);
        }
        match (line.get(i), line.get(i + 1)) {
            (Some(&c @ (b' ' | b'-')), Some(d))
                if d.is_ascii_digit() && sep.is_none_or(|s| s == c) =>
            {
                sep = Some(c);
                i += 1;
            }
            _ => break,
        }
    }
    (best, best.or(first_group_end).unwrap_or(i))
}

/// Starts like a card network's numbers of this length, and passes the Luhn check.
fn plausible(d: &[u8]) -> bool {
    let starts = |p: &[u8]| d.starts_with(p);
    let network = match d.len() {
        // Maestro's 12-digit numbers: only its own ranges, as 12 digits are common ids.
        12 => [
            &[5, 0][..],
            &[5, 6],
            &[5, 7],
            &[5, 8],
            &[6, 3, 0, 4],
            &[6, 7, 5, 9],
            &[6, 7, 6],
        ]
        .into_iter()
        .any(starts),
        15 if starts(&[1, 8, 0, 0]) || starts(&[2, 1, 3, 1]) => true,
        _ => (2..=6).contains(&d[0]),
    };
    network && luhn(d)
}

fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(k, &x)| {
            let x = u32::from(x);
            if k % 2 == 1 {
                if x * 2 > 9 { x * 2 - 9 } else { x * 2 }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(line: &str) -> Vec<&str> {
        let mut h = Vec::new();
        find(line.as_bytes(), &Classes::of(line.as_bytes()), &mut h);
        h.iter().map(|h| &line[h.start..h.end]).collect()
    }

    #[test]
    fn test_cards_in_their_forms() {
        assert_eq!(found("card=4111111111111111 ok"), ["4111111111111111"]);
        assert_eq!(found("4111 1111 1111 1111"), ["4111 1111 1111 1111"]);
        assert_eq!(found("amex 3400-000000-00009."), ["3400-000000-00009"]);
        assert_eq!(
            found("5500000000000004,6011111111111117"),
            ["5500000000000004", "6011111111111117"]
        );
        assert_eq!(found("pan:4012888888881881"), ["4012888888881881"]);
        assert_eq!(found("2024 4111111111111111"), ["4111111111111111"]);
        assert_eq!(
            found("maestro 630427373398 jcb 180016070420458"),
            ["630427373398", "180016070420458"]
        );
    }

    /// The densest stretch, byte by byte: what the prefilter must agree with.
    fn dense_naive(line: &[u8]) -> bool {
        let (mut run, mut best) = (0, 0);
        for &b in line {
            run = if b.is_ascii_digit() {
                run + 1
            } else if b == b' ' || b == b'-' {
                run
            } else {
                0
            };
            best = best.max(run);
        }
        best >= MIN_DIGITS
    }

    #[test]
    fn the_prefilter_agrees_with_the_naive_scan() {
        let mut seed = 7u64;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            let len = (seed >> 57) as usize;
            let line: Vec<u8> = (0..len)
                .map(|k| b"0123456789 -.x"[((seed >> (k % 50)) as usize + k * 7) % 14])
                .collect();
            assert_eq!(
                dense_digits(&Classes::of(&line)),
                dense_naive(&line),
                "{:?}",
                String::from_utf8_lossy(&line)
            );
        }
        assert!(dense_digits(&Classes::of(b"card 4111 1111 1111 1111 ok")));
        assert!(!dense_digits(&Classes::of(
            b"from 192.0.2.144 port 14055 ssh2 pid 40453"
        )));
    }

    #[test]
    fn numbers_that_fail_luhn_or_shape_stay() {
        assert!(found("4111111111111112").is_empty(), "Luhn");
        assert!(found("1700000000123 ms").is_empty(), "timestamp");
        assert!(
            found("id 412345678905").is_empty(),
            "Luhn-valid 12 digits outside Maestro's ranges"
        );
        assert!(found("blk_-1608999687919862906").is_empty());
        assert!(found("id 41111111111111110000").is_empty(), "too long");
        assert!(found("v4111111111111111").is_empty(), "glued to a word");
        assert!(found("4111 1111-1111 1111").is_empty(), "mixed separators");
    }
}
