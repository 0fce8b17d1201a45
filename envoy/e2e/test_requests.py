"""Request handling against a real Envoy with inline keys: statuses, RFC 6750 challenges,
token sources, forwarding, rules, RBAC on a claim, metrics, refused configuration."""

import base64
import json
import time

import pytest

from envoyrun import Envoy, bearer, cluster, free_port, listener, request, route_to, wasm_filter
from idp import Echo, Idp, Key

EKS_AUD = "sts.amazonaws.com"


def plugin(idp: Idp) -> dict:
    jwks = json.dumps(idp.jwks())
    common = {"issuer": idp.issuer, "audiences": [EKS_AUD], "local_jwks": {"inline_string": jwks}}
    return {
        "providers": {
            "eks": dict(common,
                        forward_payload_header="x-jwt-payload",
                        claim_to_headers=[{"header_name": "x-jwt-sub", "claim_name": "sub"},
                                          {"header_name": "x-jwt-namespace", "claim_name": "kubernetes.io.namespace"},
                                          {"header_name": "x-jwt-pod", "claim_name": "kubernetes.io.pod.name"}],
                        claim_to_filter_state=[{"name": "jwtgate.namespace", "claim_name": "kubernetes.io.namespace"}]),
            "fwd": dict(common, forward=True, from_headers=[{"name": "x-token", "value_prefix": "JWT "}]),
            "cookie": dict(common, from_cookies=["session"]),
            "payments": dict(common, claims={"kubernetes.io.namespace": ["payments"]}),
        },
        "rules": [
            {"match": {"prefix": "/public"}},
            {"match": {"path": "/fwd"}, "requires": {"provider_name": "fwd"}},
            {"match": {"path": "/cookie"}, "requires": {"provider_name": "cookie"}},
            {"match": {"prefix": "/payments"}, "requires": {"provider_name": "payments"}},
            {"match": {"safe_regex": {"regex": "/optional(/.*)?"}}, "requires": {"requires_any": {"requirements": [
                {"provider_name": "eks"}, {"allow_missing": {}}]}}},
            {"match": {"prefix": "/lenient"}, "requires": {"allow_missing_or_failed": {}}},
            {"match": {"prefix": "/"}, "requires": {"provider_name": "eks"}},
        ],
        "bypass_cors_preflight": True,
        "realm": "jwtgate-e2e",
    }


RBAC = {
    "name": "envoy.filters.http.rbac",
    "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
        "rules": {"action": "ALLOW", "policies": {"payments-only": {
            "permissions": [{"any": True}],
            "principals": [{"filter_state": {"key": "wasm.jwtgate.namespace", "string_match": {"exact": "payments"}}}],
        }}},
    },
}


class Env:
    pass


@pytest.fixture(scope="module")
def env():
    e = Env()
    e.idp = Idp().start()
    e.echo = Echo().start()
    e.port, e.rbac_port = free_port(), free_port()
    f = wasm_filter(plugin(e.idp))
    e.envoy = Envoy([listener("main", e.port, [f], [route_to("backend")]),
                     listener("rbac", e.rbac_port, [f, RBAC], [route_to("backend")])],
                    [cluster("backend", e.echo.port)])
    try:
        e.envoy.start()
        yield e
    finally:
        e.envoy.stop()
        e.idp.stop()
        e.echo.stop()


def upstream(body: str) -> dict:
    return json.loads(body)["headers"]


def challenge_code(headers: dict) -> str | None:
    wa = headers.get("www-authenticate", "")
    marker = 'error_description="'
    return wa.split(marker, 1)[1].split('"', 1)[0] if marker in wa else None


def test_missing_token_is_401_without_error_attributes(env):
    status, headers, body = request(env.port, "/api")
    assert status == 401
    assert headers["www-authenticate"] == 'Bearer realm="jwtgate-e2e"'
    assert json.loads(body) == {"error": "missing_token"}


def test_valid_eks_token_passes_with_claims_forwarded_and_token_stripped(env):
    token = env.idp.eks_token()
    status, _, body = request(env.port, "/api", bearer(token))
    assert status == 200
    up = upstream(body)
    assert "authorization" not in up
    assert up["x-jwt-sub"] == "system:serviceaccount:payments:api"
    assert up["x-jwt-namespace"] == "payments"
    assert up["x-jwt-pod"].startswith("api-")
    payload = json.loads(base64.urlsafe_b64decode(up["x-jwt-payload"] + "=" * (-len(up["x-jwt-payload"]) % 4)))
    assert payload["sub"] == "system:serviceaccount:payments:api"
    assert payload["aud"] == [EKS_AUD]


def test_bearer_scheme_is_case_insensitive(env):
    status, _, _ = request(env.port, "/api", {"authorization": "bearer " + env.idp.eks_token()})
    assert status == 200


def test_other_scheme_counts_as_missing(env):
    status, headers, _ = request(env.port, "/api", {"authorization": "Basic dXNlcjpwYXNz"})
    assert status == 401 and challenge_code(headers) is None


@pytest.mark.parametrize("case,status,code", [
    ("expired", 401, "expired"),
    ("wrong_audience", 403, "bad_audience"),
    ("wrong_issuer", 401, "bad_issuer"),
    ("bad_signature", 401, "bad_signature"),
    ("unknown_kid", 401, "unknown_kid"),
    ("garbage", 401, "malformed"),
])
def test_refusals_carry_the_core_code(env, case, status, code):
    idp = env.idp
    token = {
        "expired": lambda: idp.eks_token(lifetime=-3600),
        "wrong_audience": lambda: idp.eks_token(aud="someone-else"),
        "wrong_issuer": lambda: idp.eks_token(iss="https://evil.example"),
        "bad_signature": lambda: Key(idp.key.kid).sign({"iss": idp.issuer, "aud": EKS_AUD, "exp": int(time.time()) + 60}),
        "unknown_kid": lambda: Key("nobody").sign({"iss": idp.issuer, "aud": EKS_AUD, "exp": int(time.time()) + 60}),
        "garbage": lambda: "not-a-jwt",
    }[case]()
    st, headers, body = request(env.port, "/api", bearer(token))
    assert st == status
    assert json.loads(body) == {"error": code}
    assert challenge_code(headers) == code
    kind = "insufficient_scope" if status == 403 else "invalid_token"
    assert f'error="{kind}"' in headers["www-authenticate"]


def test_claim_rule_is_403_insufficient_scope(env):
    st, headers, body = request(env.port, "/payments/x", bearer(env.idp.eks_token(namespace="billing")))
    assert st == 403 and json.loads(body) == {"error": "claim_rule_failed"}
    assert 'error="insufficient_scope"' in headers["www-authenticate"]
    assert request(env.port, "/payments/x", bearer(env.idp.eks_token()))[0] == 200


def test_two_tokens_are_refused(env):
    t = env.idp.eks_token()
    st, headers, body = request(env.port, f"/api?access_token={t}", bearer(t))
    assert st == 400 and json.loads(body) == {"error": "multiple_tokens"}
    assert 'error="invalid_request"' in headers["www-authenticate"]


def test_query_parameter_token_is_stripped(env):
    st, _, body = request(env.port, f"/api?a=1&access_token={env.idp.eks_token()}&b=2")
    assert st == 200
    assert json.loads(body)["path"] == "/api?a=1&b=2"


def test_custom_header_with_forward_keeps_the_token(env):
    t = env.idp.eks_token()
    st, _, body = request(env.port, "/fwd", {"x-token": "JWT " + t})
    assert st == 200 and upstream(body)["x-token"] == "JWT " + t


def test_cookie_source_and_cookie_forwarded_unchanged(env):
    # As jwt_authn: the Cookie header goes upstream as it came.
    cookie = f"theme=dark; session={env.idp.eks_token()}"
    st, _, body = request(env.port, "/cookie", {"cookie": cookie})
    assert st == 200 and upstream(body)["cookie"] == cookie


def test_unprotected_and_optional_rules(env):
    assert request(env.port, "/public/logo.png")[0] == 200
    assert request(env.port, "/optional/x")[0] == 200
    assert request(env.port, "/optional/x", bearer(env.idp.eks_token()))[0] == 200
    assert request(env.port, "/optional/x", bearer(env.idp.eks_token(lifetime=-3600)))[0] == 401
    assert request(env.port, "/lenient", bearer("garbage"))[0] == 200


def test_client_cannot_spoof_claim_headers(env):
    st, _, body = request(env.port, "/public/x", {"x-jwt-sub": "admin", "x-jwt-payload": "e30"})
    assert st == 200
    up = upstream(body)
    assert "x-jwt-sub" not in up and "x-jwt-payload" not in up


def test_cors_preflight_bypasses_authentication(env):
    st, _, _ = request(env.port, "/api", {"origin": "https://app.example", "access-control-request-method": "POST"},
                       method="OPTIONS")
    assert st == 200


def test_rbac_matches_a_claim_in_filter_state(env):
    assert request(env.rbac_port, "/api", bearer(env.idp.eks_token(namespace="payments")))[0] == 200
    st, _, body = request(env.rbac_port, "/api", bearer(env.idp.eks_token(namespace="billing")))
    assert st == 403 and "RBAC" in body


def test_metrics_count_allowed_denied_and_cache(env):
    t = env.idp.eks_token(sa="metrics")
    for _ in range(3):
        assert request(env.port, "/api", bearer(t))[0] == 200
    request(env.port, "/api", bearer(env.idp.eks_token(lifetime=-3600)))
    time.sleep(1.3)  # counters are flushed on the 1 s tick
    assert env.envoy.counter("jwtgate.allowed") >= 3
    assert env.envoy.counter("jwtgate.denied.expired") >= 1
    assert env.envoy.counter("jwtgate.cache_hit") >= 2
    assert env.envoy.counter("jwtgate.cache_miss") >= 1


def test_no_token_details_in_logs_at_info(env):
    t = env.idp.eks_token(sa="secret-sa")
    request(env.port, "/api", bearer(t))
    assert t.split(".")[2] not in env.envoy.log()
    assert "secret-sa" not in env.envoy.log()


@pytest.mark.parametrize("bad,field", [
    ({"providers": {"a": {"local_jwks": {"inline_string": "{}"}}}}, "providers.a.local_jwks"),
    ({"providers": {}}, "providers"),
    ({"providers": {"a": {"remote_jwks": {"http_uri": {"uri": "http://x/k", "cluster": "c"}}, "audences": []}}},
     "providers.a.audences"),
])
def test_invalid_configuration_is_refused_naming_the_field(bad, field):
    e = Envoy([listener("bad", free_port(), [wasm_filter(bad)], [route_to("backend")])], [cluster("backend", 9)])
    with pytest.raises(RuntimeError):
        e.start(timeout=20)
    e.stop()
    assert f"jwtgate: invalid configuration: {field}:" in e.log()
    assert "panicked" not in e.log() and "Critical" not in e.log()


def test_non_utf8_header_bytes_do_not_crash_the_filter(env):
    # obs-text (RFC 9110 §5.5) is legal in a header value; the SDK's string maps would panic.
    st, _, body = request(env.port, "/api", {"x-junk": "caf\xe9", "authorization": "Bearer \xff\xfe"})
    assert st == 401 and json.loads(body) == {"error": "malformed"}
    st, _, _ = request(env.port, "/api", {"x-junk": "caf\xe9", "authorization": "Bearer " + env.idp.eks_token()})
    assert st == 200
    assert "panicked" not in env.envoy.log()
