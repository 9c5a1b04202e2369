//! What the daemon knows about itself for `noticed status`: when it started, the policy in
//! force, each source's last round, and the shipper's last success and retry state. Tasks
//! write it; the admin API reads a snapshot. Holds no record values.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::record::rfc3339;

/// One source's last round.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceHealth {
    /// Rounds run since start.
    pub rounds: u64,
    /// When the last round ended (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<String>,
    /// The last round's error, if it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// A log source waiting for the collector to take records from a full spool.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub waiting_for_room: bool,
}

/// The shipper's state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryHealth {
    /// The collector URL, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collector: Option<String>,
    /// When a drain last ended without error (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<String>,
    /// The last failure, while it lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the next attempt is due after a failure (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<String>,
}

/// The policy in force.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyHealth {
    /// The file it came from.
    pub origin: String,
    /// `notice.version`.
    pub version: String,
    /// sha256 of its canonical form.
    pub sha256: String,
    /// Whether usage consent is given.
    pub usage_consent: bool,
    /// When it took effect (RFC 3339).
    pub since: String,
}

/// Shared, updated by the daemon's tasks.
#[derive(Debug)]
pub struct Health {
    started: SystemTime,
    policy: Mutex<PolicyHealth>,
    sources: Mutex<BTreeMap<String, SourceHealth>>,
    delivery: Mutex<DeliveryHealth>,
}

/// A snapshot for the admin API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthSnapshot {
    /// When the daemon started (RFC 3339).
    pub started_at: String,
    /// Seconds since.
    pub uptime_secs: u64,
    /// The policy in force.
    pub policy: PolicyHealth,
    /// Each source by kind (with its index when a kind appears twice).
    pub sources: BTreeMap<String, SourceHealth>,
    /// The shipper.
    pub delivery: DeliveryHealth,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Health {
    /// Health for a daemon starting now.
    pub fn new() -> Health {
        Health {
            started: SystemTime::now(),
            policy: Mutex::new(PolicyHealth::default()),
            sources: Mutex::new(BTreeMap::new()),
            delivery: Mutex::new(DeliveryHealth::default()),
        }
    }

    /// A new policy is in force: forget the old sources' state.
    pub fn policy(&self, policy: PolicyHealth, collector: Option<String>) {
        *lock(&self.policy) = policy;
        lock(&self.sources).clear();
        lock(&self.delivery).collector = collector;
    }

    /// A source finished a round.
    pub fn source_round(&self, name: &str, error: Option<String>) {
        let mut sources = lock(&self.sources);
        let s = sources.entry(name.to_owned()).or_default();
        s.rounds += 1;
        s.last_run = Some(rfc3339(SystemTime::now()));
        s.last_error = error;
    }

    /// A log source began (`true`) or ended waiting for room in the spool.
    pub fn source_waiting(&self, name: &str, waiting: bool) {
        lock(&self.sources)
            .entry(name.to_owned())
            .or_default()
            .waiting_for_room = waiting;
    }

    /// A drain ended: `Ok`, or failed with a retry due at `retry_at`.
    pub fn drained(&self, outcome: Result<(), (String, SystemTime)>) {
        let mut d = lock(&self.delivery);
        match outcome {
            Ok(()) => {
                d.last_success = Some(rfc3339(SystemTime::now()));
                d.last_error = None;
                d.retry_at = None;
            }
            Err((error, at)) => {
                d.last_error = Some(error);
                d.retry_at = Some(rfc3339(at));
            }
        }
    }

    /// The state now.
    pub fn snapshot(&self) -> HealthSnapshot {
        HealthSnapshot {
            started_at: rfc3339(self.started),
            uptime_secs: self.started.elapsed().map_or(0, |d| d.as_secs()),
            policy: lock(&self.policy).clone(),
            sources: lock(&self.sources).clone(),
            delivery: lock(&self.delivery).clone(),
        }
    }
}

impl Default for Health {
    fn default() -> Self {
        Health::new()
    }
}
