//! The key-fetch scenarios the wasmtime harness and the hostile-IdP suite run against the
//! built module, here natively: workers driven through [`Worker`] with a mock host that
//! shares data between them. Assertions count what the filter did (calls, replies,
//! resumes, counters); the clock is the mock's.

use crate::apply::Next;
use crate::config;
use crate::mock::{MockHost, Net};
use crate::worker::Worker;
use base64::Engine as _;
use serde_json::{json, Value};
use std::rc::Rc;

const JWKS_A: &str = include_str!("../../tests/vectors/keys/rfc7515-a2.jwks.json");
/// One RSA key with kid `bilbo.baggins@hobbiton.example`.
const JWKS_B: &str = include_str!("../../tests/vectors/keys/rfc7520-4.1.jwks.json");
// RFC 7515 A.2: RS256, no kid, iss "joe", exp 1300819380; verifies under JWKS_A.
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
const START: u64 = 1_300_819_000_000;

/// TOKEN's claims and signature under a header naming `kid` (the signature no longer
/// matches: enough to ask for a key by name).
fn token_with_kid(kid: &str) -> String {
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#));
    let rest = TOKEN.split_once('.').map_or("", |(_, r)| r);
    format!("{header}.{rest}")
}

fn remote() -> Value {
    json!({"remote_jwks": {
        "http_uri": {"uri": "http://idp/jwks", "cluster": "idp", "timeout": "1s"},
        "refetch_cooldown": "10s"
    }})
}

fn discovery() -> Value {
    json!({"oidc_discovery": {"issuer_uri": "http://idp", "cluster": "idp", "timeout": "1s"}})
}

fn configure(w: &mut Worker, h: &MockHost, keys: &Value) {
    let mut provider = json!({"issuer": "joe"});
    if let (Some(p), Some(k)) = (provider.as_object_mut(), keys.as_object()) {
        p.extend(k.clone());
    }
    let doc = json!({
        "providers": {"joe": provider},
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "joe"}}],
        // The RFC token's exp is in 2011: the filter's clock stands still there.
        "fixed_now": START / 1000,
    });
    let cfg = config::parse(doc.to_string().as_bytes()).expect("valid configuration");
    w.configure(h, cfg);
}

/// A worker VM with its host, on a shared network.
fn worker(net: &Rc<Net>, id: usize, keys: &Value) -> (Worker, MockHost) {
    let h = MockHost::new(net, id);
    let mut w = Worker::new(1000 + u32::try_from(id).unwrap());
    configure(&mut w, &h, keys);
    (w, h)
}

fn request(w: &mut Worker, h: &MockHost, ctx: u32, token: &str) -> Next {
    h.enter(ctx);
    let headers = vec![
        (":path".to_owned(), "/".to_owned()),
        ("authorization".to_owned(), format!("Bearer {token}")),
    ];
    w.request_headers(h, ctx, &headers)
}

/// The IdP answers the last call `worker` made.
fn answer(w: &mut Worker, h: &MockHost, status: &str, body: &str, cc: Option<&str>) {
    let token = last_call(h).0;
    w.fetch_response(h, token, status, Some(body.as_bytes()), cc, w.root_id);
}

fn last_call(h: &MockHost) -> (u32, String) {
    let calls = h.net.calls.borrow();
    let c = calls
        .iter()
        .rev()
        .find(|c| c.worker == h.id)
        .expect("a call");
    (c.token, c.path.clone())
}

fn calls(net: &Net) -> usize {
    net.calls.borrow().len()
}

#[test]
fn first_fetch_installs_keys_and_resumes_the_paused_request() {
    let net = Net::new(START);
    let (mut w, h) = worker(&net, 0, &remote());
    assert_eq!(calls(&net), 0, "no callout during configuration");
    assert_eq!(h.tick_ms.get(), 100, "fast ticks while keyless");
    w.tick(&h);
    assert_eq!(last_call(&h).1, "/jwks");
    // A request before the keys: paused, joins the fetch in flight.
    assert_eq!(request(&mut w, &h, 7, TOKEN), Next::Pause);
    assert!(w.waiting(7));
    answer(&mut w, &h, "200", JWKS_A, Some("max-age=300"));
    assert!(!w.waiting(7));
    assert_eq!(*h.resumed.borrow(), [7]);
    assert!(h.replies.borrow().is_empty());
    // Then requests are decided at once, with no more calls.
    assert_eq!(request(&mut w, &h, 8, TOKEN), Next::Continue);
    net.advance(1000);
    w.tick(&h);
    assert_eq!(calls(&net), 1);
    assert_eq!(h.counter("jwtgate.allowed"), 2);
    assert_eq!(h.counter("jwtgate.jwks_fetch_ok"), 1);
    assert_eq!(h.tick_ms.get(), 1000);
    let rec = net.record("jwtgate.keys.joe.");
    assert_eq!((rec.version, rec.fetches, rec.completed), (1, 1, 1));
    assert_eq!(rec.next_fetch_at, START + 300_000);
    // The refresh is due by Cache-Control.
    net.advance(298_000);
    w.tick(&h);
    assert_eq!(calls(&net), 1);
    net.advance(1000);
    w.tick(&h);
    assert_eq!(calls(&net), 2);
}

#[test]
fn one_worker_wins_the_lease_the_other_adopts_the_keys_from_shared_data() {
    let net = Net::new(START);
    let (mut a, ha) = worker(&net, 0, &remote());
    let (mut b, hb) = worker(&net, 1, &remote());
    a.tick(&ha);
    b.tick(&hb);
    assert_eq!(calls(&net), 1, "B lost the lease");
    // B's request joins A's fetch, and is released when B reads the ended fetch.
    assert_eq!(request(&mut b, &hb, 9, TOKEN), Next::Pause);
    assert_eq!(calls(&net), 1);
    answer(&mut a, &ha, "200", JWKS_A, None);
    net.advance(100);
    b.tick(&hb);
    assert_eq!(*hb.resumed.borrow(), [9]);
    assert_eq!(request(&mut b, &hb, 10, TOKEN), Next::Continue);
    assert_eq!(calls(&net), 1, "one fetch served both workers");
    assert_eq!(net.record("jwtgate.keys.joe.").fetches, 1);
}

#[test]
fn a_stale_lease_is_taken_over() {
    let net = Net::new(START);
    let (mut a, ha) = worker(&net, 0, &remote());
    let (mut b, hb) = worker(&net, 1, &remote());
    a.tick(&ha);
    // A's callout is lost (no callback ever). B waits for the lease (1 s timeout: 3 s).
    net.advance(2900);
    b.tick(&hb);
    assert_eq!(calls(&net), 1);
    net.advance(100);
    b.tick(&hb);
    assert_eq!(calls(&net), 2);
    assert_eq!(last_call(&hb).1, "/jwks");
    answer(&mut b, &hb, "200", JWKS_A, None);
    net.advance(100);
    a.tick(&ha);
    assert_eq!(request(&mut a, &ha, 3, TOKEN), Next::Continue);
}

#[test]
fn a_failing_idp_keeps_the_last_good_keys_and_backs_off() {
    let net = Net::new(START);
    let (mut w, h) = worker(&net, 0, &remote());
    w.tick(&h);
    answer(&mut w, &h, "200", JWKS_A, Some("max-age=60"));
    net.advance(60_000);
    w.tick(&h);
    assert_eq!(calls(&net), 2);
    answer(&mut w, &h, "500", "", None);
    assert_eq!(request(&mut w, &h, 1, TOKEN), Next::Continue);
    // Garbage, then a reset: each refused, the keys stay, the delay doubles (1 s, 2 s).
    net.advance(999);
    w.tick(&h);
    assert_eq!(calls(&net), 2);
    net.advance(1);
    w.tick(&h);
    assert_eq!(calls(&net), 3);
    answer(&mut w, &h, "200", "{\"keys\": 1}", None);
    net.advance(2000);
    w.tick(&h);
    assert_eq!(calls(&net), 4);
    answer(&mut w, &h, "", "", None);
    assert_eq!(request(&mut w, &h, 2, TOKEN), Next::Continue);
    let rec = net.record("jwtgate.keys.joe.");
    assert_eq!((rec.version, rec.failures), (1, 3));
    net.advance(1000);
    w.tick(&h);
    assert_eq!(h.counter("jwtgate.jwks_fetch_failed"), 3);
    assert_eq!(h.counter("jwtgate.jwks_fetch_ok"), 1);
    assert_eq!(h.counter("jwtgate.allowed"), 2);
}

#[test]
fn paused_requests_are_denied_when_the_first_fetch_fails() {
    let net = Net::new(START);
    let (mut w, h) = worker(&net, 0, &remote());
    w.tick(&h);
    assert_eq!(request(&mut w, &h, 5, TOKEN), Next::Pause);
    answer(&mut w, &h, "503", "", None);
    assert!(!w.waiting(5));
    assert!(h.resumed.borrow().is_empty());
    assert_eq!(h.reply_to(5), Some(401));
}

#[test]
fn unknown_kid_refetches_once_per_cooldown() {
    let net = Net::new(START);
    let (mut w, h) = worker(&net, 0, &remote());
    w.tick(&h);
    answer(&mut w, &h, "200", JWKS_B, Some("max-age=3600"));
    let stranger = token_with_kid("new");
    // An unknown kid: one refetch, the request waits for it.
    assert_eq!(request(&mut w, &h, 1, &stranger), Next::Pause);
    assert_eq!(calls(&net), 2);
    // Another during the fetch joins it.
    assert_eq!(request(&mut w, &h, 2, &stranger), Next::Pause);
    assert_eq!(calls(&net), 2);
    answer(&mut w, &h, "200", JWKS_B, Some("max-age=3600"));
    assert_eq!(h.reply_to(1), Some(401));
    assert_eq!(h.reply_to(2), Some(401));
    // Within the cooldown (10 s): decided at once, no call.
    net.advance(5000);
    assert_eq!(request(&mut w, &h, 3, &stranger), Next::Pause);
    assert!(!w.waiting(3));
    assert_eq!(calls(&net), 2);
    // After it: a new refetch, which brings the kid (the signature is then checked).
    net.advance(5000);
    assert_eq!(request(&mut w, &h, 4, &stranger), Next::Pause);
    assert_eq!(calls(&net), 3);
    let with_kid = JWKS_A.replacen("\"kty\"", "\"kid\":\"new\",\"kty\"", 1);
    answer(&mut w, &h, "200", &with_kid, None);
    assert!(!w.waiting(4));
    net.advance(1000);
    w.tick(&h);
    assert_eq!(h.counter("jwtgate.denied.unknown_kid"), 3);
    assert_eq!(net.record("jwtgate.keys.joe.").version, 2);
    assert!(h
        .counters
        .borrow()
        .keys()
        .any(|k| k.starts_with("jwtgate.denied.") && k != "jwtgate.denied.unknown_kid"));
}

#[test]
fn discovery_then_jwks_shared_and_rediscovered_after_a_jwks_failure() {
    let net = Net::new(START);
    let (mut a, ha) = worker(&net, 0, &discovery());
    let (mut b, hb) = worker(&net, 1, &discovery());
    a.tick(&ha);
    assert_eq!(last_call(&ha).1, "/.well-known/openid-configuration");
    assert_eq!(request(&mut a, &ha, 1, TOKEN), Next::Pause);
    let doc = r#"{"issuer":"http://idp","jwks_uri":"http://idp/keys"}"#;
    answer(&mut a, &ha, "200", doc, None);
    assert!(a.waiting(1), "the JWKS fetch continues the attempt");
    assert_eq!(last_call(&ha).1, "/keys");
    answer(&mut a, &ha, "200", JWKS_A, Some("max-age=60"));
    assert_eq!(*ha.resumed.borrow(), [1]);
    // The next refresh, by the other worker, goes straight to the shared jwks_uri.
    net.advance(60_000);
    b.tick(&hb);
    assert_eq!(last_call(&hb).1, "/keys");
    answer(&mut b, &hb, "500", "", None);
    // After a JWKS failure the next attempt rediscovers.
    net.advance(1000);
    b.tick(&hb);
    assert_eq!(last_call(&hb).1, "/.well-known/openid-configuration");
    // A foreign issuer in the discovery document is refused; the keys stay.
    answer(
        &mut b,
        &hb,
        "200",
        r#"{"issuer":"http://evil","jwks_uri":"http://evil/k"}"#,
        None,
    );
    assert_eq!(calls(&net), 4, "refused without a JWKS call");
    assert_eq!(request(&mut b, &hb, 2, TOKEN), Next::Continue);
    assert_eq!(net.record("jwtgate.keys.joe.").failures, 2);
}

#[test]
fn a_configuration_push_keeps_the_fetch_in_flight() {
    let net = Net::new(START);
    let (mut w, h) = worker(&net, 0, &remote());
    w.tick(&h);
    assert_eq!(request(&mut w, &h, 1, TOKEN), Next::Pause);
    configure(&mut w, &h, &remote());
    assert!(w.waiting(1));
    answer(&mut w, &h, "200", JWKS_A, None);
    assert_eq!(*h.resumed.borrow(), [1]);
    assert_eq!(request(&mut w, &h, 2, TOKEN), Next::Continue);
    assert_eq!(calls(&net), 1);
}

#[test]
fn the_client_leaving_drops_its_wait_and_a_refused_call_counts_as_a_failure() {
    let net = Net::new(START);
    let (mut w, h) = worker(&net, 0, &remote());
    net.refuse_calls.set(Some(2));
    w.tick(&h);
    assert_eq!(calls(&net), 0);
    assert_eq!(net.record("jwtgate.keys.joe.").failures, 1);
    net.refuse_calls.set(None);
    net.advance(1000);
    w.tick(&h);
    assert_eq!(request(&mut w, &h, 1, TOKEN), Next::Pause);
    w.done(1);
    answer(&mut w, &h, "200", JWKS_A, None);
    assert!(h.resumed.borrow().is_empty());
    net.advance(1000);
    w.tick(&h);
    assert_eq!(h.counter("jwtgate.jwks_fetch_failed"), 1);
}
