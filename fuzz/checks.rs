//! What each fuzz target asserts, shared by the targets (fuzz/fuzz_targets/) and by the stable
//! regression test that replays every input in fuzz/regressions/ (tests/fuzz_regressions.rs).
// Each fuzz target uses one of these.
#![allow(dead_code)]

use std::io::Write;

#[path = "../tests/support/leak.rs"]
mod leak;

use flate2::Compression;
use flate2::write::GzEncoder;
use noticed::policy::{KEY_LEN, PseudonymKey};
use noticed::scrub::{LineState, Scratch, ScrubConfig, Scrubber};

/// The policy parser: an error or a policy, never a panic; an error names the file.
pub fn policy_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = noticed::policy::Policy::parse(text, "fuzz.toml") {
        let message = e.to_string();
        assert!(message.starts_with("fuzz.toml"), "{message}");
    }
}

/// Planted into the fuzzer's input, each with the detector that must find it.
const PLANTED: [(&str, &str); 4] = [
    ("email", "planted.user@example.com"),
    ("ipv4", "198.51.100.77"),
    ("credit_card", "4111111111111111"),
    ("secret", "9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c"),
];

fn holds(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The scrubber: never panics on the input, and no piece of a planted e-mail address, IPv4
/// address, card number or bearer token (tests/support/leak.rs) survives when set off by
/// spaces in the middle of it.
pub fn scrub(data: &[u8]) {
    let scrubber = Scrubber::new(&ScrubConfig::default());
    let key = PseudonymKey::from_bytes(&[7; KEY_LEN]);
    let (mut state, mut scratch, mut out) = (LineState::default(), Scratch::default(), Vec::new());
    scrubber.scrub_line(&key, data, &mut state, &mut scratch, &mut out);
    // One line of text: the planted value goes in the middle of the input without its newlines
    // (invalid UTF-8 is replaced, so that pieces can be looked for in text).
    let data: Vec<u8> = data.iter().copied().filter(|&b| b != b'\n').collect();
    let data = String::from_utf8_lossy(&data).into_owned();
    let mut cut = data.len() / 2;
    while !data.is_char_boundary(cut) {
        cut += 1;
    }
    for (detector, value) in PLANTED {
        if holds(data.as_bytes(), value) {
            // The input itself holds the text, maybe inside something that is no address
            // (`05198.51.100.77`): only the planted copy is ours to check.
            continue;
        }
        let prefix = if detector == "secret" { "Bearer " } else { "" };
        let line = format!("{} {prefix}{value} {}", &data[..cut], &data[cut..]);
        let at = cut + 1 + prefix.len();
        let (mut state, mut out) = (LineState::default(), Vec::new());
        scrubber.scrub_line(&key, line.as_bytes(), &mut state, &mut scratch, &mut out);
        let out = String::from_utf8_lossy(&out);
        let piece = leak::surviving_piece(detector, &line, at..at + value.len(), &out);
        // The input's own text, joined where control bytes were removed (`1111111\x0b11`), may
        // hold the same piece (`11111111`): only a piece the input lacks came from the plant.
        let joined: String = data.chars().filter(|c| !c.is_control()).collect();
        assert!(
            piece.as_deref().is_none_or(|p| joined.contains(p)),
            "{value}: {piece:?} survived in {out:?}"
        );
    }
}

/// The ingest socket's event decoder: a draft or an error, never a panic.
pub fn ingest_event(data: &[u8]) {
    let _ = noticed::sources::ingest::parse_event(data);
}

/// The collector's batch decoder, plain and gzip-compressed: a batch or a refusal, never a
/// panic; never more than the cap decompressed, however well the body compresses.
pub fn collector_batch(data: &[u8]) {
    use noticed::collector::read_batch;
    const MAX: u64 = 1 << 20;
    let gzip = |text: &[u8]| {
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(text).expect("writing to memory cannot fail");
        gz.finish().expect("writing to memory cannot fail")
    };
    let body = gzip(data);
    for batch in [
        read_batch(false, data, MAX),
        read_batch(true, data, MAX),
        read_batch(true, &body, MAX),
    ]
    .into_iter()
    .flatten()
    {
        assert!(batch.body.len() as u64 <= MAX);
    }
    // The cap: one byte under the input's size refuses it as too large, plain or inflated
    // from gzip, and so does a cap a sixty-fourth of the size of a body that repeats it.
    let too_large = |decoded: Result<_, String>| match decoded {
        Ok(_) => panic!("a body past the cap was decoded"),
        Err(why) => assert!(
            why.contains("exceeds"),
            "refused, but not for its size: {why}"
        ),
    };
    if let Some(short) = (data.len() as u64).checked_sub(1) {
        too_large(read_batch(false, data, short));
        too_large(read_batch(true, &body, short));
        let bomb = gzip(&data.repeat(64));
        too_large(read_batch(true, &bomb, data.len() as u64));
    }
    if let Err(why) = read_batch(true, &body, data.len() as u64) {
        assert!(
            !why.contains("exceeds"),
            "refused at exactly the cap: {why}"
        );
    }
}
