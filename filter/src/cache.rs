//! A bounded verified-token cache: a fast hash of the whole token picks the bucket,
//! the stored token is compared byte for byte, and eviction is first-in first-out.
//!
//! Only tokens that passed every check are inserted, so an attacker cannot fill it
//! with forgeries; a non-cryptographic hash is enough because equality is exact.

use crate::verify::Verified;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;

#[derive(Debug)]
pub(crate) struct TokenCache {
    capacity: usize,
    buckets: BTreeMap<u64, Vec<(String, Verified)>>,
    order: VecDeque<u64>,
    hits: u64,
    misses: u64,
}

impl TokenCache {
    pub(crate) fn new(capacity: usize) -> TokenCache {
        TokenCache {
            capacity,
            buckets: BTreeMap::new(),
            order: VecDeque::new(),
            hits: 0,
            misses: 0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.buckets.clear();
        self.order.clear();
    }

    pub(crate) fn stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }

    /// The cached verdict for `token`, whose [`hash`] is `h`.
    pub(crate) fn get(&mut self, h: u64, token: &str) -> Option<Verified> {
        let found = self
            .buckets
            .get(&h)
            .and_then(|b| b.iter().find(|(t, _)| same(t.as_bytes(), token.as_bytes())))
            .map(|(_, v)| v.clone());
        match &found {
            Some(_) => self.hits = self.hits.saturating_add(1),
            None => self.misses = self.misses.saturating_add(1),
        }
        found
    }

    /// Inserts a verified token under its [`hash`].
    pub(crate) fn insert(&mut self, h: u64, token: &str, verified: Verified) {
        if self.capacity == 0 {
            return;
        }
        while self.order.len() >= self.capacity {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(bucket) = self.buckets.get_mut(&old) {
                if !bucket.is_empty() {
                    bucket.remove(0);
                }
                if bucket.is_empty() {
                    self.buckets.remove(&old);
                }
            }
        }
        self.buckets
            .entry(h)
            .or_default()
            .push((token.into(), verified));
        self.order.push_back(h);
    }
}

/// A multiply-rotate hash taking 8 bytes per step (FNV-1a's dependent multiply per byte
/// cost ~3.4 ns per token byte in wasm). Only picks the bucket: collisions cost a compare.
pub(crate) fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    for b in chunks.remainder() {
        h = (h.rotate_left(5) ^ u64::from(*b)).wrapping_mul(K);
    }
    h
}

/// Byte equality 8 bytes at a time (wasm's `memcmp` goes byte by byte).
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut x, mut y) = (a.chunks_exact(8), b.chunks_exact(8));
    for (p, q) in (&mut x).zip(&mut y) {
        let p = u64::from_le_bytes(p.try_into().unwrap_or([0; 8]));
        let q = u64::from_le_bytes(q.try_into().unwrap_or([0; 8]));
        if p != q {
            return false;
        }
    }
    x.remainder() == y.remainder()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_reads_every_byte_and_equality_is_exact() {
        let a = "a.b.c-0123456789abcdef";
        let mut b = String::from(a);
        b.push('x');
        assert_ne!(hash(a.as_bytes()), hash(b.as_bytes()));
        assert_ne!(hash(b"12345678x"), hash(b"12345678y"));
        assert!(same(a.as_bytes(), a.as_bytes()));
        assert!(!same(b"12345678abc", b"12345678abd"));
        assert!(!same(b"abc", b"abcd"));
    }
}
