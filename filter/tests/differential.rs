//! Differential against jwt-compact, the reference JWT crate: tokens it mints for every
//! algorithm both implement (RS256/384/512, PS256/384/512, ES256, EdDSA and its
//! fully-specified name Ed25519) verify in jwtgate with the same claims; and for mutated
//! tokens (bit flips, character swaps, truncation, alg swaps, re-encodings, edited and
//! re-signed headers and payloads), whatever jwtgate accepts jwt-compact accepts with the
//! same claims, and whatever jwtgate refuses while jwt-compact accepts breaks one of the
//! documented rules of `oracle::RULES`. Deterministic: committed keys, seeded RNGs (PSS
//! salts included), a fixed `now`.
//!
//! What the cases found, besides the rules: both refuse non-canonical base64url (padding,
//! `+`/`/`, stray trailing bits), duplicate `alg`, `kid` or `exp` (jwt-compact's serde
//! refuses a repeated field it knows), DER and zero or out-of-range ECDSA scalars,
//! Ed25519 `S + L`, RSA signatures one byte short or long, `cty: JWT`, and nesting past
//! serde_json's 128 levels; both accept high-s ECDSA (RFC 7518 §3.4 does not ask for low
//! s), a token without `kid` (every key of the type is tried, at most four), `b64: true`,
//! `jwk`/`x5c` (neither reads them) and escaped member names. jwt-compact alone refuses
//! the `oracle::ORACLE_STRICTER` cases. One gap it found in jwtgate (wrongly typed `jku`,
//! `x5u`, `x5t`, `x5c` accepted) is fixed: `registered_header_members_keep_their_types`.
// Test code: a failure should stop loudly (the no-panic lints are for the library).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod oracle;

use chrono::{TimeZone, Utc};
use oracle::{b64, judge, Keys, Verdict, ALGS, AUD, ISS, NOW, RULES};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use Verdict::{BothAccept, BothRefuse, OracleStricter, Strict};

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    (rng.next_u64() % n.max(1) as u64) as usize
}

/// A claim set of seed `i`: the registered claims in their usual and less usual shapes
/// (aud as string or array, fractional exp, nbf and iat in the past, within the skew)
/// and custom claims of every JSON type, nested, with escapes and non-ASCII text.
fn claims(i: u64) -> jwt_compact::Claims<Map<String, Value>> {
    let mut r = rng(0xc1a1_0000 + i);
    let mut custom = Map::new();
    custom.insert("iss".into(), ISS.into());
    custom.insert(
        "aud".into(),
        match i % 3 {
            0 => json!(AUD),
            1 => json!(["other", AUD]),
            _ => json!([AUD]),
        },
    );
    custom.insert(
        "sub".into(),
        json!(format!(
            "system:serviceaccount:ns-{}:sa \"\\ é ✓ 😀",
            r.next_u32()
        )),
    );
    custom.insert("jti".into(), json!(format!("{:016x}", r.next_u64())));
    custom.insert(
        "kubernetes.io".into(),
        json!({
            "namespace": "payments",
            "pod": {"name": format!("api-{}", r.next_u32() % 1000), "uid": r.next_u64()},
            "serviceaccount": {"name": "api", "uid": null},
            "warnafter": NOW + 3600,
        }),
    );
    custom.insert(
        "mixed".into(),
        json!([1, -2, 3.25, 1e300, u64::MAX, true, false, null, "\u{0}\t\n", [], {}, [[{"deep": [1]}]]]),
    );
    custom.insert(
        format!("x-{}", r.next_u32() % 97),
        json!({"a.b": {"c": "d"}}),
    );
    let mut c = jwt_compact::Claims::new(custom);
    let at = |t: i64| Utc.timestamp_opt(t, 0).unwrap();
    let life = 1 + (r.next_u64() % 86_400) as i64;
    if i % 4 == 3 {
        // jwt-compact writes whole seconds; a fractional exp goes in as a custom claim.
        c.custom
            .insert("exp".into(), json!(NOW as f64 + life as f64 + 0.75));
    } else {
        c.expiration = Some(at(NOW + life));
    }
    if i.is_multiple_of(2) {
        c.not_before = Some(at(NOW - (r.next_u64() % 600) as i64 + 30));
    }
    if i % 3 != 1 {
        c.issued_at = Some(at(NOW - (r.next_u64() % 600) as i64));
    }
    c
}

fn header(alg: &str, i: u64) -> jwt_compact::Header {
    let h = jwt_compact::Header::empty();
    let h = match i % 5 {
        // Without kid jwtgate tries every key of the type (two RSA keys, one of each other).
        4 => h,
        _ => h.with_key_id(Keys::kid(alg)),
    };
    match i % 3 {
        0 => h.with_token_type("JWT"),
        1 => h.with_token_type("at+jwt"),
        _ => h,
    }
}

/// Splits a token into its decoded parts.
fn parts(token: &str) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let mut it = token.split('.').map(|p| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .unwrap()
    });
    (it.next().unwrap(), it.next().unwrap(), it.next().unwrap())
}

#[test]
fn tokens_jwt_compact_mints_verify_with_the_same_claims() {
    let keys = Keys::load();
    let v = keys.verifier();
    for alg in ALGS {
        for i in 0..12 {
            let token = keys.mint(alg, &header(alg, i), &claims(i));
            let ours = v
                .verify(&token, NOW as u64)
                .unwrap_or_else(|e| panic!("{alg} #{i}: {e}: {token}"));
            assert_eq!(ours.header().alg().name(), alg);
            assert_eq!(judge(&keys, &v, &token), Verdict::BothAccept, "{alg} #{i}");
            // The payload is forwarded exactly as signed.
            assert_eq!(ours.payload_json().as_bytes(), parts(&token).1);
        }
    }
}

/// The mutations, by kind. Each takes the token and the RNG and returns a new token.
type Mutation = fn(&Keys, &str, &str, &mut ChaCha8Rng) -> String;

fn flip(bytes: &mut [u8], r: &mut ChaCha8Rng) {
    if !bytes.is_empty() {
        let i = below(r, bytes.len());
        bytes[i] ^= 1 << below(r, 8);
    }
}

fn join(h: &[u8], p: &[u8], s: &[u8]) -> String {
    format!("{}.{}.{}", b64(h), b64(p), b64(s))
}

const MUTATIONS: &[(&str, Mutation)] = &[
    ("signature bit flip", |_, t, _, r| {
        let (h, p, mut s) = parts(t);
        flip(&mut s, r);
        join(&h, &p, &s)
    }),
    ("payload bit flip", |_, t, _, r| {
        let (h, mut p, s) = parts(t);
        flip(&mut p, r);
        join(&h, &p, &s)
    }),
    ("header bit flip", |_, t, _, r| {
        let (mut h, p, s) = parts(t);
        flip(&mut h, r);
        join(&h, &p, &s)
    }),
    ("character swap", |_, t, _, r| {
        let alphabet = b"AQgw_-09azZ.=+/ ";
        let mut b = t.as_bytes().to_vec();
        let i = below(r, b.len());
        b[i] = alphabet[below(r, alphabet.len())];
        String::from_utf8(b).unwrap()
    }),
    ("truncation", |_, t, _, r| {
        t[..below(r, t.len())].to_string()
    }),
    ("segment truncation", |_, t, _, r| {
        // One segment loses its last 1-3 characters: lengths that are not canonical.
        let mut segs: Vec<String> = t.split('.').map(String::from).collect();
        let i = below(r, 3);
        let cut = 1 + below(r, 3).min(segs[i].len().saturating_sub(1));
        let keep = segs[i].len().saturating_sub(cut);
        segs[i].truncate(keep);
        segs.join(".")
    }),
    ("alg swap", |_, t, _, r| {
        // The header names another algorithm; the signature is left as it is.
        let (h, p, s) = parts(t);
        let mut map: Map<String, Value> = serde_json::from_slice(&h).unwrap();
        let other = [
            "RS256", "PS256", "ES256", "EdDSA", "HS256", "none", "ES384", "RS512",
        ];
        map.insert("alg".into(), json!(other[below(r, other.len())]));
        join(&serde_json::to_vec(&map).unwrap(), &p, &s)
    }),
    ("alg swap, re-signed", |k, t, alg, r| {
        // Signed with another algorithm's key and scheme under the original header.
        let (h, p, _) = parts(t);
        let other = ALGS[below(r, ALGS.len())];
        let input = format!("{}.{}", b64(&h), b64(&p));
        let sig = k.sign(if other == alg { "PS384" } else { other }, input.as_bytes());
        format!("{input}.{}", b64(&sig.unwrap()))
    }),
    ("re-encoding", |_, t, _, r| {
        // The same bytes in an encoding RFC 7515 §2 does not allow: padded, the standard
        // alphabet, or with the unused trailing bits set.
        use base64::Engine;
        let mut segs: Vec<String> = t.split('.').map(String::from).collect();
        let i = below(r, 3);
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&segs[i])
            .unwrap();
        segs[i] = match below(r, 3) {
            0 => base64::engine::general_purpose::URL_SAFE.encode(&raw),
            1 => base64::engine::general_purpose::STANDARD_NO_PAD.encode(&raw),
            _ => {
                let mut s = segs[i].clone().into_bytes();
                if let Some(last) = s.last_mut() {
                    // 'A' -> 'B' and so on: the next symbol differs only in the low bit.
                    *last = match *last {
                        b'Z' => b'a',
                        b'z' => b'0',
                        b'9' => b'-',
                        b'-' | b'_' => b'A',
                        c => c + 1,
                    };
                }
                String::from_utf8(s).unwrap()
            }
        };
        segs.join(".")
    }),
    ("JSON re-serialized, re-signed", |k, t, alg, r| {
        // The same header and claims in other JSON text (spacing, order, escapes): a
        // new signing input, signed again, so both must accept.
        let (h, p, _) = parts(t);
        let reformat = |bytes: &[u8], r: &mut ChaCha8Rng| -> Vec<u8> {
            let v: Value = serde_json::from_slice(bytes).unwrap();
            match below(r, 3) {
                0 => serde_json::to_vec_pretty(&v).unwrap(),
                1 => format!(" \r\n\t{v} \n").into_bytes(),
                // Member names and values spelled with escapes.
                _ => v
                    .to_string()
                    .replace(r#""alg""#, r#""\u0061lg""#)
                    .replace(r#""aud""#, r#""\u0061ud""#)
                    .replace(r#""api""#, r#""\u0061pi""#)
                    .into_bytes(),
            }
        };
        let (h2, p2) = (reformat(&h, r), reformat(&p, r));
        k.token(alg, &h2, &p2)
    }),
];

#[test]
fn mutated_tokens_keep_the_contract() {
    let keys = Keys::load();
    let v = keys.verifier();
    let mut r = rng(0x5eed);
    // Per mutation: how many changed tokens each verdict got (`--nocapture` prints it).
    let mut verdicts: BTreeMap<&str, BTreeMap<Verdict, usize>> = BTreeMap::new();
    for (a, alg) in ALGS.into_iter().enumerate() {
        for i in 0..4 {
            let token = keys.mint(alg, &header(alg, i + a as u64), &claims(i + a as u64));
            for (name, mutate) in MUTATIONS {
                for _ in 0..4 {
                    let m = mutate(&keys, &token, alg, &mut r);
                    if m == token {
                        continue;
                    }
                    let verdict = judge(&keys, &v, &m);
                    // Only a new signature makes a changed token valid again.
                    if !name.ends_with("re-signed") {
                        assert_eq!(verdict, Verdict::BothRefuse, "{name} ({alg}): {m}");
                    }
                    *verdicts
                        .entry(name)
                        .or_default()
                        .entry(verdict)
                        .or_default() += 1;
                }
            }
        }
    }
    println!("{verdicts:#?}");
    assert_eq!(verdicts.len(), MUTATIONS.len());
    assert!(verdicts.values().all(|v| v.values().sum::<usize>() > 60));
}

/// A valid claim set as JSON text, for the targeted cases.
fn base_claims() -> Map<String, Value> {
    json!({
        "iss": ISS, "aud": [AUD], "sub": "system:serviceaccount:payments:api",
        "exp": NOW + 600, "nbf": NOW - 10, "iat": NOW - 10,
        "kubernetes.io": {"namespace": "payments", "pod": {"name": "api-1"}}
    })
    .as_object()
    .unwrap()
    .clone()
}

fn base_header(alg: &str) -> Map<String, Value> {
    json!({"alg": alg, "kid": Keys::kid(alg)})
        .as_object()
        .unwrap()
        .clone()
}

/// A token whose header and claims are edited as JSON values, then signed as `alg`.
fn edited(
    keys: &Keys,
    alg: &str,
    edit: impl FnOnce(&mut Map<String, Value>, &mut Map<String, Value>),
) -> String {
    let (mut h, mut p) = (base_header(alg), base_claims());
    edit(&mut h, &mut p);
    keys.token(
        alg,
        &serde_json::to_vec(&h).unwrap(),
        &serde_json::to_vec(&p).unwrap(),
    )
}

/// A token whose header and claims JSON text is edited (for what a JSON value cannot
/// hold: duplicates, escapes), then signed as `alg`.
fn edited_text(
    keys: &Keys,
    alg: &str,
    edit: impl FnOnce(String, String) -> (String, String),
) -> String {
    let h = serde_json::to_string(&base_header(alg)).unwrap();
    let p = serde_json::to_string(&base_claims()).unwrap();
    let (h, p) = edit(h, p);
    keys.token(alg, h.as_bytes(), p.as_bytes())
}

/// The signature of a token, transformed; the rest kept.
fn resigned_sig(keys: &Keys, alg: &str, f: impl FnOnce(Vec<u8>) -> Vec<u8>) -> String {
    let t = edited(keys, alg, |_, _| {});
    let (h, p, s) = parts(&t);
    join(&h, &p, &f(s))
}

type Case = (&'static str, fn(&Keys, &str) -> String, Verdict);

fn set(
    name: &'static str,
    value: Value,
) -> impl FnOnce(&mut Map<String, Value>, &mut Map<String, Value>) {
    move |h, _| {
        h.insert(name.into(), value);
    }
}

fn claim(
    name: &'static str,
    value: Value,
) -> impl FnOnce(&mut Map<String, Value>, &mut Map<String, Value>) {
    move |_, p| {
        p.insert(name.into(), value);
    }
}

/// Edits of a valid token, re-signed with the right key: what each side makes of each
/// header and claim rule. Every rule of `oracle::RULES` is shown by at least one case.
const CASES: &[Case] = &[
    ("as minted", |k, a| edited(k, a, |_, _| {}), BothAccept),
    (
        "kid absent",
        |k, a| {
            edited(k, a, |h, _| {
                h.remove("kid");
            })
        },
        BothAccept,
    ),
    (
        "kid unknown",
        |k, a| edited(k, a, set("kid", json!("nope"))),
        Strict("kid-selects-the-key"),
    ),
    (
        "kid of another key type",
        |k, a| {
            let other = if a.starts_with('E') { "rsa" } else { "ec256" };
            edited(k, a, set("kid", json!(other)))
        },
        Strict("kid-selects-the-key"),
    ),
    (
        "kid null",
        |k, a| edited(k, a, set("kid", Value::Null)),
        Strict("header-member-types"),
    ),
    (
        "kid a number",
        |k, a| edited(k, a, set("kid", json!(7))),
        BothRefuse,
    ),
    (
        "typ null",
        |k, a| edited(k, a, set("typ", Value::Null)),
        Strict("header-member-types"),
    ),
    (
        "typ a number",
        |k, a| edited(k, a, set("typ", json!(5))),
        BothRefuse,
    ),
    (
        "typ at+jwt",
        |k, a| edited(k, a, set("typ", json!("at+jwt"))),
        BothAccept,
    ),
    (
        "cty null",
        |k, a| edited(k, a, set("cty", Value::Null)),
        Strict("header-member-types"),
    ),
    (
        "cty JWT (nested)",
        |k, a| edited(k, a, set("cty", json!("JWT"))),
        BothRefuse,
    ),
    (
        "cty json",
        |k, a| edited(k, a, set("cty", json!("json"))),
        BothAccept,
    ),
    (
        "cty of the application",
        |k, a| edited(k, a, set("cty", json!("example"))),
        OracleStricter("cty"),
    ),
    (
        "crit naming a registered member",
        |k, a| edited(k, a, set("crit", json!(["alg"]))),
        Strict("crit"),
    ),
    (
        "crit naming an extension",
        |k, a| {
            edited(k, a, |h, _| {
                h.insert("crit".into(), json!(["ext"]));
                h.insert("ext".into(), json!(1));
            })
        },
        Strict("crit"),
    ),
    (
        "crit empty",
        |k, a| edited(k, a, set("crit", json!([]))),
        Strict("crit"),
    ),
    (
        "b64 false",
        |k, a| edited(k, a, set("b64", json!(false))),
        Strict("b64"),
    ),
    (
        "b64 true",
        |k, a| edited(k, a, set("b64", json!(true))),
        BothAccept,
    ),
    (
        "jwk and x5c (ignored by both)",
        |k, a| {
            edited(k, a, |h, _| {
                h.insert("jwk".into(), json!({"kty": "oct", "k": "AAAA"}));
                h.insert("x5c".into(), json!(["not a certificate"]));
            })
        },
        BothAccept,
    ),
    (
        "x5t a valid thumbprint",
        |k, a| edited(k, a, set("x5t", json!(b64(&[7; 20])))),
        BothAccept,
    ),
    (
        "x5t a number",
        |k, a| edited(k, a, set("x5t", json!(5))),
        BothRefuse,
    ),
    (
        "jwk a string",
        |k, a| edited(k, a, set("jwk", json!("a key"))),
        Strict("header-jwk-type"),
    ),
    (
        "x5c a string",
        |k, a| edited(k, a, set("x5c", json!("JWT"))),
        Strict("header-x5c-type"),
    ),
    (
        "x5t#S256 too short",
        |k, a| edited(k, a, set("x5t#S256", json!("AAAA"))),
        OracleStricter("ignored-header-members"),
    ),
    (
        "jku a number",
        |k, a| edited(k, a, set("jku", json!(5))),
        BothRefuse,
    ),
    (
        "alg duplicated",
        |k, a| {
            edited_text(k, a, |h, p| {
                (h.replacen('{', &format!("{{\"alg\":\"{a}\","), 1), p)
            })
        },
        BothRefuse,
    ),
    (
        "kid duplicated",
        |k, a| {
            edited_text(k, a, |h, p| {
                (
                    h.replacen('{', &format!("{{\"kid\":\"{}\",", Keys::kid(a)), 1),
                    p,
                )
            })
        },
        BothRefuse,
    ),
    (
        "header member duplicated",
        |k, a| edited_text(k, a, |h, p| (h.replacen('{', "{\"x\":1,\"x\":2,", 1), p)),
        Strict("duplicate-members"),
    ),
    (
        "claim duplicated",
        |k, a| edited_text(k, a, |h, p| (h, p.replacen('{', "{\"sub\":\"admin\",", 1))),
        Strict("duplicate-members"),
    ),
    (
        "nested claim duplicated",
        |k, a| {
            edited_text(k, a, |h, p| {
                (
                    h,
                    p.replacen(
                        "\"namespace\":",
                        "\"namespace\":\"kube-system\",\"namespace\":",
                        1,
                    ),
                )
            })
        },
        Strict("duplicate-members"),
    ),
    (
        "exp duplicated",
        |k, a| {
            edited_text(k, a, |h, p| {
                (h, p.replacen('{', &format!("{{\"exp\":{},", NOW + 10), 1))
            })
        },
        BothRefuse,
    ),
    (
        "a claim spelled with escapes",
        |k, a| edited_text(k, a, |h, p| (h, p.replace("\"sub\"", "\"\\u0073ub\""))),
        BothAccept,
    ),
    (
        "nesting 40 deep",
        |k, a| {
            edited(
                k,
                a,
                claim(
                    "deep",
                    serde_json::from_str(&format!("{}1{}", "[".repeat(40), "]".repeat(40)))
                        .unwrap(),
                ),
            )
        },
        Strict("nesting"),
    ),
    (
        "nesting 200 deep",
        |k, a| {
            edited_text(k, a, |h, p| {
                (
                    h,
                    p.replacen(
                        '{',
                        &format!("{{\"deep\":{}1{},", "[".repeat(200), "]".repeat(200)),
                        1,
                    ),
                )
            })
        },
        BothRefuse,
    ),
    (
        "exp at now - skew",
        |k, a| edited(k, a, claim("exp", json!(NOW - 60))),
        Strict("exp-is-exclusive"),
    ),
    (
        "exp a second later",
        |k, a| edited(k, a, claim("exp", json!(NOW - 59))),
        BothAccept,
    ),
    (
        "exp a second earlier",
        |k, a| edited(k, a, claim("exp", json!(NOW - 61))),
        BothRefuse,
    ),
    (
        "exp fractional, just valid",
        |k, a| edited(k, a, claim("exp", json!(NOW as f64 - 59.5))),
        BothAccept,
    ),
    (
        "exp absent",
        |k, a| {
            edited(k, a, |_, p| {
                p.remove("exp");
            })
        },
        BothRefuse,
    ),
    (
        "exp a string",
        |k, a| edited(k, a, claim("exp", json!((NOW + 600).to_string()))),
        BothRefuse,
    ),
    (
        "exp beyond chrono's range",
        |k, a| edited(k, a, claim("exp", json!(1e13))),
        OracleStricter("timestamp-range"),
    ),
    (
        "iat beyond i64",
        |k, a| edited(k, a, claim("iat", json!(u64::MAX))),
        OracleStricter("timestamp-range"),
    ),
    (
        "nbf at now + skew",
        |k, a| edited(k, a, claim("nbf", json!(NOW + 60))),
        BothAccept,
    ),
    (
        "nbf a second later",
        |k, a| edited(k, a, claim("nbf", json!(NOW + 61))),
        BothRefuse,
    ),
    (
        "nbf negative",
        |k, a| edited(k, a, claim("nbf", json!(-1))),
        Strict("claim-types"),
    ),
    (
        "iat negative",
        |k, a| edited(k, a, claim("iat", json!(-5))),
        Strict("claim-types"),
    ),
    (
        "iat a string",
        |k, a| edited(k, a, claim("iat", json!("yesterday"))),
        BothRefuse,
    ),
    (
        "iat in the future",
        |k, a| edited(k, a, claim("iat", json!(NOW + 3600))),
        BothAccept,
    ),
    (
        "iss a number",
        |k, a| edited(k, a, claim("iss", json!(1))),
        Strict("claim-types"),
    ),
    (
        "sub an object",
        |k, a| edited(k, a, claim("sub", json!({"id": 1}))),
        Strict("claim-types"),
    ),
    (
        "jti a number",
        |k, a| edited(k, a, claim("jti", json!(1))),
        Strict("claim-types"),
    ),
    (
        "aud a number",
        |k, a| edited(k, a, claim("aud", json!(1))),
        Strict("claim-types"),
    ),
    (
        "aud holds a number",
        |k, a| edited(k, a, claim("aud", json!([AUD, 1]))),
        Strict("claim-types"),
    ),
    (
        "iss another issuer",
        |k, a| edited(k, a, claim("iss", json!("https://evil.example"))),
        Strict("policy-issuer"),
    ),
    (
        "aud another audience",
        |k, a| edited(k, a, claim("aud", json!(["web"]))),
        Strict("policy-audience"),
    ),
    (
        "iss absent",
        |k, a| {
            edited(k, a, |_, p| {
                p.remove("iss");
            })
        },
        Strict("policy-required-claims"),
    ),
    (
        "token over 16 KiB",
        |k, a| edited(k, a, claim("pad", json!("x".repeat(16 * 1024)))),
        Strict("token-size"),
    ),
    (
        "claims an array",
        |k, a| {
            k.token(
                a,
                serde_json::to_string(&base_header(a)).unwrap().as_bytes(),
                b"[]",
            )
        },
        BothRefuse,
    ),
    (
        "claims behind a UTF-8 BOM",
        |k, a| edited_text(k, a, |h, p| (h, format!("\u{feff}{p}"))),
        BothRefuse,
    ),
    (
        "claims with a lone surrogate",
        |k, a| edited_text(k, a, |h, p| (h, p.replacen('{', "{\"x\":\"\\ud800\",", 1))),
        BothRefuse,
    ),
    (
        "claims with invalid UTF-8",
        |k, a| {
            let h = serde_json::to_vec(&base_header(a)).unwrap();
            let mut p = serde_json::to_vec(&base_claims()).unwrap();
            p.splice(1..1, b"\"x\":\"\xff\",".iter().copied());
            k.token(a, &h, &p)
        },
        BothRefuse,
    ),
    (
        "alg lowercase",
        |k, a| edited(k, a, set("alg", json!(a.to_lowercase()))),
        BothRefuse,
    ),
    (
        "alg none, no signature",
        |k, a| {
            let t = edited(k, a, set("alg", json!("none")));
            format!("{}.", t.rsplit_once('.').unwrap().0)
        },
        BothRefuse,
    ),
    (
        "signature with a leading zero byte",
        |k, a| {
            resigned_sig(k, a, |mut s| {
                s.insert(0, 0);
                s
            })
        },
        BothRefuse,
    ),
    (
        "signature without its last byte",
        |k, a| {
            resigned_sig(k, a, |mut s| {
                s.pop();
                s
            })
        },
        BothRefuse,
    ),
    (
        "signature doubled",
        |k, a| resigned_sig(k, a, |s| [s.clone(), s].concat()),
        BothRefuse,
    ),
    (
        "signature empty",
        |k, a| resigned_sig(k, a, |_| Vec::new()),
        BothRefuse,
    ),
    (
        "token with a trailing newline",
        |k, a| edited(k, a, |_, _| {}) + "\n",
        BothRefuse,
    ),
    (
        "token with four segments",
        |k, a| edited(k, a, |_, _| {}) + ".AAAA",
        BothRefuse,
    ),
];

#[test]
fn edited_and_resigned_tokens_keep_the_contract() {
    let keys = Keys::load();
    let v = keys.verifier();
    let mut shown: Vec<&str> = Vec::new();
    let mut wrong = Vec::new();
    for (name, make, want) in CASES {
        for alg in ALGS {
            let token = make(&keys, alg);
            let got = judge(&keys, &v, &token);
            if got != *want {
                wrong.push(format!("{name} ({alg}): expected {want:?}, got {got:?}"));
            }
            if let Strict(rule) = got {
                shown.push(rule);
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Shown by their own tests: they need a key set or a key size no other case has.
    let own_test = ["candidate-bound", "kid-selects-the-key-size"];
    for rule in RULES.iter().filter(|r| !own_test.contains(&r.name)) {
        assert!(
            shown.contains(&rule.name),
            "no case shows rule {}",
            rule.name
        );
    }
}

/// `a + b` for little-endian 32-byte numbers (no overflow: both are below 2^253 here).
fn add_le(a: &[u8], b: &[u8; 32]) -> Vec<u8> {
    let mut carry = 0u16;
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let s = *x as u16 + *y as u16 + carry;
            carry = s >> 8;
            s as u8
        })
        .collect()
}

/// Other encodings of a valid signature, per algorithm family: what the curves' and the
/// RSA engine's rules make of each on both sides.
#[test]
fn signature_encodings_keep_the_contract() {
    let keys = Keys::load();
    let v = keys.verifier();
    let check = |alg: &str, what: &str, f: &dyn Fn(Vec<u8>) -> Vec<u8>, want: Verdict| {
        let token = resigned_sig(&keys, alg, f);
        assert_eq!(judge(&keys, &v, &token), want, "{alg}: {what}");
    };
    // ECDSA is malleable: (r, n - s) verifies as well as (r, s). RFC 7518 §3.4 does not
    // ask for low s, and neither side does.
    check(
        "ES256",
        "high s",
        &|s| {
            let sig = p256::ecdsa::Signature::from_slice(&s).unwrap();
            let flipped =
                p256::ecdsa::Signature::from_scalars(sig.r().to_bytes(), (-*sig.s()).to_bytes())
                    .unwrap();
            flipped.to_bytes().to_vec()
        },
        BothAccept,
    );
    check(
        "ES256",
        "DER",
        &|s| {
            p256::ecdsa::Signature::from_slice(&s)
                .unwrap()
                .to_der()
                .as_bytes()
                .to_vec()
        },
        BothRefuse,
    );
    check(
        "ES256",
        "r = 0",
        &|mut s| {
            s[..32].fill(0);
            s
        },
        BothRefuse,
    );
    check(
        "ES256",
        "s = 0",
        &|mut s| {
            s[32..].fill(0);
            s
        },
        BothRefuse,
    );
    check(
        "ES256",
        "r = s = 0 (psychic signature)",
        &|s| vec![0; s.len()],
        BothRefuse,
    );
    check(
        "ES256",
        "r = n",
        &|mut s| {
            s[..32].copy_from_slice(&hex(
                "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
            ));
            s
        },
        BothRefuse,
    );
    // Ed25519's S + L is the same scalar in a non-canonical encoding (RFC 8032 §5.1.7).
    // L, the order of the base point, little-endian (RFC 8032 §5.1).
    let l_le: [u8; 32] = hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
        .try_into()
        .unwrap();
    for alg in ["EdDSA", "Ed25519"] {
        check(
            alg,
            "S + L",
            &|s| [s[..32].to_vec(), add_le(&s[32..], &l_le)].concat(),
            BothRefuse,
        );
    }
    // An RSA signature whose first byte is 0, without it: one byte short of the modulus.
    for alg in ["RS256", "PS256"] {
        let token = (0..4096)
            .map(|i| edited(&keys, alg, claim("jti", json!(i.to_string()))))
            .find(|t| parts(t).2[0] == 0)
            .unwrap();
        let (h, p, s) = parts(&token);
        assert_eq!(judge(&keys, &v, &token), BothAccept);
        assert_eq!(
            judge(&keys, &v, &join(&h, &p, &s[1..])),
            BothRefuse,
            "{alg}: short"
        );
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Without `kid`, jwtgate tries at most `MAX_CANDIDATES` keys of the token's type.
#[test]
fn no_kid_and_too_many_keys_is_the_candidate_bound() {
    let keys = Keys::load();
    let jwks: Value = serde_json::from_str(&keys.jwks()).unwrap();
    let rsa = jwks["keys"][0].clone();
    let many: Vec<Value> = (0..=jwtgate::MAX_CANDIDATES)
        .map(|i| {
            let mut k = rsa.clone();
            k["kid"] = json!(format!("rsa-{i}"));
            k
        })
        .collect();
    let key_set =
        jwtgate::KeySet::from_jwks(json!({ "keys": many }).to_string().as_bytes()).unwrap();
    let policy = jwtgate::Policy::new().issuer(ISS).audience(AUD);
    let v = jwtgate::Verifier::new(key_set, policy);
    let token = edited(&keys, "RS256", |h, _| {
        h.remove("kid");
    });
    assert_eq!(judge(&keys, &v, &token), Strict("candidate-bound"));
    let named = edited(&keys, "RS256", set("kid", json!("rsa-3")));
    assert_eq!(judge(&keys, &v, &named), BothAccept);
}

/// Found by the `resign` fuzz target: a `kid` naming an RSA key of another size than the
/// one that signed is refused as `bad_signature` (RFC 8017 §8.2.2 step 1: the signature is
/// exactly as long as the named key's modulus), where jwt-compact, handed both RSA keys,
/// tries the other one.
#[test]
fn a_kid_naming_an_rsa_key_of_another_size_is_refused() {
    let keys = Keys::load();
    let v = keys.verifier();
    for (alg, other) in [
        ("RS512", "rsa"),
        ("PS512", "rsa"),
        ("RS256", "rsa4096"),
        ("PS256", "rsa4096"),
    ] {
        let token = edited(&keys, alg, set("kid", json!(other)));
        assert_eq!(
            judge(&keys, &v, &token),
            Strict("kid-selects-the-key-size"),
            "{alg}"
        );
    }
}

/// Found by this differential and fixed in the core: the registered members `jku`, `x5u`,
/// `x5t`, `x5t#S256`, `x5c` and `jwk` keep their RFC 7515 §4.1 types (as `kid`, `typ` and
/// `cty` do) even though jwtgate never reads them; the wrong type is `malformed`.
#[test]
fn registered_header_members_keep_their_types() {
    let keys = Keys::load();
    let v = keys.verifier();
    for (member, value) in [
        ("jku", json!(5)),
        ("x5u", json!(["https://a.example"])),
        ("x5t", json!(5)),
        ("x5t#S256", json!({"a": 1})),
        ("x5c", json!("not an array")),
        ("x5c", json!([])),
        ("jwk", json!("a key")),
    ] {
        let token = edited(&keys, "RS256", |h, _| {
            h.insert(member.into(), value);
        });
        let e = v.verify(&token, NOW as u64).err();
        assert_eq!(
            e.map(|e| e.code()),
            Some(jwtgate::ErrorCode::Malformed),
            "{member}"
        );
    }
}
