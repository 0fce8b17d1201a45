//! The published examples: RFC 7515 Appendix A.2 (RS256 JWT) and RFC 7520 §4.1
//! (RS256 over a non-JSON payload). Their tokens are data from the RFCs, checked here
//! against the committed public keys with the `rsa` crate before they are used.

use super::{segments, NOW};
use crate::corpus::Corpus;
use crate::json::{s, J};
use crate::keys::Keys;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// RFC 7515 Appendix A.2.
pub const RFC7515_A2: &str = concat!(
    "eyJhbGciOiJSUzI1NiJ9",
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ",
    ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t",
    "1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jz",
    "DwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw",
);
/// The `exp` of the RFC 7515 A.2 token.
const RFC7515_EXP: u64 = 1_300_819_380;

/// RFC 7520 §4.1.3, Figure 13.
pub const RFC7520_4_1: &str = concat!(
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9",
    ".SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlm",
    "IHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4",
    ".MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-",
    "Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xy",
    "IrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg",
);
/// Its payload (RFC 7520 §4, Figure 7).
pub const RFC7520_PAYLOAD: &str = "It\u{2019}s a dangerous business, Frodo, going out your door. You step onto the road, and if you don't keep your feet, there\u{2019}s no knowing where you might be swept off to.";

fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../keys")
}

/// A committed JWKS file, as an ordered tree (members in file order).
fn load_jwks(file: &str) -> J {
    let path = keys_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_ordered(&text)
}

/// The committed RFC key files as trees, members in the usual JWK order.
fn parse_ordered(text: &str) -> J {
    let v: serde_json::Value = serde_json::from_str(text).expect("valid JWKS");
    let keys = v["keys"].as_array().expect("keys array");
    let mut out = Vec::new();
    for key in keys {
        let map = key.as_object().expect("JWK object");
        let mut members: Vec<(String, J)> = map
            .iter()
            .map(|(k, v)| (k.clone(), s(v.as_str().expect("string members"))))
            .collect();
        let order = ["kty", "kid", "use", "alg", "n", "e"];
        members.sort_by_key(|(k, _)| order.iter().position(|o| o == k).unwrap_or(order.len()));
        out.push(J::Obj(members));
    }
    crate::keys::jwks(out)
}

pub fn rfc7515_jwks() -> J {
    load_jwks("rfc7515-a2.jwks.json")
}

pub fn rfc7520_jwks() -> J {
    load_jwks("rfc7520-4.1.jwks.json")
}

/// Checks an RFC token's signature with the `rsa` crate against a committed key.
fn check_rfc_token(token: &str, jwks: &J) -> Vec<u8> {
    let J::Obj(doc) = jwks else {
        panic!("jwks object")
    };
    let J::Arr(keys) = &doc[0].1 else {
        panic!("keys array")
    };
    let J::Obj(key) = &keys[0] else {
        panic!("key object")
    };
    let get = |name: &str| match key.iter().find(|(k, _)| k == name) {
        Some((_, J::Str(v))) => URL_SAFE_NO_PAD.decode(v).expect("base64url"),
        _ => panic!("no {name}"),
    };
    let public = RsaPublicKey::new(
        BigUint::from_bytes_be(&get("n")),
        BigUint::from_bytes_be(&get("e")),
    )
    .expect("key");
    let seg = segments(token);
    let sig = URL_SAFE_NO_PAD.decode(&seg[2]).expect("signature");
    let digest = Sha256::digest(format!("{}.{}", seg[0], seg[1]).as_bytes());
    public
        .verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &sig)
        .expect("RFC example verifies");
    URL_SAFE_NO_PAD.decode(&seg[1]).expect("payload")
}

pub fn cases(c: &mut Corpus, k: &Keys) {
    signature_only(c, k);
    let payload = check_rfc_token(RFC7515_A2, &rfc7515_jwks());
    assert!(payload.starts_with(b"{\"iss\":\"joe\",\r\n"));
    c.case(
        "rfc7515_a2_ok",
        "RFC 7515 Appendix A.2, before its exp (no kid; JSON with CRLF whitespace).",
        "rfc7515_a2",
        "rfc7515",
        RFC7515_EXP - 819_380,
        RFC7515_A2,
        "ok",
    )
    .claim("iss", s("joe"))
    .claim("http://example.com/is_root", J::Bool(true));
    c.case(
        "rfc7515_a2_last_second",
        "RFC 7515 A.2 at exp + 59 (default skew).",
        "rfc7515_a2",
        "rfc7515",
        RFC7515_EXP + 59,
        RFC7515_A2,
        "ok",
    );
    c.case(
        "rfc7515_a2_expired",
        "RFC 7515 A.2 at exp + 60: expired.",
        "rfc7515_a2",
        "rfc7515",
        RFC7515_EXP + 60,
        RFC7515_A2,
        "expired",
    );
    c.case(
        "rfc7515_a2_expired_today",
        "RFC 7515 A.2 today.",
        "rfc7515_a2",
        "default",
        NOW,
        RFC7515_A2,
        "expired",
    );
    c.case(
        "rfc7515_a2_verify_jws_ok",
        "RFC 7515 A.2 through verify_jws: no time rules.",
        "rfc7515_a2",
        "default",
        NOW,
        RFC7515_A2,
        "ok",
    )
    .jws(Some(std::str::from_utf8(&payload).expect("utf-8")));
    c.case(
        "rfc7515_a2_wrong_key_set",
        "RFC 7515 A.2 against an unrelated key set.",
        "main",
        "no_exp",
        NOW,
        RFC7515_A2,
        "bad_signature",
    );
    let payload = check_rfc_token(RFC7520_4_1, &rfc7520_jwks());
    assert_eq!(payload, RFC7520_PAYLOAD.as_bytes());
    c.case(
        "rfc7520_4_1_verify_jws_ok",
        "RFC 7520 §4.1 (RS256, kid bilbo.baggins@hobbiton.example) through verify_jws.",
        "rfc7520",
        "default",
        NOW,
        RFC7520_4_1,
        "ok",
    )
    .jws(Some(RFC7520_PAYLOAD));
    c.case(
        "rfc7520_4_1_verify_not_json",
        "RFC 7520 §4.1 through verify: the payload is text, not JSON claims.",
        "rfc7520",
        "default",
        NOW,
        RFC7520_4_1,
        "malformed",
    );
    c.case(
        "rfc7520_4_1_unknown_kid",
        "RFC 7520 §4.1 against the main key set: its kid is unknown there.",
        "main",
        "default",
        NOW,
        RFC7520_4_1,
        "unknown_kid",
    );
    c.case(
        "rfc7520_4_1_tampered_payload",
        "RFC 7520 §4.1 with 'Frodo' changed to 'Frodi' in the payload.",
        "rfc7520",
        "default",
        NOW,
        {
            let seg = segments(RFC7520_4_1);
            let changed = RFC7520_PAYLOAD.replace("Frodo", "Frodi");
            format!(
                "{}.{}.{}",
                seg[0],
                crate::sign::b64(changed.as_bytes()),
                seg[2]
            )
        },
        "bad_signature",
    )
    .jws(None);
}

/// `verify_jws`: the same structure, header and signature rules, no claim rules.
fn signature_only(c: &mut Corpus, k: &Keys) {
    use super::{main_token, payload, H_MAIN};
    use crate::sign::{self, b64, Hash};
    let expired = main_token(k, &payload(&[("exp", Some("1")), ("iss", Some("123"))]));
    c.case(
        "jws_expired_bad_claims_ok",
        "An expired token with a non-string iss: verify_jws ignores claims.",
        "main",
        "default",
        NOW,
        expired,
        "ok",
    )
    .jws(None);
    let binary: Vec<u8> = (0..=255u8).collect();
    c.case(
        "jws_binary_payload_ok",
        "A payload of the 256 byte values (not UTF-8).",
        "main",
        "default",
        NOW,
        sign::token_with(&k.main, Hash::S256, H_MAIN.as_bytes(), &binary),
        "ok",
    )
    .jws(None);
    c.case(
        "jws_empty_payload_ok",
        "An empty payload.",
        "main",
        "default",
        NOW,
        sign::token(&k.main, H_MAIN, ""),
        "ok",
    )
    .jws(Some(""));
    c.case(
        "jws_text_payload_ok",
        "A plain-text payload.",
        "main",
        "default",
        NOW,
        sign::token(&k.main, H_MAIN, "hello, world"),
        "ok",
    )
    .jws(Some("hello, world"));
    c.case(
        "jws_alg_none",
        "alg none.",
        "main",
        "default",
        NOW,
        format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(b"hello")),
        "alg_not_allowed",
    )
    .jws(None);
    c.case(
        "jws_crit",
        "crit present.",
        "main",
        "default",
        NOW,
        sign::token(
            &k.main,
            r#"{"alg":"RS256","kid":"main","crit":["b64"],"b64":false}"#,
            "hello",
        ),
        "crit_unsupported",
    )
    .jws(None);
    c.case(
        "jws_cty_jwt",
        "cty JWT (nested).",
        "main",
        "default",
        NOW,
        sign::token(
            &k.main,
            r#"{"alg":"RS256","kid":"main","cty":"JWT"}"#,
            "hello",
        ),
        "nested_jwt_unsupported",
    )
    .jws(None);
    let si = format!("{}.{}=", b64(H_MAIN.as_bytes()), b64(b"hello"));
    c.case(
        "jws_payload_padding",
        "A validly signed payload segment with '=' padding.",
        "main",
        "default",
        NOW,
        super::signed(&k.main, &si),
        "malformed",
    )
    .jws(None);
    c.case(
        "jws_wrong_key",
        "Signed by the attacker key.",
        "main",
        "default",
        NOW,
        sign::token(&k.attacker, H_MAIN, "hello"),
        "bad_signature",
    )
    .jws(None);
    c.case(
        "jws_unknown_kid",
        "kid not in the set.",
        "main",
        "default",
        NOW,
        sign::token(&k.main, r#"{"alg":"RS256","kid":"nope"}"#, "hello"),
        "unknown_kid",
    )
    .jws(None);
    c.case(
        "jws_too_large",
        "A 600-byte payload under a 512-byte cap.",
        "main",
        "tiny",
        NOW,
        sign::token(&k.main, H_MAIN, &"x".repeat(600)),
        "token_too_large",
    )
    .jws(None);
    c.case(
        "jws_jwe",
        "Five segments.",
        "main",
        "default",
        NOW,
        "a.b.c.d.e",
        "jwe_unsupported",
    )
    .jws(None);
}
