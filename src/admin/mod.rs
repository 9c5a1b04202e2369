//! The local admin API: JSON lines over a Unix socket (the runtime directory for an installed
//! agent, else the data directory). The daemon serves it (it alone holds the spool); the CLI is
//! its client. Root, the agent's user and the `noticed` group may use it ([`access`]).
//!
//! The request and response types here are the API's contract, versioned by `v`, and kept
//! apart from the daemon's internals.

pub mod access;
mod client;
mod server;

pub use client::{AdminClientError, request};
pub use server::{Context, bind, serve};

use serde::{Deserialize, Serialize};

use crate::spool::{DeadBatch, Stored};

/// The API version this build speaks.
pub const VERSION: u32 = 1;

/// One request, one line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// API version; a server refuses versions it does not speak.
    pub v: u32,
    /// What is asked.
    #[serde(flatten)]
    pub op: Op,
}

/// What a request asks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Op {
    /// The newest records with their delivery state.
    Records {
        /// At most this many.
        limit: usize,
        /// Only those matching.
        #[serde(default)]
        filter: crate::spool::Filter,
    },
    /// The spool's counters and depth.
    Status,
    /// Batches the collector refused, kept locally.
    DeadLetters,
    /// Re-reads the policy file; a broken one is refused and the current one stays.
    Reload,
    /// Removes a subject's records here and queues a deletion request for the collector.
    Forget {
        /// The value (an e-mail address, a user name) whose pseudonym to forget.
        subject: String,
    },
    /// Puts dead batches back in the send queue: one, or all when `batch` is absent.
    RetryDead {
        /// The batch to retry.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        batch: Option<uuid::Uuid>,
    },
}

/// One response, one line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Response {
    /// Answer to [`Op::Records`].
    Records {
        /// Newest first.
        records: Vec<Stored>,
    },
    /// Answer to [`Op::Status`].
    Status {
        /// Counter name and value.
        counters: Vec<(String, u64)>,
        /// Records not yet acknowledged.
        unsent: u64,
        /// The daemon's uptime, policy, sources and delivery (absent when read from the spool).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        daemon: Option<Box<crate::agent::health::HealthSnapshot>>,
        /// The spool's fill by state and purpose.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        spool: Option<Box<crate::spool::SpoolStats>>,
    },
    /// Answer to [`Op::DeadLetters`].
    DeadLetters {
        /// Oldest first.
        batches: Vec<DeadBatch>,
    },
    /// Answer to [`Op::Reload`].
    Reloaded {
        /// The policy now in force, and what changed in the spool.
        summary: String,
    },
    /// Answer to [`Op::Forget`].
    Forgotten {
        /// What was removed and queued.
        forgotten: crate::agent::rights::Forgotten,
    },
    /// Answer to [`Op::RetryDead`].
    Retried {
        /// Records queued to be sent again.
        records: usize,
    },
    /// The request failed.
    Error {
        /// Why, and what to do.
        message: String,
    },
}
