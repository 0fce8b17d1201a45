//! The vectors themselves, one module per concern. Each token case has exactly one
//! defect (or none), and is signed by the right key unless the signature is the defect,
//! so the expected code does not depend on which check a surface happens to run first.

mod algs;
mod claims;
mod eks;
mod jwks_docs;
mod keysel;
mod policy_docs;
mod rfc;
mod signature;
mod structure;

use crate::corpus::Corpus;
use crate::json::{n, obj, s, strs, J};
use crate::keys::{jwk, jwk_sig, jwks, Keys};
use crate::sign;
use rsa::RsaPrivateKey;

/// 2026-01-01T00:00:00Z: the `now` of most cases.
pub const NOW: u64 = 1_767_225_600;
/// Issuer and audience of the generic OIDC-style tokens.
pub const ISS: &str = "https://idp.example.com";
pub const AUD: &str = "orders-api";
/// The header of a well-formed token for the `main` key.
pub const H_MAIN: &str = r#"{"alg":"RS256","kid":"main","typ":"JWT"}"#;

/// Builds every vector.
pub fn build(k: &Keys) -> Corpus {
    let mut c = Corpus::default();
    key_sets(&mut c, k);
    algs::key_sets(&mut c, k);
    policies(&mut c);
    algs::policies(&mut c);
    structure::cases(&mut c, k);
    keysel::cases(&mut c, k);
    signature::cases(&mut c, k);
    claims::cases(&mut c, k);
    eks::cases(&mut c, k);
    rfc::cases(&mut c, k);
    jwks_docs::cases(&mut c, k);
    algs::cases(&mut c, k);
    algs::jwks_cases(&mut c, k);
    policy_docs::cases(&mut c);
    c
}

fn key_sets(c: &mut Corpus, k: &Keys) {
    c.add_jwks("main", jwks(vec![jwk_sig(&k.main, Some("main"))]));
    c.add_jwks(
        "rotation",
        jwks(vec![
            jwk_sig(&k.main, Some("main")),
            jwk_sig(&k.rotated, Some("rotated")),
        ]),
    );
    c.add_jwks("main_no_kid", jwks(vec![jwk(&k.main, None, &[])]));
    c.add_jwks(
        "large_keys",
        jwks(vec![
            jwk_sig(&k.rsa3072, Some("rsa3072")),
            jwk_sig(&k.rsa4096, Some("rsa4096")),
        ]),
    );
    c.add_jwks("e3", jwks(vec![jwk_sig(&k.e3, Some("e3"))]));
    // A realistic mixed set: one usable key and several the core must skip.
    c.add_jwks(
        "mixed",
        jwks(vec![
            jwk_sig(&k.main, Some("main")),
            jwk_sig(&k.rsa1024, Some("rsa1024")),
            obj([
                ("kty", s("EC")),
                ("kid", s("ec")),
                ("use", s("sig")),
                ("crv", s("P-256")),
                ("x", s("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU")),
                ("y", s("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0")),
            ]),
            obj([
                ("kty", s("oct")),
                ("kid", s("hmac")),
                ("alg", s("HS256")),
                (
                    "k",
                    s(sign::b64(b"a shared secret the attacker also knows")),
                ),
            ]),
            jwk(&k.rotated, Some("enc"), &[("use", s("enc"))]),
        ]),
    );
    c.add_jwks(
        "dup_kid",
        jwks(vec![
            jwk_sig(&k.main, Some("shared")),
            jwk_sig(&k.rotated, Some("shared")),
        ]),
    );
    let five = [&k.main, &k.rotated, &k.rsa3072, &k.rsa4096, &k.e3];
    c.add_jwks(
        "dup_kid_5",
        jwks(
            five.iter()
                .map(|key| jwk_sig(key, Some("shared")))
                .collect(),
        ),
    );
    c.add_jwks(
        "four_no_kid",
        jwks(five[..4].iter().map(|key| jwk(key, None, &[])).collect()),
    );
    c.add_jwks(
        "five_no_kid",
        jwks(five.iter().map(|key| jwk(key, None, &[])).collect()),
    );
    let kids = ["main", "rotated", "rsa3072", "rsa4096", "e3"];
    c.add_jwks(
        "five_with_kid",
        jwks(
            five.iter()
                .zip(kids)
                .map(|(key, kid)| jwk_sig(key, Some(kid)))
                .collect(),
        ),
    );
    // Key usability by JWK `alg`: pinned RS256, pinned RS512, and no `alg` at all.
    c.add_jwks(
        "alg_pinned",
        jwks(vec![
            jwk(
                &k.main,
                Some("main"),
                &[("use", s("sig")), ("alg", s("RS256"))],
            ),
            jwk(
                &k.rotated,
                Some("rs512"),
                &[("use", s("sig")), ("alg", s("RS512"))],
            ),
            jwk(&k.rsa3072, Some("any"), &[("use", s("sig"))]),
        ]),
    );
    c.add_jwks(
        "eks",
        jwks(vec![
            jwk_sig(&k.main, Some(eks::KID)),
            jwk_sig(&k.rotated, Some(eks::KID_NEXT)),
        ]),
    );
    c.add_jwks("rfc7515_a2", rfc::rfc7515_jwks());
    c.add_jwks("rfc7520", rfc::rfc7520_jwks());
}

fn policies(c: &mut Corpus) {
    c.add_policy("default", obj([]));
    c.add_policy("no_skew", obj([("clock_skew_seconds", n(0))]));
    c.add_policy("no_exp", obj([("require_exp", J::Bool(false))]));
    c.add_policy("max_age", obj([("max_token_age_seconds", n(3600))]));
    c.add_policy(
        "rs_all",
        obj([("algorithms", strs(&["RS256", "RS384", "RS512"]))]),
    );
    c.add_policy("rs384_only", obj([("algorithms", strs(&["RS384"]))]));
    c.add_policy("tiny", obj([("max_token_bytes", n(512))]));
    c.add_policy("access_token", obj([("types", strs(&["at+jwt"]))]));
    c.add_policy(
        "crit_ext",
        obj([("crit", strs(&["http://example.com/ext"]))]),
    );
    c.add_policy("large", obj([("max_token_bytes", n(65536))]));
    c.add_policy(
        "oidc",
        obj([
            ("issuers", strs(&[ISS])),
            ("audiences", strs(&[AUD, "https://api.example.com"])),
        ]),
    );
    c.add_policy(
        "subjects",
        obj([(
            "subjects",
            strs(&["alice", "system:serviceaccount:payments:*"]),
        )]),
    );
    c.add_policy(
        "k8s_rules",
        obj([(
            "claims",
            obj([
                ("kubernetes.io.namespace", strs(&["payments", "billing"])),
                ("kubernetes.io.serviceaccount.name", strs(&["api"])),
            ]),
        )]),
    );
    c.add_policy(
        "scalar_rules",
        obj([(
            "claims",
            obj([
                ("email_verified", J::Bool(true)),
                ("tier", J::Arr(vec![n(1), n(2)])),
            ]),
        )]),
    );
    c.add_policy(
        "required",
        obj([("required_claims", strs(&["jti", "kubernetes.io.pod.name"]))]),
    );
    c.add_policy("eks", eks::policy(&[eks::ISS], None));
    c.add_policy(
        "eks_two_clusters",
        eks::policy(&[eks::ISS, eks::ISS_OTHER], None),
    );
    c.add_policy(
        "eks_pod_bound",
        eks::policy(
            &[eks::ISS],
            Some(&["kubernetes.io.pod.name", "kubernetes.io.pod.uid", "jti"]),
        ),
    );
    c.add_policy("rfc7515", obj([("issuers", strs(&["joe"]))]));
}

/// Claims of a generic valid token, in order: (name, raw JSON value).
fn base_claims() -> Vec<(String, String)> {
    [
        ("iss", format!("\"{ISS}\"")),
        ("sub", "\"alice\"".to_owned()),
        ("aud", format!("\"{AUD}\"")),
        ("iat", (NOW - 60).to_string()),
        ("nbf", (NOW - 60).to_string()),
        ("exp", (NOW + 3600).to_string()),
        ("jti", "\"0b9a3c1e-5d2f-4e6a-8b7c-9d0e1f2a3b4c\"".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The generic payload with members replaced (`Some`), removed (`None`) or appended.
pub fn payload(changes: &[(&str, Option<&str>)]) -> String {
    let mut members = base_claims();
    for (name, value) in changes {
        match (members.iter().position(|(k, _)| k == name), value) {
            (Some(i), Some(v)) => members[i].1 = (*v).to_owned(),
            (Some(i), None) => {
                members.remove(i);
            }
            (None, Some(v)) => members.push(((*name).to_owned(), (*v).to_owned())),
            (None, None) => {}
        }
    }
    let body: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("\"{k}\":{v}"))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// The generic valid payload.
pub fn std_payload() -> String {
    payload(&[])
}

/// A token for the `main` key set: `H_MAIN`, the given payload, signed by `main`.
pub fn main_token(k: &Keys, payload: &str) -> String {
    sign::token(&k.main, H_MAIN, payload)
}

/// The signing input `b64(header).b64(payload)`.
pub fn input(header: &str, payload: &str) -> String {
    format!(
        "{}.{}",
        sign::b64(header.as_bytes()),
        sign::b64(payload.as_bytes())
    )
}

/// Splits a token into its segments.
pub fn segments(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

/// The same bytes with the last character's unused bits set: decodes to the same
/// bytes with a lax decoder, but is not the canonical encoding.
pub fn non_canonical(seg: &str) -> String {
    const URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    assert!(
        seg.len() % 4 == 2 || seg.len() % 4 == 3,
        "segment has no unused bits"
    );
    let last = *seg.as_bytes().last().expect("non-empty");
    let idx = URL.iter().position(|c| *c == last).expect("base64url char");
    assert_eq!(idx & 1, 0, "canonical last char has zero low bit");
    let mut out = seg[..seg.len() - 1].to_owned();
    out.push(URL[idx | 1] as char);
    out
}

/// A signature segment replaced by other bytes.
pub fn resign_with(token: &str, sig: &[u8]) -> String {
    let cut = token.rfind('.').expect("three segments");
    format!("{}.{}", &token[..cut], sign::b64(sig))
}

/// The decoded signature of a token.
pub fn sig_of(token: &str) -> Vec<u8> {
    use base64::Engine;
    let seg = token.rsplit('.').next().expect("segment");
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(seg)
        .expect("canonical signature")
}

/// Re-signs an already formed signing input with a key (RS256).
pub fn signed(key: &RsaPrivateKey, signing_input: &str) -> String {
    sign::signed(key, sign::Hash::S256, signing_input)
}
