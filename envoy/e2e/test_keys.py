"""Fetched keys against a real Envoy and the local IdP: Cache-Control refresh, rotation with
one refetch on an unknown kid, outages keeping the last good keys, fail-closed start,
OIDC discovery, and one fetch shared by two workers."""

import json
import threading
import time

from envoyrun import bearer, cluster, free_port, listener, request, route_to, wasm_filter


def remote(idp, **extra) -> dict:
    src = {"http_uri": {"uri": f"{idp.base}/keys", "cluster": "idp", "timeout": "1s"},
           "min_cache_duration": "1s", "refetch_cooldown": "2s", "retry_initial": "1s", "retry_max": "2s"}
    src.update(extra.pop("source", {}))
    provider = {"issuer": idp.issuer, "audiences": ["sts.amazonaws.com"], "remote_jwks": src}
    provider.update(extra)
    return {"providers": {"idp": provider}, "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "idp"}}]}


def start(envoy_factory, idp, echo, plugin, concurrency=1):
    port = free_port()
    e = envoy_factory([listener("l", port, [wasm_filter(plugin)], [route_to("backend")])],
                      [cluster("backend", echo.port), cluster("idp", idp.port)], concurrency=concurrency)
    return e, port


# Only a ceiling: a wait ends as soon as the filter has done what it waits for, so a slow or
# loaded machine never fails a test that a fast one passes.
def wait_for(pred, timeout=60.0, every=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(every)
    return False


def code(body: str) -> str:
    try:
        return json.loads(body).get("error", "")
    except ValueError:
        return ""


def test_remote_jwks_is_fetched_once_at_start(envoy_factory, idp, echo):
    e, port = start(envoy_factory, idp, echo, remote(idp))
    assert wait_for(lambda: request(port, "/", bearer(idp.eks_token()))[0] == 200)
    assert idp.jwks_hits == 1
    assert wait_for(lambda: e.counter("jwtgate.jwks_fetch_ok") == 1)


def test_cache_control_max_age_drives_refresh(envoy_factory, idp, echo):
    idp.max_age = 1
    e, port = start(envoy_factory, idp, echo, remote(idp))
    assert wait_for(lambda: request(port, "/", bearer(idp.eks_token()))[0] == 200)
    assert wait_for(lambda: idp.jwks_hits >= 3), idp.jwks_hits
    # And a long max-age is honoured too: no refetch for a while.
    idp.max_age = 3600
    # The refresh already scheduled (1 s) happens on the next 1 s tick; after it, none.
    time.sleep(2.5)
    settled = idp.jwks_hits
    time.sleep(2.5)
    assert idp.jwks_hits == settled


def test_rotation_new_kid_accepted_after_one_refetch(envoy_factory, idp, echo):
    e, port = start(envoy_factory, idp, echo, remote(idp, source={"refetch_cooldown": "30s"}))
    assert wait_for(lambda: request(port, "/", bearer(idp.eks_token()))[0] == 200)
    before = idp.jwks_hits
    new = idp.rotate("k2")
    st, _, _ = request(port, "/", bearer(idp.eks_token(key=new)))
    assert st == 200
    assert idp.jwks_hits == before + 1
    # Within the cooldown another unknown kid is refused at once, without a fetch.
    stranger = idp.rotate("k3")
    t0 = time.time()
    st, _, body = request(port, "/", bearer(idp.eks_token(key=stranger)))
    assert (st, code(body)) == (401, "unknown_kid")
    assert time.time() - t0 < 0.5
    assert idp.jwks_hits == before + 1


def test_outage_keeps_the_last_good_keys(envoy_factory, idp, echo):
    idp.max_age = 1
    e, port = start(envoy_factory, idp, echo, remote(idp))
    token = idp.eks_token()
    assert wait_for(lambda: request(port, "/", bearer(token))[0] == 200)
    for mode in ("fail", "garbage", "down", "stall"):
        idp.stall_seconds = 3
        idp.set_mode(mode)
        hits = idp.jwks_hits
        assert wait_for(lambda: idp.jwks_hits > hits), mode
        assert request(port, "/", bearer(token))[0] == 200, mode
    idp.set_mode("ok")
    assert wait_for(lambda: e.counter("jwtgate.jwks_fetch_failed") >= 3)
    assert "keeping the last good keys" in e.log()


def test_startup_without_idp_fails_closed_then_recovers(envoy_factory, idp, echo):
    idp.set_mode("fail")
    e, port = start(envoy_factory, idp, echo, remote(idp))
    assert wait_for(lambda: idp.jwks_hits >= 1)
    st, headers, body = request(port, "/", bearer(idp.eks_token()))
    assert (st, code(body)) == (401, "no_usable_keys")
    idp.set_mode("ok")
    assert wait_for(lambda: request(port, "/", bearer(idp.eks_token()))[0] == 200)


def test_startup_without_idp_can_fail_open_when_configured(envoy_factory, idp, echo):
    idp.set_mode("fail")
    e, port = start(envoy_factory, idp, echo, remote(idp, fail_open_without_keys=True))
    assert wait_for(lambda: idp.jwks_hits >= 1)
    # No keys yet: let through; once keys exist, tokens are verified again.
    assert wait_for(lambda: request(port, "/", bearer(idp.eks_token()))[0] == 200)
    idp.set_mode("ok")
    assert wait_for(lambda: request(port, "/", bearer("garbage"))[0] == 401)


def test_oidc_discovery(envoy_factory, idp, echo):
    plugin = {"providers": {"oidc": {"issuer": idp.issuer,
                                     "oidc_discovery": {"issuer_uri": idp.issuer, "cluster": "idp", "timeout": "1s"}}},
              "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "oidc"}}]}
    e, port = start(envoy_factory, idp, echo, plugin)
    assert wait_for(lambda: request(port, "/", bearer(idp.token(sub="alice")))[0] == 200)
    assert idp.discovery_hits == 1 and idp.jwks_hits == 1


def test_two_workers_share_one_fetch(envoy_factory, idp, echo):
    e, port = start(envoy_factory, idp, echo, remote(idp, source={"refetch_cooldown": "30s"}), concurrency=2)
    token = idp.eks_token()
    assert wait_for(lambda: request(port, "/", bearer(token))[0] == 200)
    # Many connections land on both workers; none of them fetches again.
    results = []

    def hit():
        for _ in range(10):
            results.append(request(port, "/", bearer(token))[0])

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(200) == 80
    assert idp.jwks_hits == 1
    # Rotation: one refetch serves both workers.
    new = idp.rotate("k2")
    token2 = idp.eks_token(key=new)
    results.clear()
    threads = [threading.Thread(target=hit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results_new = [request(port, "/", bearer(token2))[0] for _ in range(20)]
    assert results_new.count(200) == 20
    assert idp.jwks_hits == 2
    assert e.log().count("from shared data") >= 1


def test_unknown_kid_while_idp_stalls_is_refused_after_the_fetch_timeout(envoy_factory, idp, echo):
    e, port = start(envoy_factory, idp, echo, remote(idp))
    assert wait_for(lambda: request(port, "/", bearer(idp.eks_token()))[0] == 200)
    idp.stall_seconds = 5
    idp.set_mode("stall")
    stranger = idp.rotate("k9")
    t0 = time.time()
    st, _, body = request(port, "/", bearer(idp.eks_token(key=stranger)))
    waited = time.time() - t0
    assert (st, code(body)) == (401, "unknown_kid")
    assert 0.8 < waited < 3.5, waited  # paused for the 1 s fetch timeout, not for the stalled IdP
    # Keys already known keep working during the stall.
    assert request(port, "/", bearer(idp.eks_token(key=idp.keys[0])))[0] == 200


def test_refetch_recovers_after_the_waiting_client_left(envoy_factory, idp, echo):
    # The refetch is made from the paused request; if its client leaves, Envoy drops the
    # callout without a callback. The worker must not think a fetch is in flight forever.
    e, port = start(envoy_factory, idp, echo, remote(idp, source={"refetch_cooldown": "1s"}))
    assert wait_for(lambda: request(port, "/", bearer(idp.eks_token()))[0] == 200)
    idp.stall_seconds = 2
    idp.set_mode("stall")
    new = idp.rotate("k2")
    try:
        request(port, "/", bearer(idp.eks_token(key=new)), timeout=0.3)
    except OSError:
        pass  # the client gives up while the request waits
    idp.set_mode("ok")
    assert wait_for(lambda: request(port, "/", bearer(idp.eks_token(key=new)))[0] == 200)


def test_request_body_cannot_push_a_waiting_request_past_the_filter(envoy_factory, idp, echo):
    # While a request waits for keys, its body arriving must not resume it (Envoy forwards
    # the headers when a data callback says Continue). It must end as a refusal.
    e, port = start(envoy_factory, idp, echo, remote(idp))
    assert wait_for(lambda: request(port, "/", bearer(idp.eks_token()))[0] == 200)
    idp.stall_seconds = 3
    idp.set_mode("stall")
    stranger = idp.rotate("k7")
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.putrequest("POST", "/")
        c.putheader("authorization", "Bearer " + idp.eks_token(key=stranger))
        c.putheader("content-length", "11")
        c.endheaders()
        time.sleep(0.2)  # the filter has paused on the headers
        c.send(b"hello world")
        r = c.getresponse()
        body = r.read().decode()
        assert (r.status, code(body)) == (401, "unknown_kid"), (r.status, body)
    finally:
        c.close()
