//! Letting the host check the RSA signature: some hosts have native RSA that beats any
//! wasm engine (Envoy's `verify_signature` foreign function runs BoringSSL). The core
//! still parses, selects the key, checks the signature length, and decides everything
//! else; the host only answers "does this PKCS#1 v1.5 signature verify with this key".
//!
//! Only RS256/RS384/RS512 go through it: PS* (RSA-PSS), ES* and EdDSA always run in the
//! core, so a host that implements the seam for PKCS#1 keeps its meaning when the core
//! learns more algorithms.

use crate::policy::Algorithm;
use alloc::vec::Vec;

/// A usable RSA key of the key set, in the forms a host's crypto library takes.
#[derive(Clone, Copy, Debug)]
pub struct RsaKey<'a> {
    pub(crate) kid: Option<&'a str>,
    pub(crate) n: &'a [u8],
    pub(crate) e: &'a [u8],
    pub(crate) spki: &'a [u8],
}

impl<'a> RsaKey<'a> {
    /// The key's `kid`, if it has one.
    pub fn kid(&self) -> Option<&'a str> {
        self.kid
    }

    /// The modulus, big-endian, minimal.
    pub fn modulus(&self) -> &'a [u8] {
        self.n
    }

    /// The public exponent, big-endian, minimal.
    pub fn exponent(&self) -> &'a [u8] {
        self.e
    }

    /// The DER `SubjectPublicKeyInfo` (RFC 5280, rsaEncryption), built once when the key set loads.
    pub fn spki_der(&self) -> &'a [u8] {
        self.spki
    }
}

/// A host-side RSASSA-PKCS1-v1_5 check, used through [`Verifier::verify_with`](crate::Verifier::verify_with).
///
/// ```
/// use jwtgate::{Algorithm, HostRsa, RsaKey};
/// /// A host without native RSA: always defers to the core's engine.
/// struct NoNative;
/// impl HostRsa for NoNative {
///     fn verify(&self, _: &RsaKey<'_>, _: Algorithm, _: &[u8], _: &[u8]) -> Option<bool> {
///         None
///     }
/// }
/// ```
pub trait HostRsa {
    /// Whether `signature` is a valid RSASSA-PKCS1-v1_5 signature of `signing_input`
    /// (hash it with `alg`'s hash) under `key`. `None` means the host cannot tell (no
    /// such function, an error calling it), and the core's own engine decides instead.
    /// The signature already has exactly the modulus length. Called only for RS256,
    /// RS384 and RS512 (`alg.hash_bits()` gives the hash); never for PS*, ES* or EdDSA.
    fn verify(
        &self,
        key: &RsaKey<'_>,
        alg: Algorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Option<bool>;
}

/// DER `SubjectPublicKeyInfo` for an RSA key: SEQUENCE { AlgorithmIdentifier
/// { rsaEncryption, NULL }, BIT STRING { RSAPublicKey { n, e } } }.
pub(crate) fn spki_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut rsa_public_key = Vec::new();
    der_integer(&mut rsa_public_key, n);
    der_integer(&mut rsa_public_key, e);
    let mut rsa_public_key_seq = Vec::new();
    der_tlv(&mut rsa_public_key_seq, 0x30, &rsa_public_key);
    let mut bit_string = Vec::with_capacity(rsa_public_key_seq.len() + 1);
    bit_string.push(0); // no unused bits
    bit_string.extend_from_slice(&rsa_public_key_seq);
    // AlgorithmIdentifier: OID 1.2.840.113549.1.1.1 and NULL parameters.
    const ALGORITHM: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut body = Vec::with_capacity(ALGORITHM.len() + bit_string.len() + 4);
    body.extend_from_slice(ALGORITHM);
    der_tlv(&mut body, 0x03, &bit_string);
    let mut out = Vec::with_capacity(body.len() + 4);
    der_tlv(&mut out, 0x30, &body);
    out
}

/// A non-negative INTEGER: a leading zero byte when the top bit is set.
fn der_integer(out: &mut Vec<u8>, be: &[u8]) {
    let mut content = Vec::with_capacity(be.len() + 1);
    if be.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(be);
    der_tlv(out, 0x02, &content);
}

fn der_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
    use rsa::traits::PublicKeyParts;

    #[test]
    fn spki_matches_the_rsa_crate() {
        for (bits, pem) in [
            (2048, include_str!("../tests/data/main.pem")),
            (4096, include_str!("../tests/data/rsa4096.pem")),
        ] {
            let public = rsa::RsaPrivateKey::from_pkcs8_pem(pem)
                .unwrap()
                .to_public_key();
            let ours = spki_der(&public.n().to_bytes_be(), &public.e().to_bytes_be());
            let theirs = public.to_public_key_der().unwrap();
            assert_eq!(ours, theirs.as_bytes(), "{bits}-bit key");
        }
    }
}
