//! A small, fast hasher for the analyzer's internal maps and sets.
//!
//! Why: the extraction pass and name resolution hash short names (locals, segments, module
//! keys) millions of times on a large tree, and the standard library's SipHash cost more than
//! the lookups it served. These maps only hold names from the analyzed tree and never decide
//! output order (every result is sorted), so a non-cryptographic hash is enough; a tree built
//! to collide can only make the analysis slower, never wrong.
//!
//! The mixing step is the well-known multiply-rotate scheme (as in rustc's `FxHasher`), with a
//! final rotation so that the well-mixed high bits also reach the low bits the table indexes
//! with.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Hasher state: one word, mixed per word written.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FastHasher {
    hash: u64,
}

const SEED: u64 = 0xf135_7aea_2e62_a9c5;

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash.rotate_left(26)
    }
}

/// Builds [`FastHasher`]s.
pub(crate) type FastState = BuildHasherDefault<FastHasher>;
/// A `HashMap` with the fast hasher.
pub(crate) type FastMap<K, V> = HashMap<K, V, FastState>;
/// A `HashSet` with the fast hasher.
pub(crate) type FastSet<T> = HashSet<T, FastState>;

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn names_differing_in_one_late_byte_spread_over_buckets() {
        // Low bits are what a table indexes with: names that differ only near their end
        // (`show_1`, `show_2`...) must not share them.
        let state = FastState::default();
        let low: HashSet<u64> = (0..256)
            .map(|k| state.hash_one(format!("show_item_{k}")) & 0xff)
            .collect();
        assert!(low.len() > 128, "only {} distinct low bytes", low.len());
    }

    #[test]
    fn maps_behave_like_maps() {
        let mut map: FastMap<String, usize> = FastMap::default();
        for k in 0..1000 {
            map.insert(format!("name{k}"), k);
        }
        assert_eq!(map.len(), 1000);
        assert_eq!(map.get("name517"), Some(&517));
        assert_eq!(map.get("name1000"), None);
    }
}
