//! The spool against an in-memory model: random sequences of append (runs of mixed purposes,
//! so several segments per append), batch, ack, split, dead letter, retry, forget (one record,
//! cutting through its segment) and reopen (close and reopen the real redb file) must leave the
//! real spool holding exactly what the model says: no record lost, none in two states, batch
//! ids stable. Unclean stops at each commit are tested in tests/crash.rs.

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use noticed::record::{Category, PolicyStamp, Purpose, Record, RecordId};
use noticed::spool::{Delivery, Spool};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Step {
    Append(u8, u8),
    Batch(u8),
    Ack,
    Split,
    Dead,
    Retry,
    Forget(u8),
    Reopen,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (1u8..6, any::<u8>()).prop_map(|(n, mix)| Step::Append(n, mix)),
        3 => (1u8..8).prop_map(Step::Batch),
        2 => Just(Step::Ack),
        1 => Just(Step::Split),
        1 => Just(Step::Dead),
        1 => Just(Step::Retry),
        1 => any::<u8>().prop_map(Step::Forget),
        1 => Just(Step::Reopen),
    ]
}

fn record(usage: bool) -> Record {
    let (category, purpose) = if usage {
        (Category::FeatureUsage, Purpose::Usage)
    } else {
        (Category::Performance, Purpose::ServiceOperational)
    };
    Record {
        id: RecordId::new(),
        collected_at: "2026-11-29T10:00:00.000Z".into(),
        category,
        purpose,
        source: "model".into(),
        event: None,
        fields: serde_json::Map::new(),
        body: None,
        policy: PolicyStamp {
            version: "v".into(),
            sha256: "0".repeat(64).into(),
        },
        provenance: vec![],
    }
}

/// What the spool must hold: pending ids, batches (in send order) and their ids, dead batches,
/// sent ids.
#[derive(Default, Debug)]
struct Model {
    pending: BTreeSet<RecordId>,
    batches: BTreeMap<uuid::Uuid, BTreeSet<RecordId>>,
    dead: BTreeMap<uuid::Uuid, BTreeSet<RecordId>>,
    sent: BTreeSet<RecordId>,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_spool_matches_its_model(steps in proptest::collection::vec(step(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path()).unwrap();
        let mut m = Model::default();
        for s in steps {
            match s {
                Step::Append(n, mix) => {
                    let recs: Vec<Record> = (0..n).map(|i| record(mix >> i & 1 == 1)).collect();
                    spool.append(&recs, &[]).unwrap();
                    m.pending.extend(recs.iter().map(|r| r.id));
                }
                Step::Batch(max) => {
                    let got = spool.next_batch(usize::from(max)).unwrap();
                    let ids: BTreeSet<RecordId> = got.iter().flat_map(|b| b.records().unwrap().into_iter().map(|r| r.id)).collect();
                    match (got, m.batches.iter().next()) {
                        (Some(b), Some((id, want))) => {
                            prop_assert_eq!(b.id, *id, "the oldest batch comes back with its id");
                            prop_assert_eq!(&ids, want);
                        }
                        (Some(b), None) => {
                            // Whole segments (each append's runs) while they fit, or the first
                            // `max` records of one.
                            prop_assert!(!ids.is_empty() && ids.len() <= usize::from(max));
                            let oldest: BTreeSet<RecordId> = m.pending.iter().take(ids.len()).copied().collect();
                            prop_assert_eq!(&ids, &oldest, "a new batch takes the oldest pending");
                            for id in &ids { m.pending.remove(id); }
                            m.batches.insert(b.id, ids);
                        }
                        (None, None) => prop_assert!(m.pending.is_empty()),
                        (None, Some(_)) => prop_assert!(false, "a batch in flight was not returned"),
                    }
                }
                Step::Ack => {
                    if let Some((&id, _)) = m.batches.iter().next() {
                        let n = spool.ack(id, SystemTime::now()).unwrap();
                        let ids = m.batches.remove(&id).unwrap();
                        prop_assert_eq!(n, ids.len());
                        m.sent.extend(ids);
                    }
                }
                Step::Split => {
                    if let Some((&id, ids)) = m.batches.iter().next() {
                        let split = spool.split_batch(id).unwrap();
                        prop_assert_eq!(split, ids.len() > 1);
                        if split {
                            // The halves get fresh ids (sent after older batches): find them.
                            let ids = m.batches.remove(&id).unwrap();
                            let mut halves: BTreeMap<uuid::Uuid, BTreeSet<RecordId>> = BTreeMap::new();
                            for s in spool.list(usize::MAX).unwrap() {
                                if let (true, Delivery::InFlight { batch }) = (ids.contains(&s.record.id), s.delivery) {
                                    halves.entry(batch).or_default().insert(s.record.id);
                                }
                            }
                            let sizes: Vec<usize> = halves.values().map(BTreeSet::len).collect();
                            prop_assert_eq!(sizes, vec![ids.len() / 2, ids.len() - ids.len() / 2]);
                            prop_assert!(!halves.contains_key(&id), "the split batch's id is gone");
                            m.batches.append(&mut halves);
                        }
                    }
                }
                Step::Dead => {
                    if let Some((&id, _)) = m.batches.iter().next() {
                        spool.dead_letter(id, 400, "model", SystemTime::now()).unwrap();
                        let ids = m.batches.remove(&id).unwrap();
                        m.dead.insert(id, ids);
                    }
                }
                Step::Retry => {
                    let n = spool.retry_dead(None).unwrap();
                    prop_assert_eq!(n, m.dead.values().map(BTreeSet::len).sum::<usize>());
                    m.batches.append(&mut m.dead);
                }
                Step::Forget(pick) => {
                    let all: Vec<RecordId> = m.pending.iter().chain(&m.sent)
                        .chain(m.batches.values().flatten())
                        .chain(m.dead.values().flatten())
                        .copied().collect();
                    if !all.is_empty() {
                        let gone = all[usize::from(pick) % all.len()];
                        let n = spool.forget(gone.to_string().as_bytes(), (uuid::Uuid::now_v7(), b"{}")).unwrap();
                        prop_assert_eq!(n, 1);
                        m.pending.remove(&gone);
                        m.sent.remove(&gone);
                        for set in m.batches.values_mut().chain(m.dead.values_mut()) {
                            set.remove(&gone);
                        }
                        m.batches.retain(|_, ids| !ids.is_empty());
                        m.dead.retain(|_, ids| !ids.is_empty());
                    }
                }
                Step::Reopen => {
                    drop(spool);
                    spool = Spool::open(dir.path()).unwrap();
                }
            }
            // The whole state, every step.
            let listed = spool.list(usize::MAX).unwrap();
            let mut states: BTreeMap<RecordId, Delivery> = BTreeMap::new();
            for s in &listed {
                prop_assert!(states.insert(s.record.id, s.delivery).is_none(), "listed twice");
            }
            let total = m.pending.len() + m.sent.len()
                + m.batches.values().map(BTreeSet::len).sum::<usize>()
                + m.dead.values().map(BTreeSet::len).sum::<usize>();
            prop_assert_eq!(states.len(), total, "nothing lost, nothing extra");
            for id in &m.pending { prop_assert_eq!(states[id], Delivery::Pending); }
            for id in &m.sent { let sent = matches!(states[id], Delivery::Sent { .. }); prop_assert!(sent, "{id} should be sent"); }
            for (b, ids) in &m.batches { for id in ids { prop_assert_eq!(states[id], Delivery::InFlight { batch: *b }); } }
            for (b, ids) in &m.dead { for id in ids { prop_assert_eq!(states[id], Delivery::Dead { batch: *b }); } }
            prop_assert_eq!(spool.unsent().unwrap() as usize, total - m.sent.len() - m.dead.values().map(BTreeSet::len).sum::<usize>());
        }
    }
}
