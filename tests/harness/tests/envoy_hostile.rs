//! Trap freedom (issue 5): generated hostile inputs through the jwtgate filter, failing on the
//! first trap or panic and printing the input; the filter's linear memory must stay flat once
//! warm.
//!
//! Three generators, each its own test (they run in parallel) and `Fuzz` loop with a fixed
//! seed: requests with mutated tokens, `Authorization` and other headers and paths
//! (`hostile_requests_never_trap`), hostile JWKS and discovery answers of a mock IdP
//! (`hostile_idp_answers_never_trap`), and hostile configurations pushed through
//! `on_configure` (`hostile_configurations_never_trap`). Together they run
//! `JWTGATE_HOSTILE_INPUTS` inputs (default 100,000: 60% requests, 20% IdP answers, 20%
//! configurations). Replay a failure with the seed and iteration it prints.

mod envoy_common;

use std::cell::Cell;
use std::time::{Duration, Instant};

use envoy_common::*;
use jwtgate_harness::fuzz::{Fuzz, Rng};
use jwtgate_harness::{Host, LogLevel, StreamState};
use serde_json::{json, Value};

/// Total inputs over the three tests.
fn total_inputs() -> usize {
    std::env::var("JWTGATE_HOSTILE_INPUTS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(100_000)
}

fn share(percent: usize) -> usize {
    (total_inputs() * percent / 100).max(1)
}

/// Warm-up before the memory baseline, per generator: the allocator reaches its high-water
/// mark. Measured on the request generator: each worker grows once, by one 64 KiB page, at
/// inputs 6,261 and 10,544, and not again through 90,000 inputs (measured with
/// JWTGATE_HOSTILE_UTF8_ONLY=1, before the non-UTF-8 trap was fixed); so it warms up for 20,000
/// inputs and the others for 10,000. After the warm-up, linear memory must not grow at all.
/// Runs shorter than their warm-up only check for traps.
fn warmup(n: usize, inputs: usize) -> usize {
    inputs.min(n)
}

/// Bytes shown as escaped text in a failure report, cut after 4 KiB (replay by seed for all).
struct Bytes<'a>(&'a [u8]);

impl std::fmt::Debug for Bytes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = &self.0[..self.0.len().min(4096)];
        write!(f, "b\"{}\"", shown.escape_ascii())?;
        if shown.len() < self.0.len() {
            write!(f, "... ({} bytes)", self.0.len())?;
        }
        Ok(())
    }
}

/// `JWTGATE_HOSTILE_UTF8_ONLY=1` keeps generated header values valid UTF-8, to look past a
/// trap on non-UTF-8 header bytes while it is being fixed. Off by default.
fn utf8_only() -> bool {
    std::env::var_os("JWTGATE_HOSTILE_UTF8_ONLY").is_some_and(|v| v != "0")
}

fn report(what: &str, n: usize, started: Instant, r: &jwtgate_harness::fuzz::FuzzReport) {
    eprintln!(
        "{what}: {n} inputs in {:.1}s, linear memory warm {:?} -> final {:?} bytes",
        started.elapsed().as_secs_f64(),
        r.warm_memory,
        r.final_memory
    );
}

// ---------------------------------------------------------------------------------------
// Requests: tokens and headers.
// ---------------------------------------------------------------------------------------

/// Every token source, rule kind and output the filter has, so mutations reach them all.
fn request_config() -> String {
    json!({
        "providers": {
            "main": inline_provider("rotation", json!({
                "issuer": ISSUER,
                "audiences": ["orders-api"],
                "forward_payload_header": "x-jwt-payload",
                "claim_to_headers": [
                    { "header_name": "x-sub", "claim_name": "sub" },
                    { "header_name": "x-aud", "claim_name": "aud" },
                ],
                "claim_to_filter_state": [ { "name": "sub", "claim_name": "sub" } ],
                "payload_in_filter_state": "jwt_payload",
            })),
            "eks": inline_provider("eks", {
                let mut p = Value::Object(policy("eks"));
                merge(&mut p, json!({
                    "from_headers": [ { "name": "x-jwt", "value_prefix": "JWT " } ],
                    "from_cookies": ["session"],
                    "from_params": ["token"],
                    "forward": true,
                    "claim_to_headers": [
                        { "header_name": "x-ns", "claim_name": "kubernetes.io.namespace" },
                    ],
                }));
                p
            }),
            "joe": inline_provider("rfc7515_a2", json!({ "issuer": "joe" })),
        },
        "rules": [
            { "match": { "prefix": "/public" } },
            { "match": { "prefix": "/eks" }, "requires": { "provider_name": "eks" } },
            { "match": { "safe_regex": { "regex": "/any/[a-z]+" } }, "requires": { "requires_any": {
                "requirements": [ { "provider_name": "main" }, { "provider_name": "eks" } ] } } },
            { "match": { "path": "/all" }, "requires": { "requires_all": {
                "requirements": [ { "provider_name": "main" }, { "provider_name": "joe" } ] } } },
            { "match": { "prefix": "/optional" }, "requires": { "requires_any": {
                "requirements": [ { "provider_name": "main" }, { "allow_missing_or_failed": {} } ] } } },
            { "match": { "prefix": "/missing-ok" }, "requires": { "requires_any": {
                "requirements": [ { "provider_name": "main" }, { "allow_missing": {} } ] } } },
            { "match": { "prefix": "/" }, "requires": { "provider_name": "main" } },
        ],
        "bypass_cors_preflight": true,
        "cache_size": 64,
    })
    .to_string()
}

struct HostileRequest {
    worker: usize,
    headers: Vec<(&'static str, Vec<u8>)>,
}

impl std::fmt::Debug for HostileRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostileRequest")
            .field("worker", &self.worker)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(k, v)| (*k, Bytes(v)))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

const PATHS: &[&str] = &[
    "/api",
    "/eks/x",
    "/any/abc",
    "/all",
    "/optional/x",
    "/missing-ok",
    "/public/x",
    "/api?access_token=",
    "/eks?token=",
];

fn seed_tokens() -> Vec<String> {
    let mut seeds = vec![
        valid_token(),
        rotated_token(),
        eks_token(),
        token("rfc7515_a2_ok").to_string(),
    ];
    // Some of the corpus's hostile tokens too (small ones), as further seeds.
    for c in corpus()["cases"].as_array().expect("cases") {
        if let Some(t) = c["token"].as_str() {
            if t.len() < 2_000 && c["name"].as_str().is_some_and(|n| n.len() % 5 == 0) {
                seeds.push(t.to_owned());
            }
        }
    }
    seeds
}

fn hostile_request(rng: &mut Rng, seeds: &[String]) -> HostileRequest {
    let token = rng.pick(seeds).as_bytes().to_vec();
    let token = if rng.one_in(10) {
        token
    } else {
        rng.mutate(&token)
    };
    let mut path = rng.pick(PATHS).as_bytes().to_vec();
    let mut headers: Vec<(&'static str, Vec<u8>)> = Vec::new();
    match rng.below(8) {
        0..=2 => {
            let schemes: [&[u8]; 4] = [b"Bearer ", b"bearer ", b"BEARER  ", b"Bearer\t"];
            let scheme = *rng.pick(&schemes);
            let mut v = scheme.to_vec();
            v.extend_from_slice(&token);
            let v = if rng.one_in(3) { rng.mutate(&v) } else { v };
            headers.push(("authorization", v));
        }
        3 => {
            let mut v = b"JWT ".to_vec();
            v.extend_from_slice(&token);
            headers.push(("x-jwt", v));
        }
        4 => {
            let mut v = b"a=1; session=".to_vec();
            v.extend_from_slice(&token);
            v.extend_from_slice(b"; b=\"2\"");
            headers.push(("cookie", if rng.one_in(2) { rng.mutate(&v) } else { v }));
        }
        5 => {
            path = if rng.one_in(2) {
                b"/api?access_token=".to_vec()
            } else {
                b"/eks/y?x=1&token=".to_vec()
            };
            path.extend_from_slice(&token);
        }
        6 => {
            // Two tokens, in the same or different places.
            let mut v = b"Bearer ".to_vec();
            v.extend_from_slice(&token);
            headers.push(("authorization", v.clone()));
            if rng.one_in(2) {
                headers.push(("authorization", v));
            } else {
                path = b"/api?access_token=".to_vec();
                path.extend_from_slice(&token);
            }
        }
        _ => {
            // A hostile header value without structure: random bytes, 0x80-0xFF included.
            let n = rng.below(200);
            let name = *rng.pick(&["authorization", "x-jwt", "cookie", "origin"]);
            headers.push((name, rng.bytes(n)));
        }
    }
    if rng.one_in(8) {
        path = rng.mutate(&path);
    }
    if rng.one_in(16) {
        headers.push(("origin", b"https://a.example".to_vec()));
        headers.push(("access-control-request-method", b"POST".to_vec()));
    }
    if rng.one_in(8) {
        // Outputs the filter must overwrite or remove, sent by the client.
        headers.push(("x-sub", rng.mutate(b"mallory")));
        headers.push(("x-jwt-payload", rng.mutate(b"e30")));
    }
    let method: &[u8] = if rng.one_in(16) { b"OPTIONS" } else { b"GET" };
    if utf8_only() {
        for (_, v) in headers.iter_mut() {
            *v = String::from_utf8_lossy(v).into_owned().into_bytes();
        }
        path = String::from_utf8_lossy(&path).into_owned().into_bytes();
    }
    let mut all: Vec<(&'static str, Vec<u8>)> = vec![
        (":method", method.to_vec()),
        (":path", path),
        (":authority", b"api".to_vec()),
    ];
    all.extend(headers);
    HostileRequest {
        worker: rng.below(2),
        headers: all,
    }
}

#[test]
fn hostile_requests_never_trap() {
    let n = share(60);
    let mut host = Host::new(filter())
        .workers(2)
        .log_level(LogLevel::Info)
        .configure(request_config())
        .expect("the filter starts without a trap");
    assert!(host.configured(), "{:?}", host.logs());
    let seeds = seed_tokens();
    let started = Instant::now();
    let result = Fuzz::new(n)
        .seed(0x5eed_0001)
        .warmup(warmup(n, 20_000))
        .run(
            &mut host,
            |rng| hostile_request(rng, &seeds),
            |host, input| {
                let headers: Vec<(&str, &[u8])> = input
                    .headers
                    .iter()
                    .map(|(k, v)| (*k, v.as_slice()))
                    .collect();
                let out = host.worker(input.worker).request_raw(&headers)?;
                // Inline keys only: a request never waits.
                assert_ne!(out.state, StreamState::Paused, "inline keys never wait");
                if let Some(r) = &out.local_response {
                    assert!(
                        matches!(r.status, 400 | 401 | 403),
                        "unexpected status {}",
                        r.status
                    );
                    let body: Value = serde_json::from_slice(&r.body).expect("a JSON body");
                    assert!(body["error"].is_string(), "{}", r.body_text());
                }
                host.finish(out.stream)?;
                Ok(())
            },
        );
    let r = result.unwrap_or_else(|failure| panic!("{failure}"));
    report("hostile requests", n, started, &r);
    // Token text never reaches logs above debug.
    for l in host.logs() {
        if l.level > LogLevel::Debug {
            assert!(!l.message.contains("eyJ"), "a token in a log line: {l:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// The IdP's answers: JWKS and discovery documents.
// ---------------------------------------------------------------------------------------

fn idp_config() -> String {
    let bounds = json!({
        "cache_duration": "1s",
        "min_cache_duration": "1s",
        "max_cache_duration": "2s",
        "retry_initial": "1s",
        "retry_max": "2s",
        "refetch_cooldown": 0,
    });
    let mut remote = remote_provider(json!({ "issuer": ISSUER }));
    merge(&mut remote, json!({ "remote_jwks": bounds.clone() }));
    merge(
        &mut remote,
        json!({ "remote_jwks": { "http_uri": { "timeout": "2s" } } }),
    );
    let mut disc = bounds;
    merge(
        &mut disc,
        json!({ "issuer_uri": "http://idp.local/d", "cluster": "idp", "timeout": "2s" }),
    );
    json!({
        "providers": {
            "r": remote,
            "d": { "issuer": ISSUER, "oidc_discovery": disc },
        },
        "rules": [
            { "match": { "prefix": "/d" }, "requires": { "provider_name": "d" } },
            { "match": { "prefix": "/" }, "requires": { "provider_name": "r" } },
        ],
        // Tokens are checked as at NOW while the host clock runs on for the refresh logic.
        "fixed_now": NOW,
    })
    .to_string()
}

struct IdpAnswer {
    /// 0: advance time (tick-driven refresh); 1: a request with an unknown kid first.
    trigger: usize,
    status: u16,
    cache_control: Option<String>,
    discovery: Vec<u8>,
    jwks: Vec<u8>,
    fail: bool,
    /// Seed of a mutation of the shared key record (as if another VM wrote it), if any.
    record_mutation: Option<u64>,
    /// The `Authorization` value: a corpus token, a third of the time mutated (an unknown
    /// `kid` makes the filter refetch).
    authorization: Vec<u8>,
    path: &'static str,
    worker: usize,
}

impl std::fmt::Debug for IdpAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdpAnswer")
            .field("trigger", &self.trigger)
            .field("status", &self.status)
            .field("cache_control", &self.cache_control)
            .field("discovery", &Bytes(&self.discovery))
            .field("jwks", &Bytes(&self.jwks))
            .field("fail", &self.fail)
            .field("record_mutation", &self.record_mutation)
            .field("authorization", &Bytes(&self.authorization))
            .field("path", &self.path)
            .field("worker", &self.worker)
            .finish()
    }
}

fn hostile_json(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 3 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.one_in(2)),
        2 => json!(rng.next_u64() as i64),
        3 => json!(f64::from_bits(rng.next_u64())),
        4 => Value::String(rng.ascii(40)),
        5 => Value::Array(
            (0..rng.below(4))
                .map(|_| hostile_json(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let keys = [
                "kty", "n", "e", "kid", "alg", "use", "keys", "jwks_uri", "issuer", "x5c",
            ];
            Value::Object(
                (0..rng.below(5))
                    .map(|_| (rng.pick(&keys).to_string(), hostile_json(rng, depth + 1)))
                    .collect(),
            )
        }
    }
}

fn hostile_jwks(rng: &mut Rng, big: bool) -> Vec<u8> {
    let good = [jwks_text("rotation"), jwks_text("main"), jwks_text("mixed")];
    if big {
        // The largest shapes, during warm-up: a body over the core's 256 KiB cap, and a
        // key with an 8 KiB modulus.
        return if rng.one_in(2) {
            let mut v = good[0].as_bytes().to_vec();
            v.splice(
                1..1,
                format!("\"pad\":\"{}\",", "x".repeat(300_000)).into_bytes(),
            );
            v
        } else {
            let n = "A".repeat(11_000);
            json!({ "keys": [ { "kty": "RSA", "kid": "big", "n": n, "e": "AQAB" } ] })
                .to_string()
                .into_bytes()
        };
    }
    match rng.below(10) {
        0..=3 => {
            let seed = rng.pick(&good).clone();
            rng.mutate(seed.as_bytes())
        }
        4 => rng.pick(&good).as_bytes().to_vec(),
        5 => {
            // Deep nesting.
            let d = 1 + rng.below(3000);
            let mut v = b"{\"keys\":".to_vec();
            v.extend(std::iter::repeat_n(b'[', d));
            v.extend(std::iter::repeat_n(b']', d));
            v.push(b'}');
            v
        }
        6 => {
            // Many keys, some odd.
            let k = rng.below(150);
            let keys: Vec<Value> = (0..k)
                .map(|i| {
                    if rng.one_in(3) {
                        hostile_json(rng, 1)
                    } else {
                        json!({ "kty": "RSA", "kid": format!("k{i}"), "n": rng.ascii(60), "e": "AQAB" })
                    }
                })
                .collect();
            json!({ "keys": keys }).to_string().into_bytes()
        }
        7 => json!({ "keys": hostile_json(rng, 0) })
            .to_string()
            .into_bytes(),
        8 => {
            let n = rng.below(300);
            rng.bytes(n)
        }
        _ => hostile_json(rng, 0).to_string().into_bytes(),
    }
}

fn hostile_discovery(rng: &mut Rng) -> Vec<u8> {
    let good = json!({
        "issuer": "http://idp.local/d",
        "jwks_uri": "http://idp.local/d/keys",
        "id_token_signing_alg_values_supported": ["RS256"],
    })
    .to_string();
    match rng.below(6) {
        0 | 1 => good.into_bytes(),
        2 | 3 => rng.mutate(good.as_bytes()),
        4 => {
            let mut d = json!({ "issuer": "http://idp.local/d" });
            merge(&mut d, json!({ "jwks_uri": hostile_json(rng, 2) }));
            d.to_string().into_bytes()
        }
        _ => hostile_json(rng, 0).to_string().into_bytes(),
    }
}

fn hostile_idp_answer(rng: &mut Rng, big: bool, tokens: &[String]) -> IdpAnswer {
    let status = *rng.pick(&[200, 200, 200, 200, 200, 200, 304, 404, 500, 503]);
    let cache_control = match rng.below(4) {
        0 => None,
        1 => Some(format!("max-age={}", rng.below(100_000))),
        2 => Some(
            String::from_utf8_lossy(&rng.mutate(b"public, max-age=3600, must-revalidate"))
                .into_owned(),
        ),
        _ => Some(rng.ascii(30)),
    };
    IdpAnswer {
        trigger: rng.below(2),
        status,
        cache_control,
        discovery: hostile_discovery(rng),
        jwks: hostile_jwks(rng, big),
        fail: rng.one_in(12),
        record_mutation: rng.one_in(10).then(|| rng.next_u64()),
        authorization: {
            let mut v = b"Bearer ".to_vec();
            let t = rng.pick(tokens).as_bytes().to_vec();
            v.extend(if rng.one_in(3) { rng.mutate(&t) } else { t });
            v
        },
        path: if rng.one_in(2) { "/api" } else { "/d/x" },
        worker: rng.below(2),
    }
}

/// Answers every pending callout with the input's discovery document or JWKS (or fails it),
/// several rounds, as discovery leads to a JWKS fetch.
fn answer_all(host: &mut Host, a: &IdpAnswer) -> Result<(), jwtgate_harness::Error> {
    for _ in 0..4 {
        let calls = host.pending_callouts();
        if calls.is_empty() {
            break;
        }
        for c in calls {
            if a.fail {
                host.fail_callout(c.id)?;
                continue;
            }
            let path = c.header(":path").unwrap_or_default();
            let body = if path.ends_with("openid-configuration") {
                &a.discovery
            } else {
                &a.jwks
            };
            let headers: Vec<(&str, &str)> = a
                .cache_control
                .as_deref()
                .map(|cc| vec![("cache-control", cc)])
                .unwrap_or_default();
            host.answer_callout(c.id, a.status, &headers, body)?;
        }
    }
    Ok(())
}

#[test]
fn hostile_idp_answers_never_trap() {
    let n = share(20);
    let mut host = Host::new(filter())
        .workers(2)
        .clusters(&["idp"])
        .configure(idp_config())
        .expect("the filter starts without a trap");
    assert!(host.configured(), "{:?}", host.logs());
    let tokens = [valid_token(), rotated_token(), eks_token()];
    let count = Cell::new(0usize);
    let started = Instant::now();
    let result = Fuzz::new(n)
        .seed(0x5eed_0002)
        .warmup(warmup(n, 10_000))
        .run(
            &mut host,
            |rng| {
                let i = count.get();
                count.set(i + 1);
                hostile_idp_answer(rng, i < 20, &tokens)
            },
            |host, a| {
                if let Some(seed) = a.record_mutation {
                    // Another VM (or a bug) left a damaged record behind.
                    for key in host.shared_data_keys() {
                        if let Some((bytes, _)) = host.shared_data(&key) {
                            let damaged = Rng::new(seed).mutate(&bytes);
                            host.set_shared_data(&key, damaged);
                        }
                    }
                }
                if a.trigger == 0 {
                    host.advance(Duration::from_secs(2))?;
                    answer_all(host, a)?;
                }
                let out = host.worker(a.worker).request_raw(&[
                    (":method", b"GET"),
                    (":path", a.path.as_bytes()),
                    (":authority", b"api"),
                    ("authorization", &a.authorization),
                ])?;
                answer_all(host, a)?;
                if host.stream(out.stream)?.state == StreamState::Paused {
                    // Waiting on a fetch another worker leads: its lease (2 x timeout + 1 s)
                    // runs out and the request is decided with the keys there are.
                    host.advance(Duration::from_secs(6))?;
                    answer_all(host, a)?;
                }
                let s = host.finish(out.stream)?;
                assert_ne!(s.state, StreamState::Paused, "a request left paused");
                if let Some(r) = &s.local_response {
                    assert!(matches!(r.status, 400 | 401 | 403), "status {}", r.status);
                }
                Ok(())
            },
        );
    let r = result.unwrap_or_else(|failure| panic!("{failure}"));
    report("hostile IdP answers", n, started, &r);
}

// ---------------------------------------------------------------------------------------
// Configurations.
// ---------------------------------------------------------------------------------------

fn seed_configs() -> Vec<String> {
    vec![
        request_config(),
        idp_config(),
        single(inline_provider("main", json!({}))),
        json!({
            "providers": { "e": { "oidc_discovery": { "issuer_uri": "https://idp.local/", "cluster": "idp" },
                                  "from_headers": [ { "name": "x-t", "value_prefix": "T " } ] } },
            "rules": [ { "match": { "safe_regex": "/a(b|c)*" }, "requires": { "allow_missing": {} } } ],
            "realm": "api", "stat_prefix": "s", "fixed_now": NOW, "cache_size": 0,
        })
        .to_string(),
    ]
}

/// A configuration field replaced by a hostile JSON value, at a random place.
fn replace_somewhere(rng: &mut Rng, v: &mut Value, depth: usize) {
    match v {
        Value::Object(m) if !m.is_empty() && (depth < 5 && !rng.one_in(4)) => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let k = rng.pick(&keys).clone();
            if let Some(child) = m.get_mut(&k) {
                replace_somewhere(rng, child, depth + 1);
            }
        }
        Value::Array(a) if !a.is_empty() && (depth < 5 && !rng.one_in(4)) => {
            let i = rng.below(a.len());
            replace_somewhere(rng, &mut a[i], depth + 1);
        }
        Value::String(text) if rng.one_in(2) => {
            // Plausible: the same field, its text slightly wrong.
            *text = String::from_utf8_lossy(&rng.mutate(text.as_bytes())).into_owned();
        }
        Value::Number(_) | Value::Bool(_) if rng.one_in(2) => {
            *v = match rng.below(4) {
                0 => json!(rng.below(10)),
                1 => json!(format!("{}s", rng.below(100))),
                2 => json!(format!("0.{}s", rng.below(1000))),
                _ => json!(rng.one_in(2)),
            }
        }
        other => {
            *other = match rng.below(6) {
                0 => hostile_json(rng, 0),
                1 => json!("x".repeat(rng.below(5000))),
                2 => json!(-1),
                3 => json!(u64::MAX),
                4 => json!(1e300),
                _ => json!(rng.ascii(20)),
            }
        }
    }
}

struct ConfigInput(Vec<u8>);

impl std::fmt::Debug for ConfigInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Bytes(&self.0).fmt(f)
    }
}

fn hostile_config(rng: &mut Rng, seeds: &[String], parsed: &[Value]) -> ConfigInput {
    ConfigInput(hostile_config_bytes(rng, seeds, parsed))
}

/// The largest shapes a configuration can take, run first so that warm-up reaches the
/// allocator's high-water mark: regexes at the length cap and at the compiled-size limit,
/// long strings in every kind of field, the largest corpus key set.
fn biggest_configs() -> Vec<ConfigInput> {
    let regex = |r: &str| {
        json!({
            "providers": { "p": inline_provider("main", json!({})) },
            "rules": [ { "match": { "safe_regex": { "regex": r } }, "requires": { "provider_name": "p" } } ],
        })
        .to_string()
        .into_bytes()
    };
    let long = "x".repeat(5000);
    let mut out = vec![
        regex(&"x".repeat(4096)),
        regex(&"x".repeat(4097)),
        regex("[a-z0-9]{1000}"),
        regex("(?:a|b|c|d){1000}"),
        regex("(?:x{100}){100}"),
        regex("(?:[a-z]{100}){100}"),
        single(inline_provider(
            "five_with_kid",
            json!({ "issuer": long.clone() }),
        ))
        .into_bytes(),
        single(inline_provider(
            "dup_kid_5",
            json!({ "audiences": [long.clone(), long.clone()] }),
        ))
        .into_bytes(),
        json!({ "providers": { long.clone(): {} } })
            .to_string()
            .into_bytes(),
        json!({ "providers": { "p": inline_provider("main", json!({})) }, "realm": long })
            .to_string()
            .into_bytes(),
    ];
    // Each twice: once accepted or refused after another, once after itself.
    out.extend(out.clone());
    out.into_iter().map(ConfigInput).collect()
}

fn hostile_config_bytes(rng: &mut Rng, seeds: &[String], parsed: &[Value]) -> Vec<u8> {
    match rng.below(3) {
        0 => {
            let seed = rng.pick(seeds).clone();
            rng.mutate(seed.as_bytes())
        }
        1 => {
            let mut v = rng.pick(parsed).clone();
            for _ in 0..1 + rng.below(3) {
                replace_somewhere(rng, &mut v, 0);
            }
            v.to_string().into_bytes()
        }
        _ => {
            let mut v = rng.pick(parsed).clone();
            replace_somewhere(rng, &mut v, 0);
            rng.mutate(v.to_string().as_bytes())
        }
    }
}

#[test]
fn hostile_configurations_never_trap() {
    let n = share(20);
    let seeds = seed_configs();
    let parsed: Vec<Value> = seeds
        .iter()
        .map(|s| serde_json::from_str(s).expect("seed configs are JSON"))
        .collect();
    let mut host = Host::new(filter())
        .clusters(&["idp"])
        .log_level(LogLevel::Info)
        .configure(&seeds[0])
        .expect("the filter starts without a trap");
    assert!(host.configured(), "{:?}", host.logs());
    let auth = format!("Bearer {}", valid_token());
    let accepted = Cell::new(0usize);
    let biggest = biggest_configs();
    let count = Cell::new(0usize);
    let started = Instant::now();
    let result = Fuzz::new(n)
        .seed(0x5eed_0003)
        .warmup(warmup(n, 10_000))
        .run(
            &mut host,
            |rng| {
                let i = count.get();
                count.set(i + 1);
                match biggest.get(i) {
                    Some(c) => ConfigInput(c.0.clone()),
                    None => hostile_config(rng, &seeds, &parsed),
                }
            },
            |host, config| {
                if host.configure(&config.0)? {
                    accepted.set(accepted.get() + 1);
                }
                // Accepted or refused, the filter must still answer requests.
                let out = host.worker(0).request(&[
                    (":method", "GET"),
                    (":path", "/api"),
                    (":authority", "api"),
                    ("authorization", auth.as_str()),
                ])?;
                for c in host.pending_callouts() {
                    host.fail_callout(c.id)?;
                }
                let s = host.finish(out.stream)?;
                assert_ne!(s.state, StreamState::Paused, "a request left paused");
                Ok(())
            },
        );
    let r = result.unwrap_or_else(|failure| panic!("{failure}"));
    report("hostile configurations", n, started, &r);
    eprintln!("  {} of {n} configurations accepted", accepted.get());
    assert!(
        accepted.get() > 0,
        "no generated configuration was accepted"
    );
    assert!(
        accepted.get() < n,
        "every generated configuration was accepted"
    );
}

// ---------------------------------------------------------------------------------------
// Focused reproductions of what the loops found.
// ---------------------------------------------------------------------------------------

/// Envoy passes `obs-text` bytes (0x80-0xFF) in header values through to the filter; the
/// SDK's `get_map` panics on them (it decodes every value as UTF-8). A request carrying
/// such a byte in any header must be decided, not trap the VM.
#[test]
fn a_non_utf8_header_value_does_not_trap() {
    let mut host = host(&single(inline_provider("main", json!({}))));
    let token = valid_token();
    let mut auth = format!("Bearer {token}").into_bytes();
    auth[20] = 0x82;
    for (name, value) in [
        ("authorization", auth.as_slice()),
        ("x-other", b"caf\xe9".as_slice()),
    ] {
        let other = format!("Bearer {token}");
        let out = host
            .worker(0)
            .request_raw(&[
                (":method", b"GET"),
                (":path", b"/api"),
                (":authority", b"api"),
                ("authorization", other.as_bytes()),
                (name, value),
            ])
            .unwrap_or_else(|e| panic!("header {name}: {e}"));
        assert!(out.local_response.is_some() || name == "x-other");
        host.finish(out.stream).expect("no trap");
    }
}
