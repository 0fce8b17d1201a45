//! RSA public-key operations for signature verification (the "seam").
//!
//! Everything the rest of the crate needs from RSA goes through [`PublicKey`]:
//! validate a key once when the key set is pushed, then verify PKCS#1 v1.5
//! signatures against it. The engine behind it is free to change.
//!
//! # Algorithm
//! - Per key ([`PublicKey::from_be_bytes`]): check the key rules, store `n` as
//!   limbs padded to a size class (2048, 3072, 4096, 6144 or 8192 bits; Montgomery
//!   arithmetic only needs `R > n`, so padding is exact), and precompute the
//!   Montgomery constants `-n^-1 mod 2^w` and `R^2 mod n`.
//! - Per signature ([`PublicKey::verify_pkcs1v15`]): exact length check, `s < n`,
//!   then `s^e mod n` by Montgomery exponentiation (sixteen dedicated squarings and
//!   one multiply for e = 65537, left-to-right binary for other odd exponents; the
//!   last multiply by the plain `s` leaves the Montgomery domain for free), then the
//!   result is compared whole against the expected EMSA-PKCS1-v1_5 encoding built
//!   from the digest (`pkcs1.rs`); nothing is parsed. Everything lives in fixed-size
//!   stack buffers: no allocation, no panics.
//!
//! - PSS ([`PublicKey::verify_pss`]): the same exact length and `s < n`, the same
//!   `s^e mod n`, then EMSA-PSS-VERIFY decodes the result (`pss.rs`): the salt is
//!   random, so the encoding cannot be rebuilt and compared whole.
//!
//! Two engines, one per target family, each generic over the limb count so every
//! size class gets its own fixed-size loops. They differ only in their limb arithmetic
//! (`engine::Engine`); the per-key constants (`precomp.rs`), the exponent ladder
//! (`ladder.rs`) and the e = 65537 shortcut (`fold.rs`) are written once over it:
//! - `mont.rs` (native, thumbv7em): machine-word limbs (`u64` with `u128` products,
//!   `u32` on 32-bit targets), fused operand-scanning multiply (CIOS) and a
//!   separated square-then-reduce squaring that computes each cross product once.
//! - `lazy.rs` (wasm32): 28-bit limbs in `u64` columns with delayed carries, so the
//!   inner loops are carry-free; with `simd128` (crate feature or target feature)
//!   they run on `i64x2.extmul`, two columns by two rows per vector pass.
//!
//! Measurements and the variants that lost are in `README.md` next to this file.
//! Timing side channels are not a concern: the key and the signature are public.

#[cfg(feature = "bench-internals")]
pub mod bench;
mod engine;
#[cfg(all(target_arch = "wasm32", feature = "fma-proto"))]
mod fma;
mod fold;
mod ladder;
mod precomp;
// One engine per target; tests build both, to run each against the other.
#[cfg(any(target_arch = "wasm32", test))]
mod lazy;
#[cfg(any(not(target_arch = "wasm32"), test))]
mod mont;
mod pkcs1;
#[cfg(feature = "pss")]
mod pss;

#[cfg(test)]
mod tests;

use core::fmt;

use precomp::Precomp;

/// The arithmetic engine: 28-bit limbs with delayed carries on wasm32 (no carry
/// flag, no wide multiply there), machine words everywhere else.
#[cfg(target_arch = "wasm32")]
type Selected = lazy::Lazy;
#[cfg(not(target_arch = "wasm32"))]
type Selected = mont::Mont;

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

/// A validated RSA public key with its precomputed constants.
#[derive(Clone)]
pub(crate) struct PublicKey {
    /// Modulus length in bytes (the exact signature length).
    len: usize,
    bits: usize,
    e: u32,
    /// Montgomery constants of the engine.
    pre: Precomp<Selected>,
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

        let mut pre = Precomp::new(n, bits);
        if e == 65537 && !cfg!(feature = "compact") {
            if let Some(prefix) = fold::prefix(n.len()).as_deref() {
                pre.prepare_fold(prefix);
            }
        }
        Ok(PublicKey {
            len: n.len(),
            bits,
            e,
            pre,
        })
    }

    /// Modulus length in bytes: a signature must be exactly this long.
    pub(crate) fn modulus_len(&self) -> usize {
        self.len
    }

    /// Modulus length in bits.
    #[cfg(test)]
    pub(crate) fn bits(&self) -> usize {
        self.bits
    }

    /// True when `sig` is a valid RSASSA-PKCS1-v1_5 signature of `digest` (already hashed
    /// with `hash`). Checks the exact length and `s < n`, then compares the whole
    /// expected encoding. Never panics, never allocates.
    pub(crate) fn verify_pkcs1v15(&self, hash: Hash, digest: &[u8], sig: &[u8]) -> bool {
        if !cfg!(feature = "compact")
            && hash == Hash::Sha256
            && self.e == 65537
            && sig.len() == self.len
            && digest.len() == 32
        {
            if let Some(valid) = self.pre.verify_folded(sig, digest) {
                return valid;
            }
        }
        verify_with(self.len, hash, digest, sig, |em| {
            self.pre.public_op(self.e, sig, em)
        })
    }

    /// True when `sig` is a valid RSASSA-PSS signature of `digest` (already hashed with
    /// `hash`), MGF1 over the same hash and a salt exactly as long as the hash (RFC 7518
    /// §3.5). Same length and `s < n` checks as PKCS#1 v1.5. Never panics, never allocates.
    #[cfg(feature = "pss")]
    pub(crate) fn verify_pss(&self, hash: Hash, digest: &[u8], sig: &[u8]) -> bool {
        pss_with(self.len, self.bits, hash, digest, sig, |em| {
            self.pre.public_op(self.e, sig, em)
        })
    }
}

/// The PSS check around a public operation (as [`verify_with`]): exact length, `s < n`
/// (the operation refuses it), then EMSA-PSS-VERIFY on the result.
#[cfg(feature = "pss")]
fn pss_with(
    len: usize,
    bits: usize,
    hash: Hash,
    digest: &[u8],
    sig: &[u8],
    op: impl FnOnce(&mut [u8]) -> bool,
) -> bool {
    if sig.len() != len {
        return false;
    }
    let mut em = [0u8; MAX_BYTES];
    let Some(em) = em.get_mut(..len) else {
        return false;
    };
    op(em) && pss::verify(hash, digest, em, bits)
}

/// The PKCS#1 v1.5 check around a public operation `op` that writes `sig^e mod n`
/// into its argument (false when `sig >= n`): exact length, then whole-encoding
/// comparison. Shared by both engines so tests can run each.
fn verify_with(
    len: usize,
    hash: Hash,
    digest: &[u8],
    sig: &[u8],
    op: impl FnOnce(&mut [u8]) -> bool,
) -> bool {
    if sig.len() != len {
        return false;
    }
    let mut expected = [0u8; MAX_BYTES];
    let Some(expected) = expected.get_mut(..len) else {
        return false;
    };
    if !pkcs1::encode(hash, digest, expected) {
        return false;
    }
    let mut em = [0u8; MAX_BYTES];
    let Some(em) = em.get_mut(..len) else {
        return false;
    };
    op(em) && em == expected
}
