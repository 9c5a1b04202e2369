//! Backpressure at the spool's byte cap: log sources, whose lines wait in their files, stop
//! reading while unsent records take half the cap and go on below three eighths of it, so a
//! collector that is down or slow costs no line (`[retention] when_full = "wait"`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::policy::WhenFull;
use crate::spool::{Spool, on_blocking_pool};

/// How often a waiting log source looks at the spool again.
const RECHECK: Duration = Duration::from_millis(250);

/// Whether log sources may read, shared by one generation's tasks.
pub(super) struct Pressure {
    spool: Arc<Spool>,
    /// Unsent bytes past which log sources wait; `u64::MAX` when they never do.
    high: u64,
    /// Unsent bytes under which they go on.
    low: u64,
    full: AtomicBool,
}

impl Pressure {
    /// Marks for a spool of `max_bytes`. Half the cap leaves room for the rounds already read
    /// (a few MiB each) and for sources that cannot wait.
    pub fn new(spool: &Arc<Spool>, max_bytes: u64, when_full: WhenFull) -> Pressure {
        let (high, low) = match when_full {
            WhenFull::Wait => (max_bytes / 2, max_bytes / 8 * 3),
            WhenFull::DropOldest => (u64::MAX, u64::MAX),
        };
        Pressure {
            spool: Arc::clone(spool),
            high,
            low,
            full: AtomicBool::new(false),
        }
    }

    /// After a round is stored, with every stored record's bytes: past the high mark (cheap to
    /// rule out, as unsent records are a part of all), counts what waits and may stop log sources.
    pub async fn stored(&self, record_bytes: u64) {
        if record_bytes <= self.high || self.full.load(Ordering::Relaxed) {
            return;
        }
        if let Some(unsent) = self.unsent().await
            && unsent > self.high
            && !self.full.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                unsent_bytes = unsent,
                resume_below = self.low,
                "unsent records fill the spool; log sources wait for the collector (their lines stay in the files)"
            );
        }
    }

    /// Whether log sources wait now.
    pub fn is_full(&self) -> bool {
        self.full.load(Ordering::Relaxed)
    }

    /// Returns once log sources may read again (at once when they may): `true`, or `false`
    /// when `stop` came first.
    pub async fn room(&self, stop: &CancellationToken) -> bool {
        while self.is_full() {
            tokio::select! {
                () = stop.cancelled() => return false,
                () = tokio::time::sleep(RECHECK) => {}
            }
            // A spool that cannot count lets sources read: storing their rounds then waits on
            // the spool's own retries, and a stall here would hide the fault.
            let unsent = self.unsent().await;
            if unsent.is_none_or(|n| n < self.low) && self.full.swap(false, Ordering::Relaxed) {
                tracing::info!(
                    unsent_bytes = unsent,
                    "the spool has room again; log sources read on"
                );
            }
        }
        true
    }

    /// Unsent bytes, or `None` (logged) when the spool cannot tell: then nothing changes.
    async fn unsent(&self) -> Option<u64> {
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
