//! Numbers that identify a person, each with its validator: bank accounts (IBAN, mod-97 and the
//! country's length), national identifiers (Dutch BSN, the 11-check, next to a context word)
//! and telephone numbers (international `+` form, or a national form next to a phone word).

use super::classes::{Class, Classes};
use super::values::push;
use super::{Detector, Hit, Label};

/// IBAN lengths of the countries that use one most in this agent's market, and of the others
/// a log is likely to carry; other country codes take any length from 15 to 34.
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"NL", 18),
    (b"BE", 16),
    (b"DE", 22),
    (b"FR", 27),
    (b"GB", 22),
    (b"LU", 20),
    (b"ES", 24),
    (b"IT", 27),
    (b"PT", 25),
    (b"AT", 20),
    (b"CH", 21),
    (b"IE", 22),
    (b"DK", 18),
    (b"SE", 24),
    (b"NO", 15),
    (b"FI", 18),
    (b"PL", 28),
];

/// Adds a hit for every IBAN: two capitals, two check digits, then letters and digits, plain or
/// grouped by four with single spaces.
#[inline(never)]
pub(super) fn find_iban(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    let mut next_free = 0;
    // From the check digits: a digit run whose two bytes before are capitals starting a word.
    // `NL91…`: the check digits follow a capital.
    for d in classes.ones_after(Class::Digit, Class::Upper) {
        let Some(s) = d.checked_sub(2) else {
            continue;
        };
        if s < next_free || line.len() < s + 15 || (s > 0 && super::is_word(line[s - 1])) {
            continue;
        }
        let head = &line[s..s + 4];
        if !(head[0].is_ascii_uppercase()
            && head[1].is_ascii_uppercase()
            && head[2].is_ascii_digit()
            && head[3].is_ascii_digit())
        {
            continue;
        }
        let mut chars = [0u8; 34];
        let mut ends = [0usize; 34];
        let (mut n, mut j, mut group) = (0, s, 0);
        while j < line.len() && n < 34 {
            let b = line[j];
            if b.is_ascii_uppercase() || b.is_ascii_digit() {
                chars[n] = b;
                n += 1;
                group += 1;
                j += 1;
                ends[n - 1] = j;
            } else if b == b' '
                && group == 4
                && line.get(j + 1).is_some_and(u8::is_ascii_alphanumeric)
            {
                group = 0;
                j += 1;
            } else {
                break;
            }
        }
        let want = IBAN_LENGTHS
            .iter()
            .find(|(c, _)| c[..] == chars[..2])
            .map(|&(_, l)| l);
        let lengths = match want {
            Some(l) => l..=l,
            None => 15..=34,
        };
        if let Some(len) = lengths.rev().find(|&l| {
            l <= n
                && mod97(&chars[..l])
                && !line.get(ends[l - 1]).is_some_and(u8::is_ascii_alphanumeric)
        }) {
            push(hits, s, ends[len - 1], Detector::Iban, Label::Iban);
            next_free = ends[len - 1];
        }
    }
}

/// The IBAN check: the first four characters moved to the end, letters as 10–35, mod 97 is 1.
pub(super) fn mod97(iban: &[u8]) -> bool {
    let mut rem = 0u32;
    for &b in iban[4..].iter().chain(&iban[..4]) {
        let v = if b.is_ascii_digit() {
            u32::from(b - b'0')
        } else {
            u32::from(b - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// Words that announce a national identifier, lower case.
const NATIONAL_ID_WORDS: &[&[u8]] = &[
    b"bsn",
    b"burgerservicenummer",
    b"sofinummer",
    b"sofi",
    b"national_id",
    b"national id",
    b"nationalid",
    b"citizen service number",
];

/// Words that announce a telephone number, lower case.
const PHONE_WORDS: &[&[u8]] = &[
    b"tel",
    b"phone",
    b"mobile",
    b"mobiel",
    b"gsm",
    b"fax",
    b"cell",
    b"sms",
    b"msisdn",
    b"call",
    b"bel",
    "t\u{e9}l".as_bytes(),
    b"telefon",
    b"handy",
    b"rufnummer",
    b"portable",
    b"contact",
];

/// Whether one of `words` stands in the `reach` bytes before `at`, case-insensitively.
fn announced(line: &[u8], at: usize, reach: usize, words: &[&[u8]]) -> bool {
    let window = &line[at.saturating_sub(reach.min(64))..at];
    let mut lower = [0u8; 64];
    for (l, b) in lower.iter_mut().zip(window) {
        *l = b.to_ascii_lowercase();
    }
    let lower = &lower[..window.len()];
    // A word of its own (`tel:`, `Tel.`), not one inside another (`updatelocked`).
    words.iter().any(|w| {
        memchr::memchr_iter(w[0], lower)
            .any(|i| lower[i..].starts_with(w) && (i == 0 || !lower[i - 1].is_ascii_alphabetic()))
    })
}

/// Adds a hit for every Dutch BSN (nine digits, or `1234.56.782`, passing the 11-check) that a
/// context word announces.
#[inline(never)]
pub(super) fn find_national_id(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    // Nine digits in a row, or groups joined by dots (`1234.56.782`): the runs of nine, and the
    // runs of three or four digits before a dot.
    let dotted = classes
        .ones_after(Class::Dot, Class::Digit)
        .filter_map(|p| {
            let mut s = p;
            while s > 0 && p - s < 5 && line[s - 1].is_ascii_digit() {
                s -= 1;
            }
            (3..=4).contains(&(p - s)).then_some(s)
        });
    let whole = classes
        .long_runs(Class::Digit, 9)
        .filter_map(|(s, e)| (e - s == 9).then_some(s));
    for s in whole.chain(dotted) {
        if s > 0 && (line[s - 1].is_ascii_alphanumeric() || line[s - 1] == b'.') {
            continue;
        }
        let mut digits = [0u8; 9];
        let (mut n, mut j) = (0, s);
        while j < line.len() && n < 10 {
            match line[j] {
                b @ b'0'..=b'9' => {
                    if n < 9 {
                        digits[n] = b - b'0';
                    }
                    n += 1;
                }
                b'.' if line.get(j + 1).is_some_and(u8::is_ascii_digit) && n < 9 => {}
                _ => break,
            }
            j += 1;
        }
        if n != 9 || line.get(j).is_some_and(u8::is_ascii_alphanumeric) || !eleven_check(&digits) {
            continue;
        }
        // HL7 v2 names the BSN by its assigning authority: `123456782^^^NLMINBIZA^NNNLD`.
        let hl7 = line[j..].starts_with(b"^^^NLMINBIZA");
        if hl7 || announced(line, s, 40, NATIONAL_ID_WORDS) {
            push(hits, s, j, Detector::NationalId, Label::NationalId);
        }
    }
}

/// The BSN 11-check: 9·d1 + 8·d2 + … + 2·d8 − d9 is a multiple of 11 (and not zero).
pub(super) fn eleven_check(d: &[u8; 9]) -> bool {
    let sum: i32 = (0..8)
        .map(|i| (9 - i as i32) * i32::from(d[i]))
        .sum::<i32>()
        - i32::from(d[8]);
    sum != 0 && sum % 11 == 0
}

/// Adds a hit for every telephone number: `+` and 8–15 digits in groups, or 9–12 digits in
/// groups (`06-12345678`, `(415) 555-0123`, `020 794 6095`) after a phone word.
#[inline(never)]
pub(super) fn find_phone(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    let mut next_free = 0;
    // A phone number has eight digits or more, so it stands in a long enough stretch.
    let starts = classes
        .long_runs(Class::PhoneStretch, 8)
        .flat_map(|(a, b)| classes.digit_runs(a, b));
    for s in starts {
        if s < next_free {
            continue;
        }
        let plus = s > 0 && line[s - 1] == b'+';
        let start = if plus || (s > 0 && line[s - 1] == b'(') {
            s - 1
        } else {
            s
        };
        if start > 0
            && (line[start - 1].is_ascii_alphanumeric()
                || matches!(line[start - 1], b'.' | b'-' | b'_' | b'/')
                || (!plus && matches!(line[start - 1], b':' | b'[')))
        {
            continue;
        }
        let (mut digits, mut j, mut end) = (0, s, s);
        while j < line.len() {
            let b = line[j];
            if b.is_ascii_digit() {
                digits += 1;
                j += 1;
                end = j;
            } else if (b == b'(' || line.get(j + 1) == Some(&b'(')) && digits >= 6 {
                // An area code's parentheses come early (`+1 (415)`, `(020)`); later ones
                // open a remark (`+31 6 5596 1993 (17.2s)`).
                break;
            } else if matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'/')
                && line
                    .get(j + 1)
                    .is_some_and(|&n| n.is_ascii_digit() || n == b'(')
                || (b == b')' && line.get(j + 1) == Some(&b' '))
            {
                j += 1;
            } else {
                break;
            }
        }
        if line
            .get(end)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b':')
        {
            continue;
        }
        // Three dots make an address or a version (`10.1.2.3`, `12.0.5.104`); two (`415.555.0123`)
        // or four (`06.88.14.24.19`) a phone.
        if line[start..end].iter().filter(|&&b| b == b'.').count() == 3 {
            next_free = end;
            continue;
        }
        // `0031 6 …`: the international prefix written with two zeros.
        let double_zero = line[start..].starts_with(b"00")
            && line[start + 2..end]
                .iter()
                .position(|b| !b.is_ascii_digit())
                .is_some_and(|g| (1..=3).contains(&g));
        // A Dutch mobile number in its national form, `06-12345678`: a shape of its own.
        let dutch_mobile = end - start == 11 && line[start..].starts_with(b"06-");
        let ok = if plus || double_zero {
            (8..=15).contains(&digits)
        } else if dutch_mobile {
            true
        } else {
            (9..=12).contains(&digits) && announced(line, start, 32, PHONE_WORDS)
        };
        if ok {
            push(hits, start, end, Detector::Phone, Label::Phone);
            next_free = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(f: fn(&[u8], &Classes, &mut Vec<Hit>), line: &str) -> Vec<String> {
        let mut h = Vec::new();
        f(line.as_bytes(), &Classes::of(line.as_bytes()), &mut h);
        h.iter().map(|h| line[h.start..h.end].to_owned()).collect()
    }

    #[test]
    fn ibans_are_checked_by_mod_97_and_length() {
        assert_eq!(
            found(find_iban, "pay NL91ABNA0417164300 now"),
            ["NL91ABNA0417164300"]
        );
        assert_eq!(
            found(find_iban, "iban: \"DE89 3704 0044 0532 0130 00\","),
            ["DE89 3704 0044 0532 0130 00"]
        );
        assert!(
            found(find_iban, "NL91ABNA0417164301").is_empty(),
            "bad check digits"
        );
        assert!(found(find_iban, "ID12345678901234567 build AB12CDEF").is_empty());
    }

    #[test]
    fn a_bsn_needs_its_check_and_its_word() {
        assert_eq!(
            found(find_national_id, "klant met BSN: 111222333"),
            ["111222333"]
        );
        assert_eq!(
            found(find_national_id, "sofinummer 1112.22.333 ok"),
            ["1112.22.333"]
        );
        assert!(
            found(find_national_id, "BSN 111222334").is_empty(),
            "fails the 11-check"
        );
        assert!(
            found(find_national_id, "order 111222333 shipped").is_empty(),
            "no context word"
        );
    }

    #[test]
    fn phones_in_international_form_or_after_a_phone_word() {
        assert_eq!(
            found(find_phone, "call +31 6 12345678."),
            ["+31 6 12345678"]
        );
        assert_eq!(
            found(find_phone, "tel:+1 (415) 555-0123"),
            ["+1 (415) 555-0123"]
        );
        assert_eq!(found(find_phone, "mobile 06-12345678"), ["06-12345678"]);
        assert_eq!(
            found(find_phone, "SMS sent to +1-946-352-9478 (217ms)"),
            ["+1-946-352-9478"]
        );
        assert_eq!(
            found(find_phone, "sent to +31612345678(2543us)"),
            ["+31612345678"]
        );
        assert_eq!(
            found(find_phone, "phone: (415) 555-0123 x"),
            ["(415) 555-0123"]
        );
        for line in [
            "2024-05-03 03:04:58 took 123456789 ms",
            "offset +0100 at 12:00",
            "order 0612345678 shipped",
            "v1.2.3-4567.89012",
            "userActivityNoUpdateLocked: eventTime=261843648, event=0",
        ] {
            assert!(found(find_phone, line).is_empty(), "{line}");
        }
    }
}
