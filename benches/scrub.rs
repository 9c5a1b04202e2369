//! Scrubber throughput on the lines `benches/gen_logs.py` writes, the same file the end-to-end
//! runs and the peers are measured on (sshd, web access with e-mails and 20 % IPv6, app lines
//! with cards and bearer tokens, DHCP with MACs, 20 % clean kernel lines), every detector on.
//! Figures and method: docs/PERFORMANCE.md.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use noticed::policy::{KEY_LEN, PseudonymKey};
use noticed::scrub::{LineState, Scratch, ScrubAction, ScrubConfig, Scrubber};

/// The first `n` lines of `gen_logs.py`'s output (it is seeded: the same lines every run).
fn lines(n: usize) -> Vec<String> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("gen.log");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/gen_logs.py");
    let status = std::process::Command::new("python3")
        .arg(script)
        .arg(n.to_string())
        .arg(&file)
        .status()
        .expect("python3 runs benches/gen_logs.py");
    assert!(status.success(), "benches/gen_logs.py failed: {status}");
    std::fs::read_to_string(&file)
        .expect("gen_logs.py wrote its lines")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn scrub_lines(c: &mut Criterion) {
    let input = lines(10_000);
    let key = PseudonymKey::from_bytes(&[1; KEY_LEN]);
    let mut g = c.benchmark_group("scrub");
    g.sample_size(20);
    for (name, action) in [
        ("pseudonymize_10k_lines", ScrubAction::Pseudonymize),
        ("mask_10k_lines", ScrubAction::Mask),
    ] {
        let scrubber = Scrubber::new(&ScrubConfig {
            action,
            ..ScrubConfig::default()
        });
        g.throughput(Throughput::Elements(input.len() as u64));
        g.bench_function(name, |b| {
            let mut state = LineState::default();
            let mut scratch = Scratch::default();
            let mut out = Vec::with_capacity(512);
            b.iter(|| {
                for line in &input {
                    out.clear();
                    scrubber.scrub_line(&key, line.as_bytes(), &mut state, &mut scratch, &mut out);
                    black_box(&out);
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, scrub_lines);
criterion_main!(benches);
