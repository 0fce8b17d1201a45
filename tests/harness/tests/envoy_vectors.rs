//! The shared vector corpus (`tests/vectors/corpus.json`) through the jwtgate filter: for each
//! token case, the filter is configured with the case's key set (inline) and policy, the
//! host clock is set to the case's `now`, the token is sent as `Authorization: Bearer`, and
//! the filter's verdict (no local response: `ok`; else the code of the JSON body, which must
//! equal the `WWW-Authenticate` `error_description`) must be the core's `expect`. For `ok`
//! cases with `claims`, the forwarded payload header must carry those claims.
//!
//! Cases the filter cannot express are skipped by name with a counted reason.
//! `JWTGATE_VECTORS_VERBOSE=1` prints every case.

mod envoy_common;

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use envoy_common::*;
use jwtgate_harness::{Host, LogLevel};
use serde_json::{json, Value};

/// RFC 6750 §2.1 `b64token`: what `Authorization: Bearer` can carry.
fn is_b64token(t: &str) -> bool {
    let body = t.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-._~+/".contains(&c))
}

/// Why the filter cannot run `case`, if it cannot.
fn skip_reason(case: &Value, token: &str) -> Option<&'static str> {
    if case["entry"] != "verify" {
        return Some("verify_jws entry: the filter always checks claims and policy");
    }
    if token.is_empty() {
        return Some("empty token: an empty header is no token at the HTTP layer");
    }
    if token.bytes().any(|b| !(0x20..0x7f).contains(&b)) {
        return Some("not an HTTP header value (control or non-ASCII bytes)");
    }
    if token.trim_matches([' ', '\t']) != token {
        return Some("leading or trailing whitespace: HTTP strips it from header values");
    }
    if !is_b64token(token) && case["expect"] != "malformed" {
        return Some("not an RFC 6750 b64token: Authorization: Bearer cannot carry it");
    }
    None
}

fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

fn config(case: &Value) -> String {
    let policy = policy(case["policy"].as_str().expect("policy"));
    let mut provider = Value::Object(policy);
    merge(
        &mut provider,
        json!({
            "local_jwks": { "inline_string": jwks_text(case["jwks"].as_str().expect("jwks")) },
            "forward_payload_header": "x-jwt-payload",
        }),
    );
    json!({
        "providers": { "p": provider },
        "rules": [ { "match": { "prefix": "/" }, "requires": { "provider_name": "p" } } ],
        "cache_size": 0,
    })
    .to_string()
}

/// Whether the core's `missing_claim` for this case is about `aud`: the filter answers that
/// with 403, as `jwt_authn` does (`iss` is checked before `aud`).
fn missing_aud(case: &Value, token: &str) -> bool {
    let policy = policy(case["policy"].as_str().unwrap_or(""));
    let payload: Option<Value> = token
        .split('.')
        .nth(1)
        .and_then(b64url_decode)
        .and_then(|b| serde_json::from_slice(&b).ok());
    let Some(payload) = payload else { return false };
    policy.contains_key("audiences")
        && payload.get("aud").is_none()
        && (!policy.contains_key("issuers") || payload.get("iss").is_some())
}

/// Runs one case; `Err` says how the filter's answer differs from `expect`.
fn run(host: &mut Host, case: &Value, token: &str) -> Result<String, String> {
    if !host.configure(config(case)).map_err(|e| e.to_string())? {
        return Err(format!("configuration refused: {:?}", host.logs().last()));
    }
    let now = case["now"].as_u64().expect("now");
    host.set_time(UNIX_EPOCH + Duration::from_secs(now));
    let out = host
        .worker(0)
        .request(&[
            (":method", "GET"),
            (":path", "/api"),
            (":authority", "api"),
            ("authorization", &format!("Bearer {token}")),
        ])
        .map_err(|e| e.to_string())?;
    let got = verdict(&out);
    let stream = host.finish(out.stream).map_err(|e| e.to_string())?;
    if let Some(r) = &out.local_response {
        if error_description(r).as_deref() != Some(got.as_str()) {
            return Err(format!(
                "body says {got} but WWW-Authenticate is {:?}",
                r.header("www-authenticate")
            ));
        }
        let status = if matches!(got.as_str(), "bad_audience" | "claim_rule_failed")
            || (got == "missing_claim" && missing_aud(case, token))
        {
            403
        } else {
            401
        };
        if r.status != status {
            return Err(format!("{got} answered {} (expected {status})", r.status));
        }
    }
    if got == "ok" {
        if let Some(claims) = case["claims"].as_object() {
            let header = stream
                .request_header("x-jwt-payload")
                .ok_or("no x-jwt-payload header on an allowed request")?;
            let payload: Value = b64url_decode(&header)
                .and_then(|b| serde_json::from_slice(&b).ok())
                .ok_or("x-jwt-payload is not base64url JSON")?;
            for (k, v) in claims {
                if payload.get(k) != Some(v) {
                    return Err(format!(
                        "claim {k}: forwarded {:?}, expected {v}",
                        payload.get(k)
                    ));
                }
            }
        }
    }
    Ok(got)
}

#[test]
fn every_corpus_verdict_equals_the_cores() {
    let verbose = std::env::var_os("JWTGATE_VECTORS_VERBOSE").is_some();
    let mut host = Host::new(filter())
        .log_level(LogLevel::Info)
        .configure(single(inline_provider("main", json!({}))))
        .expect("the filter starts");
    let cases = corpus()["cases"].as_array().expect("cases");
    let (mut passed, mut known_bugs) = (0, 0);
    let mut skipped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let token = case_token(case);
        if let Some(why) = skip_reason(case, &token) {
            skipped.entry(why).or_default().push(name);
            continue;
        }
        let expect = case["expect"].as_str().expect("expect");
        let known_bug = case["known_bug"] == true;
        let result = run(&mut host, case, &token);
        if verbose {
            eprintln!("{name}: expect {expect}, got {result:?}");
        }
        match (result, known_bug) {
            (Ok(got), false) if got == expect => passed += 1,
            (Ok(got), true) if got == expect => failures.push(format!(
                "{name}: passes but is marked known_bug; remove the flag from the generator"
            )),
            (_, true) => known_bugs += 1,
            (Ok(got), false) => failures.push(format!("{name}: expected {expect}, got {got}")),
            (Err(e), false) => failures.push(format!("{name}: expected {expect}: {e}")),
        }
    }
    let skipped_count: usize = skipped.values().map(Vec::len).sum();
    eprintln!(
        "corpus through the filter: {passed} passed, {skipped_count} skipped, {known_bugs} known core bugs, {} failed",
        failures.len()
    );
    for (why, names) in &skipped {
        eprintln!("  skipped {} ({why}): {}", names.len(), names.join(", "));
    }
    assert!(
        failures.is_empty(),
        "{} corpus cases differ from the core:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(passed > 300, "too few cases ran: {passed}");
}
