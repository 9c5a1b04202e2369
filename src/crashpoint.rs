//! Crash points: named steps at which a test can make the process stop uncleanly, as `kill -9`
//! or a power cut would (`abort`: no destructor runs, nothing is flushed or closed).
//!
//! The crash invariants (a log position is never durable before its records; a batch is acked
//! only after the collector stored it; a cut append is undone) each depend on the order of two
//! steps. A random kill lands between them only now and then; a crash point lands there every
//! time. `NOTICED_CRASH_AT=NAME` aborts the first time NAME is reached, `NAME@N` the N-th time.
//! Unset (always, outside tests), reaching a point costs one load of a cached value.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that arms one crash point.
pub const ENV: &str = "NOTICED_CRASH_AT";

/// Records of a round are written, their transaction not yet committed.
pub const SPOOL_BEFORE_COMMIT: &str = "spool.append.before_commit";
/// Records of a round and the source positions after them are committed.
pub const SPOOL_AFTER_COMMIT: &str = "spool.append.after_commit";
/// The batch is persisted with its id and about to be sent.
pub const SHIP_BEFORE_SEND: &str = "ship.before_send";
/// The collector acknowledged the batch; the spool does not know yet.
pub const SHIP_BEFORE_ACK: &str = "ship.before_ack";
/// The collector appended and synced a batch's lines; its id is not in the index yet.
pub const COLLECTOR_BEFORE_INDEX: &str = "collector.before_index";

struct Armed {
    name: String,
    at: u64,
    reached: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let spec = std::env::var(ENV).ok()?;
            let (name, at) = match spec.split_once('@') {
                Some((name, n)) => (name, n.parse().ok().filter(|n| *n > 0)?),
                None => (spec.as_str(), 1),
            };
            Some(Armed {
                name: name.to_owned(),
                at,
                reached: AtomicU64::new(0),
            })
        })
        .as_ref()
}

/// Marks that the step `name` is reached; aborts the process if `NOTICED_CRASH_AT` names it
/// (and this is the time it counts to).
pub fn reach(name: &str) {
    let Some(armed) = armed() else {
        return;
    };
    if armed.name == name && armed.reached.fetch_add(1, Ordering::SeqCst) + 1 == armed.at {
        eprintln!("noticed: crash point {name} reached; aborting as asked by {ENV}");
        std::process::abort();
    }
}
