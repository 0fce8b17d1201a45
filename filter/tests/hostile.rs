//! Hostile input never panics: every entry point returns an error (or a verdict) for
//! structured attacks and for many thousands of random mutations. A panic in wasm is
//! a trap that takes the VM down, so this is a correctness property, not robustness polish.
// Test code: a failure should stop loudly (the no-panic lints are for the library).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use jwtgate::{ErrorCode, KeySet, Policy, Verifier};
use std::panic::{catch_unwind, AssertUnwindSafe};

const JWKS: &[u8] = include_bytes!("data/rfc7515-a2.jwks.json");
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn verifier() -> Verifier {
    let policy = Policy::new()
        .issuer("joe")
        .audience("a")
        .max_token_age(100)
        .subject("x*")
        .claim("kubernetes.io.namespace", ["p"]);
    Verifier::new(KeySet::from_jwks(JWKS).unwrap(), policy).with_cache(8)
}

fn check(v: &Verifier, token: &str) -> Result<(), ErrorCode> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        (v.verify(token, 1_300_000_000), v.verify_jws(token))
    }));
    match outcome {
        Ok((a, _)) => a.map(|_| ()).map_err(|e| e.code()),
        Err(_) => panic!(
            "verify panicked on input: {:?}",
            token.get(..200).unwrap_or(token)
        ),
    }
}

#[test]
fn structured_attacks_are_refused_with_their_code() {
    let v = verifier();
    let h = |json: &str| format!("{}.{}.AAAA", b64(json.as_bytes()), b64(b"{}"));
    let cases: Vec<(String, ErrorCode)> = vec![
        (".".repeat(1 << 20), ErrorCode::TokenTooLarge),
        (
            format!("a.{}.b", "A".repeat(1 << 20)),
            ErrorCode::TokenTooLarge,
        ),
        ("a.b.c.d.e".into(), ErrorCode::JweUnsupported),
        ("{\"payload\":\"x\"}".into(), ErrorCode::Malformed),
        ("a.b".into(), ErrorCode::Malformed),
        ("".into(), ErrorCode::Malformed),
        (h(r#"{"alg":"none"}"#), ErrorCode::AlgNotAllowed),
        (h(r#"{"alg":"nOnE"}"#), ErrorCode::AlgNotAllowed),
        (h(r#"{"alg":"HS256"}"#), ErrorCode::AlgNotAllowed),
        (h(r#"{"alg":"rs256"}"#), ErrorCode::AlgNotAllowed),
        (h(r#"{"alg":"RS384"}"#), ErrorCode::AlgNotAllowed),
        (h(r#"{"alg":5}"#), ErrorCode::Malformed),
        (h(r#"{}"#), ErrorCode::Malformed),
        (
            h(r#"{"alg":"RS256","crit":["exp"]}"#),
            ErrorCode::CritUnsupported,
        ),
        (
            h(r#"{"alg":"RS256","b64":false}"#),
            ErrorCode::CritUnsupported,
        ),
        (h(r#"{"alg":"RS256","kid":7}"#), ErrorCode::Malformed),
        (h(r#"{"alg":"RS256","kid":{"a":1}}"#), ErrorCode::Malformed),
        (
            h(r#"{"alg":"RS256","kid":"../../etc/passwd"}"#),
            ErrorCode::UnknownKid,
        ),
        (
            h(&format!(
                r#"{{"alg":"RS256","kid":"{}"}}"#,
                "k".repeat(10_000)
            )),
            ErrorCode::UnknownKid,
        ),
        (
            h(r#"{"alg":"RS256","cty":"jwt"}"#),
            ErrorCode::NestedJwtUnsupported,
        ),
        (h(r#"{"alg":"RS256","alg":"RS256"}"#), ErrorCode::Malformed),
        (
            h(&format!(
                r#"{{"alg":"RS256","x":{}1{}}}"#,
                "[".repeat(5_000),
                "]".repeat(5_000)
            )),
            ErrorCode::Malformed,
        ),
        (h(r#"{"alg":"RS256"}"#), ErrorCode::BadSignature),
        (
            h(r#"{"alg":"RS256","jku":"https://evil.example/keys","jwk":{"kty":"RSA"}}"#),
            ErrorCode::BadSignature,
        ),
        (
            format!("{}=.{}.AAAA", b64(br#"{"alg":"RS256"}"#), b64(b"{}")),
            ErrorCode::Malformed,
        ),
        (
            format!("{} .{}.AAAA", b64(br#"{"alg":"RS256"}"#), b64(b"{}")),
            ErrorCode::Malformed,
        ),
        (format!("\u{feff}{}", TOKEN), ErrorCode::Malformed),
        (TOKEN.replace('-', "+"), ErrorCode::Malformed),
    ];
    for (token, want) in cases {
        assert_eq!(
            check(&v, &token),
            Err(want),
            "{}",
            token.get(..120).unwrap_or(&token)
        );
    }
}

#[test]
fn random_mutations_of_a_real_token_never_panic() {
    let v = verifier();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let alphabet = b"AZaz09-_.=+/ {}\"\\\x00\xff";
    let mut ok = 0;
    for _ in 0..20_000 {
        let mut t = TOKEN.as_bytes().to_vec();
        for _ in 0..=rng.below(4) {
            if t.is_empty() {
                break;
            }
            let i = rng.below(t.len());
            match rng.below(4) {
                0 => t[i] = alphabet[rng.below(alphabet.len())],
                1 => {
                    t.remove(i);
                }
                2 => t.insert(i, alphabet[rng.below(alphabet.len())]),
                _ => t.truncate(i),
            }
        }
        let token = String::from_utf8_lossy(&t);
        if check(&v, &token).is_ok() {
            ok += 1;
        }
    }
    // A mutation cannot produce a token the policy accepts (the original fails it too).
    assert_eq!(ok, 0);
}

#[test]
fn random_bytes_never_panic() {
    let v = verifier();
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let len = rng.below(300);
        let bytes: Vec<u8> = (0..len).map(|_| (rng.next() >> 7) as u8).collect();
        let _ = check(&v, &String::from_utf8_lossy(&bytes));
        // Random structure with valid base64 segments reaches the JSON parser.
        let segs: Vec<String> = (0..3).map(|_| b64(&bytes[..rng.below(len + 1)])).collect();
        let _ = check(&v, &segs.join("."));
    }
}

#[test]
fn hostile_jwks_and_policies_never_panic() {
    let mut rng = Rng(7);
    let base = std::str::from_utf8(JWKS).unwrap();
    let pieces = [
        "{", "}", "[", "]", ",", ":", "\"", "0", "-1", "1e999", "null", "\"kty\"", "\"RSA\"",
        "\"n\"", "\"e\"", "AQAB", "\\u0000",
    ];
    for _ in 0..5_000 {
        let mut doc = base.to_string();
        for _ in 0..=rng.below(3) {
            let mut i = rng.below(doc.len());
            while !doc.is_char_boundary(i) {
                i -= 1;
            }
            doc.insert_str(i, pieces[rng.below(pieces.len())]);
        }
        let r = catch_unwind(|| KeySet::from_jwks(doc.as_bytes()).map(|k| k.len()));
        assert!(r.is_ok(), "KeySet::from_jwks panicked on {doc}");
        let r = catch_unwind(|| Policy::from_json(doc.as_bytes()).is_ok());
        assert!(r.is_ok(), "Policy::from_json panicked on {doc}");
    }
    for doc in [
        "{\"keys\":[".to_string() + &"{},".repeat(200) + "{}]}",
        "{\"keys\":".to_string() + &"[".repeat(10_000),
        " ".repeat(300 * 1024),
        r#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"},{"kty":"RSA","n":"","e":""},{"kty":"RSA","n":"AP8","e":"AAE"}]}"#.into(),
    ] {
        assert!(KeySet::from_jwks(doc.as_bytes()).is_err());
    }
}

#[test]
fn common_mistakes_get_a_hint() {
    use jwtgate::{ErrorCode, KeySet, Policy, Verifier};
    let pem = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----\n";
    let e = KeySet::from_jwks(pem.as_bytes()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::JwksMalformed);
    assert!(e.reason().contains("PEM"), "{}", e.reason());
    let jwk = br#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#;
    let e = KeySet::from_jwks(jwk).unwrap_err();
    assert!(e.reason().contains("single JWK"), "{}", e.reason());
    let v = Verifier::new(KeySet::from_jwks(JWKS).unwrap(), Policy::new());
    let e = v.verify("Bearer a.b.c", 0).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Malformed);
    assert!(e.reason().contains("Bearer"), "{}", e.reason());
    // RFC 7515 A.2's token expired in 2011; `now` in milliseconds gets a hint.
    let token = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
    let e = v.verify(token, 1_300_000_000_000).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Expired);
    assert_eq!(e.claim(), Some("exp"));
    assert!(e.reason().contains("milliseconds"), "{}", e.reason());
}
