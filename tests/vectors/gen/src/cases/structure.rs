//! Structure and header: size cap, segments, base64url, JSON, `alg`, `crit`, `cty`,
//! member types. Malformed payloads are signed, so they fail after the signature.

use super::{
    input, main_token, non_canonical, payload, segments, signed, std_payload, H_MAIN, NOW,
};
use crate::corpus::{Corpus, Token};
use crate::json::s;
use crate::keys::Keys;
use crate::sign::{self, b64, hmac, Hash};
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};

pub fn cases(c: &mut Corpus, k: &Keys) {
    size(c, k);
    segment_count(c, k);
    base64(c, k);
    json(c, k);
    alg(c, k);
    header_members(c, k);
}

/// A valid token of exactly `len` bytes (a `pad` claim makes up the difference).
fn token_of_len(k: &Keys, len: usize) -> String {
    let sig_len = sign::b64(&vec![0; 256]).len() + 1;
    // base64 lengths skip 4k+1, so a header one byte longer may be needed.
    for header in [H_MAIN, r#"{"alg":"RS256","kid":"main","typ":"JWT" }"#] {
        for pad in 0..len {
            let p = payload(&[("pad", Some(&format!("\"{}\"", "x".repeat(pad))))]);
            let si = input(header, &p);
            if si.len() + sig_len == len {
                return signed(&k.main, &si);
            }
            if si.len() + sig_len > len {
                break;
            }
        }
    }
    panic!("no token of {len} bytes");
}

fn size(c: &mut Corpus, k: &Keys) {
    let t = token_of_len(k, 16 * 1024);
    c.case(
        "size_exactly_16384_ok",
        "A valid token exactly at the default 16 KiB cap.",
        "main",
        "default",
        NOW,
        t,
        "ok",
    )
    .claim("sub", s("alice"));
    let t = token_of_len(k, 16 * 1024 + 1);
    c.case(
        "size_16385_too_large",
        "A validly signed token one byte over the default 16 KiB cap.",
        "main",
        "default",
        NOW,
        t,
        "token_too_large",
    );
    c.case(
        "size_policy_cap_512",
        "A normal valid token under a policy that caps tokens at 512 bytes.",
        "main",
        "tiny",
        NOW,
        main_token(k, &std_payload()),
        "token_too_large",
    );
    c.repeat_case(
        "size_1mb_of_dots",
        "1 MiB of '.' characters: refused by the size cap before any splitting.",
        "main",
        "default",
        NOW,
        Token::Repeat {
            prefix: String::new(),
            unit: ".".into(),
            count: 1 << 20,
            suffix: String::new(),
        },
        "token_too_large",
    );
    let t = main_token(k, &std_payload());
    let seg = segments(&t);
    c.repeat_case(
        "size_1mb_payload_segment",
        "A valid header and signature around a 1 MiB payload segment: refused before decoding.",
        "main",
        "default",
        NOW,
        Token::Repeat {
            prefix: format!("{}.", seg[0]),
            unit: "A".into(),
            count: 1 << 20,
            suffix: format!(".{}", seg[2]),
        },
        "token_too_large",
    );
    c.repeat_case(
        "size_1mb_payload_segment_large_policy",
        "The same 1 MiB segment under a 64 KiB cap: still too large.",
        "main",
        "large",
        NOW,
        Token::Repeat {
            prefix: format!("{}.", seg[0]),
            unit: "A".into(),
            count: 1 << 20,
            suffix: format!(".{}", seg[2]),
        },
        "token_too_large",
    );
    c.case(
        "size_too_large_checked_first",
        "An oversized token that is also alg none: the size cap comes first.",
        "main",
        "tiny",
        NOW,
        format!(
            "{}.{}.",
            b64(br#"{"alg":"none"}"#),
            b64(payload(&[("pad", Some(&format!("\"{}\"", "x".repeat(600))))]).as_bytes())
        ),
        "token_too_large",
    );
}

fn segment_count(c: &mut Corpus, k: &Keys) {
    let t = main_token(k, &std_payload());
    let seg = segments(&t);
    let cases: &[(&str, &str, String, &str)] = &[
        (
            "segments_empty_string",
            "The empty string.",
            String::new(),
            "malformed",
        ),
        (
            "segments_one",
            "A single base64url segment, no dots.",
            seg[0].clone(),
            "malformed",
        ),
        (
            "segments_two",
            "Header and payload without a signature segment or its dot.",
            format!("{}.{}", seg[0], seg[1]),
            "malformed",
        ),
        (
            "segments_four",
            "A valid token with a fourth segment appended.",
            format!("{t}.{}", seg[2]),
            "malformed",
        ),
        (
            "segments_trailing_dot",
            "A valid token followed by a dot (four segments, the last empty).",
            format!("{t}."),
            "malformed",
        ),
        (
            "segments_leading_dot",
            "A dot before a valid token (four segments, the first empty).",
            format!(".{t}"),
            "malformed",
        ),
        (
            "segments_six",
            "Six segments.",
            format!("{t}.{}.{}.{}", seg[0], seg[1], seg[2]),
            "malformed",
        ),
        (
            "segments_only_dots",
            "Two dots: three empty segments (the empty header is not JSON).",
            "..".to_owned(),
            "malformed",
        ),
        (
            "segments_five_empty",
            "Four dots: five empty segments, shaped like a JWE.",
            "....".to_owned(),
            "jwe_unsupported",
        ),
    ];
    for (name, about, token, expect) in cases {
        c.case(name, about, "main", "default", NOW, token.clone(), expect);
    }
    // A JWE-shaped token: RSA-OAEP + A256GCM header, five segments.
    let jwe_header = b64(br#"{"alg":"RSA-OAEP","enc":"A256GCM","kid":"main"}"#);
    let jwe = format!(
        "{jwe_header}.{}.{}.{}.{}",
        b64(&[0x5a; 256]),
        b64(&[0x11; 12]),
        b64(b"ciphertext of a nested token"),
        b64(&[0x22; 16])
    );
    c.case(
        "jwe_five_segments",
        "A five-segment JWE (RSA-OAEP, A256GCM): not decrypted.",
        "main",
        "default",
        NOW,
        jwe,
        "jwe_unsupported",
    );
    let jwe_dir = format!(
        "{}..{}.{}.{}",
        b64(br#"{"alg":"dir","enc":"A128GCM"}"#),
        b64(&[0x11; 12]),
        b64(b"x"),
        b64(&[0x22; 16])
    );
    c.case(
        "jwe_dir_empty_key_segment",
        "A five-segment JWE with alg dir (empty encrypted key).",
        "main",
        "default",
        NOW,
        jwe_dir,
        "jwe_unsupported",
    );
    // JWS JSON serialisations (RFC 7515 §7.2): only compact is supported.
    let general = format!(
        r#"{{"payload":"{}","signatures":[{{"protected":"{}","signature":"{}"}}]}}"#,
        seg[1], seg[0], seg[2]
    );
    c.case(
        "json_serialization_general",
        "The same JWS in general JSON serialisation.",
        "main",
        "default",
        NOW,
        general,
        "malformed",
    );
    let flat = format!(
        r#"{{"payload":"{}","protected":"{}","signature":"{}"}}"#,
        seg[1], seg[0], seg[2]
    );
    c.case(
        "json_serialization_flattened",
        "The same JWS in flattened JSON serialisation.",
        "main",
        "default",
        NOW,
        flat,
        "malformed",
    );
    // Four dots in the text (here in a kid) must not make it look like a JWE.
    let dotted = format!(
        r#"{{"payload":"{}","protected":"{}","header":{{"kid":"a.b.c.d.e"}},"signature":"{}"}}"#,
        seg[1], seg[0], seg[2]
    );
    assert_eq!(dotted.matches('.').count(), 4);
    c.case(
        "json_serialization_with_four_dots",
        "A flattened JSON serialisation whose text holds four dots: the JSON refusal, not jwe_unsupported.",
        "main",
        "default",
        NOW,
        dotted,
        "malformed",
    );
    c.case(
        "bearer_prefix_left_on",
        "A valid token passed with its \"Bearer \" prefix: malformed, with a hint to pass the token alone.",
        "main",
        "default",
        NOW,
        format!("Bearer {}.{}.{}", seg[0], seg[1], seg[2]),
        "malformed",
    );
}

fn base64(c: &mut Corpus, k: &Keys) {
    let p = std_payload();
    // Header: {"alg":"RS256","kid":"main","typ":"JWT"} is 40 bytes (40 % 3 == 1: "==" needed).
    assert_eq!(H_MAIN.len() % 3, 1);
    let h = b64(H_MAIN.as_bytes());
    let pl = b64(p.as_bytes());
    let mut add = |name: &str, about: &str, h: &str, p: &str, expect: &'static str| {
        let t = signed(&k.main, &format!("{h}.{p}"));
        c.case(name, about, "main", "default", NOW, t, expect);
    };
    add(
        "b64_header_padding",
        "Header segment padded with '==' (signature covers the padded text).",
        &format!("{h}=="),
        &pl,
        "malformed",
    );
    add(
        "b64_header_single_pad",
        "Header segment with one '=' where two would be needed.",
        &format!("{h}="),
        &pl,
        "malformed",
    );
    add(
        "b64_header_noncanonical_bits",
        "Header's last character has non-zero unused bits.",
        &non_canonical(&h),
        &pl,
        "malformed",
    );
    add(
        "b64_header_space",
        "A space in the middle of the header segment.",
        &format!("{} {}", &h[..10], &h[10..]),
        &pl,
        "malformed",
    );
    add(
        "b64_header_std_alphabet",
        "Header encoded with the standard alphabet ('+', '/').",
        &std_alpha_header(),
        &pl,
        "malformed",
    );
    add(
        "b64_header_invalid_char",
        "A '!' in the header segment.",
        &format!("{}!{}", &h[..10], &h[11..]),
        &pl,
        "malformed",
    );
    add(
        "b64_header_bom",
        "A UTF-8 BOM before the header segment text.",
        &format!("\u{feff}{h}"),
        &pl,
        "malformed",
    );
    // Payload: the generic payload's length decides the padding.
    let pad = "=".repeat((4 - pl.len() % 4) % 4);
    let pl_pad = if pad.is_empty() {
        format!("{pl}=")
    } else {
        format!("{pl}{pad}")
    };
    add(
        "b64_payload_padding",
        "Payload segment padded with '='; validly signed over the padded text.",
        &h,
        &pl_pad,
        "malformed",
    );
    add(
        "b64_payload_space",
        "A space inside the payload segment; validly signed.",
        &h,
        &format!("{} {}", &pl[..20], &pl[20..]),
        "malformed",
    );
    add(
        "b64_payload_newline",
        "A line break inside the payload segment; validly signed.",
        &h,
        &format!("{}\r\n{}", &pl[..20], &pl[20..]),
        "malformed",
    );
    add(
        "b64_payload_tab",
        "A tab at the end of the payload segment; validly signed.",
        &h,
        &format!("{pl}\t"),
        "malformed",
    );
    add(
        "b64_payload_percent",
        "A percent-encoded character in the payload segment; validly signed.",
        &h,
        &format!("{}%3D", &pl),
        "malformed",
    );
    let (ph, pp) = std_alpha_payload();
    add(
        "b64_payload_std_alphabet",
        "Payload in the standard alphabet ('+' and '/'); validly signed.",
        &ph,
        &pp,
        "malformed",
    );
    let odd = payload(&[("x", Some("\"ab\""))]);
    let odd_seg = if b64(odd.as_bytes()).len().is_multiple_of(4) {
        b64(payload(&[("x", Some("\"abc\""))]).as_bytes())
    } else {
        b64(odd.as_bytes())
    };
    add(
        "b64_payload_noncanonical_bits",
        "Payload's last character has non-zero unused bits; validly signed.",
        &h,
        &non_canonical(&odd_seg),
        "malformed",
    );
    add(
        "b64_payload_length_1_mod_4",
        "Payload segment of length 1 mod 4 (never valid base64); validly signed.",
        &h,
        &format!("{pl}{}", "A".repeat((5 - pl.len() % 4) % 4)),
        "malformed",
    );
    // Signature segment.
    let t = main_token(k, &p);
    let seg = segments(&t);
    let sig = &seg[2];
    let mut raw = |name: &str, about: &str, token: String| {
        c.case(name, about, "main", "default", NOW, token, "malformed");
    };
    raw(
        "b64_sig_padding",
        "The signature segment padded with '=='.",
        format!("{}.{}.{sig}==", seg[0], seg[1]),
    );
    raw(
        "b64_sig_noncanonical_bits",
        "The signature's last character has non-zero unused bits.",
        format!("{}.{}.{}", seg[0], seg[1], non_canonical(sig)),
    );
    let std_sig = sig.replace('-', "+").replace('_', "/");
    assert_ne!(&std_sig, sig, "signature has '-' or '_'");
    raw(
        "b64_sig_std_alphabet",
        "The signature in the standard alphabet.",
        format!("{}.{}.{std_sig}", seg[0], seg[1]),
    );
    raw(
        "b64_sig_trailing_newline",
        "A valid token followed by a newline.",
        format!("{t}\n"),
    );
    raw(
        "b64_sig_trailing_space",
        "A valid token followed by a space.",
        format!("{t} "),
    );
    raw(
        "b64_leading_space",
        "A space before a valid token.",
        format!(" {t}"),
    );
    raw(
        "b64_sig_folded",
        "The signature segment folded with CRLF, as in RFC figures.",
        format!("{}.{}.{}\r\n{}", seg[0], seg[1], &sig[..100], &sig[100..]),
    );
    raw(
        "b64_bearer_prefix",
        "The whole 'Bearer <token>' header value passed as the token.",
        format!("Bearer {t}"),
    );
}

/// `H_MAIN` with a member whose standard-alphabet encoding has '+' and '/'.
fn std_alpha_header() -> String {
    let h = r#"{"alg":"RS256","kid":"main","x":"??>>"}"#;
    let std = sign::b64_std(h.as_bytes()).trim_end_matches('=').to_owned();
    assert!(std.contains('+') || std.contains('/'), "{std}");
    std
}

/// A header segment and a standard-alphabet payload segment that differs from base64url.
fn std_alpha_payload() -> (String, String) {
    let p = payload(&[("note", Some("\"???>>>\""))]);
    let std = sign::b64_std(p.as_bytes()).trim_end_matches('=').to_owned();
    assert!(std.contains('+') || std.contains('/'), "{std}");
    (b64(H_MAIN.as_bytes()), std)
}

fn json(c: &mut Corpus, k: &Keys) {
    let p = std_payload();
    // Header defects: each header is signed with its payload by `main`.
    let headers: &[(&str, &str, &[u8])] = &[
        (
            "json_header_bom",
            "A UTF-8 BOM before the header JSON.",
            b"\xef\xbb\xbf{\"alg\":\"RS256\",\"kid\":\"main\"}",
        ),
        (
            "json_header_duplicate_alg",
            "Duplicate alg in the header (RS256 then none).",
            br#"{"alg":"RS256","kid":"main","alg":"none"}"#,
        ),
        (
            "json_header_duplicate_alg_none_first",
            "Duplicate alg in the header (none then RS256).",
            br#"{"alg":"none","kid":"main","alg":"RS256"}"#,
        ),
        (
            "json_header_duplicate_kid",
            "Duplicate kid in the header.",
            br#"{"alg":"RS256","kid":"other","kid":"main"}"#,
        ),
        (
            "json_header_duplicate_escaped",
            "Duplicate member spelled with a \\u escape (\"\\u0061lg\" is \"alg\").",
            br#"{"alg":"RS256","kid":"main","\u0061lg":"RS256"}"#,
        ),
        (
            "json_header_array",
            "The header is a JSON array.",
            br#"[{"alg":"RS256","kid":"main"}]"#,
        ),
        (
            "json_header_string",
            "The header is a JSON string.",
            br#""RS256""#,
        ),
        ("json_header_null", "The header is JSON null.", b"null"),
        (
            "json_header_empty",
            "The header is empty (zero bytes).",
            b"",
        ),
        (
            "json_header_empty_object",
            "The header is {} (no alg).",
            b"{}",
        ),
        (
            "json_header_bad_utf8",
            "A header string holding the byte 0xFF.",
            b"{\"alg\":\"RS256\",\"kid\":\"main\",\"x\":\"\xff\"}",
        ),
        (
            "json_header_overlong_utf8",
            "A header string with an overlong UTF-8 encoding of '/'.",
            b"{\"alg\":\"RS256\",\"kid\":\"main\",\"x\":\"\xc0\xaf\"}",
        ),
        (
            "json_header_lone_surrogate",
            "A header string with an unpaired surrogate escape.",
            br#"{"alg":"RS256","kid":"main","x":"\ud800"}"#,
        ),
        (
            "json_header_trailing_garbage",
            "Text after the header object.",
            br#"{"alg":"RS256","kid":"main"}x"#,
        ),
        (
            "json_header_two_objects",
            "Two header objects back to back.",
            br#"{"alg":"RS256","kid":"main"}{"alg":"RS256"}"#,
        ),
        (
            "json_header_trailing_comma",
            "A trailing comma in the header object.",
            br#"{"alg":"RS256","kid":"main",}"#,
        ),
        (
            "json_header_single_quotes",
            "Single-quoted names and values.",
            br#"{'alg':'RS256','kid':'main'}"#,
        ),
        (
            "json_header_comment",
            "A comment inside the header JSON.",
            br#"{"alg":"RS256",/*x*/"kid":"main"}"#,
        ),
        (
            "json_header_nul",
            "A raw NUL byte inside a header string.",
            b"{\"alg\":\"RS256\",\"kid\":\"ma\x00in\"}",
        ),
    ];
    for (name, about, header) in headers {
        let t = sign::token_with(&k.main, Hash::S256, header, p.as_bytes());
        c.case(name, about, "main", "default", NOW, t, "malformed");
    }
    let deep_header = format!(r#"{{"alg":"RS256","kid":"main","x":{}"#, "[".repeat(10_000));
    c.case(
        "json_header_nesting_10000_unclosed",
        "10,000 unclosed '[' in the header: refused by the nesting bound, no stack overflow.",
        "main",
        "default",
        NOW,
        sign::token(&k.main, &deep_header, &p),
        "malformed",
    );
    c.case(
        "json_header_trailing_whitespace_ok",
        "JSON whitespace after the header object is valid JSON (unlike whitespace in base64).",
        "main",
        "default",
        NOW,
        sign::token(&k.main, "{\"alg\":\"RS256\",\"kid\":\"main\"} \n", &p),
        "ok",
    );
    // Payload defects: validly signed, so they fail when the payload is decoded.
    let payloads: &[(&str, &str, Vec<u8>)] = &[
        (
            "json_payload_bom",
            "A UTF-8 BOM before the claims JSON.",
            [b"\xef\xbb\xbf".as_slice(), p.as_bytes()].concat(),
        ),
        (
            "json_payload_duplicate_sub",
            "Duplicate sub in the claims.",
            payload(&[("sub", Some("\"alice\",\"sub\":\"admin\""))]).into_bytes(),
        ),
        (
            "json_payload_duplicate_exp",
            "Duplicate exp in the claims (valid, then expired).",
            payload(&[("exp", Some(&format!("{},\"exp\":1", NOW + 3600)))]).into_bytes(),
        ),
        (
            "json_payload_duplicate_nested",
            "Duplicate namespace inside the kubernetes.io object.",
            payload(&[(
                "kubernetes.io",
                Some(r#"{"namespace":"payments","namespace":"kube-system"}"#),
            )])
            .into_bytes(),
        ),
        (
            "json_payload_duplicate_escaped",
            "Duplicate iss spelled with a \\u escape.",
            payload(&[("\\u0069ss", Some("\"https://evil.example\""))]).into_bytes(),
        ),
        (
            "json_payload_array",
            "The claims are a JSON array.",
            format!("[{p}]").into_bytes(),
        ),
        (
            "json_payload_string",
            "The claims are a JSON string.",
            b"\"alice\"".to_vec(),
        ),
        (
            "json_payload_number",
            "The claims are a JSON number.",
            b"1767229200".to_vec(),
        ),
        (
            "json_payload_true",
            "The claims are JSON true.",
            b"true".to_vec(),
        ),
        (
            "json_payload_null",
            "The claims are JSON null.",
            b"null".to_vec(),
        ),
        (
            "json_payload_empty",
            "The payload is empty (zero bytes).",
            Vec::new(),
        ),
        (
            "json_payload_not_json",
            "The payload is plain text.",
            b"It is a dangerous business".to_vec(),
        ),
        (
            "json_payload_bad_utf8",
            "A claim string holding an invalid UTF-8 sequence (C3 28).",
            with_bytes(&payload(&[("name", Some("\"@@\""))]), "@@", &[0xc3, 0x28]),
        ),
        (
            "json_payload_lone_surrogate",
            "A claim string with an unpaired surrogate escape.",
            payload(&[("name", Some(r#""\udc00x""#))]).into_bytes(),
        ),
        (
            "json_payload_trailing_garbage",
            "Text after the claims object.",
            format!("{p},").into_bytes(),
        ),
        (
            "json_payload_nan",
            "A NaN literal as exp.",
            payload(&[("exp", Some("NaN"))]).into_bytes(),
        ),
        (
            "json_payload_exp_1e400",
            "exp 1e400: not representable as a finite number, the JSON is refused.",
            payload(&[("exp", Some("1e400"))]).into_bytes(),
        ),
        (
            "json_payload_leading_zero_number",
            "exp written with a leading zero (invalid JSON number).",
            payload(&[("exp", Some(&format!("0{}", NOW + 3600)))]).into_bytes(),
        ),
        (
            "json_payload_nesting_100",
            "Claims nested 100 levels deep (beyond the core's bound).",
            payload(&[(
                "deep",
                Some(&format!("{}1{}", "[".repeat(99), "]".repeat(99))),
            )])
            .into_bytes(),
        ),
    ];
    for (name, about, body) in payloads {
        let t = sign::token_with(&k.main, Hash::S256, H_MAIN.as_bytes(), body);
        c.case(name, about, "main", "default", NOW, t, "malformed");
    }
    let deep = payload(&[(
        "deep",
        Some(&format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000))),
    )]);
    c.case(
        "json_payload_nesting_10000",
        "Claims with 10,000 nested arrays, validly signed, under a 64 KiB cap: refused, no stack overflow.",
        "main",
        "large",
        NOW,
        main_token(k, &deep),
        "malformed",
    );
    let nested16 = payload(&[(
        "deep",
        Some(&format!("{}1{}", "{\"a\":".repeat(15), "}".repeat(15))),
    )]);
    c.case(
        "json_payload_nesting_16_ok",
        "Claims nested 16 levels deep: within bounds.",
        "main",
        "default",
        NOW,
        main_token(k, &nested16),
        "ok",
    )
    .claim("sub", s("alice"));
    c.case(
        "json_payload_escaped_issuer_ok",
        "iss written with JSON escapes (\\/ and \\u0065) decodes to the configured issuer.",
        "main",
        "oidc",
        NOW,
        main_token(
            k,
            &payload(&[("iss", Some(r#""https:\/\/idp.\u0065xample.com""#))]),
        ),
        "ok",
    )
    .claim("iss", s(super::ISS));
    c.case(
        "json_payload_unicode_ok",
        "Non-ASCII claim values (UTF-8 and escapes) are fine.",
        "main",
        "default",
        NOW,
        main_token(k, &payload(&[("name", Some("\"Zoë \\u2603 日本\""))])),
        "ok",
    )
    .claim("name", s("Zoë \u{2603} 日本"));
}

fn alg(c: &mut Corpus, k: &Keys) {
    let p = std_payload();
    let pl = b64(p.as_bytes());
    let valid = main_token(k, &p);
    let rsa_sig = segments(&valid)[2].clone();
    for (name, alg) in [
        ("alg_none", "none"),
        ("alg_none_upper", "NONE"),
        ("alg_none_mixed", "nOnE"),
        ("alg_none_title", "None"),
    ] {
        let h = b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes());
        c.case(
            name,
            &format!("alg \"{alg}\" with an empty signature."),
            "main",
            "default",
            NOW,
            format!("{h}.{pl}."),
            "alg_not_allowed",
        );
    }
    let h = b64(br#"{"alg":"none","kid":"main"}"#);
    c.case(
        "alg_none_with_rsa_signature",
        "alg none with a kid and a (copied) RSA signature.",
        "main",
        "default",
        NOW,
        format!("{h}.{pl}.{rsa_sig}"),
        "alg_not_allowed",
    );
    c.case(
        "alg_none_rs_all_policy",
        "alg none under a policy allowing every RS algorithm.",
        "main",
        "rs_all",
        NOW,
        format!("{}.{pl}.", b64(br#"{"alg":"none"}"#)),
        "alg_not_allowed",
    );
    // HS256 keyed with the RSA public key in every form a confused verifier might use.
    let public = k.main.to_public_key();
    let pem = public.to_public_key_pem(LineEnding::LF).expect("pem");
    let pkcs1 = public.to_pkcs1_pem(LineEnding::LF).expect("pem");
    let der = public.to_public_key_der().expect("der");
    let jwk_text = crate::keys::jwk_sig(&k.main, Some("main")).compact();
    let forms: [(&str, &str, &[u8]); 6] = [
        ("alg_hs256_key_pem", "SPKI PEM text", pem.as_bytes()),
        (
            "alg_hs256_key_pem_no_newline",
            "SPKI PEM text without its final newline",
            pem.trim_end().as_bytes(),
        ),
        (
            "alg_hs256_key_pkcs1_pem",
            "PKCS#1 PEM text",
            pkcs1.as_bytes(),
        ),
        ("alg_hs256_key_der", "SPKI DER bytes", der.as_bytes()),
        (
            "alg_hs256_key_jwk",
            "JWK JSON text as published",
            jwk_text.as_bytes(),
        ),
        (
            "alg_hs256_key_modulus",
            "raw modulus bytes",
            &crate::keys::n_bytes(&k.main),
        ),
    ];
    for (name, what, secret) in forms {
        let h = r#"{"alg":"HS256","kid":"main","typ":"JWT"}"#;
        let si = input(h, &p);
        let mac = hmac(Hash::S256, secret, si.as_bytes());
        c.case(
            name,
            &format!("HS256 keyed with the RSA public key's {what} (algorithm confusion)."),
            "main",
            "rs_all",
            NOW,
            format!("{si}.{}", b64(&mac)),
            "alg_not_allowed",
        );
    }
    for (name, alg, hash) in [
        ("alg_hs384_key_pem", "HS384", Hash::S384),
        ("alg_hs512_key_pem", "HS512", Hash::S512),
    ] {
        let si = input(&format!(r#"{{"alg":"{alg}","kid":"main"}}"#), &p);
        let mac = hmac(hash, pem.as_bytes(), si.as_bytes());
        c.case(
            name,
            &format!("{alg} keyed with the RSA public key's PEM text."),
            "main",
            "default",
            NOW,
            format!("{si}.{}", b64(&mac)),
            "alg_not_allowed",
        );
    }
    let si = input(r#"{"alg":"HS256","kid":"hmac"}"#, &p);
    let mac = hmac(
        Hash::S256,
        b"a shared secret the attacker also knows",
        si.as_bytes(),
    );
    c.case(
        "alg_hs256_oct_key_in_set",
        "HS256 signed with an oct key that the JWKS publishes (and the core skips).",
        "mixed",
        "default",
        NOW,
        format!("{si}.{}", b64(&mac)),
        "alg_not_allowed",
    );
    for (name, alg, about) in [
        (
            "alg_es256",
            "ES256",
            "ES256 with a 64-byte signature: only RSA is supported.",
        ),
        ("alg_ps256", "PS256", "PS256 (RSA-PSS): not supported."),
        ("alg_eddsa", "EdDSA", "EdDSA: not supported."),
        (
            "alg_rs256_lowercase",
            "rs256",
            "alg \"rs256\": names are case-sensitive.",
        ),
        (
            "alg_rs256_trailing_space",
            "RS256 ",
            "alg \"RS256 \" with a trailing space.",
        ),
        ("alg_empty", "", "alg is the empty string."),
        ("alg_rs1", "RS1", "alg RS1 (SHA-1): not supported."),
    ] {
        let si = input(&format!(r#"{{"alg":"{alg}","kid":"main"}}"#), &p);
        let sig: Vec<u8> = if alg == "ES256" {
            vec![0x42; 64]
        } else {
            sign::sign(&k.main, Hash::S256, si.as_bytes())
        };
        c.case(
            name,
            about,
            "main",
            "default",
            NOW,
            format!("{si}.{}", b64(&sig)),
            "alg_not_allowed",
        );
    }
    let t = sign::token_with(
        &k.main,
        Hash::S384,
        br#"{"alg":"RS384","kid":"main"}"#,
        p.as_bytes(),
    );
    c.case(
        "alg_rs384_default_policy",
        "A correct RS384 signature when the policy allows only RS256.",
        "main",
        "default",
        NOW,
        t,
        "alg_not_allowed",
    );
    c.case(
        "alg_rs256_rs384_only_policy",
        "A correct RS256 token when the policy allows only RS384.",
        "main",
        "rs384_only",
        NOW,
        main_token(k, &p),
        "alg_not_allowed",
    );
    for (name, header) in [
        ("alg_missing", r#"{"kid":"main","typ":"JWT"}"#),
        ("alg_number", r#"{"alg":256,"kid":"main"}"#),
        ("alg_null", r#"{"alg":null,"kid":"main"}"#),
        ("alg_array", r#"{"alg":["RS256"],"kid":"main"}"#),
    ] {
        c.case(
            name,
            &format!("Header {header}: alg must be a string."),
            "main",
            "default",
            NOW,
            sign::token(&k.main, header, &p),
            "malformed",
        );
    }
    let si = input(r#"{"alg":"none","crit":["exp"],"exp":1}"#, &p);
    c.case(
        "order_alg_before_crit",
        "alg none and crit together: alg is checked first.",
        "main",
        "default",
        NOW,
        format!("{si}."),
        "alg_not_allowed",
    );
}

fn header_members(c: &mut Corpus, k: &Keys) {
    let p = std_payload();
    // Explicit typing (RFC 8725 §3.11) and the crit allow-list: policy-driven header rules.
    for (name, about, policy, header, expect) in [
        (
            "typ_at_jwt_required_ok",
            "typ at+jwt under a policy that requires it.",
            "access_token",
            r#"{"alg":"RS256","kid":"main","typ":"at+jwt"}"#,
            "ok",
        ),
        (
            "typ_media_type_ok",
            "typ application/AT+JWT: media types ignore case and the application/ prefix.",
            "access_token",
            r#"{"alg":"RS256","kid":"main","typ":"application/AT+JWT"}"#,
            "ok",
        ),
        (
            "typ_jwt_refused",
            "typ JWT where at+jwt is required (an ID token replayed as an access token).",
            "access_token",
            H_MAIN,
            "invalid_claim",
        ),
        (
            "typ_missing_refused",
            "No typ where at+jwt is required.",
            "access_token",
            r#"{"alg":"RS256","kid":"main"}"#,
            "invalid_claim",
        ),
        (
            "crit_allowed_ext_ok",
            "crit naming an extension the policy handles, present in the header.",
            "crit_ext",
            r#"{"alg":"RS256","kid":"main","crit":["http://example.com/ext"],"http://example.com/ext":true}"#,
            "ok",
        ),
        (
            "crit_allowed_ext_absent",
            "crit naming an allowed extension that the header lacks.",
            "crit_ext",
            r#"{"alg":"RS256","kid":"main","crit":["http://example.com/ext"]}"#,
            "crit_unsupported",
        ),
        (
            "crit_allowed_and_unknown",
            "crit naming an allowed extension and an unknown one.",
            "crit_ext",
            r#"{"alg":"RS256","kid":"main","crit":["http://example.com/ext","x"],"http://example.com/ext":1,"x":1}"#,
            "crit_unsupported",
        ),
    ] {
        c.case(
            name,
            about,
            "main",
            policy,
            NOW,
            sign::token(&k.main, header, &p),
            expect,
        );
    }
    let mut add = |name: &str, about: &str, header: &str, expect: &'static str| {
        c.case(
            name,
            about,
            "main",
            "default",
            NOW,
            sign::token(&k.main, header, &p),
            expect,
        );
    };
    add(
        "crit_unknown",
        "crit naming an unknown extension that is present.",
        r#"{"alg":"RS256","kid":"main","crit":["http://example.com/ext"],"http://example.com/ext":true}"#,
        "crit_unsupported",
    );
    add(
        "crit_exp",
        "crit naming a registered claim-like parameter.",
        r#"{"alg":"RS256","kid":"main","crit":["exp"],"exp":1767229200}"#,
        "crit_unsupported",
    );
    add(
        "crit_empty_list",
        "crit as an empty list (RFC 7515 forbids it).",
        r#"{"alg":"RS256","kid":"main","crit":[]}"#,
        "crit_unsupported",
    );
    add(
        "crit_not_array",
        "crit as a string.",
        r#"{"alg":"RS256","kid":"main","crit":"b64"}"#,
        "crit_unsupported",
    );
    add(
        "crit_b64_false",
        "RFC 7797 unencoded payload: crit [\"b64\"] with b64 false.",
        r#"{"alg":"RS256","kid":"main","b64":false,"crit":["b64"]}"#,
        "crit_unsupported",
    );
    add(
        "crit_b64_true",
        "crit [\"b64\"] with b64 true: still a crit the core does not understand.",
        r#"{"alg":"RS256","kid":"main","b64":true,"crit":["b64"]}"#,
        "crit_unsupported",
    );
    add(
        "b64_false_without_crit",
        "b64 false without crit.",
        r#"{"alg":"RS256","kid":"main","b64":false}"#,
        "crit_unsupported",
    );
    add(
        "b64_true_without_crit_ok",
        "b64 true without crit is the default meaning: ok.",
        r#"{"alg":"RS256","kid":"main","b64":true}"#,
        "ok",
    );
    add(
        "cty_jwt",
        "cty JWT: a nested token.",
        r#"{"alg":"RS256","kid":"main","cty":"JWT"}"#,
        "nested_jwt_unsupported",
    );
    add(
        "cty_jwt_lowercase",
        "cty jwt: media types are case-insensitive.",
        r#"{"alg":"RS256","kid":"main","cty":"jwt"}"#,
        "nested_jwt_unsupported",
    );
    add(
        "cty_number",
        "cty as a number.",
        r#"{"alg":"RS256","kid":"main","cty":1}"#,
        "malformed",
    );
    add(
        "typ_number",
        "typ as a number.",
        r#"{"alg":"RS256","kid":"main","typ":1}"#,
        "malformed",
    );
    add(
        "typ_at_jwt_ok",
        "typ at+jwt (RFC 9068 access token): accepted.",
        r#"{"alg":"RS256","kid":"main","typ":"at+jwt"}"#,
        "ok",
    );
    add(
        "header_unknown_members_ok",
        "Unknown, non-critical header members are ignored.",
        r#"{"alg":"RS256","kid":"main","x-trace":"abc","zip":"none"}"#,
        "ok",
    );
    // cty application/jwt is the full form of "JWT" (RFC 7515 §4.1.10); its payload is a JWT.
    let inner = main_token(k, &p);
    let t = sign::token(
        &k.main,
        r#"{"alg":"RS256","kid":"main","cty":"application/jwt"}"#,
        &inner,
    );
    c.case(
        "cty_application_jwt",
        "cty application/jwt (the long form of JWT, RFC 7515 §4.1.10) wrapping a signed JWT.",
        "main",
        "default",
        NOW,
        t,
        "nested_jwt_unsupported",
    );
}

/// `text` as bytes with `marker` replaced by raw `bytes` (for invalid UTF-8).
fn with_bytes(text: &str, marker: &str, bytes: &[u8]) -> Vec<u8> {
    let at = text.find(marker).expect("marker");
    [
        &text.as_bytes()[..at],
        bytes,
        &text.as_bytes()[at + marker.len()..],
    ]
    .concat()
}
