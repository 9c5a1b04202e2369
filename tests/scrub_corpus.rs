//! Scrubbing quality on labelled text: the hand-written corpus in tests/scrub/corpus.txt and
//! lines generated from templates. No planted value may survive, whole or in part
//! (tests/support/leak.rs); at least 98 % of benign tokens must.
//! `cargo test --test scrub_corpus -- --nocapture` prints the table that docs/SCRUBBING.md
//! reports.

use std::collections::{BTreeMap, HashMap};

#[path = "support/leak.rs"]
mod leak;

use noticed::policy::{KEY_LEN, PseudonymKey};
use noticed::scrub::{LineState, Scratch, ScrubAction, ScrubConfig, Scrubber};

/// One labelled line: its text, and the planted spans with their detector.
struct Labelled {
    text: String,
    planted: Vec<(usize, usize, String)>,
}

fn parse(marked: &str) -> Labelled {
    let mut text = String::new();
    let mut planted = Vec::new();
    let mut rest = marked;
    while let Some(open) = rest.find('«') {
        text.push_str(&rest[..open]);
        let after = &rest[open + '«'.len_utf8()..];
        let close = after.find('»').expect("unclosed marker");
        let (detector, value) = after[..close]
            .split_once(':')
            .expect("marker needs detector:value");
        planted.push((text.len(), text.len() + value.len(), detector.to_owned()));
        text.push_str(value);
        rest = &after[close + '»'.len_utf8()..];
    }
    text.push_str(rest);
    Labelled { text, planted }
}

#[derive(Default)]
struct Tally {
    planted: BTreeMap<String, (usize, usize)>,
    benign: usize,
    benign_kept: usize,
    lost: Vec<String>,
    leaks: Vec<String>,
}

fn evaluate(tally: &mut Tally, scrubber: &Scrubber, l: &Labelled) {
    let key = PseudonymKey::from_bytes(&[1; KEY_LEN]);
    let mut out = Vec::new();
    scrubber.scrub_line(
        &key,
        l.text.as_bytes(),
        &mut LineState::default(),
        &mut Scratch::default(),
        &mut out,
    );
    let out = String::from_utf8(out).unwrap();
    for (a, b, detector) in &l.planted {
        let value = &l.text[*a..*b];
        let e = tally.planted.entry(detector.clone()).or_default();
        e.0 += 1;
        // A short value (`uid=0`) occurs elsewhere by chance: look for it with the text before
        // it, when that text is not itself planted and so must still be there.
        let mut c = a.saturating_sub(6);
        while !l.text.is_char_boundary(c) {
            c += 1;
        }
        let context_clean = !l.planted.iter().any(|(x, y, _)| *x < *a && c < *y);
        let probe = if context_clean { &l.text[c..*b] } else { value };
        let survived = if out.contains(probe) {
            Some(value.to_owned())
        } else {
            leak::surviving_piece(detector, &l.text, *a..*b, &out)
        };
        if let Some(piece) = survived {
            e.1 += 1;
            tally.leaks.push(format!(
                "{detector} `{value}`: `{piece}` survived in: {out}"
            ));
        }
    }
    let mut out_tokens: HashMap<&str, usize> = HashMap::new();
    for t in out.split_whitespace() {
        *out_tokens.entry(t).or_default() += 1;
    }
    let mut at = 0;
    for token in l.text.split_whitespace() {
        let start = at + l.text[at..].find(token).unwrap();
        let end = start + token.len();
        at = end;
        if l.planted.iter().any(|(a, b, _)| *a < end && start < *b) {
            continue;
        }
        tally.benign += 1;
        match out_tokens.get_mut(token) {
            Some(n) if *n > 0 => {
                *n -= 1;
                tally.benign_kept += 1;
            }
            _ => tally.lost.push(format!("`{token}` in: {}", l.text)),
        }
    }
}

/// Lines from templates with seeded random values, the shapes of common logs.
fn generated(n: usize) -> Vec<String> {
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut next = move |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    };
    let users = [
        "alice", "bob", "svc_ci", "m.ross", "root", "j-doe", "admin2",
    ];
    let domains = [
        "example.com",
        "example.org",
        "mail.example.net",
        "xn--bcher-kva.example",
    ];
    let cards = [
        "4111111111111111",
        "5500000000000004",
        "340000000000009",
        "4012888888881881",
        "6011111111111117",
        "5105105105105100",
    ];
    let mut lines = Vec::with_capacity(n);
    for i in 0..n {
        // Loopback (127/8) names no host and is kept, so it is not planted.
        let first = 1 + next(222);
        let ip4 = format!(
            "{}.{}.{}.{}",
            if first >= 127 { first + 1 } else { first },
            next(256),
            next(256),
            1 + next(254)
        );
        let ip6 = format!(
            "2001:db8:{:x}:{:x}::{:x}",
            next(0xffff),
            next(0xffff),
            1 + next(0xfffe)
        );
        let mac: Vec<String> = (0..6).map(|_| format!("{:02x}", next(256))).collect();
        let user = users[next(users.len() as u64) as usize];
        let email = format!(
            "{user}.{}{}@{}",
            users[next(7) as usize],
            next(99),
            domains[next(4) as usize]
        );
        let card = cards[next(6) as usize];
        let token: String = (0..32)
            .map(|_| char::from(b"0123456789abcdef"[next(16) as usize]))
            .collect();
        let ts = format!(
            "Mar {:2} {:02}:{:02}:{:02}",
            1 + i % 28,
            i % 24,
            i % 60,
            (i * 7) % 60
        );
        let line = match next(8) {
            0 => format!(
                "{ts} host sshd[{}]: Failed password for «user_name:{user}» from «ipv4:{ip4}» port {} ssh2",
                next(60000),
                1024 + next(60000)
            ),
            1 => format!(
                "«ipv6:{ip6}» - - [01/Mar/2025:{:02}:00:00 +0000] \"GET /search?q=shoes&email=«email:{email}» HTTP/1.1\" 200 {}",
                i % 24,
                next(50000)
            ),
            2 => format!(
                "{ts} app[{}]: msg=\"paid\" user=«user_name:{user}» card=«credit_card:{card}» token=Bearer «secret:{token}» amount={}.{:02}",
                next(9999),
                next(999),
                next(100)
            ),
            3 => format!(
                "{ts} dhclient[{}]: DHCPACK of «ipv4:{ip4}» hwaddr «mac:{}»",
                next(9999),
                mac.join(":")
            ),
            4 => format!(
                "{ts} api: {{\"password\":\"«secret:{}-{}»\",\"retries\":{}}}",
                token.get(..10).unwrap(),
                next(1000),
                next(9)
            ),
            5 => format!(
                "{ts} mail: delivered to <«email:{email}»> via «ipv4:{ip4}»:25 in {}ms",
                next(900)
            ),
            6 => format!(
                "{ts} kernel: [{}.{:06}] EXT4-fs (sda{}): mounted filesystem, seq={i} version 5.{}.{}",
                next(99999),
                next(999999),
                next(9),
                next(20),
                next(99)
            ),
            _ => format!(
                "{ts} db: query took {}ms rows={} plan=seq_scan table=orders_{}",
                next(5000),
                next(100000),
                next(12)
            ),
        };
        lines.push(line);
    }
    lines
}

#[test]
fn no_planted_value_survives_and_benign_text_stays() {
    let config = ScrubConfig {
        action: ScrubAction::Mask,
        user_names: vec!["svc-backup".into()],
        ..ScrubConfig::default()
    };
    let scrubber = Scrubber::new(&config);
    let corpus = include_str!("scrub/corpus.txt");
    let mut tally = Tally::default();
    for line in corpus
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        evaluate(&mut tally, &scrubber, &parse(line));
    }
    for line in generated(5000) {
        evaluate(&mut tally, &scrubber, &parse(&line));
    }

    println!("| detector | planted | leaked | recall |");
    println!("| --- | ---: | ---: | ---: |");
    for (d, (planted, leaked)) in &tally.planted {
        let recall = 100.0 * (planted - leaked) as f64 / *planted as f64;
        println!("| {d} | {planted} | {leaked} | {recall:.1} % |");
    }
    let retention = 100.0 * tally.benign_kept as f64 / tally.benign as f64;
    println!(
        "\nbenign tokens kept: {} of {} ({retention:.2} %)",
        tally.benign_kept, tally.benign
    );
    for l in &tally.lost {
        println!("lost benign {l}");
    }
    assert!(
        tally.leaks.is_empty(),
        "planted values survived:\n{}",
        tally.leaks.join("\n")
    );
    assert!(
        retention >= 98.0,
        "benign retention {retention:.2} % is below 98 %"
    );
    assert!(
        tally.planted.len() == 7,
        "every detector is exercised: {:?}",
        tally.planted.keys()
    );
}
