//! What the customer can take back: `forget` (a subject's records, here and at the collector)
//! and withdrawn consent (unsent usage records purged, the collector told). The local purge and
//! the control message for the collector always commit together.

use std::time::SystemTime;

use crate::policy::PseudonymKey;
use crate::record::{Purpose, rfc3339};
use crate::spool::{Spool, SpoolError};
use crate::wire::{ControlKind, ControlV1};

/// What `forget` did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Forgotten {
    /// The subject's pseudonym, the only form of it that leaves the host.
    pub pseudonym: String,
    /// Local records removed.
    pub removed: u64,
    /// The deletion request queued for the collector.
    pub request: uuid::Uuid,
}

fn control(host: &str, kind: ControlKind) -> (uuid::Uuid, Vec<u8>) {
    let id = uuid::Uuid::now_v7();
    let message = ControlV1 {
        id,
        host: host.to_owned(),
        created_at: rfc3339(SystemTime::now()),
        kind,
    };
    let payload = serde_json::to_vec(&message).expect("a control message serializes");
    (id, payload)
}

/// Removes every local record that carries `subject`'s pseudonym (as a pseudonymised field or
/// a scrubbed token) and queues a deletion request with the pseudonym only.
///
/// # Errors
/// [`SpoolError`] on store failure; then nothing was removed or queued.
pub fn forget(
    spool: &Spool,
    key: &PseudonymKey,
    host: &str,
    subject: &str,
) -> Result<Forgotten, SpoolError> {
    let pseudonym = key.pseudonym_str(subject);
    // Fields carry `h:` + 16 hex digits, scrubbed tokens `h:` + the first 8 of them.
    let needle = &pseudonym.as_bytes()[..10];
    let (id, payload) = control(
        host,
        ControlKind::Forget {
            subject: pseudonym.clone(),
        },
    );
    let removed = spool.forget(needle, (id, &payload))?;
    Ok(Forgotten {
        pseudonym,
        removed,
        request: id,
    })
}

/// Records the policy's usage consent; if it was given before and is withdrawn now, purges
/// unsent usage records and queues a consent-withdrawn message. Returns the count purged.
///
/// # Errors
/// [`SpoolError`] on store failure.
pub fn apply_consent(spool: &Spool, host: &str, usage: bool) -> Result<Option<u64>, SpoolError> {
    spool.set_usage_consent(usage, |purged| {
        control(
            host,
            ControlKind::ConsentWithdrawn {
                purpose: Purpose::Usage,
                purged,
            },
        )
    })
}
