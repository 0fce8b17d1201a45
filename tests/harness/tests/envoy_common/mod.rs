//! Shared by the jwtgate filter's tests (`envoy_*.rs`): the filter's `.wasm`, the shared vector
//! corpus (tokens and key sets, so no test needs a signing key), configuration builders and a
//! mock IdP that answers the filter's callouts.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use jwtgate_harness::{guest, Callout, Host, LocalResponse, Outcome};
use serde_json::{json, Map, Value};

/// The jwtgate filter's `.wasm`, built for wasm32-wasip1 on first use.
pub fn filter() -> PathBuf {
    guest::guest("jwtgate-envoy")
}

/// `now` of almost every corpus case (2026-01-01T00:00:00Z), also the harness's default clock.
pub const NOW: u64 = 1_767_225_600;

/// The IdP's issuer in the generic corpus tokens.
pub const ISSUER: &str = "https://idp.example.com";

/// The shared vector corpus, parsed once.
pub fn corpus() -> &'static Value {
    static CORPUS: OnceLock<Value> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let path = guest::workspace_root().join("tests/vectors/corpus.json");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).expect("corpus.json is JSON")
    })
}

/// The corpus case named `name`.
pub fn case(name: &str) -> &'static Value {
    corpus()["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no corpus case {name}"))
}

/// The token of a case, exactly (expanding `token_repeat`).
pub fn case_token(case: &Value) -> String {
    if let Some(t) = case["token"].as_str() {
        return t.to_owned();
    }
    let r = &case["token_repeat"];
    let count = r["count"].as_u64().expect("token_repeat.count") as usize;
    format!(
        "{}{}{}",
        r["prefix"].as_str().unwrap_or(""),
        r["unit"].as_str().unwrap_or("").repeat(count),
        r["suffix"].as_str().unwrap_or("")
    )
}

/// The token of the case named `name`.
pub fn token(name: &str) -> String {
    case_token(case(name))
}

/// A valid token signed by key `main` (kid `main`): iss `https://idp.example.com`, sub
/// `alice`, aud `orders-api`, valid at [`NOW`] until `NOW + 3600`.
pub fn valid_token() -> String {
    token("valid_generic_token")
}

/// The same claims signed by key `rotated` (kid `rotated`).
pub fn rotated_token() -> String {
    token("rotation_new_key_ok")
}

/// An EKS service-account token (kid of the EKS key set, nested `kubernetes.io` claims).
pub fn eks_token() -> String {
    token("eks_valid")
}

/// The corpus key set `name` as a JWKS document.
pub fn jwks(name: &str) -> Value {
    corpus()["jwks"][name].clone()
}

/// The corpus key set `name` as text.
pub fn jwks_text(name: &str) -> String {
    jwks(name).to_string()
}

/// A key set with only the keys of corpus set `name` whose `kid` is in `kids`.
pub fn jwks_with(name: &str, kids: &[&str]) -> String {
    let keys: Vec<Value> = jwks(name)["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter(|k| kids.iter().any(|kid| k["kid"] == *kid))
        .cloned()
        .collect();
    json!({ "keys": keys }).to_string()
}

/// The corpus policy `name` (the core's JSON policy fields).
pub fn policy(name: &str) -> Map<String, Value> {
    corpus()["policies"][name]
        .as_object()
        .expect("policy")
        .clone()
}

/// A provider with the inline key set `jwks_name`, plus `extra` fields.
pub fn inline_provider(jwks_name: &str, extra: Value) -> Value {
    let mut p = json!({ "local_jwks": { "inline_string": jwks_text(jwks_name) } });
    merge(&mut p, extra);
    p
}

/// A provider whose keys come from `http://idp/jwks` through cluster `idp`, plus `extra`.
pub fn remote_provider(extra: Value) -> Value {
    let mut p = json!({
        "remote_jwks": {
            "http_uri": { "uri": "http://idp.local/jwks", "cluster": "idp", "timeout": "5s" }
        }
    });
    merge(&mut p, extra);
    p
}

/// Adds (or replaces) the members of `extra` in `base`; objects merge recursively.
pub fn merge(base: &mut Value, extra: Value) {
    match (base, extra) {
        (Value::Object(b), Value::Object(e)) => {
            for (k, v) in e {
                match b.get_mut(&k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, e) if !e.is_null() => *b = e,
        _ => {}
    }
}

/// A whole configuration: one provider `p` required on every path.
pub fn single(provider: Value) -> String {
    json!({
        "providers": { "p": provider },
        "rules": [ { "match": { "prefix": "/" }, "requires": { "provider_name": "p" } } ],
    })
    .to_string()
}

/// One worker running the filter with `config`, which it must accept.
pub fn host(config: &str) -> Host {
    host_with(1, config)
}

/// `workers` workers running the filter with `config`, which every worker must accept.
pub fn host_with(workers: usize, config: &str) -> Host {
    let mut host = Host::new(filter())
        .workers(workers)
        .clusters(&["idp"])
        .configure(config)
        .expect("the filter starts without a trap");
    assert!(
        host.configured(),
        "the filter refused its configuration: {:?}",
        host.logs()
    );
    // The filter starts its first key fetch on its first (100 ms) tick, not inside
    // on_configure, where Envoy drops callouts made during start-up.
    host.advance(std::time::Duration::from_millis(100))
        .expect("the first tick does not trap");
    host
}

/// A GET of `path` with extra headers on worker `w`.
pub fn get(host: &mut Host, w: usize, path: &str, headers: &[(&str, &str)]) -> Outcome {
    let mut all = vec![(":method", "GET"), (":path", path), (":authority", "api")];
    all.extend_from_slice(headers);
    host.worker(w).request(&all).expect("no trap")
}

/// A GET of `/api` with `Authorization: Bearer <token>` on worker `w`.
pub fn bearer(host: &mut Host, w: usize, token: &str) -> Outcome {
    let value = format!("Bearer {token}");
    get(host, w, "/api", &[("authorization", value.as_str())])
}

/// The code of a denial: `error` of the JSON body.
pub fn code(r: &LocalResponse) -> String {
    let v: Value = serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("reply body {:?} is not JSON: {e}", r.body_text()));
    v["error"].as_str().unwrap_or("").to_owned()
}

/// The verdict of a request: `ok` when the filter let it through, else the denial's code.
pub fn verdict(out: &Outcome) -> String {
    match &out.local_response {
        None => "ok".to_owned(),
        Some(r) => code(r),
    }
}

/// The `error_description` of a `WWW-Authenticate` challenge.
pub fn error_description(r: &LocalResponse) -> Option<String> {
    let h = r.header("www-authenticate")?;
    let (_, rest) = h.split_once("error_description=\"")?;
    rest.split('"').next().map(str::to_owned)
}

/// The value of counter `name`, 0 when not defined yet.
pub fn counter(host: &Host, name: &str) -> i64 {
    host.metric(name).map_or(0, |m| m.value())
}

/// Mock IdP: the callouts waiting, and answers to them.
pub struct Idp;

impl Idp {
    /// Callouts whose `:path` is `path`.
    pub fn pending(host: &Host, path: &str) -> Vec<Callout> {
        host.pending_callouts()
            .into_iter()
            .filter(|c| c.header(":path").as_deref() == Some(path))
            .collect()
    }

    /// Answers the only pending callout (there must be exactly one) with a key set and
    /// `cache-control`; returns that callout.
    pub fn serve_jwks(host: &mut Host, jwks: &str, cache_control: Option<&str>) -> Callout {
        let calls = host.pending_callouts();
        assert_eq!(calls.len(), 1, "expected one callout, got {calls:#?}");
        let c = calls[0].clone();
        let headers: Vec<(&str, &str)> = cache_control
            .map(|cc| vec![("cache-control", cc), ("content-type", "application/json")])
            .unwrap_or_default();
        host.answer_callout(c.id, 200, &headers, jwks.as_bytes())
            .expect("no trap");
        c
    }

    /// Fails every pending callout; returns how many there were.
    pub fn fail_all(host: &mut Host) -> usize {
        let calls = host.pending_callouts();
        for c in &calls {
            host.fail_callout(c.id).expect("no trap");
        }
        calls.len()
    }
}
