//! Signing helpers: honest RS256/384/512, raw RSA over a chosen encoded message (for
//! bad-padding vectors), HMAC (for algorithm-confusion vectors), base64url.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// base64url without padding (RFC 7515 §2).
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Standard base64 with padding (for `x5c` and PEM bodies).
pub fn b64_std(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// The RSASSA-PKCS1-v1_5 hashes.
#[derive(Clone, Copy)]
pub enum Hash {
    S256,
    S384,
    S512,
}

/// DER `DigestInfo` prefix for SHA-256 with explicit NULL parameters (RFC 8017 §9.2, note 1).
pub const DIGEST_INFO_SHA256: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// An honest PKCS#1 v1.5 signature (deterministic).
pub fn sign(key: &RsaPrivateKey, hash: Hash, msg: &[u8]) -> Vec<u8> {
    let result = match hash {
        Hash::S256 => key.sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(msg)),
        Hash::S384 => key.sign(Pkcs1v15Sign::new::<Sha384>(), &Sha384::digest(msg)),
        Hash::S512 => key.sign(Pkcs1v15Sign::new::<Sha512>(), &Sha512::digest(msg)),
    };
    result.expect("signing with a test key")
}

/// `em^d mod n`, left-padded to the modulus length: a "signature" whose public-key
/// image is exactly `em`, whatever `em` holds.
pub fn raw_sign(key: &RsaPrivateKey, em: &[u8]) -> Vec<u8> {
    let m = BigUint::from_bytes_be(em);
    assert!(&m < key.n(), "encoded message must be below n");
    let s = m.modpow(key.d(), key.n());
    assert_eq!(s.modpow(key.e(), key.n()), m, "raw RSA round trip");
    left_pad(&s.to_bytes_be(), key.size())
}

/// `bytes` left-padded with zeros to `len`.
pub fn left_pad(bytes: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len.saturating_sub(bytes.len())];
    out.extend_from_slice(bytes);
    out
}

/// `00 01 FF.. 00 || tail`, `FF` filling the modulus length `k`.
pub fn emsa_with_tail(k: usize, tail: &[u8]) -> Vec<u8> {
    let mut em = vec![0x00, 0x01];
    em.resize(k - tail.len() - 1, 0xff);
    em.push(0x00);
    em.extend_from_slice(tail);
    em
}

/// HMAC (RFC 2104) over SHA-256/384/512 with any key bytes.
pub fn hmac(hash: Hash, key: &[u8], msg: &[u8]) -> Vec<u8> {
    fn run<D: Digest>(block: usize, key: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut k = if key.len() > block {
            D::digest(key).to_vec()
        } else {
            key.to_vec()
        };
        k.resize(block, 0);
        let mut inner = D::new();
        inner.update(k.iter().map(|b| b ^ 0x36).collect::<Vec<u8>>());
        inner.update(msg);
        let mut outer = D::new();
        outer.update(k.iter().map(|b| b ^ 0x5c).collect::<Vec<u8>>());
        outer.update(inner.finalize());
        outer.finalize().to_vec()
    }
    match hash {
        Hash::S256 => run::<Sha256>(64, key, msg),
        Hash::S384 => run::<Sha384>(128, key, msg),
        Hash::S512 => run::<Sha512>(128, key, msg),
    }
}

/// `b64(header).b64(payload)` signed honestly with `key` (RS256).
pub fn token(key: &RsaPrivateKey, header: &str, payload: &str) -> String {
    token_with(key, Hash::S256, header.as_bytes(), payload.as_bytes())
}

/// Any header and payload bytes, signed with `hash`.
pub fn token_with(key: &RsaPrivateKey, hash: Hash, header: &[u8], payload: &[u8]) -> String {
    signed(key, hash, &format!("{}.{}", b64(header), b64(payload)))
}

/// Signs a ready signing input (segments as given, even if they are not canonical).
pub fn signed(key: &RsaPrivateKey, hash: Hash, signing_input: &str) -> String {
    let sig = sign(key, hash, signing_input.as_bytes());
    format!("{signing_input}.{}", b64(&sig))
}

/// Self-test of the HMAC helper against RFC 4231 test case 2.
pub fn self_test() {
    let mac = hmac(Hash::S256, b"Jefe", b"what do ya want for nothing?");
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

/// ES256: ECDSA P-256 over SHA-256, RFC 6979 nonces (deterministic), raw `r || s`.
pub fn es256(key: &p256::ecdsa::SigningKey, msg: &[u8]) -> Vec<u8> {
    use p256::ecdsa::signature::Signer;
    let sig: p256::ecdsa::Signature = key.sign(msg);
    sig.to_bytes().to_vec()
}

/// ES384: ECDSA P-384 over SHA-384, RFC 6979 nonces, raw `r || s`.
pub fn es384(key: &p384::ecdsa::SigningKey, msg: &[u8]) -> Vec<u8> {
    use p384::ecdsa::signature::Signer;
    let sig: p384::ecdsa::Signature = key.sign(msg);
    sig.to_bytes().to_vec()
}

/// The same ES256 signature with `s` replaced by `n - s` (the other valid `s`).
pub fn es256_other_s(sig: &[u8]) -> Vec<u8> {
    let parsed = p256::ecdsa::Signature::from_slice(sig).expect("ES256 signature");
    let (r, s) = parsed.split_scalars();
    let neg = -*s.as_ref();
    let flipped = p256::ecdsa::Signature::from_scalars(r.to_bytes(), neg.to_bytes())
        .expect("n - s is in range");
    flipped.to_bytes().to_vec()
}

/// Whether an ES256 signature's `s` is above n/2.
pub fn es256_is_high_s(sig: &[u8]) -> bool {
    let parsed = p256::ecdsa::Signature::from_slice(sig).expect("ES256 signature");
    parsed.normalize_s().is_some()
}

/// The DER (ASN.1 SEQUENCE of two INTEGERs) form of a raw ES256 signature.
pub fn es256_der(sig: &[u8]) -> Vec<u8> {
    let parsed = p256::ecdsa::Signature::from_slice(sig).expect("ES256 signature");
    parsed.to_der().as_bytes().to_vec()
}

/// RSASSA-PSS with MGF1 over the same hash and a salt of `salt_len` bytes drawn from
/// an RNG seeded with `seed`, so that the corpus stays reproducible.
pub fn pss(key: &RsaPrivateKey, hash: Hash, salt_len: usize, seed: u64, msg: &[u8]) -> Vec<u8> {
    use rand_chacha::rand_core::SeedableRng;
    use rsa::pss::Pss;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let result = match hash {
        Hash::S256 => key.sign_with_rng(
            &mut rng,
            Pss::new_with_salt::<Sha256>(salt_len),
            &Sha256::digest(msg),
        ),
        Hash::S384 => key.sign_with_rng(
            &mut rng,
            Pss::new_with_salt::<Sha384>(salt_len),
            &Sha384::digest(msg),
        ),
        Hash::S512 => key.sign_with_rng(
            &mut rng,
            Pss::new_with_salt::<Sha512>(salt_len),
            &Sha512::digest(msg),
        ),
    };
    result.expect("PSS signing with a test key")
}

/// Ed25519 (deterministic by construction).
pub fn ed25519(key: &ed25519_dalek::SigningKey, msg: &[u8]) -> Vec<u8> {
    use ed25519_dalek::Signer;
    key.sign(msg).to_bytes().to_vec()
}

/// The group order L of Ed25519, little-endian.
const ED25519_L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// The same Ed25519 signature with `S + L` for `S`: a lax verifier (reducing S mod L)
/// accepts it; RFC 8032 §5.1.7 requires S < L.
pub fn ed25519_non_canonical_s(sig: &[u8]) -> Vec<u8> {
    let mut out = sig.to_vec();
    let mut carry = 0u16;
    for (b, l) in out[32..].iter_mut().zip(ED25519_L) {
        let sum = u16::from(*b) + u16::from(l) + carry;
        *b = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "S + L fits in 256 bits");
    out
}
