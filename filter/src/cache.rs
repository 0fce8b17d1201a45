//! A bounded verified-token cache: a fast hash of the token's length and tail picks the
//! bucket, the stored token is compared byte for byte, and eviction is first-in first-out.
//!
//! Only tokens that passed every check are inserted, so an attacker cannot fill it
//! with forgeries; a non-cryptographic hash is enough because equality is exact.

use crate::verified::Verified;
use alloc::string::String;
use alloc::vec::Vec;

/// Most buckets a cache allocates up front (24 bytes each): larger caches chain.
const MAX_BUCKETS: usize = 1 << 16;

/// Entries in a ring (the oldest is overwritten first) and, per hash bucket, the ring
/// positions holding that bucket's tokens. No tree: a lookup is one bucket, and the
/// module stays small (the BTreeMap this replaces linked ~4 KB of rebalancing code).
#[derive(Debug)]
pub(crate) struct TokenCache {
    capacity: usize,
    ring: Vec<(u64, String, Verified)>,
    /// The ring position the next insertion takes once the ring is full.
    next: usize,
    buckets: Vec<Vec<u32>>,
    hits: u64,
    misses: u64,
}

impl TokenCache {
    pub(crate) fn new(capacity: usize) -> TokenCache {
        // Positions are u32: a cache of more than 4 billion entries holds that many.
        let capacity = capacity.min(u32::MAX as usize);
        let buckets = capacity.next_power_of_two().clamp(1, MAX_BUCKETS);
        TokenCache {
            capacity,
            ring: Vec::new(),
            next: 0,
            buckets: (0..buckets).map(|_| Vec::new()).collect(),
            hits: 0,
            misses: 0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.ring.clear();
        self.next = 0;
        self.buckets.iter_mut().for_each(Vec::clear);
    }

    pub(crate) fn stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }

    fn bucket(&self, h: u64) -> usize {
        // The low bits: the shard was picked with the high ones.
        (h as usize) & self.buckets.len().saturating_sub(1)
    }

    /// The cached verdict for `token`, whose [`hash`] is `h`. A hit is counted; a miss
    /// only when `count_miss` (a caller that looks again before verifying counts it once).
    pub(crate) fn get(&mut self, h: u64, token: &str, count_miss: bool) -> Option<Verified> {
        let found = self.buckets.get(self.bucket(h)).and_then(|b| {
            b.iter().find_map(|&at| {
                let (eh, t, v) = self.ring.get(at as usize)?;
                (*eh == h && same(t.as_bytes(), token.as_bytes())).then(|| v.clone())
            })
        });
        match &found {
            Some(_) => self.hits = self.hits.saturating_add(1),
            None if count_miss => self.misses = self.misses.saturating_add(1),
            None => {}
        }
        found
    }

    /// Inserts a verified token under its [`hash`], evicting the oldest entry when full.
    pub(crate) fn insert(&mut self, h: u64, token: &str, verified: Verified) {
        if self.capacity == 0 {
            return;
        }
        let entry = (h, String::from(token), verified);
        let at = if self.ring.len() < self.capacity {
            self.ring.push(entry);
            self.ring.len() - 1
        } else {
            let at = self.next;
            self.next = (at + 1) % self.capacity;
            let Some(slot) = self.ring.get_mut(at) else {
                return;
            };
            let old = core::mem::replace(slot, entry).0;
            let ob = self.bucket(old);
            if let Some(b) = self.buckets.get_mut(ob) {
                b.retain(|&p| p as usize != at);
            }
            at
        };
        let nb = self.bucket(h);
        if let Some(b) = self.buckets.get_mut(nb) {
            b.push(at as u32);
        }
    }
}

/// Token bytes the hash reads, from the end.
const HASHED_TAIL: usize = 32;

/// A multiply-rotate hash of the length and the last [`HASHED_TAIL`] bytes, 8 per step.
/// Only picks the bucket and shard (equality is exact, so a collision costs a compare),
/// and only verified tokens are stored: their tail is the end of the signature, which
/// nobody without the key can choose, so buckets stay even. Reading the whole ~1 KB
/// token was a chain of ~130 dependent multiplies on every request.
pub(crate) fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = bytes.len() as u64;
    let tail = bytes
        .get(bytes.len().saturating_sub(HASHED_TAIL)..)
        .unwrap_or(bytes);
    let mut chunks = tail.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    for b in chunks.remainder() {
        h = (h.rotate_left(5) ^ u64::from(*b)).wrapping_mul(K);
    }
    // The bucket takes the low bits, which a multiply fills from the low bits only.
    h ^ (h >> 32)
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
    fn hash_reads_length_and_tail_and_equality_is_exact() {
        let a = "a.b.c-0123456789abcdef";
        let mut b = String::from(a);
        b.push('x');
        assert_ne!(hash(a.as_bytes()), hash(b.as_bytes()));
        assert_ne!(hash(b"12345678x"), hash(b"12345678y"));
        // Every byte of the tail counts; bytes before it do not (equality decides).
        let long = [b'a'; 100];
        for i in 100 - HASHED_TAIL..100 {
            let mut c = long;
            c[i] = b'b';
            assert_ne!(hash(&long), hash(&c), "byte {i}");
        }
        let mut head = long;
        head[0] = b'b';
        assert_eq!(hash(&long), hash(&head));
        assert!(!same(&long, &head));
        assert!(same(a.as_bytes(), a.as_bytes()));
        assert!(!same(b"12345678abc", b"12345678abd"));
        assert!(!same(b"abc", b"abcd"));
    }

    #[test]
    fn evicts_first_in_first_out_and_finds_colliding_hashes() {
        let v = crate::verified::Verified::new(
            crate::token::Header {
                alg: crate::policy::Algorithm::RS256,
                kid: None,
                typ: None,
                map: serde_json::Map::new(),
            },
            crate::claims::Claims {
                map: serde_json::Map::new(),
            },
            String::new(),
        );
        let mut c = TokenCache::new(3);
        // Hashes 1 and 1 + 4 share a bucket of the 4; the tokens tell them apart.
        for (h, t) in [(1u64, "a"), (5, "b"), (2, "c")] {
            c.insert(h, t, v.clone());
        }
        assert!(
            c.get(1, "a", true).is_some()
                && c.get(5, "b", true).is_some()
                && c.get(2, "c", true).is_some()
        );
        assert!(c.get(1, "b", true).is_none() && c.get(5, "a", true).is_none());
        c.insert(9, "d", v.clone()); // evicts "a", the oldest
        assert!(c.get(1, "a", true).is_none());
        assert!(c.get(9, "d", true).is_some() && c.get(5, "b", true).is_some());
        c.insert(1, "a", v.clone()); // evicts "b"
        assert!(c.get(5, "b", true).is_none() && c.get(1, "a", true).is_some());
        c.clear();
        assert!(c.get(1, "a", true).is_none());
        assert_eq!(c.stats(), (6, 5));
        // A miss a caller will count later is not counted now.
        assert!(c.get(1, "a", false).is_none());
        assert_eq!(c.stats(), (6, 5));
        assert!(TokenCache::new(1 << 30).buckets.len() == MAX_BUCKETS);
    }
}
