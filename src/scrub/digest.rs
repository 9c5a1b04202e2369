//! A small direct-mapped cache of pseudonym digests. User names, addresses and cards repeat in
//! logs, so a cached value costs a hash and a compare instead of an HMAC; the table lives inline
//! (no allocation per value) and grows from a few slots only while it keeps missing, so a
//! one-off scrub of a record field costs 4 KiB and a long stream at most 256 KiB.

use crate::policy::PseudonymKey;

/// Longest value cached; longer ones are rare and simply hashed each time.
const MAX_VALUE: usize = 47;
/// Slots allocated on first use.
const FIRST_SLOTS: usize = 64;
/// Most slots the cache grows to.
const MAX_SLOTS: usize = 4096;

#[derive(Clone, Copy)]
struct Slot {
    hash: u64,
    /// `u8::MAX` marks an empty slot: no cached value is that long.
    len: u8,
    /// Looked up again since it was stored or last spared: a miss in its slot spares it once
    /// instead of replacing it, so values that recur survive streams of one-off values.
    used: bool,
    digest: [u8; 4],
    value: [u8; MAX_VALUE],
}

const EMPTY: Slot = Slot {
    hash: 0,
    len: u8::MAX,
    used: false,
    digest: [0; 4],
    value: [0; MAX_VALUE],
};

/// The first four bytes of values' keyed digests, by value. Values never leave this process.
#[derive(Default)]
pub(super) struct DigestCache {
    slots: Vec<Slot>,
    misses: usize,
}

impl DigestCache {
    /// The first four bytes of `value`'s HMAC under `key`, from the cache when it holds it.
    pub(super) fn digest(&mut self, key: &PseudonymKey, value: &[u8]) -> [u8; 4] {
        let compute = |value: &[u8]| {
            let full = key.digest(value);
            [full[0], full[1], full[2], full[3]]
        };
        if value.len() > MAX_VALUE {
            return compute(value);
        }
        if self.slots.is_empty() {
            self.slots = vec![EMPTY; FIRST_SLOTS];
        }
        let hash = hash(value);
        let at = self.index(hash);
        let slot = &mut self.slots[at];
        if slot.hash == hash
            && usize::from(slot.len) == value.len()
            && &slot.value[..value.len()] == value
        {
            slot.used = true;
            return slot.digest;
        }
        let digest = compute(value);
        self.misses += 1;
        if self.misses > self.slots.len() && self.slots.len() < MAX_SLOTS {
            self.slots = vec![EMPTY; self.slots.len() * 8];
            self.misses = 0;
        }
        let at = self.index(hash);
        let slot = &mut self.slots[at];
        if slot.used {
            slot.used = false;
            return digest;
        }
        slot.hash = hash;
        slot.len = value.len() as u8;
        slot.digest = digest;
        slot.value[..value.len()].copy_from_slice(value);
        digest
    }

    fn index(&self, hash: u64) -> usize {
        // The slot count is a power of two; the multiply leaves its best bits at the top.
        (hash >> (64 - self.slots.len().trailing_zeros())) as usize
    }
}

/// A fast multiplicative hash (FxHash's step over eight bytes at a time).
fn hash(value: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = value.len() as u64;
    let mut chunks = value.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("chunks_exact gives 8 bytes"));
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let mut last = [0u8; 8];
    last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h.rotate_left(5) ^ u64::from_le_bytes(last)).wrapping_mul(K);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> PseudonymKey {
        PseudonymKey::from_bytes(&[7; crate::policy::KEY_LEN])
    }

    #[test]
    fn cached_digests_equal_fresh_ones_through_growth() {
        let key = key();
        let mut cache = DigestCache::default();
        let values: Vec<String> = (0..20_000)
            .map(|i| format!("user{i}@example.com"))
            .collect();
        for round in 0..2 {
            for v in &values {
                let fresh = key.digest(v.as_bytes());
                assert_eq!(
                    cache.digest(&key, v.as_bytes()),
                    fresh[..4],
                    "{v} round {round}"
                );
            }
        }
        assert_eq!(cache.slots.len(), MAX_SLOTS);
        let long = "x".repeat(MAX_VALUE + 1);
        assert_eq!(
            cache.digest(&key, long.as_bytes()),
            key.digest(long.as_bytes())[..4]
        );
    }

    #[test]
    fn recurring_values_survive_a_stream_of_one_off_values() {
        let key = key();
        let mut cache = DigestCache::default();
        for i in 0..MAX_SLOTS * 2 {
            cache.digest(&key, format!("filler{i}").as_bytes());
        }
        assert_eq!(cache.slots.len(), MAX_SLOTS);
        cache.digest(&key, b"alice");
        cache.digest(&key, b"alice");
        for i in 0..MAX_SLOTS * 4 {
            cache.digest(&key, format!("once{i}@example.com").as_bytes());
            let before = cache.misses;
            cache.digest(&key, b"alice");
            assert_eq!(
                cache.misses, before,
                "alice evicted after {i} one-off values"
            );
        }
    }

    #[test]
    fn values_differing_in_length_only_do_not_collide() {
        let key = key();
        let mut cache = DigestCache::default();
        let a = cache.digest(&key, b"ab");
        let b = cache.digest(&key, b"ab\0");
        assert_ne!(a, b);
        assert_eq!(cache.digest(&key, b"ab"), a);
    }
}
