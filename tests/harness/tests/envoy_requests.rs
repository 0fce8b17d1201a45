//! The jwtgate filter's request handling through the harness (issue 4, "Requests" and
//! "Configuration"): configuration errors, token extraction, replies, forwarding, rules,
//! cache and metrics. Keys are inline; `envoy_jwks.rs` covers fetched keys.

mod envoy_common;

use std::time::{Duration, UNIX_EPOCH};

use envoy_common::*;
use jwtgate_harness::{Action, Host, LogLevel, StreamState};
use serde_json::{json, Value};

fn main_provider(extra: Value) -> Value {
    let mut p = json!({ "issuer": ISSUER, "audiences": ["orders-api"] });
    merge(&mut p, extra);
    inline_provider("rotation", p)
}

fn allowed(out: &jwtgate_harness::Outcome) -> bool {
    out.action == Action::Continue && out.state == StreamState::Flowing
}

fn b64url_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => panic!("not base64url: {s:?}"),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------

#[test]
fn invalid_configurations_are_refused_with_the_field_named() {
    let good = single(main_provider(json!({})));
    let mut host = host(&good);
    let jwks = jwks_text("main");
    let cases: Vec<(String, &str)> = vec![
        ("not json".into(), "configuration"),
        ("[]".into(), "configuration"),
        ("{}".into(), "providers"),
        (json!({ "providers": {} }).to_string(), "providers"),
        (json!({ "providers": { "p": {} } }).to_string(), "providers.p"),
        (
            single(json!({ "local_jwks": { "inline_string": jwks }, "issuer": 3 })),
            "providers.p.issuer",
        ),
        (
            single(json!({ "local_jwks": { "inline_string": jwks }, "audences": ["a"] })),
            "providers.p.audences",
        ),
        (
            single(json!({ "local_jwks": { "inline_string": "{}" } })),
            "providers.p.local_jwks",
        ),
        (
            single(json!({ "local_jwks": { "inline_string": jwks }, "from_headers": [ { "name": "bad header" } ] })),
            "providers.p.from_headers[0].name",
        ),
        (
            single(json!({ "local_jwks": { "inline_string": jwks }, "claim_to_headers": [ { "header_name": "x" } ] })),
            "providers.p.claim_to_headers[0].claim_name",
        ),
        (
            single(json!({ "remote_jwks": { "http_uri": { "uri": "ftp://idp/jwks", "cluster": "idp" } } })),
            "providers.p.remote_jwks.http_uri.uri",
        ),
        (
            single(json!({ "remote_jwks": { "http_uri": { "uri": "http://idp/jwks", "cluster": "idp", "timeout": "5 parsecs" } } })),
            "providers.p.remote_jwks.http_uri.timeout",
        ),
        (
            single(json!({ "oidc_discovery": { "cluster": "idp" } })),
            "providers.p.oidc_discovery.issuer_uri",
        ),
        (
            json!({ "providers": { "p": { "local_jwks": { "inline_string": jwks } } },
                    "rules": [ { "match": { "prefix": "/" }, "requires": { "provider_name": "q" } } ] })
            .to_string(),
            "rules[0].requires.provider_name",
        ),
        (
            json!({ "providers": { "p": { "local_jwks": { "inline_string": jwks } } },
                    "rules": [ { "match": { "safe_regex": { "regex": "(" } } } ] })
            .to_string(),
            "rules[0].match.safe_regex.regex",
        ),
        (
            json!({ "providers": { "p": { "local_jwks": { "inline_string": jwks } } }, "cache_size": -1 })
                .to_string(),
            "cache_size",
        ),
        (
            json!({ "providers": { "p": { "local_jwks": { "inline_string": jwks } } }, "extra": 1 })
                .to_string(),
            "extra",
        ),
    ];
    for (config, field) in &cases {
        host.clear_logs();
        let ok = host
            .configure(config)
            .unwrap_or_else(|e| panic!("{config}: trapped: {e}"));
        assert!(!ok, "accepted: {config}");
        assert!(
            host.logged(LogLevel::Error, &format!("{field}:")),
            "no error log naming {field} for {config}: {:?}",
            host.logs()
        );
        // The last good configuration keeps serving.
        let out = bearer(&mut host, 0, &valid_token());
        assert!(allowed(&out), "{config}: {:?}", out.local_response);
        host.finish(out.stream).unwrap();
    }
    assert!(host.configure(&good).unwrap(), "a good push is accepted");
}

#[test]
fn a_filter_that_never_got_a_valid_configuration_fails_closed() {
    let mut host = Host::new(filter())
        .configure("{")
        .expect("no trap on a bad first configuration");
    assert!(!host.configured());
    let out = bearer(&mut host, 0, &valid_token());
    let r = out.local_response.expect("refused");
    assert_eq!(r.status, 401);
}

// ---------------------------------------------------------------------------------------
// Token extraction
// ---------------------------------------------------------------------------------------

#[test]
fn the_bearer_scheme_is_case_insensitive() {
    let mut host = host(&single(main_provider(json!({}))));
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let value = format!("{scheme} {}", valid_token());
        let out = get(&mut host, 0, "/api", &[("authorization", value.as_str())]);
        assert!(allowed(&out), "{scheme}: {:?}", out.local_response);
        host.finish(out.stream).unwrap();
    }
    // Another scheme is no token at all.
    let out = get(
        &mut host,
        0,
        "/api",
        &[("authorization", "Basic dXNlcjpwdw==")],
    );
    assert_eq!(code(&out.local_response.unwrap()), "missing_token");
}

#[test]
fn a_custom_header_with_a_prefix_carries_the_token() {
    let mut host = host(&single(main_provider(json!({
        "from_headers": [ { "name": "x-jwt", "value_prefix": "JWT " } ],
    }))));
    let value = format!("JWT {}", valid_token());
    let out = get(&mut host, 0, "/api", &[("x-jwt", value.as_str())]);
    assert!(allowed(&out), "{:?}", out.local_response);
    let s = host.finish(out.stream).unwrap();
    assert_eq!(s.request_header("x-jwt"), None, "the token is stripped");
    // Only the configured place counts.
    let out = bearer(&mut host, 0, &valid_token());
    assert_eq!(code(&out.local_response.unwrap()), "missing_token");
    // A value without the prefix is no token.
    let out = get(&mut host, 0, "/api", &[("x-jwt", valid_token().as_str())]);
    assert_eq!(code(&out.local_response.unwrap()), "missing_token");
}

#[test]
fn a_query_parameter_carries_the_token_and_is_removed() {
    let mut host = host(&single(main_provider(json!({ "from_params": ["tok"] }))));
    let path = format!("/api?a=1&tok={}&b=2", valid_token());
    let out = get(&mut host, 0, &path, &[]);
    assert!(allowed(&out), "{:?}", out.local_response);
    let s = host.finish(out.stream).unwrap();
    assert_eq!(s.request_header(":path").as_deref(), Some("/api?a=1&b=2"));
}

#[test]
fn the_default_sources_are_authorization_and_access_token() {
    let mut host = host(&single(main_provider(json!({}))));
    let path = format!("/api?access_token={}", valid_token());
    let out = get(&mut host, 0, &path, &[]);
    assert!(allowed(&out), "{:?}", out.local_response);
    host.finish(out.stream).unwrap();
}

#[test]
fn a_cookie_carries_the_token_and_the_cookie_header_is_forwarded_unchanged() {
    let mut host = host(&single(main_provider(
        json!({ "from_cookies": ["session"] }),
    )));
    let cookie = format!("theme=dark; session={}; lang=en", valid_token());
    let out = get(&mut host, 0, "/api", &[("cookie", cookie.as_str())]);
    assert!(allowed(&out), "{:?}", out.local_response);
    let s = host.finish(out.stream).unwrap();
    // As jwt_authn: the Cookie header goes upstream as it came.
    assert_eq!(s.request_header("cookie").as_deref(), Some(cookie.as_str()));
}

#[test]
fn two_tokens_are_an_error() {
    let mut host = host(&single(main_provider(json!({}))));
    let value = format!("Bearer {}", valid_token());
    let two_headers = get(
        &mut host,
        0,
        "/api",
        &[
            ("authorization", value.as_str()),
            ("authorization", value.as_str()),
        ],
    );
    let path = format!("/api?access_token={}", valid_token());
    let header_and_param = get(&mut host, 0, &path, &[("authorization", value.as_str())]);
    for out in [two_headers, header_and_param] {
        let r = out.local_response.expect("refused");
        assert_eq!(r.status, 400);
        assert_eq!(code(&r), "multiple_tokens");
        assert!(r
            .header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_request\""));
    }
}

// ---------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------

#[test]
fn a_missing_token_gets_401_with_a_bare_challenge() {
    let mut host = host(
        &json!({
            "providers": { "p": main_provider(json!({})) },
            "rules": [ { "match": { "prefix": "/" }, "requires": { "provider_name": "p" } } ],
            "realm": "orders",
        })
        .to_string(),
    );
    let out = get(&mut host, 0, "/api", &[]);
    assert_eq!(out.state, StreamState::Responded);
    let r = out.local_response.unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate").as_deref(),
        Some("Bearer realm=\"orders\"")
    );
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body, json!({ "error": "missing_token" }));
}

#[test]
fn an_invalid_token_gets_401_invalid_token_with_the_core_code() {
    let mut host = host(&single(main_provider(json!({}))));
    host.set_time(UNIX_EPOCH + Duration::from_secs(NOW + 7200));
    let out = bearer(&mut host, 0, &valid_token());
    let r = out.local_response.unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate").as_deref(),
        Some(r#"Bearer realm="jwtgate", error="invalid_token", error_description="expired""#)
    );
    assert_eq!(code(&r), "expired");
    // A forged signature.
    let mut forged = valid_token();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'Q' } else { 'A' });
    host.set_time(UNIX_EPOCH + Duration::from_secs(NOW));
    let out = bearer(&mut host, 0, &forged);
    let r = out.local_response.unwrap();
    assert_eq!(r.status, 401);
    assert!(matches!(code(&r).as_str(), "bad_signature" | "malformed"));
}

#[test]
fn a_valid_token_failing_audience_or_claim_rules_gets_403_insufficient_scope() {
    for (extra, expect) in [
        (json!({ "audiences": ["billing-api"] }), "bad_audience"),
        (json!({ "claims": { "sub": ["bob"] } }), "claim_rule_failed"),
    ] {
        let mut host = host(&single(main_provider(extra)));
        let out = bearer(&mut host, 0, &valid_token());
        let r = out.local_response.unwrap();
        assert_eq!(r.status, 403, "{expect}");
        assert_eq!(code(&r), expect);
        assert_eq!(
            r.header("www-authenticate"),
            Some(format!(
                r#"Bearer realm="jwtgate", error="insufficient_scope", error_description="{expect}""#
            ))
        );
    }
}

#[test]
fn no_token_text_reaches_logs_above_debug() {
    let mut host = host(&single(main_provider(
        json!({ "audiences": ["billing-api"] }),
    )));
    let tokens = [valid_token(), rotated_token(), eks_token(), "a.b.c".into()];
    for t in &tokens {
        let out = bearer(&mut host, 0, t);
        host.finish(out.stream).unwrap();
    }
    host.set_time(UNIX_EPOCH + Duration::from_secs(NOW + 7200));
    let out = bearer(&mut host, 0, &valid_token());
    host.finish(out.stream).unwrap();
    host.advance(Duration::from_secs(2)).unwrap();
    for l in host.logs() {
        if l.level > LogLevel::Debug {
            for t in &tokens {
                for part in t.split('.').filter(|p| p.len() > 8) {
                    assert!(!l.message.contains(part), "token text in {l:?}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Forwarding
// ---------------------------------------------------------------------------------------

#[test]
fn the_token_is_stripped_unless_forward_is_set() {
    for (forward, kept) in [(false, false), (true, true)] {
        let mut host = host(&single(main_provider(json!({ "forward": forward }))));
        let out = bearer(&mut host, 0, &valid_token());
        assert!(allowed(&out));
        let s = host.finish(out.stream).unwrap();
        assert_eq!(
            s.request_header("authorization").is_some(),
            kept,
            "forward {forward}"
        );
    }
}

#[test]
fn the_payload_header_carries_the_verified_payload() {
    for pad in [false, true] {
        let mut host = host(&single(main_provider(json!({
            "forward_payload_header": "x-jwt-payload",
            "pad_forward_payload_header": pad,
        }))));
        // A client cannot supply the header itself.
        let out = get(
            &mut host,
            0,
            "/api",
            &[
                ("authorization", &format!("Bearer {}", valid_token())),
                ("x-jwt-payload", "e30"),
            ],
        );
        assert!(allowed(&out));
        let s = host.finish(out.stream).unwrap();
        let h = s.request_header("x-jwt-payload").expect("payload header");
        if pad {
            assert_eq!(h.len() % 4, 0, "padded: {h}");
        } else {
            assert!(!h.contains('='), "unpadded: {h}");
        }
        let payload: Value = serde_json::from_slice(&b64url_decode(&h)).unwrap();
        assert_eq!(payload["sub"], "alice");
        assert_eq!(payload["aud"], "orders-api");
        // The payload is the token's own segment, decoded.
        let token = valid_token();
        let segment = token.split('.').nth(1).unwrap();
        assert_eq!(b64url_decode(segment), b64url_decode(&h));
    }
}

#[test]
fn claims_are_copied_to_headers_with_nested_paths() {
    let mut eks = Value::Object(policy("eks"));
    merge(
        &mut eks,
        json!({
            "claim_to_headers": [
                { "header_name": "x-sub", "claim_name": "sub" },
                { "header_name": "x-ns", "claim_name": "kubernetes.io.namespace" },
                { "header_name": "x-sa", "claim_name": "kubernetes.io.serviceaccount.name" },
                { "header_name": "x-aud", "claim_name": "aud" },
                { "header_name": "x-absent", "claim_name": "no.such.claim" },
            ],
        }),
    );
    let mut host = host(&single(inline_provider("eks", eks)));
    let out = get(
        &mut host,
        0,
        "/api",
        &[
            ("authorization", &format!("Bearer {}", eks_token())),
            ("x-sub", "mallory"),
            ("x-absent", "forged"),
        ],
    );
    assert!(allowed(&out), "{:?}", out.local_response);
    let s = host.finish(out.stream).unwrap();
    assert_eq!(
        s.request_header("x-sub").as_deref(),
        Some("system:serviceaccount:payments:api")
    );
    // An array as jwt_authn writes it: standard base64 of its JSON.
    assert_eq!(
        s.request_header("x-aud").as_deref(),
        Some("WyJzdHMuYW1hem9uYXdzLmNvbSJd")
    );
    assert_eq!(s.request_header("x-ns").as_deref(), Some("payments"));
    assert_eq!(s.request_header("x-sa").as_deref(), Some("api"));
    assert_eq!(s.request_header("x-absent"), None, "client value removed");
}

#[test]
fn verified_claims_are_exposed_as_filter_state() {
    let mut host = host(&single(main_provider(json!({
        "claim_to_filter_state": [ { "name": "jwt_sub", "claim_name": "sub" } ],
        "payload_in_filter_state": "jwt_payload",
    }))));
    let out = bearer(&mut host, 0, &valid_token());
    assert!(allowed(&out));
    let s = host.finish(out.stream).unwrap();
    assert_eq!(s.filter_state(&["jwt_sub"]), Some(&b"alice"[..]));
    let payload: Value =
        serde_json::from_slice(s.filter_state(&["jwt_payload"]).expect("payload")).unwrap();
    assert_eq!(payload["iss"], ISSUER);
}

// ---------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------

fn two_providers(rules: Value) -> String {
    let mut eks = Value::Object(policy("eks"));
    merge(
        &mut eks,
        json!({ "from_headers": [ { "name": "x-eks", "value_prefix": "" } ] }),
    );
    json!({
        "providers": { "main": main_provider(json!({})), "eks": inline_provider("eks", eks) },
        "rules": rules,
        "bypass_cors_preflight": true,
    })
    .to_string()
}

/// `ok` or the denial code of a request to `path` with the given tokens.
fn try_path(host: &mut Host, path: &str, main: Option<&str>, eks: Option<&str>) -> String {
    let auth = main.map(|t| format!("Bearer {t}"));
    let mut h: Vec<(&str, &str)> = Vec::new();
    if let Some(a) = &auth {
        h.push(("authorization", a));
    }
    if let Some(e) = eks {
        h.push(("x-eks", e));
    }
    let out = get(host, 0, path, &h);
    let v = verdict(&out);
    host.finish(out.stream).unwrap();
    v
}

#[test]
fn rules_match_by_prefix_exact_path_and_regex_first_match_wins() {
    let mut host = host(&two_providers(json!([
        { "match": { "prefix": "/public" } },
        { "match": { "path": "/exact" }, "requires": { "provider_name": "eks" } },
        { "match": { "safe_regex": { "regex": "/r/[0-9]+" } }, "requires": { "provider_name": "eks" } },
        { "match": { "prefix": "/" }, "requires": { "provider_name": "main" } },
    ])));
    let (v, e) = (valid_token(), eks_token());
    assert_eq!(try_path(&mut host, "/public/x", None, None), "ok");
    assert_eq!(try_path(&mut host, "/exact", None, Some(&e)), "ok");
    assert_eq!(
        try_path(&mut host, "/exact", Some(&v), None),
        "missing_token"
    );
    assert_eq!(
        try_path(&mut host, "/exact?q=1", None, Some(&e)),
        "ok",
        "query ignored"
    );
    assert_eq!(
        try_path(&mut host, "/exact/more", Some(&v), None),
        "ok",
        "exact is exact"
    );
    assert_eq!(try_path(&mut host, "/r/123", None, Some(&e)), "ok");
    assert_eq!(
        try_path(&mut host, "/r/12a", Some(&v), None),
        "ok",
        "regex is anchored"
    );
    assert_eq!(
        try_path(&mut host, "/r/12a", None, Some(&e)),
        "missing_token"
    );
    assert_eq!(try_path(&mut host, "/api", None, None), "missing_token");
}

#[test]
fn a_path_no_rule_matches_is_not_checked() {
    let mut host = host(&two_providers(json!([
        { "match": { "prefix": "/api" }, "requires": { "provider_name": "main" } },
    ])));
    assert_eq!(try_path(&mut host, "/other", None, None), "ok");
    assert_eq!(try_path(&mut host, "/api", None, None), "missing_token");
}

#[test]
fn requires_any_and_requires_all() {
    let mut host = host(&two_providers(json!([
        { "match": { "prefix": "/any" }, "requires": { "requires_any": { "requirements": [
            { "provider_name": "main" }, { "provider_name": "eks" } ] } } },
        { "match": { "prefix": "/all" }, "requires": { "requires_all": { "requirements": [
            { "provider_name": "main" }, { "provider_name": "eks" } ] } } },
    ])));
    let (v, e) = (valid_token(), eks_token());
    assert_eq!(try_path(&mut host, "/any", Some(&v), None), "ok");
    assert_eq!(try_path(&mut host, "/any", None, Some(&e)), "ok");
    assert_eq!(try_path(&mut host, "/any", None, None), "missing_token");
    assert_eq!(try_path(&mut host, "/any", Some(&e), None), "unknown_kid");
    assert_eq!(try_path(&mut host, "/all", Some(&v), Some(&e)), "ok");
    assert_eq!(try_path(&mut host, "/all", Some(&v), None), "missing_token");
    assert_eq!(try_path(&mut host, "/all", None, Some(&e)), "missing_token");
}

#[test]
fn allow_missing_and_allow_missing_or_failed() {
    let mut host = host(&two_providers(json!([
        { "match": { "prefix": "/missing" }, "requires": { "requires_any": { "requirements": [
            { "provider_name": "main" }, { "allow_missing": {} } ] } } },
        { "match": { "prefix": "/failed" }, "requires": { "requires_any": { "requirements": [
            { "provider_name": "main" }, { "allow_missing_or_failed": {} } ] } } },
        { "match": { "prefix": "/bare-missing" }, "requires": { "allow_missing": {} } },
    ])));
    let v = valid_token();
    let bad = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln";
    assert_eq!(try_path(&mut host, "/missing", None, None), "ok");
    assert_eq!(try_path(&mut host, "/missing", Some(&v), None), "ok");
    assert_ne!(try_path(&mut host, "/missing", Some(bad), None), "ok");
    assert_eq!(try_path(&mut host, "/failed", None, None), "ok");
    assert_eq!(try_path(&mut host, "/failed", Some(bad), None), "ok");
    assert_eq!(try_path(&mut host, "/failed", Some(&v), None), "ok");
    assert_eq!(try_path(&mut host, "/bare-missing", None, None), "ok");
    assert_ne!(try_path(&mut host, "/bare-missing", Some(bad), None), "ok");
}

#[test]
fn output_headers_are_removed_when_the_provider_did_not_verify() {
    let config = json!({
        "providers": { "p": main_provider(json!({
            "claim_to_headers": [ { "header_name": "x-sub", "claim_name": "sub" } ],
            "forward_payload_header": "x-jwt-payload",
        })) },
        "rules": [ { "match": { "prefix": "/" }, "requires": { "requires_any": { "requirements": [
            { "provider_name": "p" }, { "allow_missing_or_failed": {} } ] } } } ],
    })
    .to_string();
    let mut host = host(&config);
    let forged = [
        ("x-sub", "admin"),
        ("x-jwt-payload", "eyJzdWIiOiJhZG1pbiJ9"),
    ];
    for auth in [None, Some("Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln")] {
        let mut h = forged.to_vec();
        if let Some(a) = auth {
            h.push(("authorization", a));
        }
        let out = get(&mut host, 0, "/api", &h);
        assert!(allowed(&out), "{auth:?}");
        let s = host.finish(out.stream).unwrap();
        assert_eq!(s.request_header("x-sub"), None, "{auth:?}");
        assert_eq!(s.request_header("x-jwt-payload"), None, "{auth:?}");
    }
}

#[test]
fn cors_preflight_bypasses_the_check_when_configured() {
    let preflight = [
        (":method", "OPTIONS"),
        (":path", "/api"),
        (":authority", "api"),
        ("origin", "https://app.example"),
        ("access-control-request-method", "POST"),
    ];
    let mut host = host(&two_providers(json!([
        { "match": { "prefix": "/" }, "requires": { "provider_name": "main" } },
    ])));
    let out = host.worker(0).request(&preflight).unwrap();
    assert!(allowed(&out));
    let mut host = self::host(&single(main_provider(json!({}))));
    let out = host.worker(0).request(&preflight).unwrap();
    assert_eq!(out.local_response.map(|r| r.status), Some(401));
}

// ---------------------------------------------------------------------------------------
// Cache and metrics
// ---------------------------------------------------------------------------------------

#[test]
fn metrics_count_allowed_and_denied_by_code() {
    let mut host = host(
        &json!({
            "providers": { "p": main_provider(json!({})) },
            "rules": [ { "match": { "prefix": "/" }, "requires": { "provider_name": "p" } } ],
            "stat_prefix": "gw",
        })
        .to_string(),
    );
    for _ in 0..3 {
        let out = bearer(&mut host, 0, &valid_token());
        host.finish(out.stream).unwrap();
    }
    let out = get(&mut host, 0, "/api", &[]);
    host.finish(out.stream).unwrap();
    host.set_time(UNIX_EPOCH + Duration::from_secs(NOW + 7200));
    for _ in 0..2 {
        let out = bearer(&mut host, 0, &valid_token());
        host.finish(out.stream).unwrap();
    }
    // Counters are flushed on the filter's tick.
    host.advance(Duration::from_secs(2)).unwrap();
    assert_eq!(counter(&host, "gw.allowed"), 3);
    assert_eq!(counter(&host, "gw.denied.missing_token"), 1);
    assert_eq!(counter(&host, "gw.denied.expired"), 2);
}

#[test]
fn the_verified_token_cache_reports_hits_and_misses() {
    let config = |size: u64| {
        json!({
            "providers": { "p": main_provider(json!({})) },
            "rules": [ { "match": { "prefix": "/" }, "requires": { "provider_name": "p" } } ],
            "cache_size": size,
        })
        .to_string()
    };
    let mut host = host(&config(16));
    for t in [valid_token(), valid_token(), valid_token(), rotated_token()] {
        let out = bearer(&mut host, 0, &t);
        assert!(allowed(&out));
        host.finish(out.stream).unwrap();
    }
    host.advance(Duration::from_secs(2)).unwrap();
    assert_eq!(counter(&host, "jwtgate.cache_hit"), 2);
    assert_eq!(counter(&host, "jwtgate.cache_miss"), 2);

    // A cached token is still checked for expiry.
    host.set_time(UNIX_EPOCH + Duration::from_secs(NOW + 7200));
    let out = bearer(&mut host, 0, &valid_token());
    assert_eq!(code(&out.local_response.unwrap()), "expired");

    let mut host = self::host(&config(0));
    for _ in 0..3 {
        let out = bearer(&mut host, 0, &valid_token());
        host.finish(out.stream).unwrap();
    }
    host.advance(Duration::from_secs(2)).unwrap();
    assert_eq!(counter(&host, "jwtgate.cache_hit"), 0);
}
