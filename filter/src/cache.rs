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

    pub(crate) fn get(&mut self, token: &str) -> Option<Verified> {
        let found = self
            .buckets
            .get(&hash(token.as_bytes()))
            .and_then(|b| b.iter().find(|(t, _)| t == token))
            .map(|(_, v)| v.clone());
        match found {
            Some(_) => self.hits = self.hits.saturating_add(1),
            None => self.misses = self.misses.saturating_add(1),
        }
        found
    }

    pub(crate) fn insert(&mut self, token: &str, verified: Verified) {
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
        let h = hash(token.as_bytes());
        self.buckets
            .entry(h)
            .or_default()
            .push((token.into(), verified));
        self.order.push_back(h);
    }
}

/// FNV-1a, 64-bit: fast and allocation-free; collisions only cost a comparison.
fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
