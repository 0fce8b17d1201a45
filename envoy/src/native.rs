//! The wire format of Envoy's `verify_signature` foreign function (BoringSSL's
//! `EVP_DigestVerify` behind a small protobuf), without host calls. The glue calls the
//! function; this module builds its arguments and reads its answer, so that every odd
//! answer can be unit-tested natively and maps to "cannot tell" (the core's engine decides).
//!
//! ```text
//! message VerifySignatureArguments { string hash_function = 1; bytes public_key = 2;
//!                                    bytes signature = 3; bytes text = 4; }
//! message VerifySignatureResult    { bool result = 1; string error = 2; }
//! ```
//!
//! `public_key` is the DER SubjectPublicKeyInfo (faster to import than PEM, which Envoy 1.40
//! also takes as field 5).
//!
//! RS256/384/512 (PKCS#1 v1.5, the `EVP_PKEY` default for an RSA key) and ES256/ES384 (an EC
//! SPKI; `EVP_DigestVerify` takes the ECDSA signature as DER, converted from JWS's `r || s`
//! by [`jwtgate::ecdsa_der`]) go to the host. PS* cannot (the function sets no PSS
//! padding) nor can EdDSA (Ed25519 takes no separate digest): the core's engine checks them.

use crate::ports::Host;
use jwtgate::{ecdsa_der, Algorithm, HostCrypto, HostKey};
use std::cell::Cell;

/// Name of the foreign function in Envoy (registered since 1.17).
pub const FUNCTION: &str = "verify_signature";

/// Envoy's error text when `EVP_DigestVerify` itself said no (key imported and digest
/// initialised fine): the only failure that is a verdict on the signature.
const VERIFY_FAILED: &str = "Failed to verify digest";

/// What the host is asked for `alg`: the signature in the form `EVP_DigestVerify` takes
/// (DER for ECDSA), or `None` for the algorithms it cannot check.
pub fn host_signature(alg: Algorithm, signature: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
    use std::borrow::Cow;
    match alg {
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => Some(Cow::Borrowed(signature)),
        Algorithm::ES256 | Algorithm::ES384 => ecdsa_der(signature).map(Cow::Owned),
        _ => None,
    }
}

/// The protobuf `VerifySignatureArguments` for one check.
pub fn arguments(
    alg: Algorithm,
    spki_der: &[u8],
    signature: &[u8],
    signing_input: &[u8],
) -> Vec<u8> {
    // RS* and ES* only (see `host_signature`); the key type picks PKCS#1 or ECDSA.
    let hash: &[u8] = match alg.hash_bits() {
        256 => b"sha256",
        384 => b"sha384",
        _ => b"sha512",
    };
    let mut out = Vec::with_capacity(
        hash.len() + spki_der.len() + signature.len() + signing_input.len() + 24,
    );
    field(&mut out, 1, hash);
    field(&mut out, 2, spki_der);
    field(&mut out, 3, signature);
    field(&mut out, 4, signing_input);
    out
}

/// A length-delimited field (wire type 2).
fn field(out: &mut Vec<u8>, number: u8, data: &[u8]) {
    out.push((number << 3) | 2);
    varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

fn varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Reads a varint at `*pos`, advancing it. `None` past the end or beyond 64 bits.
fn read_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut n: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        n |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(n);
        }
    }
    None
}

/// The verdict in a `VerifySignatureResult`: `Some(true)` when the signature verified,
/// `Some(false)` only when BoringSSL checked it and refused it, `None` for anything else
/// (key not imported, hash unsupported, an unparsable or unexpected answer).
pub fn verdict(result: &[u8]) -> Option<bool> {
    let mut ok = false;
    let mut error: &[u8] = &[];
    let mut pos = 0;
    while pos < result.len() {
        let key = read_varint(result, &mut pos)?;
        match (key >> 3, key & 7) {
            (1, 0) => ok = read_varint(result, &mut pos)? != 0,
            (number, 2) => {
                let len = usize::try_from(read_varint(result, &mut pos)?).ok()?;
                let end = pos.checked_add(len)?;
                let data = result.get(pos..end)?;
                pos = end;
                if number == 2 {
                    error = data;
                }
            }
            (_, 0) => {
                read_varint(result, &mut pos)?;
            }
            _ => return None,
        }
    }
    if ok {
        Some(true)
    } else if error.starts_with(VERIFY_FAILED.as_bytes()) {
        Some(false)
    } else {
        None
    }
}

/// Envoy's `verify_signature` as the core's host check (RS*, ES256, ES384). Whether the host has it is
/// learnt at the first call and kept for the VM's life; any error or odd answer is
/// "cannot tell", and the core's in-wasm engine decides.
#[derive(Default)]
pub struct NativeRsa {
    /// `None` until the first call; then whether the function exists.
    available: Cell<Option<bool>>,
    /// Verdicts the host gave, and calls that gave none (metrics, flushed on the tick).
    pub verdicts: Cell<u64>,
    pub no_verdict: Cell<u64>,
}

/// [`NativeRsa`] bound to a host for the length of one decision.
pub struct Via<'a, H: Host> {
    pub rsa: &'a NativeRsa,
    pub host: &'a H,
}

impl<H: Host> HostCrypto for Via<'_, H> {
    fn verify(
        &self,
        key: &HostKey<'_>,
        alg: Algorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Option<bool> {
        let rsa = self.rsa;
        if rsa.available.get() == Some(false) {
            return None;
        }
        let signature = host_signature(alg, signature)?;
        let args = arguments(alg, key.spki_der(), &signature, signing_input);
        match self.host.call_foreign(FUNCTION, &args) {
            Ok(result) => {
                let verdict = verdict(&result);
                if rsa.available.get().is_none() {
                    rsa.available.set(Some(true));
                    log::info!("jwtgate: RS*/ES* signatures checked by the host ({FUNCTION})");
                }
                let counter = if verdict.is_some() {
                    &rsa.verdicts
                } else {
                    log::debug!("jwtgate: {FUNCTION} gave no verdict; the in-wasm engine decides");
                    &rsa.no_verdict
                };
                counter.set(counter.get().saturating_add(1));
                verdict
            }
            Err(status) => {
                if rsa.available.get().is_none() {
                    rsa.available.set(Some(false));
                    log::info!(
                        "jwtgate: host has no usable {FUNCTION} (status {status}); signatures checked in wasm"
                    );
                } else {
                    rsa.no_verdict.set(rsa.no_verdict.get().saturating_add(1));
                    log::debug!(
                        "jwtgate: {FUNCTION} failed (status {status}); the in-wasm engine decides"
                    );
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_match_the_proto() {
        let a = arguments(Algorithm::RS256, b"K", &[0xaa; 200], b"in");
        assert_eq!(&a[..8], b"\x0a\x06sha256");
        assert_eq!(&a[8..11], b"\x12\x01K");
        // 200 bytes: a two-byte length.
        assert_eq!(&a[11..14], &[0x1a, 0xc8, 0x01]);
        assert_eq!(&a[214..], b"\x22\x02in");
        assert!(arguments(Algorithm::RS512, b"", b"", b"").starts_with(b"\x0a\x06sha512"));
    }

    /// ES256/ES384 go with DER signatures and the EC SPKI; PS* and EdDSA never go.
    #[test]
    fn which_algorithms_go_to_the_host() {
        let mut p1363 = [0x11u8; 64];
        p1363[32] = 0x80; // s has its top bit set: DER adds a zero byte
        let der = host_signature(Algorithm::ES256, &p1363).unwrap();
        assert_eq!(&der[..], &jwtgate::ecdsa_der(&p1363).unwrap()[..]);
        assert_eq!(&der[..4], &[0x30, 0x45, 0x02, 0x20]);
        assert_eq!(&der[36..39], &[0x02, 0x21, 0x00]);
        let a = arguments(Algorithm::ES256, b"EC", &der, b"in");
        assert!(a.starts_with(b"\x0a\x06sha256\x12\x02EC\x1a\x47\x30\x45"));
        assert!(arguments(Algorithm::ES384, b"", b"", b"").starts_with(b"\x0a\x06sha384"));
        assert_eq!(
            &host_signature(Algorithm::RS256, b"sig").unwrap()[..],
            b"sig"
        );
        for alg in [
            Algorithm::PS256,
            Algorithm::PS512,
            Algorithm::EdDSA,
            Algorithm::Ed25519,
        ] {
            assert!(host_signature(alg, &p1363).is_none(), "{alg:?}");
        }
    }

    #[test]
    fn verdicts() {
        assert_eq!(verdict(b"\x08\x01"), Some(true));
        let refused = [
            b"\x12\x29".as_slice(),
            b"Failed to verify digest. Error code: 0",
        ]
        .concat();
        assert_eq!(
            verdict(&refused[..2 + 38]),
            None,
            "length says 41, 38 given"
        );
        let mut refused = vec![0x12, 38];
        refused.extend_from_slice(b"Failed to verify digest. Error code: 0");
        assert_eq!(verdict(&refused), Some(false));
        // proto3 may also send result = false explicitly.
        assert_eq!(
            verdict(&[[0x08, 0x00].as_slice(), &refused].concat()),
            Some(false)
        );
        let mut init = vec![0x12, 35];
        init.extend_from_slice(b"Failed to initialize digest verify.");
        assert_eq!(verdict(&init), None);
        assert_eq!(verdict(b""), None);
        assert_eq!(verdict(b"\x08"), None);
        assert_eq!(
            verdict(b"\x0d\x00\x00\x00\x00"),
            None,
            "fixed32 is not expected"
        );
        assert_eq!(
            verdict(b"\x12\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
            None
        );
        assert_eq!(verdict(&[0xff; 11]), None);
        // Unknown fields are skipped.
        assert_eq!(verdict(b"\x18\x05\x22\x01x\x08\x01"), Some(true));
    }
}
