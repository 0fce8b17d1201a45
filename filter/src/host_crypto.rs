//! Letting the host check signatures: some hosts have native crypto that beats any wasm
//! engine (Node's and Bun's `node:crypto`, WebCrypto in workerd and browsers, Envoy's
//! `verify_signature` foreign function running BoringSSL). The core still parses, selects
//! the key, checks the signature's length and encoding, and decides everything else; the
//! host only answers "does this signature verify with this key".
//!
//! What the core checks before asking, so that no verdict depends on the path: see
//! [`HostCrypto`].

use crate::policy::Algorithm;
use alloc::vec::Vec;

/// The type (and curve) of a [`HostKey`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyKind {
    /// RSA: RS256/384/512 and PS256/384/512.
    Rsa,
    /// EC P-256: ES256.
    P256,
    /// EC P-384: ES384.
    P384,
    /// OKP Ed25519: EdDSA.
    Ed25519,
}

/// A usable key of the key set, in the forms a host's crypto library takes.
#[derive(Clone, Copy, Debug)]
pub struct HostKey<'a> {
    pub(crate) kid: Option<&'a str>,
    pub(crate) kind: KeyKind,
    /// RSA: n and e; EC: x and y; Ed25519: x and nothing.
    pub(crate) a: &'a [u8],
    pub(crate) b: &'a [u8],
    pub(crate) spki: &'a [u8],
}

/// The former name of [`HostKey`], when only RSA keys were shown to hosts.
pub type RsaKey<'a> = HostKey<'a>;

impl<'a> HostKey<'a> {
    /// The key's `kid`, if it has one.
    pub fn kid(&self) -> Option<&'a str> {
        self.kid
    }

    /// The key's type and curve.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// RSA: the modulus, big-endian, minimal (empty for other key types).
    pub fn modulus(&self) -> &'a [u8] {
        if self.kind == KeyKind::Rsa {
            self.a
        } else {
            &[]
        }
    }

    /// RSA: the public exponent, big-endian, minimal (empty for other key types).
    pub fn exponent(&self) -> &'a [u8] {
        if self.kind == KeyKind::Rsa {
            self.b
        } else {
            &[]
        }
    }

    /// EC: the x coordinate, big-endian, the curve's full size; Ed25519: the 32-byte
    /// public key (RFC 8032 encoding). Empty for RSA.
    pub fn x(&self) -> &'a [u8] {
        if self.kind == KeyKind::Rsa {
            &[]
        } else {
            self.a
        }
    }

    /// EC: the y coordinate, big-endian, the curve's full size. Empty otherwise.
    pub fn y(&self) -> &'a [u8] {
        match self.kind {
            KeyKind::P256 | KeyKind::P384 => self.b,
            _ => &[],
        }
    }

    /// The DER `SubjectPublicKeyInfo` (RFC 5280; rsaEncryption, id-ecPublicKey with the
    /// named curve and an uncompressed point, or id-Ed25519 per RFC 8410), built once
    /// when the key set loads.
    pub fn spki_der(&self) -> &'a [u8] {
        self.spki
    }
}

/// A host-side signature check, used through [`Verifier::verify_with`](crate::Verifier::verify_with)
/// and [`SignatureCheck::verify_signature_with`](crate::SignatureCheck::verify_signature_with).
///
/// The host is asked for every algorithm (RS*, PS*, ES256, ES384, EdDSA) and returns `None`
/// for what it cannot do: the core's own engine then decides. Before asking, the core
/// refuses every signature on whose validity two correct libraries could disagree, so that
/// a verdict never depends on which path checked it:
///
/// - every signature has exactly the key's length (RSA: the modulus length; ES256: 64
///   bytes, ES384: 96, raw `r || s`; Ed25519: 64), checked at key selection;
/// - ECDSA: `r` and `s` in `[1, n-1]` (some libraries reduce or reject differently
///   outside it; high `s` is accepted everywhere, as RFC 7518 allows);
/// - Ed25519: `S` canonical (`S < L`) and `R` not one of the eight points of small order
///   (the core's `verify_strict` refuses them, OpenSSL and BoringSSL do not); keys of small
///   order or with a non-canonical encoding never load. What remains is the cofactorless
///   equation compared on the encoding of `R`, which the core and those libraries share;
/// - RSA: a signature not below the modulus verifies nowhere; PSS uses MGF1 with the
///   algorithm's hash and a salt as long as the hash (the host must ask for exactly that).
///
/// The hosts in this repository: Node and Bun (`node:crypto`) check every algorithm;
/// WebCrypto (`verifyAsync` in workerd, browsers, Vercel Edge) every algorithm, Ed25519
/// where the runtime has it; Envoy's `verify_signature` RS* and ES256/ES384 (the signature
/// converted by [`ecdsa_der`]), while PS* and EdDSA stay in the core there (the function sets
/// no PSS padding and hashes the input itself).
///
/// ```
/// use jwtgate::{Algorithm, HostCrypto, HostKey};
/// /// A host without native crypto: always defers to the core's engine.
/// struct NoNative;
/// impl HostCrypto for NoNative {
///     fn verify(&self, _: &HostKey<'_>, _: Algorithm, _: &[u8], _: &[u8]) -> Option<bool> {
///         None
///     }
/// }
/// ```
pub trait HostCrypto {
    /// Whether `signature` is a valid `alg` signature of `signing_input` under `key` (hash
    /// the input with `alg`'s hash; Ed25519 takes the input itself). `None` means the
    /// host cannot tell (no such algorithm, an error calling it), and the core's own
    /// engine decides instead.
    ///
    /// Called for every algorithm, only after the core's checks described in this
    /// module: RS* is RSASSA-PKCS1-v1_5; PS* is RSASSA-PSS with MGF1 of the same hash and
    /// a salt of exactly the hash's length; ES256/ES384 signatures are IEEE P1363 `r || s`
    /// ([`ecdsa_der`] converts them for libraries that take DER); EdDSA is Ed25519
    /// (RFC 8032, no prehash, no context).
    fn verify(
        &self,
        key: &HostKey<'_>,
        alg: Algorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Option<bool>;
}

/// The order n of P-256, big-endian.
#[cfg(feature = "es256")]
pub(crate) const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// The order n of P-384, big-endian.
#[cfg(feature = "es384")]
pub(crate) const P384_N: [u8; 48] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
];

/// The order L of Ed25519's base point, big-endian (signatures store S little-endian).
#[cfg(feature = "eddsa")]
pub(crate) const ED25519_L: [u8; 32] = [
    0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x14, 0xde, 0xf9, 0xde, 0xa2, 0xf7, 0x9c, 0xd6, 0x58, 0x12, 0x63, 0x1a, 0x5c, 0xf5, 0xd3, 0xed,
];

/// The canonical encodings of the eight Ed25519 points of small order (orders 1, 2, 4
/// and 8). A non-canonical encoding of R never matches the recomputed R anywhere.
#[cfg(feature = "eddsa")]
pub(crate) const SMALL_ORDER: [[u8; 32]; 8] = {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut minus_one = [0xffu8; 32];
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    let order4 = [0u8; 32];
    let mut order4_neg = [0u8; 32];
    order4_neg[31] = 0x80;
    let order8_a = [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ];
    let mut order8_a_neg = order8_a;
    order8_a_neg[31] = 0x85;
    let order8_b = [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ];
    let mut order8_b_neg = order8_b;
    order8_b_neg[31] = 0xfa;
    [
        identity,
        minus_one,
        order4,
        order4_neg,
        order8_a,
        order8_a_neg,
        order8_b,
        order8_b_neg,
    ]
};

/// 0 < v < n for big-endian `v` and `n` of the same length.
#[cfg_attr(not(any(feature = "es256", feature = "es384")), allow(dead_code))]
fn in_range(v: &[u8], n: &[u8]) -> bool {
    v.len() == n.len() && v.iter().any(|b| *b != 0) && v < n
}

/// Whether `sig` (already of the key's exact length) passes the encoding checks on which
/// hosts could disagree (see the module docs). A `false` here is a signature that every
/// path refuses: the core answers it without asking the host.
#[cfg_attr(
    not(any(feature = "es256", feature = "es384", feature = "eddsa")),
    allow(unused_variables, unused_imports)
)]
pub(crate) fn well_formed(alg: Algorithm, sig: &[u8]) -> bool {
    use crate::policy::Family;
    // A build without a family loads no key of it, so no check of that family exists:
    // its constants stay out of size-bound builds.
    match alg.family() {
        #[cfg(feature = "es256")]
        Family::P256 => ecdsa_in_range(sig, &P256_N),
        #[cfg(feature = "es384")]
        Family::P384 => ecdsa_in_range(sig, &P384_N),
        #[cfg(feature = "eddsa")]
        Family::Ed25519 => {
            let (r, s) = sig.split_at(sig.len().min(32));
            // S is little-endian: compare it reversed with L. S = 0 is canonical.
            let mut s_be = [0u8; 32];
            for (dst, src) in s_be.iter_mut().zip(s.iter().rev()) {
                *dst = *src;
            }
            s.len() == 32 && s_be < ED25519_L && !SMALL_ORDER.iter().any(|p| p.as_slice() == r)
        }
        _ => true,
    }
}

/// r and s of a P1363 signature both in [1, n-1].
#[cfg_attr(not(any(feature = "es256", feature = "es384")), allow(dead_code))]
fn ecdsa_in_range(sig: &[u8], n: &[u8]) -> bool {
    let (r, s) = sig.split_at(sig.len() / 2);
    in_range(r, n) && in_range(s, n)
}

/// An ECDSA signature in IEEE P1363 form (`r || s`, each the curve's size, as JWS carries
/// it) as the DER `ECDSA-Sig-Value` (RFC 3279) that OpenSSL's and BoringSSL's
/// `EVP_DigestVerify` take: minimal INTEGERs (leading zeros dropped, one zero byte added
/// when the top bit is set). `None` for an empty or odd-length input, or r or s zero.
///
/// ```
/// let mut p1363 = [0u8; 64];
/// p1363[31] = 1; // r = 1
/// p1363[32] = 0x80; // s = 0x80 << 248
/// let der = jwtgate::ecdsa_der(&p1363).unwrap();
/// assert_eq!(&der[..5], &[0x30, 0x26, 0x02, 0x01, 0x01]);
/// assert_eq!(&der[5..8], &[0x02, 0x21, 0x00]);
/// ```
pub fn ecdsa_der(p1363: &[u8]) -> Option<Vec<u8>> {
    if p1363.is_empty() || !p1363.len().is_multiple_of(2) {
        return None;
    }
    let (r, s) = p1363.split_at(p1363.len() / 2);
    let strip = |v: &'_ [u8]| -> Option<Vec<u8>> {
        let first = v.iter().position(|b| *b != 0)?;
        Some(v.get(first..).unwrap_or_default().to_vec())
    };
    let mut body = Vec::with_capacity(p1363.len() + 6);
    der_integer(&mut body, &strip(r)?);
    der_integer(&mut body, &strip(s)?);
    let mut out = Vec::with_capacity(body.len() + 3);
    der_tlv(&mut out, 0x30, &body);
    Some(out)
}

/// DER `SubjectPublicKeyInfo` for an EC key: id-ecPublicKey with the named curve
/// (prime256v1 or secp384r1), and the uncompressed point `04 || x || y`.
#[cfg_attr(not(any(feature = "es256", feature = "es384")), allow(dead_code))]
pub(crate) fn ec_spki_der(p384: bool, x: &[u8], y: &[u8]) -> Vec<u8> {
    // SEQUENCE { OID 1.2.840.10045.2.1, OID 1.2.840.10045.3.1.7 | 1.3.132.0.34 }
    const P256_ALG: &[u8] = &[
        0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
        0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ];
    const P384_ALG: &[u8] = &[
        0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81,
        0x04, 0x00, 0x22,
    ];
    let mut bits = Vec::with_capacity(2 + x.len() + y.len());
    bits.push(0); // no unused bits
    bits.push(0x04);
    bits.extend_from_slice(x);
    bits.extend_from_slice(y);
    let mut body = Vec::with_capacity(bits.len() + 24);
    body.extend_from_slice(if p384 { P384_ALG } else { P256_ALG });
    der_tlv(&mut body, 0x03, &bits);
    let mut out = Vec::with_capacity(body.len() + 3);
    der_tlv(&mut out, 0x30, &body);
    out
}

/// DER `SubjectPublicKeyInfo` for an Ed25519 key (RFC 8410: OID 1.3.101.112, no
/// parameters, the 32-byte key as the BIT STRING).
#[cfg_attr(not(feature = "eddsa"), allow(dead_code))]
pub(crate) fn ed25519_spki_der(x: &[u8]) -> Vec<u8> {
    const PREFIX: &[u8] = &[
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    let mut out = Vec::with_capacity(PREFIX.len() + x.len());
    out.extend_from_slice(PREFIX);
    out.extend_from_slice(x);
    out
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
