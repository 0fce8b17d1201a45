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
