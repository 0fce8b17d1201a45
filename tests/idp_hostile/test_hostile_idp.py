"""Hostile IdP scenarios against a real Envoy 1.40 (V8) running the jwtgate filter with a
remote JWKS or OIDC discovery source.

What must hold whatever the IdP does:
- with no keys ever fetched, requests are refused (401 `no_usable_keys`) unless
  `fail_open_without_keys` is set;
- once keys were fetched, they keep working through outages, stalls, errors and garbage;
- no request waits longer than the fetch timeout allows (the README: twice the fetch timeout
  plus 1 s; the bound below adds generous slack for a loaded 2-core machine);
- the filter only ever talks to its configured cluster (no redirect followed, no other host);
- refetches respect the cooldown, the backoff and `min_cache_duration`;
- Envoy's memory stays bounded.
"""

import json
import random
import threading
import time

import pytest

from envoyrun import bearer, cluster, direct, free_port, listener, request, wasm_filter
from hostile import (AUDIENCE, ISSUER, HostileIdp, close_without_answer, closed_port, drip, huge, jwks,
                     make_token, pem_key, redirect, respond, rss_kb, stall, truncated)
from idp import Key

TIMEOUT_S = 1.0
# Longest a request may wait: 2 x fetch timeout + 1 s (the filter's lease) + 3 s of slack.
WAIT_BOUND = 2 * TIMEOUT_S + 1 + 3

K1 = pem_key("main", "k1")
K2 = pem_key("rotated", "k2")
ATTACKER = pem_key("attacker", "k1")  # a different key claiming the trusted kid


# ---- helpers ------------------------------------------------------------------------------

def remote_plugin(uri: str = ISSUER + "/keys", **extra) -> dict:
    src = {"http_uri": {"uri": uri, "cluster": "idp", "timeout": f"{TIMEOUT_S}s"},
           "min_cache_duration": "1s", "refetch_cooldown": "2s", "retry_initial": "1s", "retry_max": "2s"}
    src.update(extra.pop("source", {}))
    provider = {"issuer": ISSUER, "audiences": [AUDIENCE], "remote_jwks": src}
    provider.update(extra)
    return {"providers": {"idp": provider}, "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "idp"}}]}


def discovery_plugin(**src_extra) -> dict:
    src = {"issuer_uri": ISSUER, "cluster": "idp", "timeout": f"{TIMEOUT_S}s",
           "min_cache_duration": "1s", "refetch_cooldown": "2s", "retry_initial": "1s", "retry_max": "2s"}
    src.update(src_extra)
    return {"providers": {"idp": {"issuer": ISSUER, "audiences": [AUDIENCE], "oidc_discovery": src}},
            "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "idp"}}]}


def start(envoy_factory, idp_port: int, plugin: dict, concurrency: int = 1):
    port = free_port()
    e = envoy_factory([listener("l", port, [wasm_filter(plugin)], [direct()])],
                      [cluster("idp", idp_port)], concurrency=concurrency)
    return e, port


def call(port: int, token: str):
    """(status, error code, seconds waited). The client timeout is well above WAIT_BOUND so a
    request the filter holds too long shows up as a failed bound, not a client error."""
    t0 = time.monotonic()
    st, _, body = request(port, "/", bearer(token), timeout=WAIT_BOUND + 20)
    waited = time.monotonic() - t0
    try:
        code = json.loads(body).get("error", "") if st != 200 else ""
    except ValueError:
        code = "?"
    return st, code, waited


def call_bounded(port: int, token: str):
    st, code, waited = call(port, token)
    assert waited <= WAIT_BOUND, f"request waited {waited:.2f}s (bound {WAIT_BOUND}s): {st} {code}"
    return st, code


# How long to wait for something the filter will do (a fetch, a counter flush). Only a
# ceiling: waits end as soon as it happens, so a slow or loaded machine never fails a test
# that a fast one passes.
PATIENCE = 60.0


def wait_for(pred, timeout: float = PATIENCE, every: float = 0.1) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(every)
    return False


def ready(e, port, token=None) -> bool:
    return wait_for(lambda: call(port, token or make_token(K1))[0] == 200, PATIENCE)


def parallel(n: int, fn) -> list:
    out, lock = [], threading.Lock()

    def run(i):
        r = fn(i)
        with lock:
            out.append(r)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    return out


def alive(e) -> None:
    assert e.proc.poll() is None, "envoy exited:\n" + e.log()[-3000:]
    assert "panicked" not in e.log(), e.log()[-3000:]


# ---- down ---------------------------------------------------------------------------------

def test_down_at_startup_fails_closed_then_recovers(envoy_factory, idps):
    idp_port = closed_port()
    e, port = start(envoy_factory, idp_port, remote_plugin())
    for _ in range(3):
        assert call_bounded(port, make_token(K1)) == (401, "no_usable_keys")
    # Malformed and forged tokens are refused too (not let through for lack of keys).
    assert call_bounded(port, "not.a.jwt")[0] == 401
    assert call_bounded(port, make_token(ATTACKER))[0] == 401
    assert wait_for(lambda: e.counter("jwtgate.jwks_fetch_failed") >= 1, PATIENCE)
    # The IdP comes up on its port: keys arrive with the next retry (retry_max 2 s).
    idp = idps(port=idp_port)
    assert ready(e, port), e.log()[-2000:]
    assert idp.count() >= 1
    alive(e)


def test_down_at_startup_fails_open_only_when_configured(envoy_factory, idps):
    idp_port = closed_port()
    e, port = start(envoy_factory, idp_port, remote_plugin(fail_open_without_keys=True))
    assert wait_for(lambda: e.counter("jwtgate.jwks_fetch_failed") >= 1, PATIENCE)
    assert call_bounded(port, make_token(K1))[0] == 200
    idps(port=idp_port)
    # Once keys exist, tokens are verified again: a forged one is refused.
    assert wait_for(lambda: call(port, make_token(ATTACKER))[0] == 401, PATIENCE)
    assert call_bounded(port, make_token(K1))[0] == 200
    alive(e)


def test_down_later_keeps_the_last_good_keys(envoy_factory, idps):
    idp = idps(max_age=1)
    e, port = start(envoy_factory, idp.port, remote_plugin())
    assert ready(e, port)
    idp.stop()  # connection refused from now on
    assert wait_for(lambda: e.counter("jwtgate.jwks_fetch_failed") >= 2, PATIENCE), e.log()[-2000:]
    for _ in range(5):
        assert call_bounded(port, make_token(K1))[0] == 200
    # An unknown kid cannot be fetched: refused, promptly.
    assert call_bounded(port, make_token(K2)) == (401, "unknown_kid")
    assert call_bounded(port, make_token(ATTACKER)) == (401, "bad_signature")
    assert "keeping the last good keys" in e.log()
    alive(e)


# ---- slow ---------------------------------------------------------------------------------

@pytest.mark.parametrize("workers", [1, 2])
def test_stall_at_startup_no_request_waits_beyond_the_timeout(envoy_factory, idp, workers):
    idp.set("/keys", stall(30))
    e, port = start(envoy_factory, idp.port, remote_plugin(), concurrency=workers)
    results = parallel(16, lambda i: call(port, make_token(K1)))
    # Then steady traffic across several fetch attempts (timeouts and retries): still bounded.
    end = time.time() + 8
    while time.time() < end and len(results) < 1000:
        results += parallel(4, lambda i: call(port, make_token(K1)))
        time.sleep(0.05)
    worst = max(r[2] for r in results)
    assert all(r[:2] == (401, "no_usable_keys") for r in results), set(r[:2] for r in results)
    assert worst <= WAIT_BOUND, worst
    assert idp.count() >= 2  # it kept retrying
    alive(e)


@pytest.mark.parametrize("workers", [1, 2])
def test_stall_later_known_keys_fast_unknown_kid_bounded(envoy_factory, idp, workers):
    e, port = start(envoy_factory, idp.port, remote_plugin(), concurrency=workers)
    assert ready(e, port)
    idp.set("/keys", stall(30))
    results = parallel(8, lambda i: call(port, make_token(K2 if i % 2 else K1)))
    for st, code, waited in results:
        assert waited <= WAIT_BOUND, results
        assert st == 200 or (st, code) == (401, "unknown_kid"), results
    assert sum(1 for r in results if r[0] == 200) == 4
    # A known kid never waits on the stalled IdP.
    st, _, waited = call(port, make_token(K1))
    assert st == 200 and waited < 2.0, waited
    alive(e)


def test_body_dripped_beyond_the_timeout_is_abandoned(envoy_factory, idp):
    e, port = start(envoy_factory, idp.port, remote_plugin())
    assert ready(e, port)
    body = json.dumps({"keys": [K1.jwk(), K2.jwk()]}).encode()
    idp.set("/keys", drip(body, 8.0))
    assert call_bounded(port, make_token(K2)) == (401, "unknown_kid")
    assert call_bounded(port, make_token(K1))[0] == 200
    assert wait_for(lambda: e.counter("jwtgate.jwks_fetch_failed") >= 1, PATIENCE)
    alive(e)


def test_discovery_stall_is_bounded_and_fails_closed(envoy_factory, idp):
    idp.set("/.well-known/openid-configuration", stall(30))
    e, port = start(envoy_factory, idp.port, discovery_plugin())
    results = parallel(4, lambda i: call(port, make_token(K1)))
    assert all(r[:2] == (401, "no_usable_keys") for r in results), results
    assert max(r[2] for r in results) <= WAIT_BOUND, results
    assert idp.count() == 0  # the JWKS is never fetched without a discovery answer
    alive(e)


# ---- errors and bad bodies ----------------------------------------------------------------

def _good_doc(*keys) -> bytes:
    return json.dumps({"keys": [k.jwk() for k in keys]}).encode()


def _many_keys_doc(n: int) -> bytes:
    # Small entries so the document stays under the size limit: the key count must refuse it.
    entries = [{"kty": "RSA", "kid": f"x{i}", "n": "AQAB", "e": "AQAB"} for i in range(n)]
    return json.dumps({"keys": entries + [K2.jwk()]}).encode()


def _padded_jwks(nbytes: int) -> bytes:
    doc = json.dumps({"keys": [K1.jwk(), K2.jwk()], "pad": ""}).encode()
    return doc[:-2] + b"a" * (nbytes - len(doc)) + b'"}'


# Each one carries K2 where it can, so "refused" is visible: K2's tokens must stay unknown.
BAD_ANSWERS = {
    "500": lambda: respond(500, '{"error":"boom"}'),
    "502_html": lambda: respond(502, "<html>bad gateway</html>", "text/html"),
    "503_carrying_a_jwks": lambda: respond(503, _good_doc(K1, K2)),
    "404": lambda: respond(404, "not found", "text/plain"),
    "429": lambda: respond(429, "{}", headers={"retry-after": "1"}),
    "204_empty": lambda: respond(204, ""),
    "200_empty": lambda: respond(200, ""),
    "close_without_answer": close_without_answer,
    "truncated_connection": lambda: truncated(_good_doc(K1, K2)[:300], len(_good_doc(K1, K2))),
    "truncated_json": lambda: respond(200, _good_doc(K1, K2)[:-40]),
    "html": lambda: respond(200, "<html>not a jwks</html>", "text/html"),
    "binary": lambda: respond(200, bytes(range(256)) * 64, "application/octet-stream"),
    "invalid_utf8": lambda: respond(200, _good_doc(K1, K2)[:-3] + b'\xff\xfe"]}'),
    "gzip_lie": lambda: respond(200, b"\x1f\x8b\x08\x00garbage", headers={"content-encoding": "gzip"}),
    "json_null": lambda: respond(200, "null"),
    "json_array": lambda: respond(200, json.dumps([K2.jwk()])),
    "keys_not_array": lambda: respond(200, json.dumps({"keys": K2.jwk()})),
    "keys_empty": lambda: respond(200, '{"keys":[]}'),
    "deep_nesting": lambda: respond(200, b'{"keys":' + b"[" * 200_000 + b"]" * 200_000 + b"}"),
    "thousands_of_keys": lambda: respond(200, _many_keys_doc(3000)),
    "thousands_of_real_keys": lambda: respond(200, json.dumps({"keys": [dict(K2.jwk(), kid=f"k{i}")
                                                                          for i in range(2000)]})),
    "huge_2mb_valid_jwks": lambda: respond(200, _padded_jwks(2 << 20)),
    "huge_300kb_valid_jwks": lambda: respond(200, _padded_jwks(300 << 10)),
    "huge_32mb": lambda: huge(32 << 20),
}


@pytest.mark.parametrize("answer", sorted(BAD_ANSWERS))
def test_bad_answer_later_keeps_the_last_good_keys(envoy_factory, idp, answer):
    e, port = start(envoy_factory, idp.port, remote_plugin())
    assert ready(e, port)
    hits = idp.count()
    idp.set("/keys", BAD_ANSWERS[answer]())
    # K2 is unknown: one refetch, which meets the bad answer, so K2 stays unknown.
    assert call_bounded(port, make_token(K2)) == (401, "unknown_kid")
    assert idp.count() == hits + 1
    for _ in range(3):
        assert call_bounded(port, make_token(K1))[0] == 200
    assert call_bounded(port, make_token(ATTACKER)) == (401, "bad_signature")
    assert wait_for(lambda: e.counter("jwtgate.jwks_fetch_failed") >= 1, PATIENCE), e.log()[-2000:]
    alive(e)


@pytest.mark.parametrize("answer", sorted(BAD_ANSWERS))
def test_bad_answer_at_startup_fails_closed(envoy_factory, idp, answer):
    idp.set("/keys", BAD_ANSWERS[answer]())
    e, port = start(envoy_factory, idp.port, remote_plugin())
    assert wait_for(lambda: idp.count() >= 1, PATIENCE)
    assert call_bounded(port, make_token(K2)) == (401, "no_usable_keys")
    assert call_bounded(port, make_token(K1)) == (401, "no_usable_keys")
    alive(e)


def test_5xx_retries_back_off(envoy_factory, idp):
    idp.set("/keys", respond(500, "{}"))
    e, port = start(envoy_factory, idp.port, remote_plugin(source={"retry_initial": "1s", "retry_max": "4s"}))
    assert wait_for(lambda: idp.count() >= 1, PATIENCE)
    t0 = idp.requests[0][0]
    time.sleep(9)
    times = [t - t0 for t, p, _ in list(idp.requests) if p == "/keys"]
    # Backoff 1, 2, 4, 4 s: attempts near 0, 1, 3, 7 -> at most 5 in 9 s (one spare for ticks).
    assert 2 <= len(times) <= 5, times
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(g >= 0.8 for g in gaps), gaps
    idp.serve_keys()
    assert ready(e, port)
    alive(e)


# ---- redirects and other hosts ------------------------------------------------------------

@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_jwks_redirect_is_not_followed(envoy_factory, idps, status):
    idp, evil = idps(), idps(keys=[ATTACKER, K2])
    idp.set("/keys", redirect(f"{evil.base}/keys", status))
    e, port = start(envoy_factory, idp.port, remote_plugin())
    assert wait_for(lambda: idp.count() >= 1, PATIENCE)
    assert call_bounded(port, make_token(ATTACKER)) == (401, "no_usable_keys")
    idp.serve_keys()
    assert ready(e, port)
    # Later redirects are not followed either: K2 (only at the redirect target) stays unknown.
    idp.set("/keys", redirect(f"{evil.base}/keys", status))
    assert call_bounded(port, make_token(K2)) == (401, "unknown_kid")
    assert call_bounded(port, make_token(K1))[0] == 200
    assert evil.count() == 0 and sum(evil.hits.values()) == 0
    alive(e)


def test_discovery_redirect_is_not_followed(envoy_factory, idps):
    idp, evil = idps(), idps(keys=[ATTACKER])
    idp.set("/.well-known/openid-configuration", redirect(f"{evil.base}/.well-known/openid-configuration"))
    e, port = start(envoy_factory, idp.port, discovery_plugin())
    assert wait_for(lambda: idp.count("/.well-known/openid-configuration") >= 1, PATIENCE)
    assert call_bounded(port, make_token(ATTACKER)) == (401, "no_usable_keys")
    assert sum(evil.hits.values()) == 0
    alive(e)


def test_discovery_jwks_uri_on_another_host_is_fetched_through_the_configured_cluster(envoy_factory, idps):
    """jwks_uri names another host. The filter sends the fetch to its configured cluster (the
    URL gives only :authority and :path), so the other host is never contacted and its keys
    never trusted."""
    idp, evil = idps(), idps(keys=[ATTACKER])
    idp.set("/.well-known/openid-configuration", idp.discovery_doc(jwks_uri=f"{evil.base}/evil-keys"))
    evil.set("/evil-keys", jwks([ATTACKER]))
    e, port = start(envoy_factory, idp.port, discovery_plugin())
    assert wait_for(lambda: idp.count("/evil-keys") >= 1, PATIENCE), dict(idp.hits)
    assert call_bounded(port, make_token(ATTACKER)) == (401, "no_usable_keys")
    assert call_bounded(port, make_token(K1)) == (401, "no_usable_keys")
    assert sum(evil.hits.values()) == 0
    # The request for the other host arrived at the configured IdP, with that host as :authority.
    _, path, headers = [r for r in idp.requests if r[1] == "/evil-keys"][0]
    assert headers.get("host") == f"127.0.0.1:{evil.port}"
    alive(e)


@pytest.mark.parametrize("doc", [
    {"issuer": "http://idp.hostile.test.evil", "jwks_uri": ISSUER + "/keys"},
    {"issuer": "http://idp.hostile", "jwks_uri": ISSUER + "/keys"},
    {"jwks_uri": ISSUER + "/keys"},
    {"issuer": ISSUER, "jwks_uri": "file:///etc/passwd"},
    {"issuer": ISSUER, "jwks_uri": "ftp://idp.hostile.test/keys"},
    {"issuer": ISSUER, "jwks_uri": 7},
    {"issuer": ISSUER},
], ids=["issuer_suffix", "issuer_prefix", "no_issuer", "file_uri", "ftp_uri", "uri_not_string", "no_jwks_uri"])
def test_bad_discovery_document_fails_closed(envoy_factory, idp, doc):
    idp.set("/.well-known/openid-configuration", respond(200, json.dumps(doc)))
    e, port = start(envoy_factory, idp.port, discovery_plugin())
    assert wait_for(lambda: idp.count("/.well-known/openid-configuration") >= 1, PATIENCE)
    assert call_bounded(port, make_token(K1)) == (401, "no_usable_keys")
    assert idp.count("/keys") == 0
    alive(e)


# ---- rotation, cooldown, cache bounds -----------------------------------------------------

def test_rotation_mid_traffic_one_refetch_no_request_lost(envoy_factory, idp):
    e, port = start(envoy_factory, idp.port, remote_plugin(source={"refetch_cooldown": "30s"}), concurrency=2)
    assert ready(e, port)
    stop = threading.Event()
    old_results = []
    old_token = make_token(K1)

    def traffic(i):
        deadline = time.time() + 30
        while not stop.is_set() and time.time() < deadline and len(old_results) < 5000:
            old_results.append(call(port, old_token)[:2])

    bg = [threading.Thread(target=traffic, args=(i,)) for i in range(3)]
    for t in bg:
        t.start()
    try:
        time.sleep(1)
        hits = idp.count()
        idp.keys = [K1, K2]
        new = parallel(6, lambda i: call(port, make_token(K2)))
        assert all(r[0] == 200 and r[2] <= WAIT_BOUND for r in new), new
        more = [call_bounded(port, make_token(K2))[0] for _ in range(20)]
        assert more.count(200) == 20
        time.sleep(1)
    finally:
        stop.set()
        for t in bg:
            t.join(40)
    assert idp.count() == hits + 1, "one refetch serves both workers"
    assert old_results and all(r == (200, "") for r in old_results), set(old_results)
    alive(e)


def test_refetch_cooldown_limits_idp_hits(envoy_factory, idp):
    e, port = start(envoy_factory, idp.port, remote_plugin(source={"refetch_cooldown": "3s"}), concurrency=2)
    assert ready(e, port)
    base = idp.count()
    stop_at = time.time() + 7
    rnd = random.Random(7)
    kids = [f"unknown-{rnd.randrange(1 << 30)}" for _ in range(400)]

    def flood(i):
        out = []
        for kid in kids[i::4]:
            if time.time() > stop_at:
                break
            out.append(call(port, make_token(Key(kid, ATTACKER.private))))
        return out

    results = [r for rs in parallel(4, flood) for r in rs]
    refetches = idp.count() - base
    assert all((r[0], r[1]) == (401, "unknown_kid") and r[2] <= WAIT_BOUND for r in results)
    # 7 s with a 3 s cooldown: at most 3 refetches (+1 for a window edge), and at least one.
    assert 1 <= refetches <= 4, (refetches, len(results))


def test_max_age_zero_does_not_hammer_the_idp(envoy_factory, idp):
    idp.serve_keys(max_age=0)
    e, port = start(envoy_factory, idp.port, remote_plugin(source={"min_cache_duration": "2s"}))
    assert ready(e, port)
    base = idp.count()
    time.sleep(8)
    # min_cache_duration 2 s: at most 4 refreshes in 8 s (+1 for tick rounding).
    assert idp.count() - base <= 5, idp.count() - base
    alive(e)


# ---- memory -------------------------------------------------------------------------------

def test_memory_bounded_under_a_hostile_idp(envoy_factory, idp):
    """Envoy's RSS after a minute-scale mix of huge, garbage and good answers and a flood of
    unknown kids and garbage tokens, against RSS after warm-up. The bound is generous:
    this catches leaks per fetch or per request, not allocator noise."""
    e, port = start(envoy_factory, idp.port, remote_plugin(source={"refetch_cooldown": "1s", "retry_max": "1s"}),
                    concurrency=2)
    assert ready(e, port)
    answers = [lambda: huge(8 << 20), lambda: respond(200, _many_keys_doc(3000)),
               lambda: respond(200, b"\x00" * 200_000), lambda: respond(200, _padded_jwks(900 << 10)),
               lambda: jwks([K1])]
    token = make_token(K1)
    garbage = ["x" * 4000, "a.b.c", make_token(ATTACKER)]

    unknown = [make_token(Key(f"r{n}", ATTACKER.private)) for n in range(8)]

    failing = 0

    def round_(n):
        # Each round forces exactly one fetch of its answer (an unknown kid once the 1 s
        # cooldown allows, repeated until the IdP sees the hit), then sends a fixed mix of
        # requests. The count of fetches does not depend on how fast the machine is.
        nonlocal failing
        idp.set("/keys", answers[n % len(answers)]())
        hits = idp.count()
        deadline = time.monotonic() + 30
        while idp.count() == hits:
            assert time.monotonic() < deadline, f"round {n}: no refetch within 30 s"
            call(port, unknown[n % 8])
            time.sleep(0.1)
        if n >= 5 and n % len(answers) in (0, 2):  # 8 MB and NUL bytes: never a JWKS
            failing += 1
        for j in range(300):
            call(port, unknown[j % 8] if j % 10 == 0 else garbage[j % 3] if j % 2 else token)

    for n in range(5):  # warm-up: every kind of answer once
        round_(n)
    before = rss_kb(e.proc.pid)
    for n in range(5, 25):
        round_(n)
    idp.serve_keys()
    assert ready(e, port)
    after = rss_kb(e.proc.pid)
    print(f"envoy RSS after warm-up {before} kB, after 20 hostile rounds {after} kB; "
          f"IdP hits {idp.count()}, failed fetches {e.counter('jwtgate.jwks_fetch_failed')}")
    assert after - before < 64 * 1024, (before, after)
    # Counted, not timed: every round fetched its answer once, and two answers in five can
    # never be installed.
    assert failing == 8
    assert e.counter("jwtgate.jwks_fetch_failed") >= failing
    alive(e)


# ---- keys withdrawn or replaced -----------------------------------------------------------

def _both_workers(port: int, token: str, n: int = 24) -> list:
    """n requests on n separate connections at once, so both workers see (and cache) the token."""
    return parallel(n, lambda i: call(port, token)[:2])


def test_withdrawn_key_is_refused_even_when_its_tokens_are_cached(envoy_factory, idp):
    """The IdP drops K1 (compromised) and publishes K2. After the refetch, K1's tokens are
    refused on both workers, although each worker had them in its verified-token cache."""
    e, port = start(envoy_factory, idp.port, remote_plugin(source={"refetch_cooldown": "30s"}), concurrency=2)
    assert ready(e, port)
    old = make_token(K1)
    assert set(_both_workers(port, old)) == {(200, "")}
    idp.keys = [K2]
    assert call_bounded(port, make_token(K2))[0] == 200  # the refetch
    time.sleep(1.5)  # the other worker picks the new record up on its 1 s tick
    assert set(_both_workers(port, old)) == {(401, "unknown_kid")}
    alive(e)


def test_key_material_replaced_under_the_same_kid(envoy_factory, idp):
    """The IdP keeps the kid `k1` but the key behind it changes (max-age refresh). Tokens signed
    by the old key under `k1` must stop verifying, cached or not."""
    idp.serve_keys(max_age=1)
    e, port = start(envoy_factory, idp.port, remote_plugin(), concurrency=2)
    assert ready(e, port)
    old = make_token(K1)
    assert set(_both_workers(port, old)) == {(200, "")}
    replacement = pem_key("rsa3072", "k1")
    hits = idp.count()
    idp.keys = [replacement]
    assert wait_for(lambda: idp.count() >= hits + 1, PATIENCE)
    time.sleep(2.5)  # the refresh is installed and every worker has ticked
    assert set(_both_workers(port, old)) == {(401, "bad_signature")}
    assert call_bounded(port, make_token(replacement))[0] == 200
    alive(e)


def test_huge_max_age_is_clamped(envoy_factory, idp):
    idp.serve_keys(max_age=31_536_000)
    e, port = start(envoy_factory, idp.port, remote_plugin(source={"max_cache_duration": "2s"}))
    assert ready(e, port)
    base = idp.count()
    assert wait_for(lambda: idp.count() >= base + 2, PATIENCE), "max_cache_duration must bound max-age"
    alive(e)


# ---- discovery under fire -----------------------------------------------------------------

@pytest.mark.parametrize("answer", ["500", "html", "deep_nesting", "huge_32mb", "huge_2mb_valid_jwks",
                                    "truncated_connection", "close_without_answer", "invalid_utf8"])
def test_bad_discovery_answer_fails_closed(envoy_factory, idp, answer):
    idp.set("/.well-known/openid-configuration", BAD_ANSWERS[answer]())
    e, port = start(envoy_factory, idp.port, discovery_plugin())
    assert wait_for(lambda: idp.count("/.well-known/openid-configuration") >= 1, PATIENCE)
    assert call_bounded(port, make_token(K1)) == (401, "no_usable_keys")
    assert idp.count("/keys") == 0
    alive(e)


def test_rediscovery_meeting_a_hostile_document_keeps_the_last_good_keys(envoy_factory, idps):
    """Keys come through discovery; then the JWKS fails (so the filter rediscovers) and the
    discovery document turns hostile (a foreign issuer, then a jwks_uri on another host).
    The last good keys keep working, nothing from the other host is trusted or fetched."""
    idp, evil = idps(), idps(keys=[ATTACKER, K2])
    e, port = start(envoy_factory, idp.port, discovery_plugin(refetch_cooldown="1s"))
    assert ready(e, port)
    disc = idp.count("/.well-known/openid-configuration")
    idp.set("/keys", respond(500, "{}"))
    idp.set("/.well-known/openid-configuration",
            idp.discovery_doc(issuer="http://idp.hostile.test.evil", jwks_uri=f"{evil.base}/keys"))
    assert call_bounded(port, make_token(K2)) == (401, "unknown_kid")  # refetch: JWKS 500
    assert wait_for(lambda: idp.count("/.well-known/openid-configuration") > disc, PATIENCE), "no rediscovery"
    idp.set("/.well-known/openid-configuration", idp.discovery_doc(jwks_uri=f"{evil.base}/keys"))
    time.sleep(2.5)
    for tok in (make_token(K2), make_token(ATTACKER)):
        assert call_bounded(port, tok)[0] == 401
    assert call_bounded(port, make_token(K1))[0] == 200
    assert sum(evil.hits.values()) == 0
    alive(e)
