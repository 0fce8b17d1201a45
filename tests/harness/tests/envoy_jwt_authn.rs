//! `jwt_authn` configurations as people write them, through the compiled filter: proto3 JSON
//! spellings, the corpus' `policy_cases` (refused, naming the field), requirement selection
//! by Envoy route name, and the request behaviours that must match `jwt_authn`.

mod envoy_common;

use envoy_common::*;
use jwtgate_harness::{Host, LogLevel};
use serde_json::{json, Value};

fn refused(config: &str) -> String {
    let host = Host::new(filter())
        .log_level(LogLevel::Info)
        .configure(config)
        .expect("no trap");
    assert!(!host.configured(), "configuration accepted: {config}");
    host.logs()
        .iter()
        .map(|l| l.message.clone())
        .find(|m| m.contains("invalid configuration"))
        .expect("a log line says why")
}

#[test]
fn every_corpus_policy_case_loads_or_is_refused_naming_the_field() {
    let cases = corpus()["policy_cases"].as_array().expect("policy_cases");
    let (mut loaded, mut refusals) = (0, 0);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let raw = case["policy_raw"].as_str().expect("policy_raw");
        let policy: Value = serde_json::from_str(raw).expect("policy_raw is JSON");
        let config = single(inline_provider("main", policy));
        match case["expect"].as_str() {
            Some("ok") => {
                let host = Host::new(filter()).configure(&config).expect("no trap");
                assert!(host.configured(), "{name}: refused: {:?}", host.logs());
                loaded += 1;
            }
            Some("bad_policy") => {
                let line = refused(&config);
                let field = case["field"]
                    .as_str()
                    .expect("a refused case names its field");
                let want = format!("providers.p.{field}");
                assert!(
                    line.contains(&format!("invalid configuration: {want}")),
                    "{name}: {line} does not name {want}"
                );
                refusals += 1;
            }
            other => panic!("{name}: unexpected expect {other:?}"),
        }
    }
    assert!(
        loaded > 0 && refusals > 0,
        "{loaded} loaded, {refusals} refused"
    );
}

#[test]
fn empty_audiences_say_to_leave_the_field_out() {
    let line = refused(&single(inline_provider("main", json!({ "audiences": [] }))));
    assert!(line.contains("providers.p.audiences"), "{line}");
    assert!(line.contains("leave the field out"), "{line}");
}

#[test]
fn proto3_json_configuration_loads_and_verifies() {
    let config = json!({
        "providers": { "p": {
            "issuer": ISSUER,
            "localJwks": { "inlineString": jwks_text("main") },
            "fromHeaders": [ { "name": "authorization", "valuePrefix": "Bearer " } ],
            "clockSkewSeconds": 60,
            "jwtCacheConfig": { "jwtCacheSize": 10 },
            "payloadInMetadata": "jwt_payload",
        } },
        "rules": [ { "match": { "prefix": "/" }, "requires": { "providerName": "p" } } ],
    })
    .to_string();
    let mut host = host(&config);
    let out = bearer(&mut host, 0, &valid_token());
    assert_eq!(verdict(&out), "ok", "{:?}", host.logs());
    let s = host.finish(out.stream).expect("finish");
    assert!(s.filter_state(&["jwt_payload"]).is_some());
}

#[test]
fn refused_jwt_authn_fields_name_the_replacement() {
    for (extra, field, hint) in [
        (
            json!({ "max_lifetime": "3600s" }),
            "providers.p.max_lifetime",
            "max_token_age_seconds",
        ),
        (
            json!({ "header_in_metadata": "h" }),
            "providers.p.header_in_metadata",
            "dynamic metadata",
        ),
    ] {
        let line = refused(&single(inline_provider("main", extra)));
        assert!(line.contains(field) && line.contains(hint), "{line}");
    }
}

#[test]
fn per_route_selects_by_route_name_and_disabled_skips() {
    let config = json!({
        "providers": { "p": inline_provider("main", json!({ "issuer": ISSUER })) },
        "requirement_map": { "need": { "provider_name": "p" } },
        "rules": [ { "match": { "prefix": "/" }, "requirement_name": "need" } ],
        "per_route": { "public": { "disabled": true }, "private": { "requirement_name": "need" } },
    })
    .to_string();
    let mut host = host(&config);
    host.set_property(&["xds", "route_name"], "public");
    assert_eq!(verdict(&get(&mut host, 0, "/api", &[])), "ok");
    host.set_property(&["xds", "route_name"], "private");
    assert_eq!(verdict(&get(&mut host, 0, "/api", &[])), "missing_token");
    // A route not listed falls back to the rules.
    host.set_property(&["xds", "route_name"], "elsewhere");
    assert_eq!(verdict(&get(&mut host, 0, "/api", &[])), "missing_token");
}

#[test]
fn requests_answer_as_jwt_authn_does() {
    let config = json!({
        "providers": {
            "p": inline_provider("main", json!({ "issuer": ISSUER, "forward_payload_header": "x-jwt-payload" })),
            "c": inline_provider("main", json!({ "issuer": ISSUER, "from_cookies": ["session"] })),
            "h": inline_provider("main", json!({ "issuer": ISSUER,
                "from_headers": [ { "name": "x-token", "value_prefix": "Bearer " } ] })),
        },
        "rules": [
            { "match": { "prefix": "/opt" }, "requires": { "requires_any": { "requirements": [
                { "provider_name": "p" }, { "allow_missing": {} } ] } } },
            { "match": { "prefix": "/cookie" }, "requires": { "provider_name": "c" } },
            { "match": { "prefix": "/custom" }, "requires": { "provider_name": "h" } },
            { "match": { "prefix": "/peek" }, "requires": { "extract_only_without_validation": {} } },
            { "match": { "prefix": "/" }, "requires": { "provider_name": "p" } },
        ],
    })
    .to_string();
    let mut host = host(&config);
    let token = valid_token();
    // An empty Bearer is no token (Istio's optional-JWT pattern passes).
    for v in ["Bearer ", "Bearer"] {
        assert_eq!(
            verdict(&get(&mut host, 0, "/opt", &[("authorization", v)])),
            "ok",
            "{v:?}"
        );
        assert_eq!(
            verdict(&get(&mut host, 0, "/api", &[("authorization", v)])),
            "missing_token"
        );
    }
    // An empty access_token is a token that fails, even where tokens are optional.
    assert_eq!(
        verdict(&get(&mut host, 0, "/opt?access_token=", &[])),
        "malformed"
    );
    // A cookie token leaves the Cookie header as it was.
    let cookie = format!("a=1; session={token}; b=2");
    let out = get(&mut host, 0, "/cookie", &[("cookie", cookie.as_str())]);
    assert_eq!(verdict(&out), "ok");
    let s = host.finish(out.stream).expect("finish");
    assert_eq!(s.request_header("cookie").as_deref(), Some(cookie.as_str()));
    // An explicit prefix is case-sensitive.
    let lower = format!("bearer {token}");
    assert_eq!(
        verdict(&get(
            &mut host,
            0,
            "/custom",
            &[("x-token", lower.as_str())]
        )),
        "missing_token"
    );
    // The default location accepts any case of the scheme, and then leaves the header.
    let out = get(&mut host, 0, "/api", &[("authorization", lower.as_str())]);
    assert_eq!(verdict(&out), "ok");
    let s = host.finish(out.stream).expect("finish");
    assert_eq!(
        s.request_header("authorization").as_deref(),
        Some(lower.as_str())
    );
    assert!(s.request_header("x-jwt-payload").is_some());
    // Exactly "Bearer ": stripped.
    let out = bearer(&mut host, 0, &token);
    let s = host.finish(out.stream).expect("finish");
    assert_eq!(s.request_header("authorization"), None);
    // extract_only_without_validation: anything passes, nothing is passed on.
    let out = get(
        &mut host,
        0,
        "/peek",
        &[("authorization", "Bearer abc"), ("x-jwt-payload", "spoof")],
    );
    assert_eq!(verdict(&out), "ok");
    let s = host.finish(out.stream).expect("finish");
    assert_eq!(s.request_header("x-jwt-payload"), None);
}

#[test]
fn a_token_without_aud_under_an_audience_check_is_a_403() {
    // As jwt_authn, which answers a missing aud like a wrong one; the code stays the core's.
    let case = case("aud_missing");
    let policy = Value::Object(policy(case["policy"].as_str().expect("policy")));
    let mut host = host(&single(inline_provider("main", policy)));
    let out = bearer(&mut host, 0, &case_token(case));
    let r = out.local_response.as_ref().expect("refused");
    assert_eq!((r.status, code(r).as_str()), (403, "missing_claim"));
    assert!(r
        .header("www-authenticate")
        .is_some_and(|h| h.contains("insufficient_scope")));
    // A wrong aud: 403 as before.
    let mut host = host_with(
        1,
        &single(inline_provider(
            "main",
            json!({ "issuer": ISSUER, "audiences": ["nobody"] }),
        )),
    );
    let out = bearer(&mut host, 0, &valid_token());
    let r = out.local_response.as_ref().expect("refused");
    assert_eq!((r.status, code(r).as_str()), (403, "bad_audience"));
}

#[test]
fn providers_sharing_an_output_header_keep_the_verified_ones_value() {
    // Envoy Gateway writes one provider per issuer with the same claim header.
    let copy = json!({ "claim_to_headers": [ { "header_name": "x-sub", "claim_name": "sub" } ] });
    let mut a = copy.clone();
    merge(&mut a, json!({ "issuer": ISSUER }));
    let mut b = copy;
    merge(&mut b, json!({ "issuer": "https://second.example" }));
    let config = json!({
        "providers": { "a": inline_provider("main", a), "b": inline_provider("main", b) },
        "rules": [ { "match": { "prefix": "/" }, "requires": { "requires_any": { "requirements": [
            { "provider_name": "a" }, { "provider_name": "b" } ] } } } ],
    })
    .to_string();
    let mut host = host(&config);
    let auth = format!("Bearer {}", valid_token());
    let out = get(
        &mut host,
        0,
        "/api",
        &[("authorization", auth.as_str()), ("x-sub", "mallory")],
    );
    assert_eq!(verdict(&out), "ok");
    let s = host.finish(out.stream).expect("finish");
    assert_eq!(s.request_header("x-sub").as_deref(), Some("alice"));
}

#[test]
fn a_jwt_authn_subject_matcher_failure_is_a_401() {
    let mut host = host(&single(inline_provider(
        "main",
        json!({ "issuer": ISSUER, "subjects": { "prefix": "svc-" } }),
    )));
    let out = bearer(&mut host, 0, &valid_token());
    let r = out.local_response.as_ref().expect("refused");
    assert_eq!((r.status, code(r).as_str()), (401, "claim_rule_failed"));
    // The core's list form keeps its 403.
    let mut host = host_with(
        1,
        &single(inline_provider("main", json!({ "subjects": ["svc-*"] }))),
    );
    let out = bearer(&mut host, 0, &valid_token());
    assert_eq!(out.local_response.as_ref().map(|r| r.status), Some(403));
}

#[test]
fn unused_providers_and_open_rules_load_with_a_warning_naming_them() {
    let config = json!({
        "providers": { "p": inline_provider("main", json!({})), "spare": inline_provider("main", json!({})) },
        "rules": [ { "match": { "prefix": "/public" } },
                   { "match": { "prefix": "/" }, "requires": { "provider_name": "p" } } ],
    })
    .to_string();
    let host = host(&config);
    let warnings: Vec<String> = host
        .logs()
        .into_iter()
        .filter(|l| l.level == LogLevel::Warn)
        .map(|l| l.message)
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("provider spare is required by no rule")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("rules[0] requires nothing")),
        "{warnings:?}"
    );
}

#[test]
fn route_metadata_selects_the_requirement() {
    let config = json!({
        "providers": { "p": inline_provider("main", json!({ "issuer": ISSUER })) },
        "requirement_map": { "need": { "provider_name": "p" } },
        "route_metadata": true,
    })
    .to_string();
    let mut host = host(&config);
    let path = [
        "xds",
        "route_metadata",
        "filter_metadata",
        "jwtgate",
        "requirement_name",
    ];
    // No metadata and no rules: nothing required.
    assert_eq!(verdict(&get(&mut host, 0, "/api", &[])), "ok");
    host.set_property(&path, "need");
    assert_eq!(verdict(&get(&mut host, 0, "/api", &[])), "missing_token");
    assert_eq!(verdict(&bearer(&mut host, 0, &valid_token())), "ok");
    // A name requirement_map lacks fails closed.
    host.set_property(&path, "nope");
    assert_eq!(verdict(&get(&mut host, 0, "/api", &[])), "bad_policy");
}
