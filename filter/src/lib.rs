//! # jwtgate
//!
//! Strict, fast verification of JWTs (Kubernetes service-account tokens, OIDC access
//! tokens) against a JWKS that the host pushes in: RS256/384/512 and PS256/384/512
//! (cargo feature `pss`) on the crate's own RSA engine, ES256 and ES384 (features `es256`,
//! `es384`, or `ecdsa` for both; RustCrypto `p256`/`p384`) and EdDSA/Ed25519 (feature
//! `eddsa`, `ed25519-dalek`). The features are on by default (a size-bound build picks
//! some: with none, RS* only); a policy allows only RS256 unless it says otherwise. `no_std` with
//! `alloc`; no clock, no I/O, no global state: the host passes keys and the current time.
//!
//! ```
//! use jwtgate::{KeySet, Policy, Verifier};
//! # let jwks = include_bytes!("../tests/data/rfc7515-a2.jwks.json");
//! let keys = KeySet::from_jwks(jwks)?;
//! let policy = Policy::new().issuer("joe").require_exp(false);
//! let verifier = Verifier::new(keys, policy).with_cache(1000);
//! # let token = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
//! match verifier.verify(token, 1_300_000_000) {
//!     Ok(v) => assert_eq!(v.claims().iss(), Some("joe")),
//!     Err(e) => panic!("{} ({})", e.code(), e.reason()),
//! }
//! # Ok::<(), jwtgate::Error>(())
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod b64;
mod bearer;
mod cache;
mod claims;
pub mod discovery;
pub mod duration;
#[cfg(all(feature = "ecdsa-compact", any(feature = "es256", feature = "es384")))]
mod ec;
mod error;
mod host_crypto;
#[cfg(test)]
mod host_tests;
mod json;
mod jwks;
mod policy;
mod prepared;
pub mod refresh;
mod rsa;
#[cfg(test)]
mod sig_tests;
pub mod source;
mod token;
mod verified;
mod verify;

/// The RSA engine alone, for the crate's benchmarks (feature `bench-internals`): not a
/// stable API.
#[cfg(feature = "bench-internals")]
#[doc(hidden)]
pub use rsa::bench as bench_internals;

pub use bearer::bearer_token;
pub use claims::Claims;
pub use error::{Error, ErrorCode};
pub use host_crypto::{ecdsa_der, HostCrypto, HostKey, KeyKind, RsaKey};
pub use jwks::{KeySet, KeySetLimits, SkipReason, SkippedKey};
pub use policy::{Algorithm, Policy, DEFAULT_CLOCK_SKEW, DEFAULT_MAX_TOKEN_BYTES};
pub use prepared::{Candidate, Prepared, SignatureCheck};
pub use token::Header;
pub use verify::{Jws, Verified, Verifier, MAX_CANDIDATES};
