//! Payment card numbers: 13–19 digits (12 for Maestro, 15 for JCB's 1800/2131), optionally
//! grouped by single spaces or dashes, starting like a card network's numbers, and passing the
//! Luhn check. No Luhn, no hit, so ids, timestamps and counters stay.

use super::classes::{Class, Classes};
use super::{Detector, Hit, Label};

const MIN_DIGITS: usize = 12;
const MAX_DIGITS: usize = 19;

/// Whether a group of four digits, a dot and a group of four to six digits followed by a dot
/// stand somewhere (`4111.1111.`, Amex's `3782.822463.`), as a card grouped by dots starts; a
/// decimal (`60553.433321`) is no such group.
fn dotted_groups(line: &[u8], classes: &Classes) -> bool {
    classes.ones_after(Class::Dot, Class::Digit).any(|p| {
        let next = line[p + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        p >= 4
            && (p == 4 || !line[p - 5].is_ascii_digit())
            && line[p - 4..p].iter().all(u8::is_ascii_digit)
            && (4..=6).contains(&next)
            && line.get(p + 1 + next) == Some(&b'.')
    })
}

/// Whether the line can hold a card: 12 digits, in a stretch of digits, spaces and dashes, or
/// grouped by dots (`4111.1111.…`).
fn dense_digits(line: &[u8], classes: &Classes) -> bool {
    classes.count(Class::Digit) >= MIN_DIGITS as u32
        && (dotted_groups(line, classes)
            || classes
                .long_runs(Class::CardStretch, MIN_DIGITS)
                .any(|(s, e)| classes.count_in(Class::Digit, s, e) >= MIN_DIGITS as u32))
}

/// Adds a hit for every card number in `line`, walking its runs of digits.
#[inline(never)]
pub(super) fn find(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    if !dense_digits(line, classes) {
        return;
    }
    let mut from = 0;
    while let Some(start) = classes.next_in(Class::Digit, from) {
        let i = classes.next_out(Class::Digit, start);
        from = i;
        // Glued to a word or an id (`blk_-6952…`, `v1.`), it is part of that.
        let glued = |k: usize| line[k].is_ascii_alphanumeric() || matches!(line[k], b'.' | b'_');
        if start > 0
            && (glued(start - 1) || (line[start - 1] == b'-' && start > 1 && glued(start - 2)))
        {
            continue;
        }
        let grouped = matches!(line.get(i), Some(b' ' | b'-' | b'.'))
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

/// Tries a number starting at `start`: digit groups joined by one space, dash or dot, the same
/// one throughout, in a card's grouping (fours, the last one shorter; or Amex's 4-6-5). Returns
/// the end of the longest Luhn-valid card found, and where scanning should resume: after the
/// card, else at the next group (so `2024 4111…` still finds the card). A number whose groups
/// go on past the card (`( 4340 3776 3364 3070 3745 3813 )`) is a list, not a card.
fn from_digits(line: &[u8], start: usize) -> (Option<usize>, usize) {
    let mut digits = [0u8; MAX_DIGITS];
    let mut groups = [0usize; MAX_DIGITS];
    let (mut n, mut g) = (0, 0);
    let mut i = start;
    let mut best = None;
    let mut first_group_end = None;
    let mut sep: Option<u8> = None;
    let mut overlong = false;
    'groups: loop {
        let group_start = n;
        while i < line.len() && line[i].is_ascii_digit() {
            if n == MAX_DIGITS {
                overlong = true;
                break 'groups;
            }
            digits[n] = line[i] - b'0';
            n += 1;
            i += 1;
        }
        groups[g] = n - group_start;
        g += 1;
        first_group_end.get_or_insert(i);
        let glued = i < line.len()
            && (line[i].is_ascii_alphanumeric()
                || line[i] == b'.'
                    && sep != Some(b'.')
                    && line.get(i + 1).is_some_and(u8::is_ascii_digit));
        if !glued && n >= MIN_DIGITS && card_grouping(&groups[..g]) && plausible(&digits[..n]) {
            best = Some((i, g));
        }
        match (line.get(i), line.get(i + 1)) {
            (Some(&c @ (b' ' | b'-' | b'.')), Some(d))
                if d.is_ascii_digit()
                    && sep.is_none_or(|s| s == c)
                    && (c != b'.' || groups[g - 1] == 4) =>
            {
                sep = Some(c);
                i += 1;
            }
            _ => break,
        }
        if g == MAX_DIGITS {
            break;
        }
    }
    // The groups went on past the card: a list of numbers. An ungrouped card (one run of its
    // digits) is a card whatever number follows it (`4111111111111111 3`).
    let best = best
        .filter(|&(_, bg)| bg == 1 || (bg == g && !overlong))
        .map(|(end, _)| end);
    (best, best.or(first_group_end).unwrap_or(i))
}

/// A card's grouping: one group, or fours with a shorter last group, or Amex/Diners' 4-6-5/4-6-4.
fn card_grouping(groups: &[usize]) -> bool {
    match groups {
        [_] => true,
        [4, 6, 4 | 5] => true,
        [init @ .., last] => {
            init.len() >= 3 && init.iter().all(|&l| l == 4) && (1..=4).contains(last)
        }
        [] => false,
    }
}

/// Starts like a card network's numbers of this length, and passes the Luhn check.
fn plausible(d: &[u8]) -> bool {
    let prefix = |p: &[u8]| d.starts_with(p);
    let number = |k: usize| d[..k].iter().fold(0u32, |n, &x| n * 10 + u32::from(x));
    let len = d.len();
    let network = match d[0] {
        // Visa.
        4 => matches!(len, 13 | 16 | 19),
        // Mastercard (51–55, 2221–2720) and Maestro (50, 56–58).
        5 => {
            (prefix(&[5]) && (51..=55).contains(&number(2)) && len == 16)
                || (matches!(number(2), 50 | 56..=58) && (12..=19).contains(&len))
        }
        2 => {
            (2221..=2720).contains(&number(4)) && len == 16 || (prefix(&[2, 1, 3, 1]) && len == 15)
        }
        // Amex, Diners, JCB (3528–3589 issued; the whole 35 range taken, as generators and
        // older cards use it).
        3 => {
            (matches!(number(2), 34 | 37) && len == 15)
                || ((300..=305).contains(&number(3)) || matches!(number(2), 36 | 38)) && len == 14
                || ((3500..=3599).contains(&number(4)) && (16..=19).contains(&len))
        }
        // Discover, UnionPay, Maestro's 6304/6759/676.
        6 => {
            ((prefix(&[6, 0, 1, 1]) || prefix(&[6, 5]) || (644..=649).contains(&number(3)))
                && (16..=19).contains(&len))
                || (prefix(&[6, 2]) && (16..=19).contains(&len))
                || ((prefix(&[6, 3, 0, 4]) || prefix(&[6, 7, 5, 9]) || prefix(&[6, 7, 6]))
                    && (12..=19).contains(&len))
        }
        1 => prefix(&[1, 8, 0, 0]) && len == 15,
        _ => false,
    };
    network && luhn(d)
}

pub(super) fn luhn(d: &[u8]) -> bool {
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
        crate::scrub::spans(line, find)
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
        assert_eq!(found(" 4111111111111111 3"), ["4111111111111111"]);
        assert_eq!(found(" 0 0 4111111111111111 1981"), ["4111111111111111"]);
        assert_eq!(found("2024 4111111111111111"), ["4111111111111111"]);
        assert_eq!(
            found("maestro 630427373398 jcb 180016070420458"),
            ["630427373398", "180016070420458"]
        );
    }

    /// The densest stretch of digits joined by spaces or dashes, or a dotted card's first
    /// groups, byte by byte: what the prefilter must agree with.
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
        let digits = line.iter().filter(|b| b.is_ascii_digit()).count();
        let digit = |i: usize| line.get(i).is_some_and(u8::is_ascii_digit);
        let dotted = (4..line.len()).any(|i| {
            let after = (i + 1..).take_while(|&k| digit(k)).count();
            line[i] == b'.'
                && (i - 4..i).all(digit)
                && (i == 4 || !digit(i - 5))
                && (4..=6).contains(&after)
                && line.get(i + 1 + after) == Some(&b'.')
        });
        best >= MIN_DIGITS || (dotted && digits >= MIN_DIGITS)
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
                dense_digits(&line, &Classes::of(&line)),
                dense_naive(&line),
                "{:?}",
                String::from_utf8_lossy(&line)
            );
        }
        let dense = |l: &[u8]| dense_digits(l, &Classes::of(l));
        assert!(dense(b"card 4111 1111 1111 1111 ok"));
        assert!(dense(b"card 4111.1111.1111.1111 ok"));
        assert!(!dense(b"[60553.433321] EXT4-fs 1234 5678 (sda1)"));
        assert!(!dense(
            b"from 192.0.2.144 port 14055 ssh2 pid 40453 uid 1000"
        ));
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
