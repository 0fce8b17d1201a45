//! ES256, ES384, PS256/384/512 and EdDSA/Ed25519: valid tokens, algorithm and key-type
//! confusion in every direction, ECDSA signature encodings and ranges (DER, r = 0,
//! s = 0, s = n, high s), PSS salt lengths, non-canonical Ed25519 S, and the EC/OKP key
//! rules of the JWKS loader.

use super::{input, std_payload, NOW};
use crate::corpus::Corpus;
use crate::json::{s, strs, J};
use crate::keys::{ec256_jwk, ec384_jwk, ec_jwk, ed25519_jwk, jwk, jwks, okp_jwk, Keys};
use crate::sign::{self, b64, Hash};

/// Every algorithm the core verifies.
pub const ALL: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA", "Ed25519",
];

/// The P-256 group order n, big-endian.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];
/// The P-256 field prime p, big-endian.
const P256_P: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
];

/// RFC 7515 Appendix A.3: ES256 with the RFC's P-256 key.
pub const RFC7515_A3: &str = concat!(
    "eyJhbGciOiJFUzI1NiJ9",
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ",
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
);
/// RFC 7515 A.3's public key coordinates.
pub const RFC7515_A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
pub const RFC7515_A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
/// RFC 8037 Appendix A.4: Ed25519 over the text "Example of Ed25519 signing".
pub const RFC8037_A4: &str = concat!(
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc",
    ".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
);
/// RFC 7520 §4.2: PS384 (random salt) over the RFC 7520 payload with its RSA key.
pub const RFC7520_4_2: &str = concat!(
    "eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9",
    ".SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlm",
    "IHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4",
    ".cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2IpN6-tPid6VrklHkqsGqDqHCdP6O8TTB5dDDItllVo6_1OLPpcbUrhiUSMxbbXUvdvWXzg-UD8biiReQFlfz28zGWVsdiNAUf8ZnyPEgVFn442ZdNqiVJRmBqrYRXe8P_ijQ7p8Vdz0TTrxUeT3lm8d9shnr2lfJT8ImUjvAA2Xez2Mlp8cBE5awDzT0qI0n6uiP1aCN_2_jLAeQTlqRHtfa64QQSUmFAAjVKPbByi7xho0uTOcbH510a6GYmJUAfmWjwZ6oD4ifKo8DYM-X72Eaw",
);
/// RFC 8037 A.4's public key.
pub const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

fn decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url")
}

/// Checks the RFC examples with the reference crates before they enter the corpus.
fn check_rfc_examples() {
    use ed25519_dalek::Verifier as _;
    let seg: Vec<&str> = RFC7515_A3.split('.').collect();
    let mut sec1 = vec![4u8];
    sec1.extend(decode(RFC7515_A3_X));
    sec1.extend(decode(RFC7515_A3_Y));
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).expect("RFC 7515 A.3 key");
    let sig = p256::ecdsa::Signature::from_slice(&decode(seg[2])).expect("A.3 signature");
    vk.verify(format!("{}.{}", seg[0], seg[1]).as_bytes(), &sig)
        .expect("RFC 7515 A.3 verifies");
    let seg: Vec<&str> = RFC8037_A4.split('.').collect();
    let x: [u8; 32] = decode(RFC8037_X).try_into().expect("32 bytes");
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&x).expect("RFC 8037 key");
    let sig: [u8; 64] = decode(seg[2]).try_into().expect("64 bytes");
    vk.verify(
        format!("{}.{}", seg[0], seg[1]).as_bytes(),
        &ed25519_dalek::Signature::from_bytes(&sig),
    )
    .expect("RFC 8037 A.4 verifies");
    // RFC 7520 §4.2 with the RFC 7520 key (the same key as §4.1), PSS salt 48.
    let seg: Vec<&str> = RFC7520_4_2.split('.').collect();
    let jwks: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../keys/rfc7520-4.1.jwks.json"),
        )
        .expect("RFC 7520 key file"),
    )
    .expect("JSON");
    let n = decode(jwks["keys"][0]["n"].as_str().expect("n"));
    let e = decode(jwks["keys"][0]["e"].as_str().expect("e"));
    let key = rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(&n),
        rsa::BigUint::from_bytes_be(&e),
    )
    .expect("RFC 7520 key");
    use sha2::Digest as _;
    let digest = sha2::Sha384::digest(format!("{}.{}", seg[0], seg[1]).as_bytes());
    key.verify(
        rsa::pss::Pss::new_with_salt::<sha2::Sha384>(48),
        &digest,
        &decode(seg[2]),
    )
    .expect("RFC 7520 4.2 verifies");
}

pub fn key_sets(c: &mut Corpus, k: &Keys) {
    let sig = || ("use", s("sig"));
    c.add_jwks(
        "algs",
        jwks(vec![
            jwk(&k.main, Some("main"), &[sig()]),
            ec256_jwk(&k.ec256, "ec256", &[sig(), ("alg", s("ES256"))]),
            ec384_jwk(&k.ec384, "ec384", &[sig()]),
            ed25519_jwk(&k.ed25519, "ed25519", &[sig(), ("alg", s("EdDSA"))]),
            jwk(&k.rsa3072, Some("rsa3072"), &[sig(), ("alg", s("PS384"))]),
        ]),
    );
    // One key per type, none with a kid: a token without kid finds the key of its type.
    c.add_jwks(
        "algs_no_kid",
        jwks(vec![
            jwk(&k.main, None, &[]),
            {
                let mut j = ec256_jwk(&k.ec256, "x", &[]);
                j.remove("kid");
                j
            },
            {
                let mut j = ed25519_jwk(&k.ed25519, "x", &[]);
                j.remove("kid");
                j
            },
        ]),
    );
    let mut rfc7515_a3 = ec_jwk(
        "P-256",
        &decode(RFC7515_A3_X),
        &decode(RFC7515_A3_Y),
        "x",
        &[],
    );
    rfc7515_a3.remove("kid");
    c.add_jwks("rfc7515_a3", jwks(vec![rfc7515_a3]));
    let mut rfc8037 = okp_jwk("Ed25519", &decode(RFC8037_X), "x", &[]);
    rfc8037.remove("kid");
    c.add_jwks("rfc8037", jwks(vec![rfc8037]));
}

pub fn policies(c: &mut Corpus) {
    c.add_policy("all_algs", crate::json::obj([("algorithms", strs(ALL))]));
    c.add_policy(
        "all_algs_joe",
        crate::json::obj([("algorithms", strs(ALL)), ("issuers", strs(&["joe"]))]),
    );
}

pub fn cases(c: &mut Corpus, k: &Keys) {
    check_rfc_examples();
    let p = std_payload();
    let tok = |header: &str, sign: &dyn Fn(&[u8]) -> Vec<u8>| -> String {
        let si = input(header, &p);
        let sig = sign(si.as_bytes());
        format!("{si}.{}", b64(&sig))
    };
    let es256 = |m: &[u8]| sign::es256(&k.ec256, m);
    let es384 = |m: &[u8]| sign::es384(&k.ec384, m);
    let ed = |m: &[u8]| sign::ed25519(&k.ed25519, m);
    let ps = |hash: Hash, salt: usize| {
        move |m: &[u8]| sign::pss(&k.main, hash, salt, 0x5053_0000 + salt as u64, m)
    };
    let rs = |hash: Hash| move |m: &[u8]| sign::sign(&k.main, hash, m);

    // Valid tokens, one per algorithm.
    let valid: Vec<(&str, &str, String)> = vec![
        (
            "es256_ok",
            "ES256 (P-256, RFC 6979 nonce) with the P-256 key pinned to ES256.",
            tok(r#"{"alg":"ES256","kid":"ec256"}"#, &es256),
        ),
        (
            "es384_ok",
            "ES384 (P-384) with a P-384 key without alg.",
            tok(r#"{"alg":"ES384","kid":"ec384"}"#, &es384),
        ),
        (
            "ps256_ok",
            "PS256 (salt 32 bytes) with an RSA key without alg.",
            tok(r#"{"alg":"PS256","kid":"main"}"#, &ps(Hash::S256, 32)),
        ),
        (
            "ps384_ok",
            "PS384 (salt 48 bytes).",
            tok(r#"{"alg":"PS384","kid":"main"}"#, &ps(Hash::S384, 48)),
        ),
        (
            "ps512_ok",
            "PS512 (salt 64 bytes) with a 2048-bit key.",
            tok(r#"{"alg":"PS512","kid":"main"}"#, &ps(Hash::S512, 64)),
        ),
        (
            "ps384_3072_pinned_ok",
            "PS384 with a 3072-bit key whose JWK alg is PS384.",
            tok(r#"{"alg":"PS384","kid":"rsa3072"}"#, &|m: &[u8]| {
                sign::pss(&k.rsa3072, Hash::S384, 48, 0x5053_3072, m)
            }),
        ),
        (
            "eddsa_ok",
            "EdDSA with the Ed25519 key (JWK alg EdDSA).",
            tok(r#"{"alg":"EdDSA","kid":"ed25519"}"#, &ed),
        ),
        (
            "ed25519_alg_ok",
            "The fully-specified name Ed25519 with a key whose JWK alg is EdDSA: the same algorithm.",
            tok(r#"{"alg":"Ed25519","kid":"ed25519"}"#, &ed),
        ),
        (
            "rs256_in_algs_set_ok",
            "RS256 still verifies next to EC and OKP keys.",
            tok(r#"{"alg":"RS256","kid":"main"}"#, &rs(Hash::S256)),
        ),
    ];
    for (name, about, t) in valid {
        c.case(name, about, "algs", "all_algs", NOW, t, "ok")
            .claim("sub", s("alice"));
    }
    let es256_high = {
        let si = input(r#"{"alg":"ES256","kid":"ec256"}"#, &p);
        let sig = sign::es256(&k.ec256, si.as_bytes());
        let high = if sign::es256_is_high_s(&sig) {
            sig
        } else {
            sign::es256_other_s(&sig)
        };
        assert!(sign::es256_is_high_s(&high));
        format!("{si}.{}", b64(&high))
    };
    c.case(
        "es256_high_s_ok",
        "ES256 with s > n/2 (n - s of an honest signature): valid ECDSA; RFC 7518 does not require low s, so it is accepted.",
        "algs",
        "all_algs",
        NOW,
        es256_high,
        "ok",
    );
    for (name, about, header, signer) in [
        (
            "es256_no_kid_ok",
            "ES256 without kid: only the P-256 key is usable with ES256, so it is the one tried.",
            r#"{"alg":"ES256"}"#,
            &es256 as &dyn Fn(&[u8]) -> Vec<u8>,
        ),
        (
            "eddsa_no_kid_ok",
            "EdDSA without kid: only the Ed25519 key is a candidate.",
            r#"{"alg":"EdDSA"}"#,
            &ed,
        ),
        (
            "ps256_no_kid_ok",
            "PS256 without kid: only the RSA key is a candidate.",
            r#"{"alg":"PS256"}"#,
            &ps(Hash::S256, 32),
        ),
    ] {
        c.case(
            name,
            about,
            "algs_no_kid",
            "all_algs",
            NOW,
            tok(header, signer),
            "ok",
        );
    }

    // The default policy allows RS256 only.
    for (name, header, signer) in [
        (
            "es256_default_policy",
            r#"{"alg":"ES256","kid":"ec256"}"#,
            &es256 as &dyn Fn(&[u8]) -> Vec<u8>,
        ),
        (
            "ps256_default_policy",
            r#"{"alg":"PS256","kid":"main"}"#,
            &ps(Hash::S256, 32),
        ),
        (
            "eddsa_default_policy",
            r#"{"alg":"EdDSA","kid":"ed25519"}"#,
            &ed,
        ),
    ] {
        c.case(
            name,
            "A correct token whose algorithm the default policy ([RS256]) does not allow.",
            "algs",
            "default",
            NOW,
            tok(header, signer),
            "alg_not_allowed",
        );
    }

    // Algorithm / key-type confusion: the key named by kid cannot verify the alg.
    let confusion: Vec<(&str, &str, String)> = vec![
        (
            "es384_token_p256_key",
            "ES384 naming the P-256 key: a P-256 key never verifies ES384.",
            tok(r#"{"alg":"ES384","kid":"ec256"}"#, &es384),
        ),
        (
            "es256_token_p384_key",
            "ES256 naming the P-384 key (signed by it, 96 bytes): P-384 never verifies ES256.",
            tok(r#"{"alg":"ES256","kid":"ec384"}"#, &es384),
        ),
        (
            "rs256_token_ec_key",
            "RS256 naming the P-256 key: an EC key never verifies RS256.",
            tok(r#"{"alg":"RS256","kid":"ec256"}"#, &rs(Hash::S256)),
        ),
        (
            "ps256_token_ec_key",
            "PS256 naming the P-256 key.",
            tok(r#"{"alg":"PS256","kid":"ec256"}"#, &ps(Hash::S256, 32)),
        ),
        (
            "es256_token_rsa_key",
            "ES256 naming the RSA key: an RSA key never verifies ES256.",
            tok(r#"{"alg":"ES256","kid":"main"}"#, &es256),
        ),
        (
            "eddsa_token_rsa_key",
            "EdDSA naming the RSA key.",
            tok(r#"{"alg":"EdDSA","kid":"main"}"#, &ed),
        ),
        (
            "eddsa_token_ec_key",
            "EdDSA naming the P-256 key.",
            tok(r#"{"alg":"EdDSA","kid":"ec256"}"#, &ed),
        ),
        (
            "es256_token_okp_key",
            "ES256 naming the Ed25519 key.",
            tok(r#"{"alg":"ES256","kid":"ed25519"}"#, &es256),
        ),
        (
            "rs256_token_ps384_pinned_key",
            "RS256 naming an RSA key whose JWK alg is PS384: the key's alg decides.",
            tok(r#"{"alg":"RS256","kid":"rsa3072"}"#, &|m: &[u8]| {
                sign::sign(&k.rsa3072, Hash::S256, m)
            }),
        ),
        (
            "ps256_token_ps384_pinned_key",
            "PS256 naming an RSA key pinned to PS384.",
            tok(r#"{"alg":"PS256","kid":"rsa3072"}"#, &|m: &[u8]| {
                sign::pss(&k.rsa3072, Hash::S256, 32, 1, m)
            }),
        ),
    ];
    for (name, about, t) in confusion {
        c.case(name, about, "algs", "all_algs", NOW, t, "unknown_kid");
    }

    // Signatures that do not verify.
    let si256 = input(r#"{"alg":"ES256","kid":"ec256"}"#, &p);
    let good256 = sign::es256(&k.ec256, si256.as_bytes());
    let with = |si: &str, sig: &[u8]| format!("{si}.{}", b64(sig));
    let r = &good256[..32];
    let s_ = &good256[32..];
    let cat = |a: &[u8], b: &[u8]| [a, b].concat();
    let si384 = input(r#"{"alg":"ES384","kid":"ec384"}"#, &p);
    let good384 = sign::es384(&k.ec384, si384.as_bytes());
    let sied = input(r#"{"alg":"EdDSA","kid":"ed25519"}"#, &p);
    let good_ed = sign::ed25519(&k.ed25519, sied.as_bytes());
    let sips = input(r#"{"alg":"PS256","kid":"main"}"#, &p);
    let sirs = input(r#"{"alg":"RS256","kid":"main"}"#, &p);
    let mut flipped = good256.clone();
    flipped[40] ^= 0x01;
    let mut ed_flipped = good_ed.clone();
    ed_flipped[10] ^= 0x80;
    let bad: Vec<(&str, &str, String)> = vec![
        (
            "es256_der_signature",
            "ES256 with the same signature DER-encoded (as OpenSSL emits it): JWS wants raw r || s.",
            with(&si256, &sign::es256_der(&good256)),
        ),
        (
            "es256_psychic_r0_s0",
            "ES256 with r = s = 0 (CVE-2022-21449, the psychic signature).",
            with(&si256, &[0u8; 64]),
        ),
        (
            "es256_r_zero",
            "ES256 with r = 0 and the honest s.",
            with(&si256, &cat(&[0u8; 32], s_)),
        ),
        (
            "es256_s_zero",
            "ES256 with the honest r and s = 0.",
            with(&si256, &cat(r, &[0u8; 32])),
        ),
        (
            "es256_s_equals_n",
            "ES256 with s = n (out of [1, n-1]).",
            with(&si256, &cat(r, &P256_N)),
        ),
        (
            "es256_r_equals_n",
            "ES256 with r = n.",
            with(&si256, &cat(&P256_N, s_)),
        ),
        (
            "es256_all_ff",
            "ES256 with r = s = 2^256 - 1 (above n).",
            with(&si256, &[0xffu8; 64]),
        ),
        (
            "es256_63_bytes",
            "ES256 signature one byte short.",
            with(&si256, &good256[..63]),
        ),
        (
            "es256_65_bytes",
            "ES256 signature with a zero byte appended.",
            with(&si256, &cat(&good256, &[0])),
        ),
        (
            "es256_bit_flip",
            "ES256 with one bit of s flipped.",
            with(&si256, &flipped),
        ),
        (
            "es256_wrong_key",
            "ES256 signed by another P-256 key than the one kid names.",
            tok(r#"{"alg":"ES256","kid":"ec256"}"#, &|m: &[u8]| {
                sign::es256(&k.ec256_attacker, m)
            }),
        ),
        (
            "es256_swapped_r_s",
            "ES256 with r and s swapped.",
            with(&si256, &cat(s_, r)),
        ),
        (
            "es384_64_byte_signature",
            "ES384 with an ES256-sized (64-byte) signature.",
            with(&si384, &good384[..64]),
        ),
        (
            "es384_signature_of_other_input",
            "ES384 whose signature covers another header.",
            with(
                &input(r#"{"alg":"ES384","kid":"ec384","typ":"JWT"}"#, &p),
                &good384,
            ),
        ),
        (
            "ps256_salt_20",
            "PS256 with a valid 20-byte salt: RFC 7518 §3.5 fixes the salt length to the hash length.",
            with(&sips, &sign::pss(&k.main, Hash::S256, 20, 20, sips.as_bytes())),
        ),
        (
            "ps256_salt_0",
            "PS256 with a valid empty salt.",
            with(&sips, &sign::pss(&k.main, Hash::S256, 0, 0, sips.as_bytes())),
        ),
        (
            "ps256_salt_64",
            "PS256 with a valid 64-byte salt.",
            with(&sips, &sign::pss(&k.main, Hash::S256, 64, 64, sips.as_bytes())),
        ),
        (
            "ps256_pkcs1_signature",
            "PS256 header over an RS256 (PKCS#1 v1.5) signature of the same input.",
            with(&sips, &sign::sign(&k.main, Hash::S256, sips.as_bytes())),
        ),
        (
            "rs256_pss_signature",
            "RS256 header over a PSS signature of the same input.",
            with(&sirs, &sign::pss(&k.main, Hash::S256, 32, 7, sirs.as_bytes())),
        ),
        (
            "ps384_hash_sha256",
            "PS384 header over a PS256 signature of the same input.",
            {
                let si = input(r#"{"alg":"PS384","kid":"main"}"#, &p);
                with(&si, &sign::pss(&k.main, Hash::S256, 32, 8, si.as_bytes()))
            },
        ),
        (
            "ps256_wrong_key",
            "PS256 signed by the attacker's RSA key.",
            with(&sips, &sign::pss(&k.attacker, Hash::S256, 32, 9, sips.as_bytes())),
        ),
        (
            "eddsa_non_canonical_s",
            "EdDSA with S + L for S: the same signature to a lax verifier; RFC 8032 requires S < L.",
            with(&sied, &sign::ed25519_non_canonical_s(&good_ed)),
        ),
        (
            "eddsa_bit_flip",
            "EdDSA with one bit of R flipped.",
            with(&sied, &ed_flipped),
        ),
        (
            "eddsa_63_bytes",
            "EdDSA signature one byte short.",
            with(&sied, &good_ed[..63]),
        ),
        (
            "eddsa_zero_signature",
            "EdDSA with 64 zero bytes (R a small-order point, S = 0).",
            with(&sied, &[0u8; 64]),
        ),
        (
            "eddsa_identity_r_s_zero",
            "EdDSA with R = the identity point (01 00..00) and S = 0.",
            with(&sied, &{
                let mut b = [0u8; 64];
                b[0] = 1;
                b
            }),
        ),
    ];
    for (name, about, t) in bad {
        c.case(name, about, "algs", "all_algs", NOW, t, "bad_signature");
    }

    // The RFC examples (their exp is in 2011; the Ed25519 payload is not JSON).
    c.case(
        "rfc7515_a3_es256_ok",
        "RFC 7515 Appendix A.3: the RFC's ES256 JWT with its P-256 key, verified when it was valid.",
        "rfc7515_a3",
        "all_algs_joe",
        1_300_819_000,
        RFC7515_A3,
        "ok",
    )
    .claim("iss", s("joe"));
    c.case(
        "rfc7520_4_2_ps384_ok",
        "RFC 7520 §4.2: the RFC's PS384 JWS (random salt) over its text payload, signature only.",
        "rfc7520",
        "all_algs",
        NOW,
        RFC7520_4_2,
        "ok",
    )
    .jws(Some(super::rfc::RFC7520_PAYLOAD));
    c.case(
        "rfc8037_a4_ed25519_ok",
        "RFC 8037 Appendix A.4: the RFC's EdDSA JWS over a text payload, signature only.",
        "rfc8037",
        "all_algs",
        NOW,
        RFC8037_A4,
        "ok",
    )
    .jws(Some("Example of Ed25519 signing"));
}

pub fn jwks_cases(c: &mut Corpus, k: &Keys) {
    let main = jwk(&k.main, Some("main"), &[("use", s("sig"))]).compact();
    let doc = |entries: &[String]| format!(r#"{{"keys":[{}]}}"#, entries.join(","));
    let ec256 = |extra: &[(&str, J)]| ec256_jwk(&k.ec256, "x", extra).compact();
    let point = k.ec256.verifying_key().to_encoded_point(false);
    let (x, y) = (
        point.x().expect("x").to_vec(),
        point.y().expect("y").to_vec(),
    );
    let mut y_plus_1 = y.clone();
    *y_plus_1.last_mut().expect("y") ^= 1;
    let ed_x = k.ed25519.verifying_key().to_bytes();
    let raw_ec = |crv: &str, x: &str, y: &str| {
        format!(r#"{{"kty":"EC","kid":"x","crv":"{crv}","x":"{x}","y":"{y}"}}"#)
    };
    let raw_okp =
        |crv: &str, x: &str| format!(r#"{{"kty":"OKP","kid":"x","crv":"{crv}","x":"{x}"}}"#);
    // y = p + 1 encodes y = 1 in a lax decoder (the identity's y); x = 0 with the sign bit set.
    let mut ed_y_noncanonical = [0xffu8; 32];
    ed_y_noncanonical[0] = 0xee; // p + 1 = 2^255 - 18: ee ff .. ff 7f (little-endian)
    ed_y_noncanonical[31] = 0x7f;
    let mut ed_identity = [0u8; 32];
    ed_identity[0] = 1;
    // y = 2 has no x on edwards25519 (u = (y^2 - 1)/(d y^2 + 1) is not a square).
    let mut ed_not_on_curve = [0u8; 32];
    ed_not_on_curve[0] = 2;

    let ok: Vec<(&str, &str, String)> = vec![
        ("key_ec_p256_ok", "A P-256 key.", ec256(&[])),
        (
            "key_ec_p384_ok",
            "A P-384 key.",
            ec384_jwk(&k.ec384, "x", &[]).compact(),
        ),
        (
            "key_okp_ed25519_ok",
            "An Ed25519 key.",
            ed25519_jwk(&k.ed25519, "x", &[]).compact(),
        ),
        (
            "key_ec_alg_es256_ok",
            "A P-256 key with use sig, key_ops [verify] and alg ES256.",
            ec256(&[
                ("use", s("sig")),
                ("key_ops", strs(&["verify"])),
                ("alg", s("ES256")),
            ]),
        ),
        (
            "key_okp_alg_ed25519_ok",
            "An Ed25519 key with the fully-specified alg Ed25519.",
            ed25519_jwk(&k.ed25519, "x", &[("alg", s("Ed25519"))]).compact(),
        ),
        (
            "key_alg_ps256_ok",
            "An RSA key with JWK alg PS256.",
            jwk(&k.main, Some("x"), &[("alg", s("PS256"))]).compact(),
        ),
        (
            "key_ec_rfc7515_a3_ok",
            "The P-256 key of RFC 7515 Appendix A.3.",
            raw_ec("P-256", RFC7515_A3_X, RFC7515_A3_Y),
        ),
        (
            "key_okp_rfc8037_ok",
            "The Ed25519 key of RFC 8037 Appendix A.",
            raw_okp("Ed25519", RFC8037_X),
        ),
    ];
    for (name, about, entry) in ok {
        c.jwks_case(name, about, doc(&[entry]), "ok")
            .loads(Some("x"));
    }

    let skipped: Vec<(&str, &str, String, &'static str)> =
        vec![
        (
            "skip_ec_p521",
            "An EC key on P-521 (ES512 is not supported).",
            raw_ec("P-521", &b64(&[1u8; 66]), &b64(&[1u8; 66])),
            "unsupported_curve",
        ),
        (
            "skip_ec_secp256k1",
            "An EC key on secp256k1 (ES256K is not supported).",
            raw_ec("secp256k1", &b64(&x), &b64(&y)),
            "unsupported_curve",
        ),
        (
            "skip_ec_crv_lowercase",
            "crv \"p-256\" (case-sensitive).",
            raw_ec("p-256", &b64(&x), &b64(&y)),
            "unsupported_curve",
        ),
        (
            "skip_okp_x25519",
            "An X25519 (key agreement) OKP key.",
            raw_okp("X25519", &b64(&ed_x)),
            "unsupported_curve",
        ),
        (
            "skip_okp_ed448",
            "An Ed448 OKP key.",
            raw_okp("Ed448", &b64(&[1u8; 57])),
            "unsupported_curve",
        ),
        (
            "skip_ec_no_crv",
            "An EC key without crv.",
            format!(r#"{{"kty":"EC","kid":"x","x":"{}","y":"{}"}}"#, b64(&x), b64(&y)),
            "bad_member",
        ),
        (
            "skip_ec_no_y",
            "An EC key without y (the compressed form has no JWK encoding).",
            format!(r#"{{"kty":"EC","kid":"x","crv":"P-256","x":"{}"}}"#, b64(&x)),
            "bad_member",
        ),
        (
            "skip_ec_x_number",
            "An EC key whose x is a number.",
            r#"{"kty":"EC","kid":"x","crv":"P-256","x":1,"y":"AA"}"#.into(),
            "bad_member",
        ),
        (
            "skip_okp_no_x",
            "An OKP key without x.",
            r#"{"kty":"OKP","kid":"x","crv":"Ed25519"}"#.into(),
            "bad_member",
        ),
        (
            "skip_ec_x_31_bytes",
            "A P-256 x of 31 bytes (leading zero dropped): RFC 7518 §6.2.1.2 wants the full 32.",
            raw_ec("P-256", &b64(&x[1..]), &b64(&y)),
            "bad_encoding",
        ),
        (
            "skip_ec_x_33_bytes",
            "A P-256 x of 33 bytes (a zero byte prepended).",
            raw_ec("P-256", &b64(&[&[0u8][..], &x].concat()), &b64(&y)),
            "bad_encoding",
        ),
        (
            "skip_ec_p384_coordinates_on_p256",
            "crv P-256 with 48-byte (P-384) coordinates.",
            {
                let p = k.ec384.verifying_key().to_encoded_point(false);
                raw_ec("P-256", &b64(p.x().expect("x")), &b64(p.y().expect("y")))
            },
            "bad_encoding",
        ),
        (
            "skip_ec_x_padded",
            "A P-256 x with '=' padding.",
            raw_ec("P-256", &format!("{}=", b64(&x)), &b64(&y)),
            "bad_encoding",
        ),
        (
            "skip_okp_x_31_bytes",
            "An Ed25519 x of 31 bytes.",
            raw_okp("Ed25519", &b64(&ed_x[..31])),
            "bad_encoding",
        ),
        (
            "skip_ec_off_curve",
            "A P-256 point with y off by one: not on the curve (invalid-curve attacks start here).",
            raw_ec("P-256", &b64(&x), &b64(&y_plus_1)),
            "bad_point",
        ),
        (
            "skip_ec_zero_point",
            "A P-256 'point' (0, 0): not on the curve (the identity has no affine coordinates).",
            raw_ec("P-256", &b64(&[0u8; 32]), &b64(&[0u8; 32])),
            "bad_point",
        ),
        (
            "skip_ec_x_is_p",
            "A P-256 x equal to the field prime p (not reduced).",
            raw_ec("P-256", &b64(&P256_P), &b64(&y)),
            "bad_point",
        ),
        (
            "skip_okp_identity",
            "The Ed25519 identity point (order 1): it would verify forged signatures.",
            raw_okp("Ed25519", &b64(&ed_identity)),
            "bad_point",
        ),
        (
            "skip_okp_small_order",
            "An Ed25519 point of order 2 (y = -1).",
            raw_okp("Ed25519", &b64(&{
                let mut b = [0xffu8; 32];
                b[0] = 0xec;
                b[31] = 0x7f;
                b
            })),
            "bad_point",
        ),
        (
            "skip_okp_non_canonical_y",
            "An Ed25519 y encoded as y + p: a second encoding of a point.",
            raw_okp("Ed25519", &b64(&ed_y_noncanonical)),
            "bad_point",
        ),
        (
            "skip_okp_not_on_curve",
            "An Ed25519 y with no matching x.",
            raw_okp("Ed25519", &b64(&ed_not_on_curve)),
            "bad_point",
        ),
        (
            "skip_ec_private_d",
            "A P-256 JWK carrying d (the private key).",
            ec256(&[("d", s(b64(&[7u8; 32])))]),
            "private_key",
        ),
        (
            "skip_okp_private_d",
            "An Ed25519 JWK carrying d.",
            ed25519_jwk(&k.ed25519, "x", &[("d", s(b64(&[7u8; 32])))]).compact(),
            "private_key",
        ),
        (
            "skip_ec_alg_es384_on_p256",
            "A P-256 key whose JWK alg is ES384.",
            ec256(&[("alg", s("ES384"))]),
            "alg_not_allowed",
        ),
        (
            "skip_ec_alg_rs256",
            "A P-256 key whose JWK alg is RS256.",
            ec256(&[("alg", s("RS256"))]),
            "alg_not_allowed",
        ),
        (
            "skip_rsa_alg_es256",
            "An RSA key whose JWK alg is ES256.",
            jwk(&k.main, Some("x"), &[("alg", s("ES256"))]).compact(),
            "alg_not_allowed",
        ),
        (
            "skip_okp_alg_es256",
            "An Ed25519 key whose JWK alg is ES256.",
            ed25519_jwk(&k.ed25519, "x", &[("alg", s("ES256"))]).compact(),
            "alg_not_allowed",
        ),
        (
            "skip_ec_alg_es512",
            "A P-256 key whose JWK alg is ES512 (unknown here).",
            ec256(&[("alg", s("ES512"))]),
            "alg_not_allowed",
        ),
        (
            "skip_ec_use_enc",
            "A P-256 key for encryption (ECDH-ES).",
            ec256(&[("use", s("enc"))]),
            "wrong_use",
        ),
        (
            "skip_okp_key_ops_sign",
            "An Ed25519 key with key_ops [sign].",
            ed25519_jwk(&k.ed25519, "x", &[("key_ops", strs(&["sign"]))]).compact(),
            "no_verify_op",
        ),
    ];
    for (name, about, entry, reason) in skipped {
        c.jwks_case(
            name,
            &format!("{about} Skipped; the usable key after it loads."),
            doc(&[entry, main.clone()]),
            "ok",
        )
        .skips(0, Some("x"), reason)
        .loads(Some("main"));
    }
}
