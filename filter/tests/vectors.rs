//! The shared vector corpus (`tests/vectors/corpus.json`) run through the core: every
//! token case through `KeySet::from_jwks` + `Policy::from_json` + `Verifier::verify` or
//! `verify_jws`, every JWKS case through `KeySet::from_jwks`. The other surfaces (the
//! Envoy filter in the harness and in Envoy, the JS package) run the same file and must
//! give the same codes. All mismatches are reported at once.
//!
//! `JWTGATE_VECTORS_VERBOSE=1 cargo test -p jwtgate --test vectors -- --nocapture`
//! prints every case's verdict and reason.
// Test code: a failure should stop loudly (the no-panic lints are for the library).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use jwtgate::{ErrorCode, KeySet, Policy, Verifier};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

const CORPUS: &str = include_str!("../../tests/vectors/corpus.json");

fn corpus() -> Value {
    serde_json::from_str(CORPUS).expect("corpus.json is valid JSON")
}

fn text<'a>(case: &'a Value, field: &str) -> &'a str {
    case[field]
        .as_str()
        .unwrap_or_else(|| panic!("{}: {field} missing", case["name"]))
}

/// The token of a case: `token`, or `token_repeat` = prefix + unit × count + suffix.
fn token_of(case: &Value) -> String {
    if let Some(t) = case["token"].as_str() {
        return t.to_owned();
    }
    let r = &case["token_repeat"];
    let count = r["count"].as_u64().expect("token_repeat.count") as usize;
    let mut t = String::from(text(r, "prefix"));
    t.push_str(&text(r, "unit").repeat(count));
    t.push_str(r["suffix"].as_str().unwrap_or(""));
    t
}

fn code(result: Result<(), jwtgate::Error>) -> (String, String) {
    match result {
        Ok(()) => ("ok".to_owned(), String::new()),
        Err(e) => (e.code().as_str().to_owned(), e.reason().to_owned()),
    }
}

/// Runs one token case; `Err` describes a mismatch.
fn run_case(
    case: &Value,
    keys: &BTreeMap<String, KeySet>,
    policies: &BTreeMap<String, Policy>,
) -> Result<(), String> {
    let keys = keys.get(text(case, "jwks")).ok_or("unknown jwks")?;
    let policy = policies.get(text(case, "policy")).ok_or("unknown policy")?;
    let token = token_of(case);
    let now = case["now"].as_u64().ok_or("now is not a u64")?;
    let expect = text(case, "expect");
    let verifier = Verifier::new(keys.clone(), policy.clone());
    let (got, reason) = match text(case, "entry") {
        "verify" => {
            let result = verifier.verify(&token, now);
            if let Ok(v) = &result {
                if let Some(Value::Object(claims)) = case.get("claims") {
                    for (name, want) in claims {
                        let have = v.claims().as_map().get(name);
                        if have != Some(want) {
                            return Err(format!("claim {name}: expected {want}, got {have:?}"));
                        }
                    }
                }
            }
            // The cached path must agree: a miss, then a hit that re-checks the times.
            let cached = Verifier::new(keys.clone(), policy.clone()).with_cache(4);
            for round in ["miss", "hit"] {
                let c = code(cached.verify(&token, now).map(|_| ()));
                if c.0 != code(result.clone().map(|_| ())).0 {
                    return Err(format!("cache {round} gave {} ({})", c.0, c.1));
                }
            }
            // `cached` answers for exactly the tokens that verified, as `verify` would, at
            // any time; such a token is a b64token, so a caller may leave that scan (the
            // Envoy filter's) until `cached` answers `None`.
            let later = now.saturating_mul(2);
            match (cached.cached(&token, now), &result) {
                (Some(Ok(_)), Ok(_)) | (None, Err(_)) => {}
                (c, _) => {
                    return Err(format!(
                        "cached() gave {:?}",
                        c.map(|c| code(c.map(|_| ())).0)
                    ))
                }
            }
            if result.is_ok() {
                let c = cached.cached(&token, later).map(|c| code(c.map(|_| ())).0);
                let v = code(cached.verify(&token, later).map(|_| ())).0;
                if c.as_deref() != Some(v.as_str()) {
                    return Err(format!("cached() later gave {c:?}, verify {v}"));
                }
                if jwtgate::bearer_token(&format!("Bearer {token}")) != Ok(Some(token.as_str())) {
                    return Err("a verified token is not an RFC 6750 b64token".into());
                }
            }
            code(result.map(|_| ()))
        }
        "verify_jws" => {
            let result = verifier.verify_jws(&token);
            if let (Ok(jws), Some(want)) = (&result, case["payload"].as_str()) {
                if jws.payload != want.as_bytes() {
                    return Err(format!(
                        "payload differs: {:?}",
                        String::from_utf8_lossy(&jws.payload)
                    ));
                }
            }
            code(result.map(|_| ()))
        }
        other => return Err(format!("unknown entry {other}")),
    };
    if std::env::var_os("JWTGATE_VECTORS_VERBOSE").is_some() {
        println!("{:<45} {:<24} {reason}", text(case, "name"), got);
    }
    // Hosts put reasons in headers (Node and `Headers` throw on anything else).
    if !reason.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(format!("reason is not printable ASCII: {reason:?}"));
    }
    if got == expect {
        Ok(())
    } else {
        Err(format!("expected {expect}, got {got} ({reason})"))
    }
}

/// Runs one JWKS case; `Err` describes a mismatch.
fn run_jwks_case(case: &Value) -> Result<(), String> {
    let raw = text(case, "jwks_raw");
    let expect = text(case, "expect");
    let result = KeySet::from_jwks(raw.as_bytes());
    let got = match &result {
        Ok(_) => "ok",
        Err(e) => e.code().as_str(),
    };
    if got != expect {
        let reason = result
            .err()
            .map(|e| e.reason().to_owned())
            .unwrap_or_default();
        return Err(format!("expected {expect}, got {got} ({reason})"));
    }
    let Ok(set) = result else { return Ok(()) };
    let loaded: Vec<Value> = set
        .kids()
        .map(|k| k.map_or(Value::Null, Value::from))
        .collect();
    if case["loaded"].as_array() != Some(&loaded) {
        return Err(format!(
            "loaded: expected {}, got {loaded:?}",
            case["loaded"]
        ));
    }
    let skipped: Vec<Value> = set
        .skipped()
        .iter()
        .map(|s| {
            let mut m = Map::new();
            m.insert("index".into(), s.index.into());
            m.insert("kid".into(), s.kid.clone().map_or(Value::Null, Value::from));
            m.insert("reason".into(), s.reason.as_str().into());
            Value::Object(m)
        })
        .collect();
    if case["skipped"].as_array() != Some(&skipped) {
        return Err(format!(
            "skipped: expected {}, got {}",
            case["skipped"],
            Value::Array(skipped)
        ));
    }
    Ok(())
}

#[test]
fn every_vector_gives_the_expected_verdict() {
    let corpus = corpus();
    assert_eq!(corpus["version"], 1, "corpus version");
    let keys: BTreeMap<String, KeySet> = corpus["jwks"]
        .as_object()
        .expect("jwks")
        .iter()
        .map(|(name, doc)| {
            let bytes = serde_json::to_vec(doc).expect("serialise");
            let set = KeySet::from_jwks(&bytes).unwrap_or_else(|e| panic!("jwks {name}: {e}"));
            (name.clone(), set)
        })
        .collect();
    let policies: BTreeMap<String, Policy> = corpus["policies"]
        .as_object()
        .expect("policies")
        .iter()
        .map(|(name, doc)| {
            let bytes = serde_json::to_vec(doc).expect("serialise");
            let policy = Policy::from_json(&bytes).unwrap_or_else(|e| panic!("policy {name}: {e}"));
            (name.clone(), policy)
        })
        .collect();

    let mut failures = Vec::new();
    let mut known_bugs = Vec::new();
    let mut total = 0;
    for case in corpus["cases"].as_array().expect("cases") {
        total += 1;
        let name = text(case, "name");
        let known_bug = case["known_bug"].as_bool() == Some(true);
        match (run_case(case, &keys, &policies), known_bug) {
            (Ok(()), false) => {}
            (Err(why), false) => failures.push(format!("{name}: {why}")),
            (Err(why), true) => known_bugs.push(format!("{name}: {why}")),
            (Ok(()), true) => {
                failures.push(format!("{name}: passes now; remove its known_bug flag"))
            }
        }
    }
    for case in corpus["jwks_cases"].as_array().expect("jwks_cases") {
        total += 1;
        if let Err(why) = run_jwks_case(case) {
            failures.push(format!("{}: {why}", text(case, "name")));
        }
    }
    for case in corpus["policy_cases"].as_array().expect("policy_cases") {
        total += 1;
        let name = text(case, "name");
        let got = Policy::from_json(text(case, "policy_raw").as_bytes());
        match (got, text(case, "expect")) {
            (Ok(_), "ok") => {}
            (Err(e), "bad_policy")
                if e.code() == ErrorCode::BadPolicy && e.field() == case["field"].as_str() => {}
            (got, want) => failures.push(format!("{name}: expected {want}, got {got:?}")),
        }
    }
    for bug in &known_bugs {
        eprintln!("known bug (expected to fail until fixed in the core): {bug}");
    }
    assert!(
        failures.is_empty(),
        "{} of {total} vectors disagree with the core:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

#[test]
fn the_corpus_covers_every_verdict() {
    let corpus = corpus();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for case in corpus["cases"].as_array().expect("cases") {
        seen.insert(text(case, "expect"));
    }
    for case in corpus["jwks_cases"].as_array().expect("jwks_cases") {
        seen.insert(text(case, "expect"));
    }
    // Configuration and discovery errors are not verdicts on a token or a key set, and
    // missing/multiple tokens are decided by hosts before a token reaches the core.
    // A new code fails this test until it gets vectors or joins this list.
    let not_vectors = [
        ErrorCode::BadPolicy,
        ErrorCode::BadDiscovery,
        ErrorCode::JwksFetchFailed,
        ErrorCode::MissingToken,
        ErrorCode::MultipleTokens,
    ];
    let missing: Vec<&str> = ErrorCode::ALL
        .iter()
        .filter(|c| !not_vectors.contains(c))
        .map(|c| c.as_str())
        .filter(|c| !seen.contains(c))
        .collect();
    assert!(missing.is_empty(), "no vector expects {missing:?}");
}
