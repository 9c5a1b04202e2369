//! One generation of the daemon's tasks, all built from one policy: a task per source, the
//! admit task (policy → spool), the shipper and the retention task. A reload stops the current
//! generation (sources first, then what they queued is stored) and starts the next.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::health::Health;
use super::pressure::Pressure;
use super::{Ids, admit_as, as_str};
use crate::policy::{Policy, PseudonymKey, SourceSpec};
use crate::scrub::Scratch;
use crate::ship::{Backoff, ShipError, Shipper, drain};
use crate::sources::{self, Round, Source};
use crate::spool::{BATCH_MAX_BYTES, Limits, Sealed, Spool, on_blocking_pool};

/// Rounds waiting between sources and the admit task; a full queue slows sources down. One
/// waiting and [`ADMIT_AT_ONCE`] in the policy step bound the drafts in memory to a few MiB (a
/// whole draft costs about 1 KiB, most of it its field map; a log line waits as its text).
const QUEUE_ROUNDS: usize = 1;

/// How long after a stored round the allocator's free pages go back to the system.
const TRIM_AFTER: Duration = Duration::from_secs(1);

/// Most drafts the admit task stores in one transaction (queued rounds are merged up to it).
const ADMIT_DRAFTS: usize = 5_000;

/// Rounds in the policy step at once: two, so a burst keeps both cores of a small host busy
/// while the round before them is stored.
const ADMIT_AT_ONCE: usize = 2;

/// The running tasks of one policy.
pub(super) struct Generation {
    /// The policy they run.
    pub policy: Arc<Policy>,
    sources_stop: CancellationToken,
    rest_stop: CancellationToken,
    tracker: TaskTracker,
    admit: JoinHandle<()>,
    ship: Option<JoinHandle<()>>,
    retention: JoinHandle<()>,
}

impl Generation {
    /// Starts every task for `policy`.
    pub fn start(
        policy: Arc<Policy>,
        key: &PseudonymKey,
        spool: &Arc<Spool>,
        shipper: Option<Shipper>,
        data_dir: &std::path::Path,
        health: &Arc<Health>,
    ) -> Generation {
        let sources_stop = CancellationToken::new();
        let rest_stop = CancellationToken::new();
        let tracker = TaskTracker::new();
        let (tx, rx) = mpsc::channel::<Round>(QUEUE_ROUNDS);
        let retention = &policy.file.retention;
        let pressure = Arc::new(Pressure::new(
            spool,
            retention.spool_max_bytes,
            retention.when_full,
            shipper.is_some(),
        ));
        for (i, spec) in policy.file.sources.iter().enumerate() {
            let span = tracing::info_span!("source", kind = spec.kind());
            let twins = policy
                .file
                .sources
                .iter()
                .filter(|s| s.kind() == spec.kind())
                .count();
            let name = if twins > 1 {
                format!("{}#{}", spec.kind(), i + 1)
            } else {
                spec.kind().to_owned()
            };
            match (
                sources::build(spec, spool, &policy.stamp.version),
                spec.interval(),
                spec,
            ) {
                (Some(source), Some(every), _) => {
                    tracker.spawn(
                        source_task(
                            source,
                            every,
                            tx.clone(),
                            sources_stop.clone(),
                            (name, Arc::clone(health), Arc::clone(&pressure)),
                        )
                        .instrument(span),
                    );
                }
                (_, _, SourceSpec::Ingest(ingest)) => {
                    let socket: PathBuf = ingest
                        .socket
                        .clone()
                        .unwrap_or_else(|| data_dir.join("ingest.sock"));
                    let (ingest, tx, stop) = (ingest.clone(), tx.clone(), sources_stop.clone());
                    tracker.spawn(
                        async move {
                            if let Err(e) = sources::ingest::serve(ingest, socket, tx, stop).await {
                                tracing::error!(error = %e, "ingest source cannot run; the agent goes on without it");
                            }
                        }
                        .instrument(span),
                    );
                }
                _ => tracing::error!(kind = spec.kind(), "source has no runner"),
            }
        }
        drop(tx);
        tracker.close();
        let backlog = Arc::new(Backlog {
            stored: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
            full_batch: shipper.as_ref().map_or(usize::MAX, Shipper::max_records),
            wake: Notify::new(),
        });
        let admit = tokio::spawn(
            admit_task(
                rx,
                Arc::clone(&policy),
                key.clone(),
                Arc::clone(spool),
                Arc::clone(&backlog),
                pressure,
            )
            .instrument(tracing::info_span!("admit")),
        );
        let ship = shipper.map(|s| {
            tokio::spawn(
                ship_task(
                    s,
                    Arc::clone(spool),
                    Arc::clone(&policy),
                    backlog,
                    rest_stop.clone(),
                    Arc::clone(health),
                )
                .instrument(tracing::info_span!("ship")),
            )
        });
        let retention = tokio::spawn(
            retention_task(
                Arc::clone(spool),
                super::setup::limits(&policy.file.retention),
                rest_stop.clone(),
            )
            .instrument(tracing::info_span!("retention")),
        );
        Generation {
            policy,
            sources_stop,
            rest_stop,
            tracker,
            admit,
            ship,
            retention,
        }
    }

    /// Stops the sources, stores what they had queued, then stops the shipper (a batch being
    /// sent keeps its id and goes again) and the retention task.
    pub async fn stop(self) {
        self.sources_stop.cancel();
        self.tracker.wait().await;
        if let Err(e) = self.admit.await {
            tracing::error!(error = %e, "admit task failed");
        }
        self.rest_stop.cancel();
        if let Some(ship) = self.ship {
            let _ = ship.await;
        }
        let _ = self.retention.await;
    }
}

/// Records and bytes stored since the shipper last ran; a full batch (by records or by
/// [`BATCH_MAX_BYTES`]) wakes it before its flush interval.
struct Backlog {
    stored: AtomicUsize,
    bytes: AtomicU64,
    full_batch: usize,
    wake: Notify,
}

impl Backlog {
    fn stored(&self, n: usize, bytes: u64) {
        let records = self.stored.fetch_add(n, Ordering::Relaxed) + n;
        let bytes = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if records >= self.full_batch || bytes >= BATCH_MAX_BYTES {
            self.wake.notify_one();
        }
    }

    fn shipping(&self) {
        self.stored.store(0, Ordering::Relaxed);
        self.bytes.store(0, Ordering::Relaxed);
    }
}

/// Runs rounds at `interval` (the first at once) until `stop`; a failed round is logged. A
/// source that can wait does, while unsent records fill the spool ([`Pressure`]).
async fn source_task(
    source: Box<dyn Source>,
    interval: Duration,
    tx: mpsc::Sender<Round>,
    stop: CancellationToken,
    (name, health, pressure): (String, Arc<Health>, Arc<Pressure>),
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let can_wait = source.can_wait();
    let mut source = Some(source);
    let mut more = false;
    loop {
        if !more {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticks.tick() => {}
            }
        }
        let waited = can_wait && pressure.is_full();
        if waited {
            health.source_waiting(&name, true);
            if !pressure.room(&stop).await {
                return;
            }
            health.source_waiting(&name, false);
        }
        let mut s = source.take().expect("the source is back after each round");
        let round = tokio::task::spawn_blocking(move || {
            let drafts = s.round();
            (s, drafts)
        });
        let (s, drafts) = tokio::select! {
            () = stop.cancelled() => return,
            done = round => match done {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::error!(error = %e, "source round panicked; the source is stopped");
                    return;
                }
            },
        };
        source = Some(s);
        health.source_round(&name, drafts.as_ref().err().cloned());
        more = drafts.as_ref().is_ok_and(|r| r.more);
        match drafts {
            Ok(round) if round.is_empty() && !waited => {}
            Ok(mut round) => {
                if waited {
                    round.counts.push(("source.waited_for_room", 1));
                }
                round.counted = round.drafts.len();
                pressure.read(round.counted);
                if tx.send(round).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "source round failed; the agent goes on and retries next round");
                let failed = Round {
                    counts: vec![("source.rounds_failed", 1)],
                    ..Round::default()
                };
                if tx.send(failed).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Applies the policy to each round and stores the result; rounds already queued are batched
/// into one transaction. Up to [`ADMIT_AT_ONCE`] rounds go through the policy step side by
/// side while the round before them is stored; they are stored in the order they were read
/// (their record ids drawn in that order), so checkpoints never pass unstored lines. Ends
/// when every source has stopped and the queue is empty.
async fn admit_task(
    mut rx: mpsc::Receiver<Round>,
    policy: Arc<Policy>,
    key: PseudonymKey,
    spool: Arc<Spool>,
    backlog: Arc<Backlog>,
    pressure: Arc<Pressure>,
) {
    let limits = super::setup::limits(&policy.file.retention);
    let (to_store, stored) = mpsc::channel::<Arc<Admitted>>(1);
    // The scrubber's buffers and digest cache, kept from round to round (one per round in the
    // policy step) under this generation's key: a fresh cache computed again, every round, the
    // HMACs of the names and addresses the round before had already seen.
    let scratches = Arc::new(std::sync::Mutex::new(Vec::<Scratch>::new()));
    let admitting_pressure = Arc::clone(&pressure);
    let admitting = async move {
        let pressure = admitting_pressure;
        // Each round in the policy step, with the drafts it counts toward the backpressure.
        let mut running: VecDeque<(JoinHandle<Admitted>, usize)> = VecDeque::new();
        let mut open = true;
        loop {
            tokio::select! {
                biased;
                done = async { (&mut running.front_mut().expect("checked non-empty").0).await }, if !running.is_empty() => {
                    let (_, counted) = running.pop_front().expect("checked non-empty");
                    let Ok(admitted) = done else {
                        tracing::error!("the policy step failed; the round was not stored");
                        pressure.lost(counted);
                        continue;
                    };
                    if to_store.send(Arc::new(admitted)).await.is_err() {
                        return;
                    }
                }
                round = rx.recv(), if open && running.len() < ADMIT_AT_ONCE => {
                    let Some(mut round) = round else {
                        open = false;
                        continue;
                    };
                    while round.drafts.len() < ADMIT_DRAFTS
                        && let Ok(more) = rx.try_recv()
                    {
                        round.extend(more);
                    }
                    let Round { drafts, counts, checkpoints, counted, .. } = round;
                    let ids = Ids::draw(drafts.len());
                    let (p, k) = (Arc::clone(&policy), key.clone());
                    let scratches = Arc::clone(&scratches);
                    // The policy and scrubber are CPU work: they run on the blocking pool, off the runtime.
                    let admitted = tokio::task::spawn_blocking(move || {
                        let pool = || scratches.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        let mut scratch = pool().pop().unwrap_or_default();
                        let (records, tally) = admit_as(&p, &k, drafts, ids, &mut scratch);
                        pool().push(scratch);
                        let mut counters = tally.counters();
                        counters.extend(counts.into_iter().map(|(k, v)| (k.to_owned(), v)));
                        (records, counters, checkpoints, counted)
                    });
                    running.push_back((admitted, counted));
                }
                else => return,
            }
        }
    };
    tokio::join!(
        admitting,
        store_task(stored, spool, backlog, limits, pressure)
    );
}

/// Stores admitted rounds in order, wakes the shipper, and enforces the byte cap when a round
/// takes the spool over it. Ends when the policy step has ended and its queue is empty.
async fn store_task(
    mut rx: mpsc::Receiver<Arc<Admitted>>,
    spool: Arc<Spool>,
    backlog: Arc<Backlog>,
    limits: Limits,
    pressure: Arc<Pressure>,
) {
    // Freed pages go back to the system a moment after rounds are stored, once per
    // TRIM_AFTER however many rounds a burst stores: trimming after every round cost more in
    // page faults when the next round took the pages again than it saved.
    let trim = Arc::new(Notify::new());
    let trimmer = tokio::spawn({
        let trim = Arc::clone(&trim);
        async move {
            loop {
                trim.notified().await;
                tokio::time::sleep(TRIM_AFTER).await;
                let _ = tokio::task::spawn_blocking(crate::allocator::give_back).await;
            }
        }
    });
    while let Some(round) = rx.recv().await {
        if let Some(bytes) = store_round(&spool, &round, &rx).await {
            let (records, counted) = (round.0.len(), round.3);
            backlog.stored(records, bytes);
            drop(round);
            trim.notify_one();
            let s = Arc::clone(&spool);
            match on_blocking_pool(move || s.record_bytes()).await {
                Ok(all) => {
                    pressure.stored(counted, records, bytes, all).await;
                    if all > limits.max_bytes {
                        enforce_retention(&spool, &limits).await;
                    }
                }
                Err(_) => pressure.lost(counted),
            }
        }
    }
    trimmer.abort();
}

/// A round after the policy: its records, counters and source checkpoints, stored together,
/// and the drafts it counts toward the backpressure.
type Admitted = (Sealed, Vec<(String, u64)>, Vec<(String, String)>, usize);

/// Stores one admitted round with its counters and checkpoints, retrying with back-off while
/// the spool cannot write (a full disk): meanwhile the queues fill and sources wait, so
/// nothing is read that cannot be kept. Gives up only when the agent is stopping (the sources
/// and the policy step have stopped); the round's checkpoints were not stored then, so log files are read again
/// from there at the next start. Returns the bytes stored, `None` if it was not.
async fn store_round(
    spool: &Arc<Spool>,
    round: &Arc<Admitted>,
    rx: &mpsc::Receiver<Arc<Admitted>>,
) -> Option<u64> {
    let mut wait = Duration::from_millis(250);
    loop {
        let (s, r) = (Arc::clone(spool), Arc::clone(round));
        match on_blocking_pool(move || s.append_sealed(&r.0, &as_str(&r.1), &r.2)).await {
            Ok(bytes) => {
                tracing::debug!(stored = round.0.len(), "round stored");
                return Some(bytes);
            }
            Err(e) if rx.is_closed() => {
                spool.recover(&e);
                tracing::error!(error = %e, records = round.0.len(), "cannot store the last round while stopping; sources resume from their stored checkpoints");
                return None;
            }
            Err(e) => {
                spool.recover(&e);
                tracing::error!(error = %e, records = round.0.len(), retry_in = ?wait, "cannot store a round (is the disk full?); sources wait until it can be stored");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// How often the age limits are applied.
const RETENTION_EVERY: Duration = Duration::from_secs(60);

/// Applies `[retention]` at start and every [`RETENTION_EVERY`].
async fn retention_task(spool: Arc<Spool>, limits: Limits, shutdown: CancellationToken) {
    loop {
        enforce_retention(&spool, &limits).await;
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(RETENTION_EVERY) => {}
        }
    }
}

/// Applies the limits once and logs what they removed (counts only).
pub(super) async fn enforce_retention(spool: &Arc<Spool>, limits: &Limits) {
    let (s, l) = (Arc::clone(spool), limits.clone());
    match on_blocking_pool(move || s.enforce(&l, SystemTime::now())).await {
        Ok(e) if e.expired + e.over_size > 0 => tracing::warn!(
            expired = e.expired,
            over_size = e.over_size,
            history = e.history,
            "dropped unsent records under [retention]; `noticed records` and status count them"
        ),
        Ok(e) if e.history > 0 => tracing::debug!(history = e.history, "sent-history aged out"),
        Ok(_) => {}
        Err(e) => {
            spool.recover(&e);
            tracing::error!(error = %e, "cannot apply [retention]; will retry");
        }
    }
}

/// Sends pending batches every flush interval, or as soon as a full batch is stored; on
/// failure, backs off and retries forever (records stay in the spool meanwhile).
async fn ship_task(
    shipper: Shipper,
    spool: Arc<Spool>,
    policy: Arc<Policy>,
    backlog: Arc<Backlog>,
    shutdown: CancellationToken,
    health: Arc<Health>,
) {
    let flush = policy
        .file
        .collector
        .as_ref()
        .map_or(Duration::from_secs(10), |c| c.flush_interval.0);
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(300));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = backlog.wake.notified() => {}
            () = tokio::time::sleep(flush) => {}
        }
        backlog.shipping();
        let attempt = drain(&spool, &shipper, &policy.stamp, 1, &mut backoff);
        let outcome = tokio::select! {
            () = shutdown.cancelled() => return,
            outcome = attempt => outcome,
        };
        match outcome {
            Ok(d) => {
                health.drained(Ok(()));
                if d.records > 0 {
                    tracing::info!(records = d.records, batches = d.batches, "sent");
                }
            }
            Err((d, e)) => {
                if let ShipError::Spool(e) = &e {
                    spool.recover(e);
                }
                let wait = e.retry_after().unwrap_or_else(|| backoff.next_delay());
                health.drained(Err((e.to_string(), SystemTime::now() + wait)));
                tracing::warn!(sent = d.records, error = %e, retry_in = ?wait, at = ?SystemTime::now(), "delivery stopped; records stay in the spool");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(wait) => {}
                }
                backlog.wake.notify_one();
            }
        }
    }
}
