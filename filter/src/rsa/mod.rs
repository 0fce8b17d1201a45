//! RSA public-key operations for signature verification (the "seam").
//!
//! Everything the rest of the crate needs from RSA goes through [`PublicKey`]:
//! validate a key once when the key set is pushed, then verify PKCS#1 v1.5
//! signatures against it. The engine behind it is free to change.
//!
//! # Algorithm
//! - Per key ([`PublicKey::from_be_bytes`]): check the key rules, store `n` as
//!   limbs padded to a size class (2048, 3072, 4096, 6144 or 8192 bits), and
//!   precompute the Montgomery constants `-n^-1 mod 2^w` and `R^2 mod n`.
//! - Per signature ([`PublicKey::verify_pkcs1v15`]): exact length check, `s < n`,
//!   then `s^e mod n` by Montgomery exponentiation (`mont.rs`: sixteen dedicated
//!   squarings and one multiply for e = 65537, left-to-right binary for other odd
//!   exponents), then the result is compared whole against the expected
//!   EMSA-PKCS1-v1_5 encoding built from the digest (`pkcs1.rs`); nothing is parsed.
//!   Everything lives in fixed-size stack buffers: no allocation, no panics.
//!
//! Timing side channels are not a concern: the key and the signature are public.

mod mont;
mod pkcs1;

#[cfg(test)]
mod tests;

use alloc::boxed::Box;
use alloc::vec;
use core::fmt;

use mont::{Limb, LIMB_BITS, LIMB_BYTES, MAX_LIMBS};

/// Why an RSA key was refused when the key set was built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyRejection {
    /// `n` or `e` has a leading zero byte (RFC 7518 §6.3.1 wants minimal encodings).
    NonMinimal,
    /// Modulus shorter than 2048 bits.
    ModulusTooSmall,
    /// Modulus longer than 8192 bits.
    ModulusTooLarge,
    /// Modulus is even (not an RSA modulus).
    ModulusEven,
    /// Public exponent even, < 3, ≥ n, or wider than 32 bits.
    BadExponent,
}

/// Hash used inside the PKCS#1 v1.5 `DigestInfo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

/// Smallest accepted modulus, in bits.
const MIN_BITS: usize = 2048;
/// Largest accepted modulus, in bits.
const MAX_BITS: usize = 8192;
/// Largest modulus in bytes: the size of the stack buffers in `verify`.
const MAX_BYTES: usize = MAX_BITS / 8;

/// Size classes in limbs. A key is computed with the smallest class that holds it;
/// Montgomery arithmetic only needs `R > n`, so padding with zero limbs is exact.
const C2048: usize = 2048 / LIMB_BITS;
const C3072: usize = 3072 / LIMB_BITS;
const C4096: usize = 4096 / LIMB_BITS;
const C6144: usize = 6144 / LIMB_BITS;
const C8192: usize = MAX_LIMBS;

fn class_limbs(bits: usize) -> usize {
    match bits {
        0..=2048 => C2048,
        2049..=3072 => C3072,
        3073..=4096 => C4096,
        4097..=6144 => C6144,
        _ => C8192,
    }
}

/// A validated RSA public key with its precomputed constants.
#[derive(Clone)]
pub(crate) struct PublicKey {
    /// Modulus length in bytes (the exact signature length).
    len: usize,
    bits: usize,
    e: u32,
    /// `-n^-1 mod 2^w`.
    n0: Limb,
    /// `n`, little-endian limbs, padded to its size class.
    n: Box<[Limb]>,
    /// `R^2 mod n` with `R = 2^(w · limbs)`, same length as `n`.
    rr: Box<[Limb]>,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("bits", &self.bits)
            .field("e", &self.e)
            .finish_non_exhaustive()
    }
}

impl PublicKey {
    /// Validates `n` and `e` (big-endian, minimal) and precomputes what verification needs.
    ///
    /// The exponent must be odd, at least 3 and at most 32 bits wide. Like Go's
    /// `crypto/rsa` and BoringSSL, we refuse wider exponents: real keys use 65537
    /// (sometimes 3), and the bound keeps the cost of a verification predictable
    /// for keys pushed by a host we do not control. It also makes `e < n` automatic
    /// since `n` has at least 2048 bits.
    pub(crate) fn from_be_bytes(n: &[u8], e: &[u8]) -> Result<PublicKey, KeyRejection> {
        let (Some(&n_first), Some(&e_first)) = (n.first(), e.first()) else {
            return Err(KeyRejection::NonMinimal);
        };
        if n_first == 0 || e_first == 0 {
            return Err(KeyRejection::NonMinimal);
        }
        // n.len() >= 1 and its first byte is nonzero, so this is the exact bit length.
        let bits = n
            .len()
            .saturating_mul(8)
            .saturating_sub(n_first.leading_zeros() as usize);
        if bits < MIN_BITS {
            return Err(KeyRejection::ModulusTooSmall);
        }
        if bits > MAX_BITS {
            return Err(KeyRejection::ModulusTooLarge);
        }
        if n.last().is_none_or(|&b| b & 1 == 0) {
            return Err(KeyRejection::ModulusEven);
        }
        if e.len() > 4 {
            return Err(KeyRejection::BadExponent);
        }
        let e = e.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
        if e < 3 || e & 1 == 0 {
            return Err(KeyRejection::BadExponent);
        }

        let limbs = class_limbs(bits);
        let mut n_limbs = vec![0 as Limb; limbs].into_boxed_slice();
        mont::limbs_from_be(n, &mut n_limbs);
        let mut rr = vec![0 as Limb; limbs].into_boxed_slice();
        mont::pow2_mod(2 * LIMB_BITS * limbs, &n_limbs, bits, &mut rr);
        let n0 = mont::neg_inv(n_limbs.first().copied().unwrap_or(1));
        Ok(PublicKey {
            len: n.len(),
            bits,
            e,
            n0,
            n: n_limbs,
            rr,
        })
    }

    /// Modulus length in bytes: a signature must be exactly this long.
    pub(crate) fn modulus_len(&self) -> usize {
        self.len
    }

    /// Modulus length in bits.
    pub(crate) fn bits(&self) -> usize {
        self.bits
    }

    /// True when `sig` is a valid RSASSA-PKCS1-v1_5 signature of `digest` (already hashed
    /// with `hash`). Checks the exact length and `s < n`, then compares the whole
    /// expected encoding. Never panics, never allocates.
    pub(crate) fn verify_pkcs1v15(&self, hash: Hash, digest: &[u8], sig: &[u8]) -> bool {
        if sig.len() != self.len {
            return false;
        }
        let mut expected = [0u8; MAX_BYTES];
        let Some(expected) = expected.get_mut(..self.len) else {
            return false;
        };
        if !pkcs1::encode(hash, digest, expected) {
            return false;
        }
        let mut em = [0u8; MAX_BYTES];
        let Some(em) = em.get_mut(..self.len) else {
            return false;
        };
        let ok = match self.n.len() {
            C2048 => self.public_op::<C2048>(sig, em),
            C3072 => self.public_op::<C3072>(sig, em),
            C4096 => self.public_op::<C4096>(sig, em),
            C6144 => self.public_op::<C6144>(sig, em),
            C8192 => self.public_op::<C8192>(sig, em),
            _ => false,
        };
        ok && em == expected
    }

    /// `em = sig^e mod n` as big-endian bytes; false when `sig >= n`.
    fn public_op<const N: usize>(&self, sig: &[u8], em: &mut [u8]) -> bool {
        let (Ok(n), Ok(rr)) = (
            <&[Limb; N]>::try_from(&*self.n),
            <&[Limb; N]>::try_from(&*self.rr),
        ) else {
            return false;
        };
        if sig.len() > N * LIMB_BYTES {
            return false;
        }
        let mut s = [0 as Limb; N];
        mont::limbs_from_be(sig, &mut s);
        if mont::ge(&s, n) {
            return false;
        }
        let m = mont::pow_mod(&s, self.e, n, self.n0, rr);
        mont::limbs_to_be(&m, em);
        true
    }
}
