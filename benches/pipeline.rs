//! Benchmarks of the hot path between a source and the wire: policy evaluation of one draft
//! and of a round of log lines into segments, a record's JSON, and spool append + batch + ack.
//! Figures and method: docs/PERFORMANCE.md.

use std::hint::black_box;
use std::io::Write;
use std::time::SystemTime;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use flate2::Compression;
use flate2::write::GzEncoder;
use noticed::collector::read_batch;
use noticed::policy::{Evaluator, KEY_LEN, Policy, PseudonymKey, Verdict, evaluate};
use noticed::record::{Category, Draft, Record};
use noticed::spool::{Sealed, Spool};
use noticed::wire::{AgentInfo, BatchHeaderV1, write_batch_json};
use serde_json::json;

const POLICY: &str = r#"
[notice]
title = "bench"
version = "1"
contact = "c"
[category.performance]
purpose = "service-operational"
allow = ["cpu.*", "memory.*", "load.*", "disk.*", "network.*"]
drop = ["disk.mounts.mount"]
[category.configuration]
purpose = "service-operational"
allow = ["os.*", "kernel.*", "hardware.*"]
pseudonymize = ["host.name"]
[category.service-logs]
purpose = "service-operational"
allow = ["file"]
scrub = ["message"]
"#;

/// Log lines shaped like benches/gen_logs.py's: PII on most, names and addresses recurring.
fn log_drafts(n: usize) -> Vec<Draft> {
    let users = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
    ];
    (0..n)
        .map(|i| {
            let u = users[i % users.len()];
            let message = match i % 4 {
                0 => format!("Jan  1 00:00:{:02} app[{i}]: level=info msg=\"payment accepted\" user={u} email={u}.{u}{}@example.com card=6011111111111117 amount=759.69 token=Bearer 0822e8f36c031199972a846916419f82", i % 60, i % 50),
                1 => format!("Jan  1 00:00:{:02} host01 sshd[{i}]: Failed password for invalid user {u} from 192.0.2.{} port 14055 ssh2", i % 60, i % 250),
                2 => format!("Jan  1 00:00:{:02} host01 dhclient[{i}]: DHCPACK of 10.1.2.{} from 10.1.2.151 (xid=0x47378190) hwaddr 03:51:d8:ae:8e:{:02x}", i % 60, i % 250, i % 256),
                _ => format!("Jan  1 00:00:{:02} host01 systemd[1]: Started Session {i} of user root.", i % 60),
            };
            let fields = json!({"message": message, "file": "/var/log/app/input.log"});
            let serde_json::Value::Object(map) = fields else {
                unreachable!()
            };
            Draft::new(Category::ServiceLogs, "log_file", map)
        })
        .collect()
}

/// A host_metrics-shaped draft: 2 cores, 4 mounts, 3 interfaces, some fields not allowed.
fn metrics_draft() -> Draft {
    let fields = json!({
        "cpu": {"usage_percent": 12.5, "count": 2, "cores": [{"usage_percent": 10.0}, {"usage_percent": 15.0}]},
        "memory": {"total_bytes": 25_276_502_016u64, "used_bytes": 458_244_096u64, "available_bytes": 24_818_257_920u64},
        "swap": {"total_bytes": 0, "used_bytes": 0},
        "load": {"one": 0.1, "five": 0.2, "fifteen": 0.3},
        "disk": {"mounts": (0..4).map(|i| json!({"mount": format!("/mnt/{i}"), "file_system": "ext4", "total_bytes": 1u64 << 40, "available_bytes": 1u64 << 39})).collect::<Vec<_>>()},
        "network": {"interfaces": (0..3).map(|i| json!({"name": format!("eth{i}"), "rx_bytes_total": 123_456_789u64, "tx_bytes_total": 98_765_432u64})).collect::<Vec<_>>()},
        "processes": {"count": 123},
    });
    let serde_json::Value::Object(map) = fields else {
        unreachable!()
    };
    Draft::new(Category::Performance, "host_metrics", map)
}

fn records(n: usize) -> Vec<Record> {
    let policy = Policy::parse(POLICY, "bench").unwrap();
    let key = PseudonymKey::from_bytes(&[1; KEY_LEN]);
    (0..n)
        .map(|_| match evaluate(&policy, &key, metrics_draft()) {
            Verdict::Keep(r) => r,
            Verdict::Refuse(_) => unreachable!(),
        })
        .collect()
}

fn policy_evaluate(c: &mut Criterion) {
    let policy = Policy::parse(POLICY, "bench").unwrap();
    let key = PseudonymKey::from_bytes(&[1; KEY_LEN]);
    let mut g = c.benchmark_group("policy");
    g.throughput(Throughput::Elements(1));
    g.bench_function("evaluate_host_metrics_draft", |b| {
        b.iter_batched(
            metrics_draft,
            |d| black_box(evaluate(&policy, &key, d)),
            BatchSize::SmallInput,
        )
    });
    let host = json!({"host": {"name": "db-7.corp.example"}, "os": {"name": "Debian"}});
    let serde_json::Value::Object(host) = host else {
        unreachable!()
    };
    g.bench_function("evaluate_pseudonymized_config_draft", |b| {
        b.iter_batched(
            || Draft::new(Category::Configuration, "host_config", host.clone()),
            |d| black_box(evaluate(&policy, &key, d)),
            BatchSize::SmallInput,
        )
    });
    g.throughput(Throughput::Elements(1000));
    g.bench_function("admit_1000_log_lines_into_segments", |b| {
        b.iter_batched(
            || log_drafts(1000),
            |drafts| {
                let mut evaluator = Evaluator::new(&policy, &key);
                let mut sealed = Sealed::default();
                for d in drafts {
                    if let Verdict::Keep(r) = evaluator.evaluate(d) {
                        sealed.push(&r);
                    }
                }
                black_box(sealed)
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();

    let mut evaluator = Evaluator::new(&policy, &key);
    let logs: Vec<Record> = log_drafts(1000)
        .into_iter()
        .filter_map(|d| match evaluator.evaluate(d) {
            Verdict::Keep(r) => Some(r),
            Verdict::Refuse(_) => None,
        })
        .collect();
    let mut g = c.benchmark_group("record_json");
    g.throughput(Throughput::Elements(logs.len() as u64));
    let mut out = Vec::with_capacity(1 << 20);
    g.bench_function("serde_json_1000_log_records", |b| {
        b.iter(|| {
            out.clear();
            for r in &logs {
                serde_json::to_writer(&mut out, r).unwrap();
            }
            black_box(out.len())
        })
    });
    g.bench_function("write_json_1000_log_records", |b| {
        b.iter(|| {
            out.clear();
            for r in &logs {
                r.write_json(&mut out);
            }
            black_box(out.len())
        })
    });
    g.finish();

    // The reference collector's accept path on a 5,000-record batch of log lines.
    let header = BatchHeaderV1 {
        batch_id: uuid::Uuid::now_v7(),
        agent: AgentInfo {
            version: "bench".into(),
        },
        host: "h:00",
        sent_at: "2026-11-30T00:00:00.000Z".into(),
        policy: &policy.stamp,
    };
    let mut json = Vec::new();
    let encoded: Vec<Vec<u8>> = (0..5)
        .flat_map(|_| &logs)
        .map(|r| {
            let mut out = Vec::new();
            r.write_json(&mut out);
            out
        })
        .collect();
    write_batch_json(&header, encoded.iter().map(Vec::as_slice), &mut json).unwrap();
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(&json).unwrap();
    let body = gz.finish().unwrap();
    let mut g = c.benchmark_group("collector");
    g.throughput(Throughput::Elements(encoded.len() as u64));
    g.sample_size(20);
    g.bench_function("read_batch_5000_log_records", |b| {
        b.iter(|| black_box(read_batch(true, &body, 64 << 20).unwrap().records))
    });
    g.finish();
}

fn spool_append_ack(c: &mut Criterion) {
    const N: usize = 1000;
    let mut g = c.benchmark_group("spool");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(20);
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    g.bench_function("append_batch_ack_1000_records_durable", |b| {
        b.iter_batched(
            || records(N),
            |recs| {
                spool.append(&recs, &[("stored", N as u64)]).unwrap();
                let batch = spool.next_batch(N).unwrap().unwrap();
                spool.ack(batch.id, SystemTime::now()).unwrap();
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, policy_evaluate, spool_append_ack);
criterion_main!(benches);
