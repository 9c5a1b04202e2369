//! What the scrubber finds and writes: the detectors (each a kind of personal data or secret the
//! policy can switch), the action a hit gets, the label a token carries, and the hit itself.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A kind of personal data or secret the scrubber looks for; each can be switched off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    /// E-mail addresses.
    Email,
    /// IPv4 addresses (dotted, and dashed inside host names).
    Ipv4,
    /// IPv6 addresses, every compression, zones and embedded IPv4.
    Ipv6,
    /// MAC addresses (colon, dash and Cisco dot forms).
    Mac,
    /// Passwords, tokens, keys, cookies, private keys.
    Secret,
    /// User and password in `scheme://user:pass@host`.
    UrlCredentials,
    /// Payment card numbers (Luhn-checked).
    CreditCard,
    /// User names in log contexts, and the admin's list.
    UserName,
    /// International bank account numbers (mod-97 checked).
    Iban,
    /// National identifiers next to their context words (Dutch BSN, 11-checked).
    NationalId,
    /// Telephone numbers in international form, or national form next to a phone word.
    Phone,
    /// GPS coordinates (latitude and longitude pairs).
    Gps,
    /// The user component of home directories (`/home/X`, `/Users/X`, `C:\Users\X`).
    HomePath,
    /// Host names and FQDNs where a host stands (`host=`, `Host:`, `relay=`).
    Hostname,
    /// Identifiers next to user keys (`user_id=…`, `"userId": …`).
    UserId,
    /// The administrator's own patterns (`[[scrub.pattern]]`); on whenever one is defined, so
    /// not in [`Detector::ALL`] and not a name the detector list takes.
    Pattern,
}

impl Detector {
    /// Every detector, in the order of [`Detector::index`].
    pub const ALL: [Detector; 15] = [
        Detector::Email,
        Detector::Ipv4,
        Detector::Ipv6,
        Detector::Mac,
        Detector::Secret,
        Detector::UrlCredentials,
        Detector::CreditCard,
        Detector::UserName,
        Detector::Iban,
        Detector::NationalId,
        Detector::Phone,
        Detector::Gps,
        Detector::HomePath,
        Detector::Hostname,
        Detector::UserId,
    ];

    /// How many detectors there are.
    pub const COUNT: usize = Detector::ALL.len();

    /// The name used in policies, tokens, provenance and statistics.
    pub fn as_str(self) -> &'static str {
        match self {
            Detector::Email => "email",
            Detector::Ipv4 => "ipv4",
            Detector::Ipv6 => "ipv6",
            Detector::Mac => "mac",
            Detector::Secret => "secret",
            Detector::UrlCredentials => "url_credentials",
            Detector::CreditCard => "credit_card",
            Detector::UserName => "user_name",
            Detector::Iban => "iban",
            Detector::NationalId => "national_id",
            Detector::Phone => "phone",
            Detector::Gps => "gps",
            Detector::HomePath => "home_path",
            Detector::Hostname => "hostname",
            Detector::UserId => "user_id",
            Detector::Pattern => "pattern",
        }
    }

    /// A dense index, for per-detector tables.
    pub fn index(self) -> usize {
        self as usize
    }
}

// Per-detector tables have `COUNT` slots for the switchable detectors and one more for the
// admin's patterns, which must therefore come last.
const _: () = assert!(Detector::Pattern as usize == Detector::COUNT);

impl fmt::Display for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Detector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Detector::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("unknown detector `{s}`"))
    }
}

/// What a hit becomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScrubAction {
    /// `[kind:h:xxxxxxxx]`, a keyed HMAC: the same value gives the same token on this host.
    #[default]
    Pseudonymize,
    /// `[kind]`.
    Mask,
}

/// The label a hit is written with; secrets are always masked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Label {
    /// A host name.
    Hostname,
    /// A user name (also the user part of URL credentials and of home paths).
    UserName,
    /// An identifier of a user.
    UserId,
    /// A MAC address.
    Mac,
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// GPS coordinates.
    Gps,
    /// A telephone number.
    Phone,
    /// An e-mail address.
    Email,
    /// A bank account number.
    Iban,
    /// A national identifier.
    NationalId,
    /// A payment card number.
    CreditCard,
    /// A match of the administrator's pattern with this index.
    Pattern(u8),
    /// A secret; never pseudonymised.
    Secret,
}

impl Label {
    /// The built-in labels, whose names no admin pattern may take.
    pub(super) const BUILT_IN: [Label; 13] = [
        Label::Hostname,
        Label::UserName,
        Label::UserId,
        Label::Mac,
        Label::Ipv4,
        Label::Ipv6,
        Label::Gps,
        Label::Phone,
        Label::Email,
        Label::Iban,
        Label::NationalId,
        Label::CreditCard,
        Label::Secret,
    ];

    /// The token's label; an admin pattern's is its name, which the scrubber holds.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Label::Hostname => "hostname",
            Label::UserName => "user_name",
            Label::UserId => "user_id",
            Label::Mac => "mac",
            Label::Ipv4 => "ipv4",
            Label::Ipv6 => "ipv6",
            Label::Gps => "gps",
            Label::Phone => "phone",
            Label::Email => "email",
            Label::Iban => "iban",
            Label::NationalId => "national_id",
            Label::CreditCard => "credit_card",
            Label::Pattern(_) => "pattern",
            Label::Secret => "secret",
        }
    }
}

/// One replaced span of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// Byte offset of the first replaced byte.
    pub start: usize,
    /// Byte offset after the last replaced byte.
    pub end: usize,
    /// The detector that found it (after merging overlaps: the strongest one).
    pub detector: Detector,
    /// How it is written.
    pub label: Label,
}
