use super::*;
use std::time::Duration;

use crate::record::{Category, PolicyStamp, Purpose, RecordId};

/// A performance record holding `n` (other modules' tests store it too).
pub(crate) fn record(n: u64) -> Record {
    let mut fields = serde_json::Map::new();
    fields.insert("n".into(), n.into());
    Record {
        id: RecordId::new(),
        collected_at: "2026-11-29T10:00:00.000Z".into(),
        category: Category::Performance,
        purpose: Purpose::ServiceOperational,
        source: "test".into(),
        event: None,
        fields,
        body: None,
        policy: PolicyStamp {
            version: "v".into(),
            sha256: "0".repeat(64).into(),
        },
        provenance: vec![],
    }
}

fn counter(spool: &Spool, name: &str) -> u64 {
    spool
        .counters()
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == name)
        .map_or(0, |(_, v)| v)
}

#[test]
fn records_flow_from_pending_through_a_batch_to_sent() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let recs: Vec<Record> = (0..5).map(record).collect();
    spool.append(&recs, &[("stored", 5)]).unwrap();
    assert_eq!(spool.unsent().unwrap(), 5);
    let json = |rs: &[Record]| -> u64 {
        rs.iter()
            .map(|r| serde_json::to_vec(r).unwrap().len() as u64)
            .sum()
    };
    assert_eq!(spool.unsent_bytes().unwrap(), json(&recs));
    assert_eq!(spool.record_bytes().unwrap(), json(&recs));

    let batch = spool.next_batch(3).unwrap().unwrap();
    assert_eq!(
        spool.unsent_bytes().unwrap(),
        json(&recs),
        "a batch on its way is still unsent"
    );
    assert_eq!(batch.records().unwrap(), recs[..3].to_vec(), "oldest first");
    let listed = spool.list(10).unwrap();
    assert_eq!(listed.len(), 5);
    assert_eq!(listed[0].record, recs[4], "newest first");
    assert_eq!(listed[0].delivery, Delivery::Pending);
    assert_eq!(listed[4].delivery, Delivery::InFlight { batch: batch.id });

    assert_eq!(spool.ack(batch.id, SystemTime::now()).unwrap(), 3);
    assert_eq!(spool.unsent().unwrap(), 2);
    assert_eq!(spool.unsent_bytes().unwrap(), json(&recs[3..]));
    assert_eq!(
        spool.record_bytes().unwrap(),
        json(&recs),
        "the sent history still counts toward the cap"
    );
    assert!(
        matches!(spool.list(10).unwrap()[4].delivery, Delivery::Sent { batch: b, .. } if b == batch.id)
    );
    assert_eq!(counter(&spool, "sent"), 3);
    assert_eq!(counter(&spool, "stored"), 5);

    let rest = spool.next_batch(10).unwrap().unwrap();
    assert_eq!(rest.records().unwrap(), recs[3..].to_vec());
    assert_ne!(rest.id, batch.id);
    spool.ack(rest.id, SystemTime::now()).unwrap();
    assert!(spool.next_batch(10).unwrap().is_none());
    assert_eq!(spool.unsent_bytes().unwrap(), 0);
    assert_eq!(
        spool.ack(rest.id, SystemTime::now()).unwrap(),
        0,
        "a second ack is a no-op"
    );
    assert_eq!(counter(&spool, "sent"), 5);
}

#[test]
fn an_unacknowledged_batch_keeps_its_id_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let recs: Vec<Record> = (0..4).map(record).collect();
    let first = {
        let spool = Spool::open(dir.path()).unwrap();
        spool.append(&recs, &[]).unwrap();
        spool.next_batch(2).unwrap().unwrap()
    };
    let spool = Spool::open(dir.path()).unwrap();
    let again = spool.next_batch(100).unwrap().unwrap();
    assert_eq!(again, first, "same id, same records");
    assert_eq!(spool.unsent().unwrap(), 4);
}

#[test]
fn a_second_opener_is_told_the_spool_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let _held = Spool::open(dir.path()).unwrap();
    match Spool::open(dir.path()) {
        Err(SpoolError::Locked(p)) => assert_eq!(p, dir.path().join(FILE_NAME)),
        other => panic!("expected Locked, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn the_data_dir_and_spool_file_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a/b");
    Spool::open(&data).unwrap();
    let mode = std::fs::metadata(&data).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let file = std::fs::metadata(data.join(FILE_NAME))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(file, 0o600);
}

#[test]
fn counters_accumulate_and_skip_zeroes() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    spool
        .append(&[], &[("collected", 2), ("refused.x", 0)])
        .unwrap();
    spool.append(&[], &[("collected", 3)]).unwrap();
    assert_eq!(spool.counters().unwrap(), vec![("collected".to_owned(), 5)]);
}

#[test]
fn checkpoints_commit_with_their_records_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let spool = Spool::open(dir.path()).unwrap();
        assert_eq!(spool.checkpoint("log:1:2").unwrap(), None);
        spool
            .append_with_checkpoints(&[record(1)], &[], &[("log:1:2".into(), "120".into())])
            .unwrap();
        spool
            .append_with_checkpoints(&[], &[], &[("log:1:2".into(), "240".into())])
            .unwrap();
    }
    let spool = Spool::open(dir.path()).unwrap();
    assert_eq!(spool.checkpoint("log:1:2").unwrap().as_deref(), Some("240"));
    assert_eq!(spool.unsent().unwrap(), 1);
}

#[test]
fn a_split_batch_goes_out_in_halves_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let recs: Vec<Record> = (0..5).map(record).collect();
    spool.append(&recs, &[]).unwrap();
    let big = spool.next_batch(10).unwrap().unwrap();
    assert!(spool.split_batch(big.id).unwrap());
    let first = spool.next_batch(10).unwrap().unwrap();
    assert_ne!(first.id, big.id);
    assert_eq!(first.records().unwrap().len(), 2);
    assert_eq!(
        spool.next_batch(10).unwrap().unwrap().id,
        first.id,
        "same id until acked"
    );
    spool.ack(first.id, SystemTime::now()).unwrap();
    let second = spool.next_batch(10).unwrap().unwrap();
    assert_eq!(second.records().unwrap().len(), 3);
    let mut ids: Vec<_> = first
        .records()
        .unwrap()
        .iter()
        .chain(&second.records().unwrap())
        .map(|r| r.id)
        .collect();
    ids.sort();
    let mut want: Vec<_> = recs.iter().map(|r| r.id).collect();
    want.sort();
    assert_eq!(ids, want);
    spool.ack(second.id, SystemTime::now()).unwrap();
    let one = {
        spool.append(&[record(9)], &[]).unwrap();
        spool.next_batch(10).unwrap().unwrap()
    };
    assert!(
        !spool.split_batch(one.id).unwrap(),
        "one record cannot be split"
    );
    assert_eq!(counter(&spool, "batches_split"), 1);
}

#[test]
fn dead_letters_are_kept_listed_and_retried_with_their_id() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    spool
        .append(&(0..3).map(record).collect::<Vec<_>>(), &[])
        .unwrap();
    let batch = spool.next_batch(10).unwrap().unwrap();
    assert_eq!(
        spool
            .dead_letter(batch.id, 400, "schema mismatch", SystemTime::now())
            .unwrap(),
        3
    );
    assert!(
        spool.next_batch(10).unwrap().is_none(),
        "a dead batch is not resent by itself"
    );
    assert_eq!(spool.unsent().unwrap(), 0);
    let dead = spool.dead_letters().unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].batch, dead[0].status, dead[0].records),
        (batch.id, 400, 3)
    );
    assert_eq!(dead[0].reason, "schema mismatch");
    assert!(
        spool
            .list(10)
            .unwrap()
            .iter()
            .all(|s| s.delivery == Delivery::Dead { batch: batch.id })
    );
    assert_eq!(counter(&spool, "dead_lettered"), 3);
    drop(spool);
    let spool = Spool::open(dir.path()).unwrap();
    assert_eq!(
        spool.dead_letters().unwrap().len(),
        1,
        "dead letters survive a restart"
    );
    assert_eq!(spool.retry_dead(None).unwrap(), 3);
    assert!(spool.dead_letters().unwrap().is_empty());
    let again = spool.next_batch(10).unwrap().unwrap();
    assert_eq!(again.id, batch.id, "a retried batch keeps its id");
    assert_eq!(again.records().unwrap(), batch.records().unwrap());
}

fn usage_record(n: u64) -> Record {
    Record {
        purpose: Purpose::Usage,
        category: Category::FeatureUsage,
        ..record(n)
    }
}

fn limits(max_bytes: u64, pending: [u64; 2], history: [u64; 2]) -> Limits {
    let h = |s: u64| Duration::from_secs(s * 3600);
    Limits {
        max_bytes,
        pending_max_age: [h(pending[0]), h(pending[1])],
        history: [h(history[0]), h(history[1])],
    }
}

#[test]
fn the_byte_cap_drops_history_first_then_the_oldest_unsent_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let recs: Vec<Record> = (0..10).map(record).collect();
    spool.append(&recs[..3], &[]).unwrap();
    let b = spool.next_batch(10).unwrap().unwrap();
    spool.ack(b.id, SystemTime::now()).unwrap();
    spool.append(&recs[3..], &[]).unwrap();
    let total = spool.record_bytes().unwrap();
    let each = total / 10;
    assert!(
        each > 0 && total.is_multiple_of(10),
        "records of equal size: {total}"
    );

    let cap = limits(each * 5, [24, 24], [24, 24]);
    let done = spool.enforce(&cap, SystemTime::now()).unwrap();
    assert_eq!((done.history, done.over_size, done.expired), (3, 2, 0));
    assert_eq!(spool.record_bytes().unwrap(), each * 5);
    assert_eq!(counter(&spool, "dropped.over_size.performance"), 2);
    let left: Vec<RecordId> = spool
        .list(100)
        .unwrap()
        .iter()
        .map(|s| s.record.id)
        .collect();
    let mut want: Vec<RecordId> = recs[5..].iter().map(|r| r.id).collect();
    want.reverse();
    assert_eq!(left, want, "the newest unsent records stay");
    drop(spool);
    let spool = Spool::open(dir.path()).unwrap();
    assert_eq!(
        spool.record_bytes().unwrap(),
        each * 5,
        "the count survives a restart"
    );
}

#[test]
fn age_limits_apply_per_purpose_to_unsent_records_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    spool.append(&[usage_record(1), record(2)], &[]).unwrap();
    let hours = |h: u64| SystemTime::now() + Duration::from_secs(h * 3600);
    // Usage records may wait 1 h unsent, service-operational ones 48 h.
    let l = limits(u64::MAX, [1, 48], [1, 48]);
    assert_eq!(spool.enforce(&l, hours(0)).unwrap(), Enforced::default());
    let done = spool.enforce(&l, hours(2)).unwrap();
    assert_eq!(done.expired, 1);
    assert_eq!(counter(&spool, "dropped.expired.feature-usage"), 1);
    let left = spool.list(10).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].record.purpose, Purpose::ServiceOperational);

    let b = spool.next_batch(10).unwrap().unwrap();
    spool.ack(b.id, hours(2)).unwrap();
    assert_eq!(
        spool.enforce(&l, hours(40)).unwrap().history,
        0,
        "sent at +2 h, kept 48 h"
    );
    assert_eq!(spool.enforce(&l, hours(51)).unwrap().history, 1);
    assert!(spool.list(10).unwrap().is_empty());
    assert_eq!(spool.record_bytes().unwrap(), 0);
}

fn with_message(n: u64, message: &str) -> Record {
    let mut r = record(n);
    r.fields.insert("message".into(), message.into());
    r
}

#[test]
fn forget_reaches_records_in_every_state_and_queues_its_request_with_them() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let token = "[user_name:h:0123abcd]";
    let mine = |n| with_message(n, &format!("user={token}"));
    // sent, dead, in flight, pending: one of the subject's records in each, plus others.
    spool.append(&[mine(1), record(2)], &[]).unwrap();
    let b = spool.next_batch(10).unwrap().unwrap();
    spool.ack(b.id, SystemTime::now()).unwrap();
    spool.append(&[mine(3), record(4)], &[]).unwrap();
    let dead = spool.next_batch(10).unwrap().unwrap();
    spool
        .dead_letter(dead.id, 400, "no", SystemTime::now())
        .unwrap();
    spool.append(&[mine(5)], &[]).unwrap();
    let flying = spool.next_batch(10).unwrap().unwrap();
    spool.append(&[mine(6), record(7)], &[]).unwrap();

    let request = uuid::Uuid::now_v7();
    let n = spool.forget(b"h:0123abcd", (request, b"{}")).unwrap();
    assert_eq!(n, 4);
    let left = spool.list(100).unwrap();
    assert_eq!(left.len(), 3);
    assert!(
        left.iter()
            .all(|s| !serde_json::to_string(&s.record).unwrap().contains(token))
    );
    assert_eq!(
        spool.dead_letters().unwrap()[0].records,
        1,
        "the dead batch keeps the others"
    );
    assert!(
        spool
            .next_batch(10)
            .unwrap()
            .is_some_and(|b| b.id != flying.id),
        "an emptied batch is gone"
    );
    let queued = spool.queued_controls().unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(
        (queued[0].id, queued[0].payload.as_slice()),
        (request, &b"{}"[..])
    );
    spool.control_done(request, 4).unwrap();
    assert!(spool.queued_controls().unwrap().is_empty());
    assert_eq!(counter(&spool, "deleted_at_collector"), 4);
}

#[test]
fn a_spool_of_one_entry_per_record_moves_into_segments_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let recs: Vec<Record> = (0..4).map(record).collect();
    let key = |i: usize| recs[i].id.as_u128();
    let batch = uuid::Uuid::now_v7();
    {
        // The layout before segments: `records` per record, states keyed by record id.
        let db = redb::Database::create(dir.path().join(FILE_NAME)).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut records = txn.open_table(LEGACY_RECORDS).unwrap();
            for r in &recs {
                let json = serde_json::to_vec(r).unwrap();
                records.insert(r.id.as_u128(), json.as_slice()).unwrap();
            }
            let mut pending = txn.open_table(PENDING).unwrap();
            pending.insert(key(2), ()).unwrap();
            pending.insert(key(3), ()).unwrap();
            let mut batches = txn.open_table(BATCHES).unwrap();
            batches
                .insert(batch.as_u128(), encode_ids(&[key(1)]).as_slice())
                .unwrap();
            let mut sent = txn.open_table(SENT).unwrap();
            sent.insert(key(0), (5, 6)).unwrap();
        }
        txn.commit().unwrap();
    }
    let spool = Spool::open(dir.path()).unwrap();
    let listed = spool.list(10).unwrap();
    let states: Vec<(Record, Delivery)> =
        listed.into_iter().map(|s| (s.record, s.delivery)).collect();
    assert_eq!(
        states,
        vec![
            (recs[3].clone(), Delivery::Pending),
            (recs[2].clone(), Delivery::Pending),
            (recs[1].clone(), Delivery::InFlight { batch }),
            (
                recs[0].clone(),
                Delivery::Sent {
                    batch: uuid::Uuid::from_u128(6),
                    at_ms: 5
                }
            ),
        ]
    );
    let json_bytes: usize = recs
        .iter()
        .map(|r| serde_json::to_vec(r).unwrap().len())
        .sum();
    assert_eq!(spool.record_bytes().unwrap(), json_bytes as u64);
    let b = spool.next_batch(10).unwrap().unwrap();
    assert_eq!((b.id, b.records().unwrap()), (batch, vec![recs[1].clone()]));
    spool.ack(batch, SystemTime::now()).unwrap();
    let rest = spool.next_batch(10).unwrap().unwrap();
    assert_eq!(rest.records().unwrap(), recs[2..].to_vec());
    drop(spool);
    use redb::ReadableDatabase;
    let txn_tables: Vec<String> = redb::Database::open(dir.path().join(FILE_NAME))
        .unwrap()
        .begin_read()
        .unwrap()
        .list_tables()
        .unwrap()
        .map(|t| redb::TableHandle::name(&t).to_owned())
        .collect();
    assert!(
        !txn_tables.contains(&"records".to_owned()),
        "{txn_tables:?}"
    );
}

#[test]
fn a_batch_cuts_a_segment_and_the_rest_waits_under_its_own_key() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let mut recs: Vec<Record> = (0..6).map(record).collect();
    recs[3].purpose = Purpose::Usage;
    recs[3].category = Category::FeatureUsage;
    spool.append(&recs, &[]).unwrap();
    let sizes: Vec<usize> = std::iter::from_fn(|| {
        let b = spool.next_batch(2).unwrap()?;
        spool.ack(b.id, SystemTime::now()).ok()?;
        Some(b.len())
    })
    .take(10)
    .collect();
    assert_eq!(sizes, vec![2, 2, 2]);
    let sent: Vec<Record> = spool
        .list(10)
        .unwrap()
        .into_iter()
        .rev()
        .map(|s| s.record)
        .collect();
    assert_eq!(sent, recs, "every record once, in order");
    assert_eq!(spool.stats().unwrap().sent, 6);
}

#[test]
fn a_batch_being_sent_is_passed_over_for_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let recs: Vec<Record> = (0..4).map(record).collect();
    spool.append(&recs[..2], &[]).unwrap();
    spool.append(&recs[2..], &[]).unwrap();
    let first = spool.next_batch(2).unwrap().unwrap();
    let second = spool.next_batch_except(2, &[first.id]).unwrap().unwrap();
    assert_ne!(first.id, second.id);
    assert_eq!(second.records().unwrap(), recs[2..].to_vec());
    assert!(
        spool
            .next_batch_except(2, &[first.id, second.id])
            .unwrap()
            .is_none()
    );
    assert_eq!(
        spool.next_batch(2).unwrap().unwrap().id,
        first.id,
        "the oldest unacknowledged first"
    );
    spool.ack(second.id, SystemTime::now()).unwrap();
    assert_eq!(
        spool.next_batch_except(2, &[]).unwrap().unwrap().id,
        first.id
    );
}

#[test]
fn over_the_cap_the_history_goes_down_to_seven_eighths_so_a_burst_trims_rarely() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let recs: Vec<Record> = (0..16).map(|n| record(n + 100)).collect();
    spool.append(&recs, &[]).unwrap();
    let b = spool.next_batch(16).unwrap().unwrap();
    spool.ack(b.id, SystemTime::now()).unwrap();
    let each = spool.record_bytes().unwrap() / 16;
    // One byte over: the cap alone would take one record of history; 7/8 of it takes two.
    let cap = limits(each * 16 - 1, [24, 24], [24, 24]);
    let done = spool.enforce(&cap, SystemTime::now()).unwrap();
    assert_eq!((done.history, done.over_size), (2, 0));
    assert_eq!(spool.record_bytes().unwrap(), each * 14);
    assert_eq!(
        spool.enforce(&cap, SystemTime::now()).unwrap(),
        Enforced::default()
    );
}

#[test]
fn a_batch_of_long_records_stops_at_its_byte_bound() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let long = |n: u64, bytes: u64| with_message(n, &"x".repeat(bytes as usize));
    for n in 0..3 {
        spool
            .append(&[long(n, BATCH_MAX_BYTES * 3 / 8)], &[])
            .unwrap();
    }
    spool.append(&[long(3, BATCH_MAX_BYTES * 2)], &[]).unwrap();
    let mut sizes = Vec::new();
    while let Some(b) = spool.next_batch(100).unwrap() {
        sizes.push(b.len());
        spool.ack(b.id, SystemTime::now()).unwrap();
    }
    assert_eq!(
        sizes,
        vec![2, 1, 1],
        "two fit, the third waits; one over the bound goes alone"
    );
}

#[test]
fn sealed_rounds_cut_segments_when_full_or_when_the_purpose_changes() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let mut recs: Vec<Record> = (0..2_501).map(record).collect();
    recs[1_000].purpose = Purpose::Usage;
    let mut sealed = Sealed::default();
    for r in &recs {
        sealed.push(r);
    }
    assert_eq!(sealed.len(), 2_501);
    let bytes = spool.append_sealed(&sealed, &[], &[]).unwrap();
    let json: usize = recs
        .iter()
        .map(|r| serde_json::to_vec(r).unwrap().len())
        .sum();
    assert_eq!(
        (bytes, spool.record_bytes().unwrap()),
        (json as u64, json as u64)
    );

    let batch = spool.next_batch(10_000).unwrap().unwrap();
    assert_eq!(batch.records().unwrap(), recs, "all, in order");
    assert_eq!(
        batch.gzip_members().len(),
        4,
        "1,000 | the usage record | 1,000 | 500"
    );
}

#[test]
fn a_listing_filter_keeps_only_records_that_meet_every_condition() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let mut usage = record(1);
    usage.category = Category::FeatureUsage;
    usage.purpose = Purpose::Usage;
    let operational = record(2);
    spool
        .append(&[usage.clone(), operational.clone()], &[])
        .unwrap();
    let ids = |filter: Filter| -> Vec<RecordId> {
        let listed = spool.list_matching(10, &filter).unwrap();
        listed.iter().map(|s| s.record.id).collect()
    };
    let both = |category, purpose| Filter {
        category: Some(category),
        purpose: Some(purpose),
        ..Filter::default()
    };
    assert_eq!(
        ids(both(Category::Performance, Purpose::ServiceOperational)),
        [operational.id]
    );
    assert_eq!(
        ids(both(Category::FeatureUsage, Purpose::Usage)),
        [usage.id]
    );
    assert!(ids(both(Category::Performance, Purpose::Usage)).is_empty());
    let source = Filter {
        state: Some(State::Pending),
        source: Some("elsewhere".into()),
        ..Filter::default()
    };
    assert!(ids(source).is_empty());
}
