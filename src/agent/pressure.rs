//! Backpressure at the spool's byte cap: log sources, whose lines wait in their files, stop
//! reading while unsent records take half the cap and go on below three eighths of it, so a
//! collector that is down or slow costs no line (`[retention] when_full = "wait"`). What has
//! been read but not stored yet counts too, so the spool does not overshoot by the pipeline.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::policy::WhenFull;
use crate::spool::{Spool, on_blocking_pool};

/// How often a waiting log source looks at the spool again.
const RECHECK: Duration = Duration::from_millis(50);

/// Whether log sources may read, shared by one generation's tasks.
pub(super) struct Pressure {
    spool: Arc<Spool>,
    /// Bytes past which log sources wait; `u64::MAX` when they never do.
    high: u64,
    /// Bytes under which they go on.
    low: u64,
    full: AtomicBool,
    /// Unsent bytes in the spool when last looked at (at most all stored bytes).
    unsent: AtomicU64,
    /// Drafts read and not stored yet (queued, in the policy step, being written).
    in_flight: AtomicU64,
    /// JSON bytes a stored record took, in the last round stored.
    per_record: AtomicU64,
}

impl Pressure {
    /// Marks for a spool of `max_bytes`. Half the cap leaves room for sources that cannot
    /// wait. Without a collector (`shipping` false) nothing would ever make room, so sources
    /// never wait and the cap applies. Reads what waits in the spool now (a restart).
    pub fn new(
        spool: &Arc<Spool>,
        max_bytes: u64,
        when_full: WhenFull,
        shipping: bool,
    ) -> Pressure {
        let (high, low) = match when_full {
            WhenFull::Wait if shipping => (max_bytes / 2, max_bytes / 8 * 3),
            _ => (u64::MAX, u64::MAX),
        };
        let unsent = if high == u64::MAX {
            0
        } else {
            spool.unsent_bytes().unwrap_or(0)
        };
        Pressure {
            spool: Arc::clone(spool),
            high,
            low,
            full: AtomicBool::new(false),
            unsent: AtomicU64::new(unsent),
            in_flight: AtomicU64::new(0),
            per_record: AtomicU64::new(1024),
        }
    }

    /// A source read `drafts` drafts that are on their way to the spool.
    pub fn read(&self, drafts: usize) {
        self.in_flight.fetch_add(drafts as u64, Ordering::Relaxed);
    }

    /// Drafts counted by [`Pressure::read`] that are no longer on their way (stored, or the
    /// policy step failed).
    pub fn lost(&self, drafts: usize) {
        let _ = self
            .in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(drafts as u64))
            });
    }

    /// A round is stored: `drafts` of those read became `records` taking `bytes`, and the
    /// spool now holds `record_bytes` in all. Counts what waits when that could be near the
    /// high mark (unsent records are a part of all, so mostly it cannot).
    pub async fn stored(&self, drafts: usize, records: usize, bytes: u64, record_bytes: u64) {
        self.lost(drafts);
        if records > 0 {
            self.per_record
                .store(bytes / records as u64, Ordering::Relaxed);
        }
        if self.high == u64::MAX {
            return;
        }
        let unsent = if record_bytes + self.reading() <= self.high {
            Some(record_bytes)
        } else {
            self.unsent_now().await
        };
        if let Some(n) = unsent {
            self.unsent.store(n, Ordering::Relaxed);
        }
    }

    /// Bytes read and not stored yet, as records of the size stored last.
    fn reading(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed) * self.per_record.load(Ordering::Relaxed)
    }

    /// Before a log source reads: whether it must wait (then [`Pressure::room`] waits).
    pub fn is_full(&self) -> bool {
        if self.full.load(Ordering::Relaxed) {
            return true;
        }
        let ahead = self.unsent.load(Ordering::Relaxed) + self.reading();
        if ahead > self.high && !self.full.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                unsent_bytes = ahead,
                resume_below = self.low,
                "unsent records fill the spool; log sources wait for the collector (their lines stay in the files)"
            );
        }
        ahead > self.high
    }

    /// Returns once log sources may read again (at once when they may): `true`, or `false`
    /// when `stop` came first.
    pub async fn room(&self, stop: &CancellationToken) -> bool {
        while self.full.load(Ordering::Relaxed) {
            tokio::select! {
                () = stop.cancelled() => return false,
                () = tokio::time::sleep(RECHECK) => {}
            }
            // A spool that cannot count lets sources read: storing their rounds then waits on
            // the spool's own retries, and a stall here would hide the fault.
            let unsent = self.unsent_now().await;
            self.unsent.store(unsent.unwrap_or(0), Ordering::Relaxed);
            let ahead = unsent.map(|n| n + self.reading());
            if ahead.is_none_or(|n| n < self.low) && self.full.swap(false, Ordering::Relaxed) {
                tracing::info!(
                    unsent_bytes = ahead,
                    "the spool has room again; log sources read on"
                );
            }
        }
        true
    }

    /// Unsent bytes in the spool, or `None` (logged) when it cannot tell.
    async fn unsent_now(&self) -> Option<u64> {
        let s = Arc::clone(&self.spool);
        match on_blocking_pool(move || s.unsent_bytes()).await {
            Ok(n) => Some(n),
            Err(e) => {
                tracing::warn!(error = %e, "cannot count unsent records");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::record::Record;

    fn records(n: u64) -> Vec<Record> {
        (0..n).map(crate::spool::tests::record).collect()
    }

    /// A spool holding 100 unsent records, and a cap that makes them more than half of it.
    fn spool_over_half() -> (tempfile::TempDir, Arc<Spool>, u64) {
        let dir = tempfile::tempdir().unwrap();
        let spool = Arc::new(Spool::open(dir.path()).unwrap());
        spool.append(&records(100), &[]).unwrap();
        let cap = spool.unsent_bytes().unwrap() * 3 / 2;
        (dir, spool, cap)
    }

    #[tokio::test]
    async fn sources_wait_past_half_the_cap_and_go_on_once_sending_makes_room() {
        let (_dir, spool, cap) = spool_over_half();
        // Made after the records were stored, as at a restart.
        let pressure = Pressure::new(&spool, cap, WhenFull::Wait, true);
        assert!(pressure.is_full());

        let batch = spool.next_batch(100).unwrap().unwrap();
        spool.ack(batch.id, SystemTime::now()).unwrap();
        assert!(pressure.is_full(), "only a waiting source looks again");
        assert!(pressure.room(&CancellationToken::new()).await);
        assert!(!pressure.is_full());
    }

    #[tokio::test]
    async fn what_was_read_and_not_stored_counts_toward_the_mark() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Arc::new(Spool::open(dir.path()).unwrap());
        let stored = records(100);
        let bytes: u64 = stored
            .iter()
            .map(|r| serde_json::to_vec(r).unwrap().len() as u64)
            .sum();
        // Room for 50 such records before the high mark.
        let pressure = Pressure::new(&spool, bytes, WhenFull::Wait, true);
        pressure.read(30);
        pressure
            .stored(30, 30, bytes / 100 * 30, bytes / 100 * 30)
            .await;
        pressure.read(15);
        assert!(!pressure.is_full(), "30 stored and 15 on their way");
        pressure.read(10);
        assert!(pressure.is_full(), "30 stored and 25 on their way");
    }

    #[tokio::test]
    async fn a_stop_ends_the_wait() {
        let (_dir, spool, cap) = spool_over_half();
        let pressure = Pressure::new(&spool, cap, WhenFull::Wait, true);
        assert!(pressure.is_full());
        let stop = CancellationToken::new();
        stop.cancel();
        assert!(!pressure.room(&stop).await);
        assert!(pressure.is_full());
    }

    #[tokio::test]
    async fn without_a_collector_or_with_drop_oldest_sources_never_wait() {
        let (_dir, spool, cap) = spool_over_half();
        for (when_full, shipping) in [(WhenFull::Wait, false), (WhenFull::DropOldest, true)] {
            let pressure = Pressure::new(&spool, cap, when_full, shipping);
            pressure.read(1_000_000);
            assert!(!pressure.is_full(), "{when_full:?}, shipping {shipping}");
        }
    }
}
