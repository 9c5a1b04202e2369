//! Property tests of the scrubber: no planted value leaks, whole or in part (tests/support/leak.rs
//! says what a part is), scrubbing is idempotent, and no input, however malformed, makes it panic.

#[path = "support/leak.rs"]
mod leak;

use std::sync::LazyLock;

use noticed::policy::{KEY_LEN, PseudonymKey};
use noticed::scrub::{LineState, Scratch, ScrubAction, ScrubConfig, Scrubber};
use proptest::prelude::*;

static PSEUDONYMIZING: LazyLock<Scrubber> =
    LazyLock::new(|| Scrubber::new(&ScrubConfig::default()));
static MASKING: LazyLock<Scrubber> = LazyLock::new(|| {
    Scrubber::new(&ScrubConfig {
        action: ScrubAction::Mask,
        ..ScrubConfig::default()
    })
});

/// Scrubs one line; also says whether anything was replaced.
fn scrub_reporting(s: &Scrubber, line: &[u8]) -> (Vec<u8>, bool) {
    let key = PseudonymKey::from_bytes(&[2; KEY_LEN]);
    let mut out = Vec::new();
    let changed = s.scrub_line(
        &key,
        line,
        &mut LineState::default(),
        &mut Scratch::default(),
        &mut out,
    );
    (out, changed)
}

/// Pieces of the line shapes the positional rules read.
const FRAGMENTS: &[&str] = &[
    "Jan  1 00:00:07 ",
    "2024-01-01T10:00:00.5Z ",
    "<60>1 ",
    "web01 ",
    "sshd[7]: ",
    "PID|",
    "|",
    "^",
    "^^^NLMINBIZA",
    "123456782",
    "S-1-5-21-",
    "1-2-3-1001",
    "06-",
    "12345678",
    "CN=",
    "User <",
    ">",
    "A=",
    "login:",
    "imap-login: ",
    "user=<",
    "basic auth ",
    "a:b",
    "masterauth ",
    "ConvertTo-SecureString ",
    "'",
    "\"",
    "{\"customer\":{\"name\":",
    "\"id\":",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    "52.370216",
    "4807.038,N,",
    "Anna Berg",
    "olgas-laptop",
    "Annas-iPhone",
    "'s iPhone",
    "bob/192.0.2.1:1194 ",
    "bob@db ERROR:",
    "STA 84325c8600ad",
    "0x00178801bb4e6f96",
    "HOSTNAME=",
    "api-7d9f8b6c5-x2k4q",
    " ",
    "=",
];

fn scrub(s: &Scrubber, line: &[u8]) -> Vec<u8> {
    scrub_reporting(s, line).0
}

fn luhn_complete(prefix: &[u8]) -> String {
    // Append the check digit that makes the number pass Luhn.
    let sum: u32 = prefix
        .iter()
        .rev()
        .enumerate()
        .map(|(k, &d)| {
            let d = u32::from(d);
            if k % 2 == 0 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    let check = (10 - sum % 10) % 10;
    prefix
        .iter()
        .map(|d| char::from(b'0' + d))
        .chain(std::iter::once(char::from(b'0' + check as u8)))
        .collect()
}

/// A personal value or secret, and the context it is planted in.
fn planted() -> impl Strategy<Value = (String, String)> {
    detected().prop_map(|(_, value, context)| (value, context))
}

/// A personal value or secret, the detector that must find it, and the context (`{}` marks
/// the value's place) it is planted in.
fn detected() -> impl Strategy<Value = (&'static str, String, String)> {
    let word = "[a-z][a-z0-9]{2,9}";
    prop_oneof![
        (
            word,
            word,
            prop::sample::select(vec![
                "example.com",
                "mail.example.org",
                "xn--bcher-kva.example"
            ])
        )
            .prop_map(|(a, b, d)| (
                "email",
                format!("{a}.{b}@{d}"),
                "mail from {} ok".to_owned()
            )),
        // Loopback (127/8) names no host and is kept.
        (
            (1u8..=223).prop_filter("not loopback", |a| *a != 127),
            any::<u8>(),
            any::<u8>(),
            1u8..=254
        )
            .prop_map(|(a, b, c, d)| (
                "ipv4",
                format!("{a}.{b}.{c}.{d}"),
                "from {} port 22".to_owned()
            )),
        prop::collection::vec(1u16..=0xffff, 8).prop_map(|g| (
            "ipv6",
            g.iter()
                .map(|x| format!("{x:x}"))
                .collect::<Vec<_>>()
                .join(":"),
            "peer [{}]:443".to_owned()
        )),
        (1u16..=0xffff, 1u16..=0xffff).prop_map(|(a, b)| (
            "ipv6",
            format!("2001:db8::{a:x}:{b:x}"),
            "client {} connected".to_owned()
        )),
        prop::collection::vec(any::<u8>(), 6).prop_map(|m| (
            "mac",
            m.iter()
                .map(|x| format!("{x:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
            "hwaddr {} up".to_owned()
        )),
        (
            // Issuer ranges and lengths: Visa, Mastercard (both ranges), Amex, Discover,
            // UnionPay, JCB.
            prop::sample::select(vec![
                (&[4u8][..], 16usize),
                (&[4], 13),
                (&[4], 19),
                (&[5, 3], 16),
                (&[2, 5], 16),
                (&[3, 7], 15),
                (&[6, 0, 1, 1], 16),
                (&[6, 5], 19),
                (&[6, 2], 17),
                (&[3, 5, 4], 16),
            ]),
            prop::collection::vec(0u8..10, 18)
        )
            .prop_map(|((prefix, len), rest)| {
                let mut p = prefix.to_vec();
                p.extend(&rest[..len - 1 - prefix.len()]);
                (
                    "credit_card",
                    luhn_complete(&p),
                    "card={} amount=5".to_owned(),
                )
            }),
        "[A-Za-z]{3,10}[0-9][A-Za-z0-9!@#%^*]{2,9}".prop_map(|p| (
            "secret",
            p,
            "login ok password={} next".to_owned()
        )),
        "[A-Za-z0-9]{12,40}".prop_map(|t| ("secret", t, "Authorization: Bearer {}".to_owned())),
        ("[a-z][a-z0-9]{3,9}", "[A-Za-z0-9]{8,20}").prop_map(|(u, p)| (
            "url_credentials",
            format!("{u}:{p}"),
            "fetching https://{}@repo.example.com/pkg".to_owned()
        )),
        // Names with a digit second, which no filler word has.
        "[a-z][0-9][a-z0-9_.-]{1,10}[a-z0-9]".prop_map(|u| (
            "user_name",
            u,
            "Failed password for {} from 10.0.0.1".to_owned()
        )),
        "[a-z][0-9][a-z0-9_-]{1,10}".prop_map(|u| (
            "user_name",
            u,
            "authentication failure; user={} tty=ssh".to_owned()
        )),
    ]
}

/// `NL` IBAN of `bank` (four letters) and `account` (ten digits), with its check digits.
fn iban_nl(bank: &str, account: &str) -> String {
    let digits: String = format!("{bank}{account}NL00")
        .chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                (c as u32 - 'A' as u32 + 10).to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    let rem = digits
        .bytes()
        .fold(0u32, |r, d| (r * 10 + u32::from(d - b'0')) % 97);
    format!("NL{:02}{bank}{account}", 98 - rem)
}

/// Eight digits and the ninth that passes the BSN 11-check, when one does.
fn bsn(first: &[u8]) -> Option<String> {
    let sum: i32 = (0..8).map(|i| (9 - i as i32) * i32::from(first[i])).sum();
    let last = sum % 11;
    (last < 10 && sum != 0).then(|| {
        first
            .iter()
            .chain(std::iter::once(&(last as u8)))
            .map(|d| char::from(b'0' + d))
            .collect()
    })
}

/// A value of each class the scrubber's entity detectors find, and the context it is planted in.
fn entities() -> impl Strategy<Value = (&'static str, String, String)> {
    let name = "[a-z][0-9][a-z0-9]{2,8}";
    prop_oneof![
        ("[A-Z]{4}", "[0-9]{10}").prop_map(|(bank, account)| (
            "iban",
            iban_nl(&bank, &account),
            "refund to {} today".to_owned()
        )),
        prop::collection::vec(0u8..10, 8)
            .prop_filter_map("no 11-check digit", |d| bsn(&d))
            .prop_map(|n| ("national_id", n, "klant met BSN {} gevonden".to_owned())),
        "[1-9][0-9]{8}".prop_map(|n| (
            "phone",
            format!("+31 6 {}", &n[..8]),
            "call {} now".to_owned()
        )),
        (-89.0f64..89.0, -179.0f64..179.0).prop_map(|(lat, lon)| (
            "gps",
            format!("{lat:.5},{lon:.5}"),
            "checkin at {} ok".to_owned()
        )),
        name.prop_map(|n| ("home_path", n, "open /home/{}/notes.txt".to_owned())),
        ("[a-z][a-z0-9]{4,8}", "[a-z]{3,6}").prop_map(|(h, d)| (
            "hostname",
            format!("{h}.{d}.example"),
            "connect to {} failed".to_owned()
        )),
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}".prop_map(|u| (
            "user_id",
            u,
            "request user_id={} done".to_owned()
        )),
    ]
}

/// Plants `value` in `context` (`{}` marks its place) between fillers, scrubs the line, and
/// says what survived, if anything.
fn leaked(
    detector: &str,
    value: &str,
    context: &str,
    before: &str,
    after: &str,
    mask: bool,
) -> Option<String> {
    let s: &Scrubber = if mask { &MASKING } else { &PSEUDONYMIZING };
    let (head, tail) = context.split_once("{}").unwrap();
    let line = format!("{before} {head}{value}{tail} {after}");
    let at = before.len() + 1 + head.len();
    let out = String::from_utf8(scrub(s, line.as_bytes())).unwrap();
    leak::surviving_piece(detector, &line, at..at + value.len(), &out)
        .map(|piece| format!("{detector} `{value}`: `{piece}` survived in {out}"))
}

/// Benign filler around the planted value.
fn filler() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("GET".to_owned()),
            Just("200".to_owned()),
            Just("12:30:45".to_owned()),
            Just("v1.2.3".to_owned()),
            Just("[INFO]".to_owned()),
            "[a-z]{1,8}",
            "[0-9]{1,5}ms",
        ],
        0..6,
    )
    .prop_map(|w| w.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn planted_values_never_leak((detector, value, context) in detected(), before in filler(), after in filler(), mask in any::<bool>()) {
        let leaked = leaked(detector, &value, &context, &before, &after, mask);
        prop_assert!(leaked.is_none(), "{}", leaked.unwrap_or_default());
    }

    #[test]
    fn planted_entities_never_leak((detector, value, context) in entities(), before in filler(), after in filler(), mask in any::<bool>()) {
        let leaked = leaked(detector, &value, &context, &before, &after, mask);
        prop_assert!(leaked.is_none(), "{}", leaked.unwrap_or_default());
    }

    #[test]
    fn scrubbing_is_idempotent(line in "\\PC{0,120}", (value, context) in planted()) {
        let s: &Scrubber = &PSEUDONYMIZING;
        for text in [line.clone(), format!("{line} {}", context.replace("{}", &value))] {
            let once = scrub(s, text.as_bytes());
            let twice = scrub(s, &once);
            prop_assert_eq!(String::from_utf8_lossy(&twice), String::from_utf8_lossy(&once), "input: {}", text);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_pass_through_when_nothing_is_found(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let (out, changed) = scrub_reporting(&PSEUDONYMIZING, &bytes);
        let control = |b: &u8| (*b < 0x20 && *b != b'\t') || *b == 0x7f;
        prop_assert!(!out.iter().any(control), "no control byte is written");
        // `#033[` and `\x1b[` are escape sequences written out, which go too.
        let written_escape = bytes.windows(2).any(|w| w == b"3[" || w == b"b[" || w == b"e[");
        if !changed && !bytes.iter().any(control) && !written_escape {
            prop_assert_eq!(out, bytes);
        }
    }

    #[test]
    fn structured_fragments_in_any_order_never_panic(
        parts in prop::collection::vec(prop::sample::select(FRAGMENTS.to_vec()), 0..24),
        cut in 0usize..400,
    ) {
        // Lines made of the pieces the positional rules look for (headers, HL7 fields, SIDs,
        // JSON objects and arrays, key words), in any order and cut anywhere: the rules that
        // index around them must stay inside the line, and a second pass changes nothing.
        let line: String = parts.concat();
        let line = &line.as_bytes()[..cut.min(line.len())];
        let once = scrub(&PSEUDONYMIZING, line);
        prop_assert!(String::from_utf8(once.clone()).is_ok() || std::str::from_utf8(line).is_err());
        scrub(&MASKING, line);
    }

    #[test]
    fn valid_utf8_stays_valid_utf8(text in "\\PC{0,200}") {
        prop_assert!(String::from_utf8(scrub(&PSEUDONYMIZING, text.as_bytes())).is_ok());
    }
}
