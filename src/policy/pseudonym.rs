//! Keyed pseudonyms: HMAC-SHA256 under a per-host key that never leaves the host.
//!
//! The same value always maps to the same pseudonym on one host, so support can correlate
//! records without seeing the value; without the key nobody can test a guess against it.

use std::fmt;

use hmac::{KeyInit, Mac};
use serde_json::Value;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Length in bytes of a pseudonym key.
pub const KEY_LEN: usize = 32;

/// The host's pseudonym key. Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct PseudonymKey {
    keyed: HmacSha256,
}

impl PseudonymKey {
    /// A key from its 32 raw bytes.
    pub fn from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        let keyed = HmacSha256::new_from_slice(bytes).expect("HMAC takes keys of any length");
        PseudonymKey { keyed }
    }

    /// HMAC-SHA256 of `bytes` under this key.
    pub fn digest(&self, bytes: &[u8]) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        mac.update(bytes);
        mac.finalize().into_bytes().into()
    }

    /// The pseudonym of a string: `h:` and the first 64 bits of its HMAC in hex.
    pub fn pseudonym_str(&self, value: &str) -> String {
        let d = self.digest(value.as_bytes());
        format!("h:{}", hex::encode(&d[..8]))
    }

    /// The pseudonym of a JSON value: strings by their text, other values by their JSON form.
    pub fn pseudonym(&self, value: &Value) -> String {
        match value {
            Value::String(s) => self.pseudonym_str(s),
            other => self.pseudonym_str(&other.to_string()),
        }
    }
}

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PseudonymKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_pseudonym_other_key_other() {
        let a = PseudonymKey::from_bytes(&[1; KEY_LEN]);
        let b = PseudonymKey::from_bytes(&[2; KEY_LEN]);
        let p = a.pseudonym_str("alice@example.com");
        assert_eq!(p, a.pseudonym_str("alice@example.com"));
        assert_ne!(p, b.pseudonym_str("alice@example.com"));
        assert_ne!(p, a.pseudonym_str("bob@example.com"));
        assert!(p.starts_with("h:") && p.len() == 18, "{p}");
        assert!(!p.contains("alice"));
    }

    #[test]
    fn matches_the_published_hmac_construction() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut key = [0u8; KEY_LEN];
        key[..4].copy_from_slice(b"Jefe");
        // A 32-byte key padded with zeros equals the 4-byte key under HMAC's zero padding.
        let k = PseudonymKey::from_bytes(&key);
        assert_eq!(
            hex::encode(k.digest(b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn debug_hides_the_key() {
        let k = PseudonymKey::from_bytes(&[7; KEY_LEN]);
        assert_eq!(format!("{k:?}"), "PseudonymKey(<redacted>)");
    }
}
