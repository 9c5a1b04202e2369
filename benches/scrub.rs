//! Scrubber throughput on log lines shaped like the peers' `gen_logs.py` mix (sshd, web access
//! with e-mails, app lines with cards and bearer tokens, DHCP with MACs, 20 % clean kernel
//! lines), every detector on. Figures and method: docs/PERFORMANCE.md.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use noticed::policy::{KEY_LEN, PseudonymKey};
use noticed::scrub::{LineState, Scratch, ScrubAction, ScrubConfig, Scrubber};

fn lines(n: usize) -> Vec<String> {
    let mut seed = 42u64;
    let mut next = move |m: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    let users = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "root", "admin",
    ];
    let cards = [
        "4111111111111111",
        "5500000000000004",
        "340000000000009",
        "6011111111111117",
    ];
    (0..n)
        .map(|i| {
            let ts = format!("Jan {:2} {:02}:{:02}:{:02}", 1 + i % 28, (i / 3600) % 24, (i / 60) % 60, i % 60);
            let ip = format!("{}.{}.{}.{}", [192, 198, 203, 10][i % 4], next(256), next(256), 1 + next(254));
            let u = users[next(10) as usize];
            let email = format!("{u}.{}{}@example.com", users[next(10) as usize], next(99));
            match next(10) {
                0..=2 => format!("{ts} host01 sshd[{}]: Failed password for invalid user {u} from {ip} port {} ssh2", next(65000), next(65535)),
                3..=4 => format!("{ip} - - [01/Jan/2024:00:00:{:02} +0000] \"GET /login?email={email} HTTP/1.1\" 200 {} \"-\" \"curl/7.88.1\"", i % 60, next(50000)),
                5 => format!("{ts} app[{}]: level=info msg=\"payment accepted\" user={u} email={email} card={} amount={}.{:02} token=Bearer {:016x}{:016x}", next(9999), cards[next(4) as usize], next(999), next(100), next(u64::MAX), next(u64::MAX)),
                6 => format!("{ts} host01 dhclient[{}]: DHCPACK of {ip} from 10.1.2.1 (xid=0x{:08x}) hwaddr {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", next(9999), next(u64::from(u32::MAX)), next(256), next(256), next(256), next(256), next(256), next(256)),
                _ => format!("{ts} host01 kernel: [{}.{:06}] EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null); seq={i}", next(99999), next(999999)),
            }
        })
        .collect()
}

fn scrub_lines(c: &mut Criterion) {
    let input = lines(10_000);
    let bytes: usize = input.iter().map(|l| l.len() + 1).sum();
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
        g.throughput(Throughput::Bytes(bytes as u64));
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
