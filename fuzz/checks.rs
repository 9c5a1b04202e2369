//! What each fuzz target asserts, shared by the targets (fuzz/fuzz_targets/) and by the stable
//! regression test that replays every input in fuzz/regressions/ (tests/fuzz_regressions.rs).
// Each fuzz target uses one of these.
#![allow(dead_code)]

use std::io::Write;

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

const PLANTED: [&str; 4] = [
    "planted.user@example.com",
    "198.51.100.77",
    "4111111111111111",
    "Bearer 9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c",
];

fn holds(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The scrubber: never panics on the input, and no planted e-mail address, IPv4 address, card
/// number or bearer token survives when set off by spaces in the middle of it.
pub fn scrub(data: &[u8]) {
    let scrubber = Scrubber::new(&ScrubConfig::default());
    let key = PseudonymKey::from_bytes(&[7; KEY_LEN]);
    let (mut state, mut scratch, mut out) = (LineState::default(), Scratch::default(), Vec::new());
    scrubber.scrub_line(&key, data, &mut state, &mut scratch, &mut out);
    // One line: the planted value goes in the middle of the input without its newlines.
    let data: Vec<u8> = data.iter().copied().filter(|&b| b != b'\n').collect();
    let cut = data.len() / 2;
    for planted in PLANTED {
        let secret = planted.strip_prefix("Bearer ").unwrap_or(planted);
        if holds(&data, secret) {
            // The input itself holds the text, maybe inside something that is no address
            // (`05198.51.100.77`): only the planted copy is ours to check.
            continue;
        }
        let mut line = data[..cut].to_vec();
        line.extend_from_slice(format!(" {planted} ").as_bytes());
        line.extend_from_slice(&data[cut..]);
        let (mut state, mut out) = (LineState::default(), Vec::new());
        scrubber.scrub_line(&key, &line, &mut state, &mut scratch, &mut out);
        assert!(
            !holds(&out, secret),
            "{planted} survived in {:?}",
            String::from_utf8_lossy(&out)
        );
    }
}

/// The ingest socket's event decoder: a draft or an error, never a panic.
pub fn ingest_event(data: &[u8]) {
    let _ = noticed::sources::ingest::parse_event(data);
}

/// The collector's batch decoder, plain and gzip-compressed: a batch or a refusal, never a
/// panic.
pub fn collector_batch(data: &[u8]) {
    const MAX: u64 = 1 << 20;
    let _ = noticed::collector::read_batch(false, data, MAX);
    let _ = noticed::collector::read_batch(true, data, MAX);
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(data).expect("writing to memory cannot fail");
    let body = gz.finish().expect("writing to memory cannot fail");
    let _ = noticed::collector::read_batch(true, &body, MAX);
}
