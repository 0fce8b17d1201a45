//! EMSA-PSS-VERIFY (RFC 8017 §9.1.2) for JWS PS256/PS384/PS512 (RFC 7518 §3.5): MGF1
//! with the message hash, and a salt exactly as long as the hash. Unlike PKCS#1 v1.5,
//! the encoding cannot be rebuilt from the digest (the salt is random), so it is decoded,
//! step by step as the RFC numbers them, on fixed stack buffers: no allocation, no panics.

use super::{Hash, MAX_BYTES};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// Largest hash output (SHA-512).
const MAX_HASH: usize = 64;
/// Largest hash input here: `0^8 || mHash || salt` with SHA-512.
const MAX_INPUT: usize = 8 + 2 * MAX_HASH;

/// Hashes the concatenation of `parts` (at most `MAX_INPUT` bytes in all) into `out`;
/// returns the hash length. One-shot `digest` on a stack copy: the same code the token's
/// hash already links, rather than another streaming instantiation (module size).
fn hash_parts(hash: Hash, parts: &[&[u8]], out: &mut [u8; MAX_HASH]) -> usize {
    let mut buf = [0u8; MAX_INPUT];
    let mut len = 0;
    for p in parts {
        let Some(dst) = buf.get_mut(len..len + p.len()) else {
            return 0;
        };
        dst.copy_from_slice(p);
        len += p.len();
    }
    let input = buf.get(..len).unwrap_or_default();
    let put = |out: &mut [u8; MAX_HASH], d: &[u8]| {
        if let Some(dst) = out.get_mut(..d.len()) {
            dst.copy_from_slice(d);
        }
        d.len()
    };
    match hash {
        Hash::Sha256 => put(out, &Sha256::digest(input)),
        Hash::Sha384 => put(out, &Sha384::digest(input)),
        Hash::Sha512 => put(out, &Sha512::digest(input)),
    }
}

/// XORs MGF1(`seed`) (RFC 8017 §B.2.1) into all of `out`.
fn mgf1_xor(hash: Hash, seed: &[u8], out: &mut [u8]) {
    let mut block = [0u8; MAX_HASH];
    let h_len = hash.output_len();
    for (counter, chunk) in out.chunks_mut(h_len).enumerate() {
        // The output is at most MAX_BYTES long, so the counter fits in 32 bits.
        let c = (counter as u32).to_be_bytes();
        let len = hash_parts(hash, &[seed, &c], &mut block);
        for (o, m) in chunk.iter_mut().zip(block.get(..len).unwrap_or_default()) {
            *o ^= m;
        }
    }
}

/// Whether `em_full` (the public-key operation's output, the modulus length `k` in
/// bytes) is a valid EMSA-PSS encoding of `m_hash` for a modulus of `mod_bits` bits,
/// with MGF1 over `hash` and a salt of exactly the hash length.
pub(super) fn verify(hash: Hash, m_hash: &[u8], em_full: &[u8], mod_bits: usize) -> bool {
    let h_len = hash.output_len();
    let s_len = h_len;
    if m_hash.len() != h_len || mod_bits < 2 {
        return false;
    }
    // RSAVP1 gives k bytes; EM is the last emLen of them, emBits = modBits - 1. When
    // emLen < k (modBits ≡ 1 mod 8) the extra leading byte must be zero (I2OSP, §8.1.2).
    let em_bits = mod_bits - 1;
    let em_len = em_bits.div_ceil(8);
    let Some(extra) = em_full.len().checked_sub(em_len) else {
        return false;
    };
    let (lead, em) = em_full.split_at(extra);
    if lead.iter().any(|b| *b != 0) || extra > 1 {
        return false;
    }
    // Step 3: room for the hash, the salt, 0x01 and 0xbc.
    if em_len < h_len + s_len + 2 {
        return false;
    }
    // Step 4: the trailer.
    let Some((&trailer, body)) = em.split_last() else {
        return false;
    };
    if trailer != 0xbc {
        return false;
    }
    // Step 5: maskedDB, then H.
    let db_len = em_len - h_len - 1;
    let (masked_db, h) = body.split_at(db_len);
    // Step 6: the bits above emBits must be zero.
    let top_bits = 8 * em_len - em_bits;
    let top_mask = 0xffu8.checked_shr(top_bits as u32).unwrap_or(0);
    if masked_db.first().is_none_or(|b| b & !top_mask != 0) {
        return false;
    }
    // Steps 7-9: DB = maskedDB xor MGF1(H), top bits cleared.
    let mut db_buf = [0u8; MAX_BYTES];
    let Some(db) = db_buf.get_mut(..db_len) else {
        return false;
    };
    db.copy_from_slice(masked_db);
    mgf1_xor(hash, h, db);
    if let Some(first) = db.first_mut() {
        *first &= top_mask;
    }
    // Step 10: zeros, then 0x01, then exactly sLen bytes of salt.
    let ps_len = db_len - s_len - 1;
    let (ps, rest) = db.split_at(ps_len);
    let Some((&one, salt)) = rest.split_first() else {
        return false;
    };
    if ps.iter().any(|b| *b != 0) || one != 0x01 {
        return false;
    }
    // Steps 12-14: H' = Hash(0^8 || mHash || salt) must equal H.
    let mut h2 = [0u8; MAX_HASH];
    let len = hash_parts(hash, &[&[0u8; 8], m_hash, salt], &mut h2);
    h2.get(..len) == Some(h)
}
