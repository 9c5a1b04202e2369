//! Keyed pseudonyms: HMAC-SHA256 under a per-host key that never leaves the host.
//!
//! The same value always maps to the same pseudonym on one host, so support can correlate
//! records without seeing the value; without the key nobody can test a guess against it.

use std::fmt;

use serde_json::Value;
use sha2::block_api::compress256;

/// Length in bytes of a pseudonym key.
pub const KEY_LEN: usize = 32;

/// SHA-256's initial state.
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The host's pseudonym key, held as HMAC's inner and outer SHA-256 states after the padded
/// key block (RFC 2104), so a digest costs only the compressions of the value. Its `Debug`
/// output never shows the key.
#[derive(Clone)]
pub struct PseudonymKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl PseudonymKey {
    /// A key from its 32 raw bytes.
    pub fn from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        let (mut ipad, mut opad) = ([0x36u8; 64], [0x5cu8; 64]);
        for (i, b) in bytes.iter().enumerate() {
            ipad[i] ^= b;
            opad[i] ^= b;
        }
        let (mut inner, mut outer) = (IV, IV);
        compress256(&mut inner, &[ipad]);
        compress256(&mut outer, &[opad]);
        PseudonymKey { inner, outer }
    }

    /// HMAC-SHA256 of `bytes` under this key: the pseudonyms of scrubbed values and fields are
    /// its leading bytes, so this runs for every value not yet cached.
    pub fn digest(&self, bytes: &[u8]) -> [u8; 32] {
        let inner = finish(self.inner, bytes);
        finish(self.outer, &inner)
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

/// SHA-256 of one 64-byte block (already compressed into `state`) followed by `data`.
fn finish(mut state: [u32; 8], data: &[u8]) -> [u8; 32] {
    let (blocks, rest) = data.as_chunks::<64>();
    compress256(&mut state, blocks);
    let mut tail = [0u8; 128];
    tail[..rest.len()].copy_from_slice(rest);
    tail[rest.len()] = 0x80;
    let used = if rest.len() < 56 { 64 } else { 128 };
    let bits = (64 + data.len() as u64) * 8;
    tail[used - 8..used].copy_from_slice(&bits.to_be_bytes());
    compress256(&mut state, tail[..used].as_chunks::<64>().0);
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out
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
    fn every_padding_length_equals_the_hmac_crate() {
        use hmac::{KeyInit, Mac};
        let key = [9u8; KEY_LEN];
        for len in 0..200 {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
            mac.update(&data);
            let want: [u8; 32] = mac.finalize().into_bytes().into();
            assert_eq!(PseudonymKey::from_bytes(&key).digest(&data), want, "{len}");
        }
    }

    proptest::proptest! {
        #[test]
        fn equals_the_hmac_crate(
            key in proptest::array::uniform32(proptest::prelude::any::<u8>()),
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            use hmac::{KeyInit, Mac};
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
            mac.update(&data);
            let want: [u8; 32] = mac.finalize().into_bytes().into();
            proptest::prop_assert_eq!(PseudonymKey::from_bytes(&key).digest(&data), want);
        }
    }

    #[test]
    fn debug_hides_the_key() {
        let k = PseudonymKey::from_bytes(&[7; KEY_LEN]);
        assert_eq!(format!("{k:?}"), "PseudonymKey(<redacted>)");
    }
}
