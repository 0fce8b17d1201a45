//! The RSA engine alone, for the benchmarks (`filter/benches/rsa.rs`, `bench/wasm`):
//! crate feature `bench-internals`, hidden from the docs, not a stable API. No shipped
//! build enables it.

/// An RSA public key validated and precomputed by the crate's engine.
#[derive(Clone, Debug)]
pub struct RsaPublicKey(super::PublicKey);

impl RsaPublicKey {
    /// `n` and `e` big-endian; `None` when the key rules refuse them (see `rsa/README.md`).
    pub fn from_be_bytes(n: &[u8], e: &[u8]) -> Option<RsaPublicKey> {
        super::PublicKey::from_be_bytes(n, e).ok().map(RsaPublicKey)
    }

    /// True when `sig` is a valid RS256 (PKCS#1 v1.5, SHA-256) signature of `digest`,
    /// the SHA-256 of the signing input: the signature check of a verification.
    pub fn verify_rs256(&self, digest: &[u8], sig: &[u8]) -> bool {
        self.0.verify_pkcs1v15(super::Hash::Sha256, digest, sig)
    }
}

impl RsaPublicKey {
    /// The bare `sig^e mod n` of the selected engine (general path: domain entry,
    /// the exponent ladder, no e = 65537 shortcut) into `out`; false if refused.
    pub fn public_op(&self, sig: &[u8], out: &mut [u8]) -> bool {
        self.0.pre.public_op(self.0.e, sig, out)
    }
}

/// The relaxed-SIMD prototype (`fma-proto`, 2048-bit keys only): the same
/// `sig^65537 mod n` as [`RsaPublicKey::public_op`].
#[cfg(all(target_arch = "wasm32", feature = "fma-proto"))]
pub struct FmaKey(super::fma::Fma);

#[cfg(all(target_arch = "wasm32", feature = "fma-proto"))]
impl FmaKey {
    /// `n` big-endian, 2048 bits, odd.
    pub fn new(n: &[u8]) -> Option<FmaKey> {
        super::fma::Fma::new(n).map(FmaKey)
    }

    /// True when this host fuses `f64x2.relaxed_madd` (the kernel is wrong otherwise).
    pub fn probe() -> bool {
        super::fma::probe()
    }

    /// `sig^65537 mod n` into `out` (256 bytes); false if `sig >= n`.
    pub fn public_op(&self, sig: &[u8], out: &mut [u8]) -> bool {
        self.0.pow65537(sig, out)
    }
}
