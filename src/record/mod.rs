//! The record: one unit of telemetry, from the moment a source produces it to the collector.
//!
//! A [`Draft`] is what a source hands over (raw, possibly personal); only the policy turns it into
//! a [`Record`], which is the sole type the spool and the shipper accept. That split is what keeps
//! raw values off the disk and the wire.

mod json;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::scrub::LineState;

/// A time-ordered record id (UUIDv7): sorting ids sorts records by creation time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordId(pub uuid::Uuid);

impl RecordId {
    /// A fresh id for a record made now.
    pub fn new() -> Self {
        RecordId(uuid::Uuid::now_v7())
    }

    /// The id as a big-endian integer, the spool's key (so key order is time order).
    pub fn as_u128(self) -> u128 {
        self.0.as_u128()
    }

    /// The id back from a spool key.
    pub fn from_u128(v: u128) -> Self {
        RecordId(uuid::Uuid::from_u128(v))
    }
}

impl FromStr for RecordId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        uuid::Uuid::parse_str(s.trim()).map(RecordId).map_err(|e| {
            format!("`{s}` is not a record id (a UUID, as `noticed records` shows): {e}")
        })
    }
}

impl Default for RecordId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Declares a closed, kebab-case string enum with `as_str`, `ALL`, `FromStr` and serde support.
macro_rules! kebab_enum {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used in policy files, records and on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        "unknown {} `{}`, expected one of: {}",
                        stringify!($name).to_lowercase(),
                        s,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

kebab_enum! {
    /// What kind of data a record is, in the notice's own terms.
    pub enum Category {
        /// OS, hardware, packages, services, chosen config keys.
        Configuration = "configuration",
        /// Which features are used, reported by local applications.
        FeatureUsage = "feature-usage",
        /// CPU, memory, disk, network, processes, response times.
        Performance = "performance",
        /// System events and state from log files and the journal.
        ServiceLogs = "service-logs",
        /// Log, trace and diagnostic files gathered on demand.
        Diagnostics = "diagnostics",
        /// Support bundles attached to a support case.
        Support = "support",
        /// In-product survey answers (NPS and the like).
        Survey = "survey",
        /// Authentication and access events.
        Authentication = "authentication",
    }
}

kebab_enum! {
    /// Why a record is collected; the notice says the purpose, not the data, separates records.
    pub enum Purpose {
        /// Product analytics; collected only while the customer has opted in.
        Usage = "usage",
        /// Delivering, supporting and securing the service.
        ServiceOperational = "service-operational",
    }
}

/// What a source produces: raw fields, not yet seen by the policy. Never stored or sent as is.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    /// The kind of data.
    pub category: Category,
    /// The source's name (its `type` in the policy), e.g. `host_metrics`.
    pub source: String,
    /// When it was collected.
    pub collected_at: SystemTime,
    /// Raw structured fields, addressed by dotted paths.
    pub fields: Map<String, Value>,
    /// Raw free text, if any.
    pub body: Option<String>,
    /// An event name the source gives (ingested events), for rules that match on it.
    pub event: Option<String>,
    /// For a line of a stream (a log file), the scrubber's state of that stream at the line's
    /// start, applied to its `message` and body: a line inside a private-key block is a secret
    /// even as a record of its own.
    pub stream: LineState,
}

impl Draft {
    /// A draft of `category` from `source`, collected now, with no body and no event name.
    pub fn new(category: Category, source: impl Into<String>, fields: Map<String, Value>) -> Self {
        Draft {
            category,
            source: source.into(),
            collected_at: SystemTime::now(),
            fields,
            body: None,
            event: None,
            stream: LineState::default(),
        }
    }
}

/// The policy that shaped a record: its notice version and the sha256 of its canonical form.
/// Shared (`Arc`), as every record of a policy carries the same stamp.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyStamp {
    /// `notice.version` of the policy in force.
    pub version: Arc<str>,
    /// Hex sha256 of the policy's canonical form (comments and layout do not change it).
    pub sha256: Arc<str>,
}

/// What the policy did to a field or to the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// The value was removed (a drop rule, or no rule allowed it).
    Removed,
    /// The value was replaced by its keyed HMAC.
    Pseudonymized,
    /// The value was replaced by a fixed mask.
    Masked,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Action::Removed => "removed",
            Action::Pseudonymized => "pseudonymized",
            Action::Masked => "masked",
        })
    }
}

/// One value-free line of a record's provenance: which field, which rule, what was done.
/// Names are shared (`Arc`): a field scrubbed at several places, or a rule deciding many
/// records, is one allocation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Provenance {
    /// Dotted path of the field (array elements share their array's path), or `body`.
    pub field: Arc<str>,
    /// The rule that decided, e.g. `category.performance.drop["cpu.brand"]`.
    pub rule: Arc<str>,
    /// What was done.
    pub action: Action,
    /// For scrubbed free text: the byte range replaced, in the original text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<(usize, usize)>,
}

/// A record after the policy: the only thing the spool stores and the shipper sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Time-ordered id, stable from the spool to the collector (the collector's dedup key).
    pub id: RecordId,
    /// RFC 3339 UTC time the source collected the data.
    pub collected_at: String,
    /// The kind of data.
    pub category: Category,
    /// Why it is collected.
    pub purpose: Purpose,
    /// The source that produced it.
    pub source: String,
    /// The event name, for ingested events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The fields the policy let through, transformed as it said.
    pub fields: Map<String, Value>,
    /// The free text the policy let through, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The policy in force when the record was made.
    pub policy: PolicyStamp,
    /// What the policy did, without the values.
    pub provenance: Vec<Provenance>,
}

/// Formats a time as RFC 3339 UTC with millisecond precision, the format of every timestamp here.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_creation_time() {
        let a = RecordId::new();
        let b = RecordId::new();
        assert!(a < b);
        assert!(a.as_u128() < b.as_u128());
        assert_eq!(RecordId::from_u128(a.as_u128()), a);
    }

    #[test]
    fn enums_round_trip_through_their_names() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>().unwrap(), *c);
            assert_eq!(serde_json::to_value(c).unwrap(), Value::from(c.as_str()));
        }
        for p in Purpose::ALL {
            assert_eq!(p.as_str().parse::<Purpose>().unwrap(), *p);
        }
        let err = "perf".parse::<Category>().unwrap_err();
        assert!(err.contains("expected one of: configuration"), "{err}");
    }
}
