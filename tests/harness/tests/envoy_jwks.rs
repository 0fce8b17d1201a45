//! The jwtgate filter's fetched keys through the harness (issue 4, "Key sources"): a JWKS URL
//! fetched by callout, refresh honouring `Cache-Control` within bounds, refetch on an unknown
//! `kid` with the request paused and a cooldown, last good keys kept through outages and
//! garbage, retry backoff, OIDC discovery, and one fetch shared by every worker.
//!
//! The mock IdP is the test itself: it reads `pending_callouts()` and answers them.

mod envoy_common;

use std::time::Duration;

use envoy_common::*;
use jwtgate_harness::{Host, LogLevel, StreamState};
use serde_json::{json, Value};

/// A remote provider with refresh bounds, required on every path.
fn remote(bounds: Value) -> String {
    let mut p = remote_provider(json!({ "issuer": ISSUER }));
    merge(&mut p, json!({ "remote_jwks": bounds }));
    single(p)
}

fn main_only() -> String {
    jwks_with("rotation", &["main"])
}

fn both_keys() -> String {
    jwks_text("rotation")
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// `ok` or the denial code, for a finished request with `token` on worker `w`.
fn check(host: &mut Host, w: usize, token: &str) -> String {
    let out = bearer(host, w, token);
    assert_ne!(out.state, StreamState::Paused, "unexpected wait for keys");
    let v = verdict(&out);
    host.finish(out.stream).unwrap();
    v
}

/// Advances one second at a time until a callout is pending; returns the seconds waited.
/// The filter notices a due fetch on its next tick (1 s once it has keys), so a fetch due
/// in `wait` seconds starts within one second after that.
fn assert_fetch_after(host: &mut Host, wait: u64, what: &str) {
    let got = seconds_until_callout(host, wait + 100);
    assert!(
        got == Some(wait) || got == Some(wait + 1),
        "{what}: expected a fetch after {wait} s (+1 s tick), got {got:?}"
    );
}

fn seconds_until_callout(host: &mut Host, limit: u64) -> Option<u64> {
    for s in 1..=limit {
        host.advance(secs(1)).unwrap();
        if !host.pending_callouts().is_empty() {
            return Some(s);
        }
    }
    None
}

#[test]
fn the_jwks_is_fetched_through_the_cluster_and_a_waiting_request_resumes() {
    let mut host = host(&remote(json!({})));
    let calls = host.pending_callouts();
    assert_eq!(calls.len(), 1, "one fetch at start: {calls:#?}");
    let c = &calls[0];
    assert_eq!(c.upstream, "idp");
    assert_eq!(c.header(":method").as_deref(), Some("GET"));
    assert_eq!(c.header(":path").as_deref(), Some("/jwks"));
    assert_eq!(c.header(":authority").as_deref(), Some("idp.local"));
    assert_eq!(c.timeout, secs(5));

    // A request before the keys arrive waits for them.
    let out = bearer(&mut host, 0, &valid_token());
    assert_eq!(out.state, StreamState::Paused);
    assert!(out.local_response.is_none());
    Idp::serve_jwks(&mut host, &both_keys(), Some("max-age=300"));
    let s = host.stream(out.stream).unwrap();
    assert_eq!(s.state, StreamState::Flowing, "{:?}", s.local_response);
    assert_eq!(s.resumed, 1);
    host.finish(out.stream).unwrap();

    assert_eq!(check(&mut host, 0, &valid_token()), "ok");
    assert!(host.pending_callouts().is_empty(), "no fetch per request");
    host.advance(secs(2)).unwrap();
    assert_eq!(counter(&host, "jwtgate.jwks_fetch_ok"), 1);
}

#[test]
fn cache_control_max_age_sets_the_next_fetch_within_bounds() {
    let mut host = host(&remote(json!({
        "cache_duration": "300s",
        "min_cache_duration": "10s",
        "max_cache_duration": "3600s",
    })));
    // (Cache-Control, seconds until the next fetch)
    let steps = [
        (Some("public, max-age=120"), 120),
        (Some("max-age=1"), 10),
        (None, 300),
        (Some("max-age=999999"), 3600),
        (Some("no-store"), 10),
        (Some("private, s-maxage=45, max-age=90"), 45),
        (Some("garbage, max-age=x"), 300),
    ];
    Idp::serve_jwks(&mut host, &both_keys(), steps[0].0);
    for (i, (cc, wait)) in steps.iter().enumerate() {
        // One second at a time, so a fetch is seen the second it starts.
        assert_fetch_after(&mut host, *wait, &format!("step {i}: Cache-Control {cc:?}"));
        let next = steps.get(i + 1).and_then(|s| s.0);
        Idp::serve_jwks(&mut host, &both_keys(), next);
    }
}

#[test]
fn an_unknown_kid_pauses_the_request_for_one_refetch_then_resumes() {
    let mut host = host(&remote(json!({ "refetch_cooldown": "30s" })));
    Idp::serve_jwks(&mut host, &main_only(), Some("max-age=3600"));
    assert_eq!(check(&mut host, 0, &valid_token()), "ok");

    // The IdP rotated: the new kid is unknown here.
    let out = bearer(&mut host, 0, &rotated_token());
    assert_eq!(out.state, StreamState::Paused);
    assert_eq!(host.pending_callouts().len(), 1, "exactly one refetch");
    // A second request for the same kid joins the fetch in flight.
    let out2 = bearer(&mut host, 0, &rotated_token());
    assert_eq!(out2.state, StreamState::Paused);
    assert_eq!(host.pending_callouts().len(), 1, "still one refetch");
    Idp::serve_jwks(&mut host, &both_keys(), Some("max-age=3600"));
    for id in [out.stream, out2.stream] {
        let s = host.finish(id).unwrap();
        assert_eq!(s.resumed, 1);
        assert!(s.local_response.is_none(), "{:?}", s.local_response);
    }
    assert_eq!(check(&mut host, 0, &rotated_token()), "ok");
    assert_eq!(check(&mut host, 0, &valid_token()), "ok");
}

#[test]
fn an_unknown_kid_still_unknown_after_the_refetch_is_rejected_and_cooled_down() {
    let mut host = host(&remote(json!({ "refetch_cooldown": "30s" })));
    Idp::serve_jwks(&mut host, &main_only(), Some("max-age=3600"));
    let out = bearer(&mut host, 0, &rotated_token());
    assert_eq!(out.state, StreamState::Paused);
    Idp::serve_jwks(&mut host, &main_only(), Some("max-age=3600"));
    let s = host.finish(out.stream).unwrap();
    let r = s.local_response.expect("rejected after the refetch");
    assert_eq!((r.status, code(&r).as_str()), (401, "unknown_kid"));

    // Within the cooldown: rejected at once, no fetch.
    host.advance(secs(10)).unwrap();
    assert_eq!(check(&mut host, 0, &rotated_token()), "unknown_kid");
    assert!(host.pending_callouts().is_empty(), "cooldown ignored");

    // After it: one more refetch.
    host.advance(secs(21)).unwrap();
    let out = bearer(&mut host, 0, &rotated_token());
    assert_eq!(out.state, StreamState::Paused);
    Idp::serve_jwks(&mut host, &both_keys(), Some("max-age=3600"));
    assert!(host.finish(out.stream).unwrap().local_response.is_none());
}

#[test]
fn an_outage_or_garbage_keeps_the_last_good_keys() {
    let mut host = host(&remote(json!({
        "min_cache_duration": "10s",
        "retry_initial": "1s",
        "retry_max": "1s",
    })));
    Idp::serve_jwks(&mut host, &both_keys(), Some("max-age=10"));
    host.advance(secs(11)).unwrap();
    let answers: [(&str, u16, &[u8]); 6] = [
        ("reset", 0, b""),
        ("500", 500, b"oops"),
        ("not JSON", 200, b"<html>"),
        ("no usable keys", 200, br#"{"keys":[]}"#),
        ("wrong shape", 200, br#"{"keys":{"kty":"RSA"}}"#),
        ("empty", 200, b""),
    ];
    for (what, status, body) in answers {
        let calls = host.pending_callouts();
        assert_eq!(calls.len(), 1, "{what}: {calls:#?}");
        if status == 0 {
            host.fail_callout(calls[0].id).unwrap();
        } else {
            host.answer_callout(calls[0].id, status, &[], body).unwrap();
        }
        assert_eq!(check(&mut host, 0, &valid_token()), "ok", "{what}");
        assert_eq!(check(&mut host, 0, &rotated_token()), "ok", "{what}");
        // The 1 s retry starts on the filter's next 1 s tick.
        host.advance(secs(2)).unwrap();
    }
    assert_eq!(counter(&host, "jwtgate.jwks_fetch_failed"), 6);
    assert_eq!(counter(&host, "jwtgate.jwks_fetch_ok"), 1);
    assert!(host.logged(LogLevel::Warn, "keeping the last good keys"));
}

#[test]
fn failed_fetches_back_off_exponentially_up_to_the_maximum() {
    let mut host = host(&remote(json!({ "retry_initial": "1s", "retry_max": "8s" })));
    let mut waits = Vec::new();
    assert_eq!(Idp::fail_all(&mut host), 1);
    for _ in 0..6 {
        waits.push(seconds_until_callout(&mut host, 100).expect("a retry"));
        assert_eq!(Idp::fail_all(&mut host), 1);
    }
    for (got, want) in waits.iter().zip([1, 2, 4, 8, 8, 8]) {
        assert!(*got == want || *got == want + 1, "backoff {waits:?}");
    }
    // A success resets the backoff to the cache duration.
    let _ = seconds_until_callout(&mut host, 100);
    Idp::serve_jwks(&mut host, &both_keys(), Some("max-age=60"));
    assert_fetch_after(&mut host, 60, "next fetch");
}

#[test]
fn starting_without_the_idp_fails_closed_unless_configured_open() {
    let mut host = host(&remote(json!({})));
    Idp::fail_all(&mut host);
    assert_eq!(check(&mut host, 0, &valid_token()), "no_usable_keys");

    let mut p = remote_provider(json!({ "issuer": ISSUER, "fail_open_without_keys": true }));
    merge(&mut p, json!({}));
    let mut host = self::host(&single(p));
    Idp::fail_all(&mut host);
    assert_eq!(check(&mut host, 0, &valid_token()), "ok");
}

#[test]
fn a_timed_out_fetch_counts_as_a_failure() {
    let mut host = host(&remote(json!({ "retry_initial": "1s" })));
    // Nobody answers: the callout times out after 5 s.
    host.advance(secs(6)).unwrap();
    assert_eq!(counter(&host, "jwtgate.jwks_fetch_failed"), 1);
}

#[test]
fn oidc_discovery_finds_the_jwks_uri() {
    let mut host = host(&single(json!({
        "issuer": ISSUER,
        "oidc_discovery": { "issuer_uri": "https://idp.local/tenant", "cluster": "idp" },
    })));
    let calls = host.pending_callouts();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].header(":path").as_deref(),
        Some("/tenant/.well-known/openid-configuration")
    );
    assert_eq!(calls[0].header(":authority").as_deref(), Some("idp.local"));
    let doc = json!({
        "issuer": "https://idp.local/tenant",
        "jwks_uri": "https://keys.idp.local/tenant/jwks",
    })
    .to_string();
    host.answer_callout(calls[0].id, 200, &[], doc.as_bytes())
        .unwrap();
    let calls = host.pending_callouts();
    assert_eq!(calls.len(), 1, "then the JWKS");
    assert_eq!(calls[0].header(":path").as_deref(), Some("/tenant/jwks"));
    assert_eq!(
        calls[0].header(":authority").as_deref(),
        Some("keys.idp.local")
    );
    Idp::serve_jwks(&mut host, &both_keys(), Some("max-age=60"));
    assert_eq!(check(&mut host, 0, &valid_token()), "ok");

    // The refresh goes straight to the known jwks_uri.
    assert_fetch_after(&mut host, 60, "next fetch");
    assert_eq!(
        host.pending_callouts()[0].header(":path").as_deref(),
        Some("/tenant/jwks")
    );
}

#[test]
fn a_discovery_document_for_another_issuer_is_refused() {
    let mut host = host(&single(json!({
        "issuer": ISSUER,
        "oidc_discovery": { "issuer_uri": "https://idp.local/tenant", "cluster": "idp" },
    })));
    let calls = host.pending_callouts();
    let doc = json!({ "issuer": "https://evil.example", "jwks_uri": "https://evil.example/jwks" });
    host.answer_callout(calls[0].id, 200, &[], doc.to_string().as_bytes())
        .unwrap();
    assert!(
        host.pending_callouts().is_empty(),
        "followed a foreign jwks_uri"
    );
    assert_eq!(check(&mut host, 0, &valid_token()), "no_usable_keys");
}

#[test]
fn two_workers_share_one_fetch() {
    let mut host = host_with(2, &remote(json!({ "min_cache_duration": "10s" })));
    assert_eq!(
        host.pending_callouts().len(),
        1,
        "one fetch for two workers"
    );

    // Both workers have a request waiting; one answer serves both.
    let a = bearer(&mut host, 0, &valid_token());
    let b = bearer(&mut host, 1, &valid_token());
    assert_eq!(
        (a.state, b.state),
        (StreamState::Paused, StreamState::Paused)
    );
    assert_eq!(host.pending_callouts().len(), 1, "still one fetch");
    Idp::serve_jwks(&mut host, &main_only(), Some("max-age=60"));
    // The other worker sees the shared keys on its next (fast) tick.
    host.advance(Duration::from_millis(200)).unwrap();
    for id in [a.stream, b.stream] {
        let s = host.finish(id).unwrap();
        assert!(s.local_response.is_none(), "{:?}", s.local_response);
        assert_eq!(s.resumed, 1);
    }
    assert_eq!(check(&mut host, 1, &valid_token()), "ok");
    assert!(host.pending_callouts().is_empty());

    // Each refresh is one fetch, whichever worker makes it; both see the new keys.
    for round in 0..3 {
        assert_eq!(
            seconds_until_callout(&mut host, 100),
            Some(60),
            "round {round}"
        );
        assert_eq!(host.pending_callouts().len(), 1, "round {round}");
        Idp::serve_jwks(&mut host, &both_keys(), Some("max-age=60"));
        host.advance(secs(1)).unwrap();
        for w in 0..2 {
            assert_eq!(check(&mut host, w, &rotated_token()), "ok", "worker {w}");
        }
    }
    host.advance(secs(1)).unwrap();
    assert_eq!(counter(&host, "jwtgate.jwks_fetch_ok"), 4);
}

#[test]
fn workers_reparse_shared_keys_only_when_their_version_changes() {
    let mut host = host_with(2, &remote(json!({ "min_cache_duration": "10s" })));
    Idp::serve_jwks(&mut host, &main_only(), Some("max-age=10"));
    host.advance(secs(1)).unwrap();
    let installs = |host: &Host| {
        host.logs()
            .iter()
            .filter(|l| l.message.contains("from shared data"))
            .count()
    };
    assert_eq!(installs(&host), 1, "worker 1 installed version 1");
    // The same document again: same version, nothing re-parsed.
    for _ in 0..3 {
        seconds_until_callout(&mut host, 100).unwrap();
        Idp::serve_jwks(&mut host, &main_only(), Some("max-age=10"));
        host.advance(secs(1)).unwrap();
    }
    assert_eq!(installs(&host), 1, "{:#?}", host.logs());
    // A new document: one more install on the worker that did not fetch it.
    seconds_until_callout(&mut host, 100).unwrap();
    Idp::serve_jwks(&mut host, &both_keys(), Some("max-age=10"));
    host.advance(secs(1)).unwrap();
    assert_eq!(installs(&host), 2);
}

#[test]
fn a_request_waiting_on_a_stalled_idp_is_decided_when_the_fetch_times_out() {
    let mut host = host(&remote(json!({})));
    let out = bearer(&mut host, 0, &valid_token());
    assert_eq!(out.state, StreamState::Paused);
    // Nobody answers: the 5 s callout timeout passes, then the request is refused.
    host.advance(secs(6)).unwrap();
    let s = host.stream(out.stream).unwrap();
    assert_eq!(s.state, StreamState::Responded);
    let r = s.local_response.as_ref().unwrap();
    assert_eq!((r.status, code(r).as_str()), (401, "no_usable_keys"));
}

#[test]
fn a_client_leaving_while_its_request_waits_is_forgotten() {
    let mut host = host(&remote(json!({})));
    let out = bearer(&mut host, 0, &valid_token());
    assert_eq!(out.state, StreamState::Paused);
    let gone = host.finish(out.stream).unwrap();
    assert!(gone.local_response.is_none());
    // The answer arrives after the stream is gone; the filter must not touch it.
    Idp::serve_jwks(&mut host, &both_keys(), Some("max-age=60"));
    host.advance(secs(2)).unwrap();
    assert_eq!(check(&mut host, 0, &valid_token()), "ok");
    assert!(!host.logged(LogLevel::Warn, "cannot resume"));
}

#[test]
fn a_configuration_push_keeps_fetched_keys_unless_the_source_changes() {
    let config = remote(json!({}));
    let mut host = host(&config);
    Idp::serve_jwks(&mut host, &both_keys(), Some("max-age=600"));
    // The same source again (a push that changed something else): no refetch.
    assert!(host.configure(&config).unwrap());
    assert!(
        host.pending_callouts().is_empty(),
        "refetched on a same-source push"
    );
    assert_eq!(check(&mut host, 0, &valid_token()), "ok");
    // Another URL: its own fetch.
    let moved = config.replace("http://idp.local/jwks", "http://idp.local/v2/jwks");
    assert!(host.configure(&moved).unwrap());
    host.advance(std::time::Duration::from_millis(100)).unwrap(); // the first fetch is on a tick
    let calls = host.pending_callouts();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].header(":path").as_deref(), Some("/v2/jwks"));
}

#[test]
fn a_failed_jwks_fetch_after_discovery_rediscovers() {
    let mut host = host(&single(json!({
        "issuer": ISSUER,
        "oidc_discovery": {
            "issuer_uri": "https://idp.local/tenant", "cluster": "idp",
            "min_cache_duration": "10s", "retry_initial": "1s",
        },
    })));
    let doc = json!({
        "issuer": "https://idp.local/tenant",
        "jwks_uri": "https://idp.local/tenant/jwks",
    })
    .to_string();
    let c = host.pending_callouts().remove(0);
    host.answer_callout(c.id, 200, &[], doc.as_bytes()).unwrap();
    Idp::serve_jwks(&mut host, &both_keys(), Some("max-age=10"));
    assert_fetch_after(&mut host, 10, "next fetch");
    Idp::fail_all(&mut host);
    // The JWKS URL may have moved: the retry asks the discovery document again.
    seconds_until_callout(&mut host, 100).unwrap();
    assert_eq!(
        host.pending_callouts()[0].header(":path").as_deref(),
        Some("/tenant/.well-known/openid-configuration")
    );
    assert_eq!(
        check(&mut host, 0, &valid_token()),
        "ok",
        "last good keys kept"
    );
}

/// The shared record of the only remote provider (its key is named after a hash).
fn record_key(host: &Host) -> String {
    let keys: Vec<String> = host
        .shared_data_keys()
        .into_iter()
        .filter(|k| k.starts_with("jwtgate.keys.p."))
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    keys[0].clone()
}

#[test]
fn keys_published_by_another_vm_are_installed_without_a_fetch() {
    let mut host = host(&remote(json!({})));
    Idp::serve_jwks(&mut host, &main_only(), Some("max-age=3600"));
    let key = record_key(&host);
    let (bytes, _) = host.shared_data(&key).unwrap();
    let mut record: Value = serde_json::from_slice(&bytes).expect("a JSON record");
    // Another VM (a worker of another listener, a restarted one) fetched newer keys.
    record["jwks"] = json!(both_keys());
    record["version"] = json!(record["version"].as_u64().unwrap() + 1);
    host.set_shared_data(&key, record.to_string());
    host.advance(secs(1)).unwrap();
    assert_eq!(check(&mut host, 0, &rotated_token()), "ok");
    assert!(host.pending_callouts().is_empty(), "fetched anyway");
}

#[test]
fn a_corrupt_shared_record_neither_traps_nor_loses_the_keys() {
    let mut host = host_with(2, &remote(json!({ "min_cache_duration": "10s" })));
    Idp::serve_jwks(&mut host, &both_keys(), Some("max-age=10"));
    host.advance(secs(1)).unwrap();
    let key = record_key(&host);
    for garbage in [
        &b""[..],
        b"not json",
        b"[]",
        br#"{"version":"x","jwks":5}"#,
        br#"{"version":99,"jwks":"{\"keys\":[]}"}"#,
        br#"{"version":100,"jwks":"garbage","lease_until":18446744073709551615}"#,
        b"\xff\xfe",
    ] {
        host.set_shared_data(&key, garbage);
        host.advance(secs(1)).unwrap();
        for w in 0..2 {
            assert_eq!(
                check(&mut host, w, &valid_token()),
                "ok",
                "{:?}",
                garbage.escape_ascii().to_string()
            );
        }
    }
    // And the refresh cycle recovers: a fetch comes and its keys are installed.
    // (Overwriting the record also wiped its lease, so each worker may have one in flight.)
    assert!(seconds_until_callout(&mut host, 400).is_some());
    for c in host.pending_callouts() {
        host.answer_callout(c.id, 200, &[], both_keys().as_bytes())
            .unwrap();
    }
    host.advance(secs(1)).unwrap();
    for w in 0..2 {
        assert_eq!(check(&mut host, w, &rotated_token()), "ok");
    }
}

#[test]
fn requests_waiting_for_keys_are_capped_per_worker() {
    let mut host = host(&remote(json!({})));
    let mut paused = Vec::new();
    let mut refused = 0;
    for _ in 0..1100 {
        let out = bearer(&mut host, 0, &valid_token());
        match out.state {
            StreamState::Paused => paused.push(out.stream),
            StreamState::Responded => {
                assert_eq!(code(out.local_response.as_ref().unwrap()), "no_usable_keys");
                refused += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((paused.len(), refused), (1024, 76));
    Idp::serve_jwks(&mut host, &both_keys(), Some("max-age=60"));
    for id in paused {
        let s = host.finish(id).unwrap();
        assert_eq!(s.resumed, 1);
        assert!(s.local_response.is_none());
    }
}

/// A re-push of an unchanged source keeps this worker's fetch in flight (its lease in the
/// shared record still stands): its answer is applied and no second fetch starts. (Before,
/// `on_configure` rebuilt the sources with no fetch in flight, the answer was dropped and the
/// lease blocked a new fetch for 2 x timeout + 1 s: the request waited 11.2 s for
/// `no_usable_keys`.)
#[test]
fn a_configuration_push_during_the_first_fetch_does_not_lose_its_answer() {
    let config = remote(json!({}));
    let mut host = host(&config);
    assert_eq!(host.pending_callouts().len(), 1);
    // The control plane pushes (the same source) while the fetch is in flight; then the
    // IdP answers that fetch.
    assert!(host.configure(&config).unwrap());
    let calls = host.pending_callouts();
    assert_eq!(calls.len(), 1, "a second fetch: {calls:#?}");
    host.answer_callout(
        calls[0].id,
        200,
        &[("cache-control", "max-age=600")],
        both_keys().as_bytes(),
    )
    .unwrap();
    let out = bearer(&mut host, 0, &valid_token());
    assert_eq!(
        out.state,
        StreamState::Flowing,
        "the answer was dropped: the request waits or is refused ({:?})",
        out.local_response
    );
}

/// A push that changes the source (here its URL) during the first fetch starts afresh: the
/// old fetch's answer is for another source and is dropped, the new source fetches its own.
#[test]
fn a_configuration_push_that_moves_the_source_during_a_fetch_drops_the_old_answer() {
    let config = remote(json!({}));
    let mut host = host(&config);
    let old = host.pending_callouts();
    assert_eq!(old.len(), 1);
    let moved = config.replace("http://idp.local/jwks", "http://idp.local/v2/jwks");
    assert!(host.configure(&moved).unwrap());
    host.advance(Duration::from_millis(100)).unwrap(); // the first fetch is on a tick
    let new: Vec<_> = host
        .pending_callouts()
        .into_iter()
        .filter(|c| c.id != old[0].id)
        .collect();
    assert_eq!(new.len(), 1, "{new:#?}");
    assert_eq!(new[0].header(":path").as_deref(), Some("/v2/jwks"));
    host.answer_callout(old[0].id, 200, &[], both_keys().as_bytes())
        .unwrap();
    let out = bearer(&mut host, 0, &valid_token());
    assert_eq!(
        out.state,
        StreamState::Paused,
        "the old source's keys were used"
    );
    host.answer_callout(new[0].id, 200, &[], both_keys().as_bytes())
        .unwrap();
    let s = host.finish(out.stream).unwrap();
    assert_eq!(s.resumed, 1);
    assert!(s.local_response.is_none(), "{:?}", s.local_response);
}

/// A request that joined another worker's fetch is decided once the shared record counts the
/// fetch as ended, even when it brought the same keys (no new version). (Before, worker 1
/// waited for a new version or the lease deadline, 11.2 s after the fetch started; random
/// `kid`s could so hold up to 1,024 requests per worker for the lease time.)
#[test]
fn a_request_waiting_on_another_workers_refetch_is_decided_when_it_completes() {
    let mut host = host_with(2, &remote(json!({ "refetch_cooldown": "30s" })));
    Idp::serve_jwks(&mut host, &main_only(), Some("max-age=3600"));
    host.advance(secs(1)).unwrap();
    // Worker 0 refetches for the unknown kid; worker 1's request for it joins that fetch.
    let a = bearer(&mut host, 0, &rotated_token());
    let b = bearer(&mut host, 1, &rotated_token());
    assert_eq!(
        (a.state, b.state),
        (StreamState::Paused, StreamState::Paused)
    );
    assert_eq!(host.pending_callouts().len(), 1);
    // The IdP still does not have the kid: the same document again.
    Idp::serve_jwks(&mut host, &main_only(), Some("max-age=3600"));
    let s = host.stream(a.stream).unwrap();
    assert_eq!(s.state, StreamState::Responded, "worker 0 decides at once");
    // Worker 1 learns on its next tick (100 ms while requests wait) that the fetch is done.
    host.advance(Duration::from_millis(200)).unwrap();
    let s = host.stream(b.stream).unwrap();
    assert_eq!(
        s.state,
        StreamState::Responded,
        "worker 1's request still waits for the fetch that already completed"
    );
    assert_eq!(code(s.local_response.as_ref().unwrap()), "unknown_kid");
}
