//! JWKS documents: every skip reason, the size and count bounds, malformed documents.

use crate::corpus::Corpus;
use crate::json::{s, J};
use crate::keys::{jwk, jwk_sig, Keys};
use crate::sign::b64;
use rsa::BigUint;

/// `2^(bits-1) + add`: a number of exactly `bits` bits (not a real modulus; the
/// key-set rules only look at its size and parity).
fn fake_modulus(bits: usize, add: u32) -> String {
    let n = (BigUint::from(1u32) << (bits - 1)) + BigUint::from(add);
    b64(&n.to_bytes_be())
}

fn doc(keys: &[String]) -> String {
    format!(r#"{{"keys":[{}]}}"#, keys.join(","))
}

pub fn cases(c: &mut Corpus, k: &Keys) {
    let main = jwk_sig(&k.main, Some("main")).compact();
    let rotated = jwk_sig(&k.rotated, Some("rotated")).compact();
    let main_n = match &jwk(&k.main, None, &[]) {
        J::Obj(m) => match &m.iter().find(|(k, _)| k == "n").expect("n").1 {
            J::Str(n) => n.clone(),
            _ => unreachable!(),
        },
        _ => unreachable!(),
    };
    let with = |members: &str| format!(r#"{{"kty":"RSA","kid":"x",{members}}}"#);
    let rsa = |extra: &str| with(&format!(r#"{extra}"n":"{main_n}","e":"AQAB""#));

    c.jwks_case(
        "jwks_single_key_ok",
        "One RS256 signing key.",
        doc(std::slice::from_ref(&main)),
        "ok",
    )
    .loads(Some("main"));
    c.jwks_case(
        "jwks_two_keys_ok",
        "A rotation: two keys.",
        doc(&[main.clone(), rotated.clone()]),
        "ok",
    )
    .loads(Some("main"))
    .loads(Some("rotated"));
    c.jwks_case(
        "jwks_extra_members_ok",
        "Unknown top-level and JWK members (x5t, custom) are ignored.",
        format!(
            r#"{{"keys":[{}],"x-cache":"max-age=300"}}"#,
            rsa(r#""x5t":"abc","custom":{"a":[1]},"#)
        ),
        "ok",
    )
    .loads(Some("x"));
    c.jwks_case(
        "jwks_key_without_kid_ok",
        "A key without kid.",
        doc(&[jwk(&k.main, None, &[]).compact()]),
        "ok",
    )
    .loads(None);
    c.jwks_case(
        "jwks_duplicate_kids_ok",
        "Two keys with the same kid are both kept.",
        doc(&[
            jwk_sig(&k.main, Some("shared")).compact(),
            jwk_sig(&k.rotated, Some("shared")).compact(),
        ]),
        "ok",
    )
    .loads(Some("shared"))
    .loads(Some("shared"));
    c.jwks_case(
        "jwks_whitespace_ok",
        "Pretty-printed JWKS with CRLF line breaks.",
        format!("{{\r\n  \"keys\": [\r\n    {main}\r\n  ]\r\n}}\r\n"),
        "ok",
    )
    .loads(Some("main"));

    // One skipped entry before a usable key, per reason.
    let skipped: Vec<(&str, &str, String, Option<&str>, &'static str)> = vec![
        ("skip_kty_ec_lowercase", "kty \"ec\" (case-sensitive).", r#"{"kty":"ec","kid":"ec","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#.into(), Some("ec"), "unsupported_kty"),
        ("skip_kty_oct", "An oct (HMAC) key.", r#"{"kty":"oct","kid":"hmac","k":"c2VjcmV0"}"#.into(), Some("hmac"), "unsupported_kty"),
        ("skip_kty_oct_with_k_and_alg", "An oct key with alg HS256 (shared secrets are never keys here).", r#"{"kty":"oct","kid":"hs","alg":"HS256","k":"c2VjcmV0"}"#.into(), Some("hs"), "unsupported_kty"),
        ("skip_kty_missing", "No kty.", format!(r#"{{"kid":"x","n":"{main_n}","e":"AQAB"}}"#), Some("x"), "unsupported_kty"),
        ("skip_kty_lowercase", "kty \"rsa\" (case-sensitive).", format!(r#"{{"kty":"rsa","kid":"x","n":"{main_n}","e":"AQAB"}}"#), Some("x"), "unsupported_kty"),
        ("skip_entry_not_object", "An entry that is a number.", "42".into(), None, "bad_member"),
        ("skip_entry_array", "An entry that is an array.", "[]".into(), None, "bad_member"),
        ("skip_kty_number", "kty is a number.", r#"{"kty":1,"kid":"x"}"#.into(), Some("x"), "bad_member"),
        ("skip_kid_number", "kid is a number (recorded without kid).", format!(r#"{{"kty":"RSA","kid":7,"n":"{main_n}","e":"AQAB"}}"#), None, "bad_member"),
        ("skip_n_missing", "No n.", with(r#""e":"AQAB""#), Some("x"), "bad_member"),
        ("skip_e_missing", "No e.", with(&format!(r#""n":"{main_n}""#)), Some("x"), "bad_member"),
        ("skip_n_number", "n is a number.", with(r#""n":12345,"e":"AQAB""#), Some("x"), "bad_member"),
        ("skip_use_number", "use is a number.", rsa(r#""use":1,"#), Some("x"), "bad_member"),
        ("skip_key_ops_string", "key_ops is a string.", rsa(r#""key_ops":"verify","#), Some("x"), "bad_member"),
        ("skip_key_ops_non_string", "key_ops holds a number.", rsa(r#""key_ops":["verify",1],"#), Some("x"), "bad_member"),
        ("skip_alg_number", "JWK alg is a number.", rsa(r#""alg":256,"#), Some("x"), "bad_member"),
        ("skip_n_padded", "n with '=' padding.", with(&format!(r#""n":"{main_n}=","e":"AQAB""#)), Some("x"), "bad_encoding"),
        ("skip_n_std_alphabet", "n in the standard alphabet.", with(&format!(r#""n":"{}","e":"AQAB""#, main_n.replace('-', "+").replace('_', "/"))), Some("x"), "bad_encoding"),
        ("skip_n_whitespace", "n with a line break in it.", with(&format!(r#""n":"{}\n{}","e":"AQAB""#, &main_n[..64], &main_n[64..])), Some("x"), "bad_encoding"),
        ("skip_n_leading_zero", "n with a leading zero byte (not minimal).", with(&format!(r#""n":"{}","e":"AQAB""#, b64(&[&[0u8][..], &crate::keys::n_bytes(&k.main)].concat()))), Some("x"), "bad_encoding"),
        ("skip_e_leading_zero", "e = 00 01 00 01 (not minimal).", with(&format!(r#""n":"{main_n}","e":"AAEAAQ""#)), Some("x"), "bad_encoding"),
        ("skip_e_zero", "e = 00.", with(&format!(r#""n":"{main_n}","e":"AA""#)), Some("x"), "bad_encoding"),
        ("skip_e_empty", "e is the empty string.", with(&format!(r#""n":"{main_n}","e":"""#)), Some("x"), "bad_encoding"),
        ("skip_n_empty", "n is the empty string.", with(r#""n":"","e":"AQAB""#), Some("x"), "bad_encoding"),
        ("skip_e_padded", "e \"AQAB=\".", with(&format!(r#""n":"{main_n}","e":"AQAB=""#)), Some("x"), "bad_encoding"),
        ("skip_e_noncanonical", "e \"AQB\": two bytes with non-zero unused trailing bits.", with(&format!(r#""n":"{main_n}","e":"AQB""#)), Some("x"), "bad_encoding"),
        ("skip_modulus_1024", "A real 1024-bit key.", jwk_sig(&k.rsa1024, Some("rsa1024")).compact(), Some("rsa1024"), "modulus_too_small"),
        ("skip_modulus_2047", "An odd 2047-bit modulus.", with(&format!(r#""n":"{}","e":"AQAB""#, fake_modulus(2047, 1))), Some("x"), "modulus_too_small"),
        ("skip_modulus_8193", "An odd 8193-bit modulus.", with(&format!(r#""n":"{}","e":"AQAB""#, fake_modulus(8193, 1))), Some("x"), "modulus_too_large"),
        ("skip_modulus_even", "An even 2048-bit modulus.", with(&format!(r#""n":"{}","e":"AQAB""#, fake_modulus(2048, 2))), Some("x"), "bad_modulus"),
        ("skip_e_1", "e = 1.", with(&format!(r#""n":"{main_n}","e":"AQ""#)), Some("x"), "bad_exponent"),
        ("skip_e_2", "e = 2.", with(&format!(r#""n":"{main_n}","e":"Ag""#)), Some("x"), "bad_exponent"),
        ("skip_e_65536", "e = 65536 (even).", with(&format!(r#""n":"{main_n}","e":"AQAA""#)), Some("x"), "bad_exponent"),
        ("skip_e_33_bits", "e = 2^32 + 1 (wider than 32 bits).", with(&format!(r#""n":"{main_n}","e":"{}""#, b64(&[1, 0, 0, 0, 1]))), Some("x"), "bad_exponent"),
        ("skip_use_enc", "use enc.", rsa(r#""use":"enc","#), Some("x"), "wrong_use"),
        ("skip_use_uppercase", "use SIG (case-sensitive).", rsa(r#""use":"SIG","#), Some("x"), "wrong_use"),
        ("skip_key_ops_sign_only", "key_ops [sign].", rsa(r#""key_ops":["sign"],"#), Some("x"), "no_verify_op"),
        ("skip_key_ops_empty", "key_ops [].", rsa(r#""key_ops":[],"#), Some("x"), "no_verify_op"),
        ("skip_alg_hs256", "JWK alg HS256 on an RSA key.", rsa(r#""alg":"HS256","#), Some("x"), "alg_not_allowed"),
        ("skip_alg_es256_on_rsa", "JWK alg ES256 on an RSA key.", rsa(r#""alg":"ES256","#), Some("x"), "alg_not_allowed"),
        ("skip_alg_none", "JWK alg none.", rsa(r#""alg":"none","#), Some("x"), "alg_not_allowed"),
        ("skip_alg_lowercase", "JWK alg rs256.", rsa(r#""alg":"rs256","#), Some("x"), "alg_not_allowed"),
        ("skip_private_d", "A JWK carrying the private exponent d.", rsa(r#""d":"AQAB","#), Some("x"), "private_key"),
        ("skip_private_p", "A JWK carrying a prime p.", rsa(r#""p":"AQAB","#), Some("x"), "private_key"),
    ];
    for (name, about, entry, kid, reason) in skipped {
        c.jwks_case(
            name,
            &format!("{about} Skipped; the usable key after it loads."),
            doc(&[entry, main.clone()]),
            "ok",
        )
        .skips(0, kid, reason)
        .loads(Some("main"));
    }
    let ok_keys: Vec<(&str, &str, String)> = vec![
        (
            "key_modulus_2048_boundary_ok",
            "An odd modulus of exactly 2048 bits.",
            with(&format!(r#""n":"{}","e":"AQAB""#, fake_modulus(2048, 1))),
        ),
        (
            "key_modulus_8192_boundary_ok",
            "An odd modulus of exactly 8192 bits.",
            with(&format!(r#""n":"{}","e":"AQAB""#, fake_modulus(8192, 1))),
        ),
        (
            "key_e_3_ok",
            "e = 3.",
            with(&format!(r#""n":"{main_n}","e":"Aw""#)),
        ),
        (
            "key_e_32_bits_ok",
            "e = 2^32 - 1 (odd, 32 bits).",
            with(&format!(r#""n":"{main_n}","e":"_____w""#)),
        ),
        (
            "key_ops_verify_ok",
            "key_ops [sign, verify].",
            rsa(r#""key_ops":["sign","verify"],"#),
        ),
        (
            "key_alg_rs512_ok",
            "JWK alg RS512.",
            rsa(r#""alg":"RS512","#),
        ),
    ];
    for (name, about, entry) in ok_keys {
        c.jwks_case(name, about, doc(&[entry]), "ok")
            .loads(Some("x"));
    }
    c.jwks_case(
        "jwks_mixed_set",
        "A realistic mixed set: EC on P-521, 1024-bit RSA, an encryption key and one usable signing key.",
        doc(&[
            r#"{"kty":"EC","kid":"ec","crv":"P-521","x":"AWlmRo3PVQ6B4YkZIkUr1nyJL2XwO3vMzoBRKm8azq7vFXq3XmI_QeMIkZxmSVh0ibvR5hEaoVoyVFI6iNW1wfHT","y":"AI-7oB-zXmfvWYBHgS5aq4XMFsnm3-bmp4fY9VaJJ4QcKpq6ynHhpWvzgNOWW7vtvWgpRTOGn2ipXjcX2y88r2AF"}"#.into(),
            jwk_sig(&k.rsa1024, Some("old")).compact(),
            main.clone(),
            jwk(&k.rotated, Some("enc"), &[("use", s("enc"))]).compact(),
        ]),
        "ok",
    )
    .skips(0, Some("ec"), "unsupported_curve")
    .skips(1, Some("old"), "modulus_too_small")
    .skips(3, Some("enc"), "wrong_use")
    .loads(Some("main"));
    let long_kid = "k".repeat(100);
    c.jwks_case(
        "skip_long_kid_recorded_whole",
        "A skipped key's 100-byte kid is recorded whole (it is host data, not a reason).",
        doc(&[
            format!(r#"{{"kty":"oct","kid":"{long_kid}"}}"#),
            main.clone(),
        ]),
        "ok",
    )
    .skips(0, Some(&long_kid), "unsupported_kty")
    .loads(Some("main"));

    let no_usable: &[(&str, &str, String)] = &[
        ("jwks_empty_keys", "keys is an empty array.", r#"{"keys":[]}"#.into()),
        ("jwks_only_1024", "Only a 1024-bit key.", doc(&[jwk_sig(&k.rsa1024, Some("rsa1024")).compact()])),
        ("jwks_only_ec_off_curve", "Only an EC key, and its point is off the curve.", doc(&[r#"{"kty":"EC","kid":"ec","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a4"}"#.into()])),
        ("jwks_only_encryption_key", "Only a use enc key.", doc(&[jwk(&k.main, Some("enc"), &[("use", s("enc"))]).compact()])),
        ("jwks_only_private_key", "Only a JWK with private members.", doc(&[rsa(r#""d":"AQAB","#)])),
    ];
    for (name, about, raw) in no_usable {
        c.jwks_case(name, about, raw.clone(), "no_usable_keys");
    }
    let deep = format!(r#"{{"keys":[{main},{}]}}"#, "[".repeat(10_000));
    let malformed: Vec<(&str, &str, String)> = vec![
        ("jwks_not_json", "Plain text.", "not json".into()),
        ("jwks_empty_document", "Zero bytes.", String::new()),
        (
            "jwks_top_level_array",
            "A bare array of keys.",
            format!("[{main}]"),
        ),
        (
            "jwks_no_keys_member",
            "An object without keys.",
            "{}".into(),
        ),
        (
            "jwks_single_jwk",
            "A single JWK instead of a set.",
            main.clone(),
        ),
        (
            "jwks_keys_object",
            "keys is an object.",
            format!(r#"{{"keys":{main}}}"#),
        ),
        (
            "jwks_keys_string",
            "keys is a string.",
            r#"{"keys":"main"}"#.into(),
        ),
        ("jwks_keys_null", "keys is null.", r#"{"keys":null}"#.into()),
        (
            "jwks_duplicate_keys_member",
            "Two keys members.",
            format!(r#"{{"keys":[],"keys":[{main}]}}"#),
        ),
        (
            "jwks_duplicate_member_in_jwk",
            "A JWK with kty twice: duplicates are refused at any depth.",
            doc(&[main.clone(), r#"{"kty":"RSA","kty":"EC"}"#.into()]),
        ),
        (
            "jwks_bom",
            "A UTF-8 BOM before the document.",
            format!("\u{feff}{}", doc(std::slice::from_ref(&main))),
        ),
        (
            "jwks_trailing_garbage",
            "Text after the document.",
            format!("{}x", doc(std::slice::from_ref(&main))),
        ),
        (
            "jwks_truncated",
            "A document cut in half.",
            doc(std::slice::from_ref(&main))[..200].to_owned(),
        ),
        (
            "jwks_html_error_page",
            "An HTML error page from a broken IdP.",
            "<html><body><h1>502 Bad Gateway</h1></body></html>".into(),
        ),
        (
            "jwks_nesting_10000",
            "10,000 nested arrays inside keys.",
            deep,
        ),
    ];
    for (name, about, raw) in malformed {
        c.jwks_case(name, about, raw, "jwks_malformed");
    }
    // Size: 256 KiB is the default cap.
    let cap = 256 * 1024;
    let padded = |len: usize| {
        let base = format!(r#"{{"keys":[{main}],"padding":""}}"#);
        format!(
            r#"{{"keys":[{main}],"padding":"{}"}}"#,
            "x".repeat(len - base.len())
        )
    };
    c.jwks_case(
        "jwks_size_at_cap_ok",
        "A document of exactly 262,144 bytes.",
        padded(cap),
        "ok",
    )
    .loads(Some("main"));
    c.jwks_case(
        "jwks_size_over_cap",
        "A document of 262,145 bytes.",
        padded(cap + 1),
        "jwks_too_large",
    );
    // Count: 100 entries is the default cap.
    let mut entries = vec![main.clone()];
    entries.extend(std::iter::repeat_n(r#"{"kty":"oct"}"#.to_owned(), 99));
    let case = c.jwks_case(
        "jwks_100_keys_ok",
        "100 entries (the default cap): one usable, 99 skipped.",
        doc(&entries),
        "ok",
    );
    case.loads(Some("main"));
    for i in 1..100 {
        case.skips(i, None, "unsupported_kty");
    }
    entries.push(r#"{"kty":"oct"}"#.to_owned());
    c.jwks_case(
        "jwks_101_keys",
        "101 entries: over the default cap.",
        doc(&entries),
        "jwks_too_many_keys",
    );
    let many: Vec<String> = (0..150).map(|_| main.clone()).collect();
    c.jwks_case(
        "jwks_150_usable_keys",
        "150 copies of a usable key: the count cap applies to entries.",
        doc(&many),
        "jwks_too_many_keys",
    );
}
