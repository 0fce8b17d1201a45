"""Side by side with Envoy's own jwt_authn: the same jwt_authn configuration (the JSON of its
typed_config, unchanged) runs in one Envoy as `envoy.filters.http.jwt_authn` on one listener and
as jwtgate's plugin configuration on another, and the same requests go to both. Statuses must
be equal, and on allowed requests the upstream must see the same token headers, cookies, path
and claim headers. The differences jwtgate keeps on purpose are listed in KNOWN (and in the
README's migration table); any other difference fails."""

import base64
import json

import pytest

from envoyrun import Envoy, cluster, free_port, listener, request, wasm_filter
from idp import Echo, Idp, Key

JWT_AUTHN = "envoy.filters.http.jwt_authn"
JWT_AUTHN_TYPE = "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication"
PER_ROUTE_TYPE = "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig"

# Request name -> why jwtgate answers differently on purpose (README, "Moving from jwt_authn").
KNOWN = {
    "lowercase_bearer": "RFC 6750: the scheme is case-insensitive; jwt_authn sees no token",
    "header_and_param": "RFC 6750 §2: two tokens are a 400; jwt_authn verifies both",
    "no_exp": "exp is required by default (require_expiration: false lets it go)",
}


def folded(jwks: dict) -> str:
    """The JWKS as a YAML folded string leaves it: the base64 of `n` broken by spaces."""
    doc = json.loads(json.dumps(jwks))
    for k in doc["keys"]:
        n = k["n"]
        k["n"] = " ".join(n[i:i + 64] for i in range(0, len(n), 64))
    return json.dumps(doc)


def configs(idp: Idp) -> dict:
    """Configurations shaped like the ones people publish (Envoy docs, Istio, gateways)."""
    jwks = json.dumps(idp.jwks())
    remote = {"http_uri": {"uri": f"{idp.base}/keys", "cluster": "idp", "timeout": "5s"},
              "cache_duration": {"seconds": 300}}
    claims = [{"header_name": "x-sub", "claim_name": "sub"},
              {"header_name": "x-groups", "claim_name": "groups"},
              {"header_name": "x-ratio", "claim_name": "ratio"},
              {"header_name": "x-count", "claim_name": "count"},
              {"header_name": "x-org", "claim_name": "org"},
              {"header_name": "x-org-name", "claim_name": "org.name"}]
    return {
        # Envoy docs: remote JWKS, durations as messages, forward_payload_header.
        "docs_remote": {"providers": {"p": {
            "issuer": idp.issuer, "audiences": ["api"], "remote_jwks": remote,
            "forward_payload_header": "x-jwt-payload"}},
            "rules": [{"match": {"prefix": "/health"}},
                      {"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]},
        # Envoy docs: inline JWKS from a YAML folded string; claims to headers of each type.
        "docs_inline_folded": {"providers": {"p": {
            "issuer": idp.issuer, "audiences": ["api"], "local_jwks": {"inline_string": folded(idp.jwks())},
            "claim_to_headers": claims, "forward": True}},
            "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]},
        # Istio's generated filter: requires_any [provider, allow_missing], payload_in_metadata.
        "istio_optional": {"providers": {"origins-0": {
            "issuer": idp.issuer, "local_jwks": {"inline_string": jwks},
            "payload_in_metadata": idp.issuer.replace(":", "_").replace("/", "_"), "forward": True,
            "normalize_payload_in_metadata": {"space_delimited_claims": ["scope"]}}},
            "rules": [{"match": {"prefix": "/"}, "requires": {"requires_any": {"requirements": [
                {"provider_name": "origins-0"}, {"allow_missing": {}}]}}}],
            "bypass_cors_preflight": True},
        # proto3 JSON's lowerCamelCase (what protojson writes), async_fetch and retry_policy.
        "camel_case": {"providers": {"p": {
            "issuer": idp.issuer, "audiences": ["api"],
            "remoteJwks": {"httpUri": {"uri": f"{idp.base}/keys", "cluster": "idp", "timeout": "2s"},
                           "cacheDuration": "300s", "asyncFetch": {"fastListener": True},
                           "retryPolicy": {"retryBackOff": {"baseInterval": "0.5s", "maxInterval": "10s"},
                                           "numRetries": 3}},
            "fromHeaders": [{"name": "x-token", "valuePrefix": "Bearer "}],
            "fromParams": ["token"], "jwtCacheConfig": {"jwtCacheSize": 100}}},
            "rules": [{"match": {"prefix": "/"}, "requires": {"providerName": "p"}}]},
        # Gateways: requirement_map by name, provider_and_audiences, allow_missing_or_failed,
        # extract_only_without_validation, cookies.
        "gateway_map": {"providers": {
            "p": {"issuer": idp.issuer, "audiences": ["api"], "local_jwks": {"inline_string": jwks}},
            "c": {"issuer": idp.issuer, "local_jwks": {"inline_string": jwks}, "from_cookies": ["session"]}},
            "requirement_map": {
                "other_aud": {"provider_and_audiences": {"provider_name": "p", "audiences": ["other"]}},
                "lenient": {"allow_missing_or_failed": {}},
                "peek": {"extract_only_without_validation": {}},
                "cookie": {"provider_name": "c"}},
            "rules": [{"match": {"prefix": "/other"}, "requirement_name": "other_aud"},
                      {"match": {"prefix": "/lenient"}, "requirement_name": "lenient"},
                      {"match": {"prefix": "/peek"}, "requirement_name": "peek"},
                      {"match": {"prefix": "/cookie"}, "requirement_name": "cookie"},
                      {"match": {"safe_regex": {"regex": "/v[0-9]+/.*"}}, "requires": {"requires_all": {
                          "requirements": [{"provider_name": "p"}, {"provider_name": "c"}]}}},
                      {"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]},
        # Contour-style: remote keys, cache_duration as a string, the Authorization header
        # named explicitly (so its prefix is case-sensitive), the token forwarded.
        "contour_remote": {"providers": {"p": {
            "issuer": idp.issuer, "audiences": ["api"],
            "remote_jwks": {"http_uri": {"uri": f"{idp.base}/keys", "cluster": "idp", "timeout": {"seconds": 10}},
                            "cache_duration": "1800s"},
            "from_headers": [{"name": "Authorization", "value_prefix": "Bearer "}], "forward": True}},
            "rules": [{"match": {"path": "/health"}},
                      {"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]},
        # Envoy Gateway: two issuers, either accepted, claims to headers.
        "gateway_two_issuers": {"providers": {
            "a": {"issuer": idp.issuer, "audiences": ["api"], "local_jwks": {"inline_string": jwks},
                  "claim_to_headers": [{"header_name": "x-sub", "claim_name": "sub"}]},
            "b": {"issuer": SECOND, "local_jwks": {"inline_string": jwks},
                  "claim_to_headers": [{"header_name": "x-sub", "claim_name": "sub"}]}},
            "rules": [{"match": {"prefix": "/"}, "requires": {"requires_any": {"requirements": [
                {"provider_name": "a"}, {"provider_name": "b"}]}}}]},
        # Istio with two jwtRules: any of them, or none.
        "istio_two_rules": {"providers": {
            "origins-0": {"issuer": idp.issuer, "local_jwks": {"inline_string": jwks}, "forward": True,
                          "payload_in_metadata": "origins-0"},
            "origins-1": {"issuer": SECOND, "local_jwks": {"inline_string": jwks}, "forward": True,
                          "payload_in_metadata": "origins-1"}},
            "rules": [{"match": {"prefix": "/"}, "requires": {"requires_any": {"requirements": [
                {"provider_name": "origins-0"}, {"provider_name": "origins-1"}, {"allow_missing": {}}]}}}]},
        # A Helm chart: padded payload header, a larger skew, exact and regex rules, lenient paths.
        "helm_chart": {"providers": {"p": {
            "issuer": idp.issuer, "audiences": ["api", "web"], "local_jwks": {"inline_string": jwks},
            "forward_payload_header": "x-jwt-payload", "pad_forward_payload_header": True,
            "clock_skew_seconds": 30, "clear_route_cache": True}},
            "rules": [{"match": {"path_separated_prefix": "/health"}},
                      {"match": {"safe_regex": {"google_re2": {}, "regex": "/lenient.*"}},
                       "requires": {"allow_missing_or_failed": {}}},
                      {"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]},
        # Blog-post shape: expiry required, the token cache on, subjects by prefix.
        "blog_strict": {"providers": {"p": {
            "issuer": idp.issuer, "audiences": ["api"], "local_jwks": {"inline_string": jwks},
            "require_expiration": True, "jwt_cache_config": {"jwt_cache_size": 1000},
            "subjects": {"prefix": "user-"}, "forward_payload_header": "x-jwt-payload"}},
            "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]},
        # Only a query parameter and a cookie, no header.
        "params_and_cookies": {"providers": {"p": {
            "issuer": idp.issuer, "local_jwks": {"inline_string": jwks},
            "from_params": ["access_token", "token"], "from_cookies": ["session"]}},
            "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]},
    }


SECOND = "https://second.example"


def requests_for(idp: Idp, other: Key) -> list:
    """(name, path, headers) sent to both listeners."""
    good = idp.token(aud="api", sub="user-1", groups=["g1", "g2"], ratio=3.5, count=42,
                     org={"name": "acme"}, scope="read write")
    b = lambda t: {"authorization": f"Bearer {t}"}  # noqa: E731
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    return [
        ("valid", "/api", b(good)),
        ("none", "/api", {}),
        ("health_open", "/health", {}),
        ("health_below", "/health/live", {}),
        ("healthz", "/healthz", {}),
        ("expired", "/api", b(idp.token(aud="api", lifetime=-3600))),
        ("not_yet_valid", "/api", b(idp.token(aud="api", nbf=idp_now() + 3600))),
        ("wrong_issuer", "/api", b(idp.token(aud="api", iss="https://other.example"))),
        ("second_issuer", "/api", b(idp.token(aud="api", iss=SECOND, sub="user-2"))),
        ("other_subject", "/api", b(idp.token(aud="api", sub="svc-1"))),
        ("web_audience", "/api", b(idp.token(aud=["web", "x"]))),
        ("skewed_exp", "/api", b(idp.token(aud="api", lifetime=-45))),
        ("wrong_audience", "/api", b(idp.token(aud="other"))),
        ("no_audience", "/api", b(idp.token())),
        ("empty_bearer", "/api", {"authorization": "Bearer "}),
        ("bare_bearer", "/api", {"authorization": "Bearer"}),
        ("lowercase_bearer", "/api", {"authorization": f"bearer {good}"}),
        ("basic", "/api", {"authorization": "Basic dXNlcjpwdw=="}),
        ("garbage", "/api", b("abc")),
        ("bad_signature", "/api", b(tampered)),
        ("unknown_key", "/api", b(other.sign({"iss": idp.issuer, "aud": "api", "exp": idp_now() + 600}))),
        ("param", f"/api?x=1&access_token={good}&y=2", {}),
        ("empty_param", "/api?access_token=", {}),
        ("header_and_param", f"/api?access_token={good}", b(good)),
        ("custom_header", "/api", {"x-token": f"Bearer {good}"}),
        ("custom_header_lowercase", "/api", {"x-token": f"bearer {good}"}),
        ("custom_param", f"/api?token={good}", {}),
        ("no_exp", "/api", b(other_idp_token(idp, aud="api"))),
        ("other_aud_route", "/other", b(idp.token(aud="other"))),
        ("other_aud_route_api", "/other", b(good)),
        ("lenient_bad", "/lenient", b(tampered)),
        ("lenient_none", "/lenient", {}),
        ("peek_garbage", "/peek", b("abc")),
        ("cookie", "/cookie", {"cookie": f"a=1; session={good}; b=2"}),
        ("cookie_missing", "/cookie", {"cookie": "a=1"}),
        ("cookie_on_api", "/api", {"cookie": f"session={good}"}),
        ("requires_all", "/v1/items", dict(b(good), cookie=f"session={good}")),
        ("requires_all_one", "/v1/items", b(good)),
        ("spoofed_claim_header", "/api", dict(b(good), **{"x-sub": "admin"})),
        ("cors_preflight", "/api", {"origin": "https://a.example", "access-control-request-method": "GET"}),
    ]


def idp_now() -> int:
    import time
    return int(time.time())


def other_idp_token(idp: Idp, **claims) -> str:
    body = {"iss": idp.issuer, "iat": idp_now()}
    body.update(claims)
    return idp.key.sign(body)


UPSTREAM = ("authorization", "cookie", "x-token", "x-jwt-payload", "x-sub", "x-groups", "x-ratio",
            "x-count", "x-org", "x-org-name")


def upstream_view(body: str) -> dict:
    got = json.loads(body)
    h = got["headers"]
    return {"path": got["path"], **{k: h.get(k) for k in UPSTREAM}}


class Pair:
    pass


@pytest.fixture(scope="module")
def pair():
    p = Pair()
    p.idp = Idp().start()
    p.echo = Echo().start()
    p.other = Key("stranger")
    p.ports = {}
    listeners = []
    all_configs = configs(p.idp)
    assert sorted(all_configs) == sorted(CONFIGS)
    for name, cfg in all_configs.items():
        a, g = free_port(), free_port()
        p.ports[name] = (a, g)
        route = {"match": {"prefix": "/"}, "route": {"cluster": "backend"}}
        native = {"name": JWT_AUTHN, "typed_config": dict({"@type": JWT_AUTHN_TYPE}, **cfg)}
        listeners.append(listener(f"{name}_authn", a, [native], [route]))
        listeners.append(listener(f"{name}_gate", g, [wasm_filter(cfg, vm_id=name)], [route]))
    p.envoy = Envoy(listeners, [cluster("backend", p.echo.port), cluster("idp", p.idp.port)])
    try:
        p.envoy.start()
        yield p
    finally:
        p.envoy.stop()
        p.idp.stop()
        p.echo.stop()


def ask(port: int, path: str, headers: dict):
    method = "OPTIONS" if "access-control-request-method" in headers else "GET"
    for _ in range(50):
        status, _, body = request(port, path, headers, method=method)
        # Remote keys arrive shortly after start; both filters wait or refuse until then.
        if status not in (401, 503) or "no_usable_keys" not in body:
            break
        import time
        time.sleep(0.1)
    return status, (upstream_view(body) if status == 200 and method == "GET" else None)


CONFIGS = ["docs_remote", "docs_inline_folded", "istio_optional", "camel_case", "gateway_map",
           "contour_remote", "gateway_two_issuers", "istio_two_rules", "helm_chart", "blog_strict",
           "params_and_cookies"]


@pytest.mark.parametrize("config", CONFIGS)
def test_same_answers_as_jwt_authn(pair, config):
    a, g = pair.ports[config]
    differences = []
    for name, path, headers in requests_for(pair.idp, pair.other):
        got_a, got_g = ask(a, path, headers), ask(g, path, headers)
        if got_a != got_g and name not in KNOWN:
            differences.append(f"{name}: jwt_authn {got_a}, jwtgate {got_g}")
    assert not differences, f"{config}:\n" + "\n".join(differences)


def test_claim_headers_use_jwt_authn_formats(pair):
    """Arrays and objects as base64 of their JSON, numbers as jwt_authn prints them."""
    good = pair.idp.token(aud="api", sub="user-1", groups=["g1", "g2"], ratio=3.5, count=42, org={"name": "acme"})
    _, g = pair.ports["docs_inline_folded"]
    status, up = ask(g, "/api", {"authorization": f"Bearer {good}"})
    assert status == 200
    assert json.loads(base64.b64decode(up["x-groups"])) == ["g1", "g2"]
    assert json.loads(base64.b64decode(up["x-org"])) == {"name": "acme"}
    assert (up["x-ratio"], up["x-count"], up["x-org-name"]) == ("3.500000", "42", "acme")


def test_known_differences_are_still_differences(pair):
    """KNOWN lists only what really differs: a stale entry must be removed."""
    a, g = pair.ports["docs_remote"]
    reqs = {n: (p, h) for n, p, h in requests_for(pair.idp, pair.other)}
    for name in KNOWN:
        path, headers = reqs[name]
        assert ask(a, path, headers)[0] != ask(g, path, headers)[0], name


def test_payload_in_metadata_is_filter_state_for_rbac(envoy_factory, echo, idp):
    """payload_in_metadata is written as filter state wasm.<name> (Envoy 1.40 gives wasm no
    dynamic metadata): RBAC's filter_state matcher reads it, here a claim with normalized scopes."""
    jwks = json.dumps(idp.jwks())
    cfg = {"providers": {"p": {"issuer": idp.issuer, "local_jwks": {"inline_string": jwks},
                               "payload_in_metadata": "jwt_payload",
                               "normalize_payload_in_metadata": {"space_delimited_claims": ["scope"]}}},
           "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]}
    rbac = {"name": "envoy.filters.http.rbac", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
        "rules": {"action": "ALLOW", "policies": {"writers": {
            "permissions": [{"any": True}],
            "principals": [{"filter_state": {"key": "wasm.jwt_payload",
                                             "string_match": {"contains": '"scope":["read","write"]'}}}]}}}}}
    port = free_port()
    e = envoy_factory([listener("m", port, [wasm_filter(cfg), rbac], [{"match": {"prefix": "/"}, "route": {"cluster": "b"}}])],
                      [cluster("b", echo.port)])
    assert e
    assert request(port, "/", {"authorization": f"Bearer {idp.token(scope='read write')}"})[0] == 200
    assert request(port, "/", {"authorization": f"Bearer {idp.token(scope='read')}"})[0] == 403


def test_per_route_requirement_by_route_name_or_metadata(envoy_factory, echo, idp):
    """jwt_authn's per-route config (requirement_name / disabled) as per_route, keyed by
    Envoy's route name, and as the route's metadata (filter_metadata.jwtgate, with
    route_metadata: true); side by side with jwt_authn's typed_per_filter_config."""
    jwks = json.dumps(idp.jwks())
    base = {"providers": {"p": {"issuer": idp.issuer, "audiences": ["api"], "local_jwks": {"inline_string": jwks}}},
            "requirement_map": {"need": {"provider_name": "p"}, "other": {"provider_and_audiences": {
                "provider_name": "p", "audiences": ["other"]}}}}
    routes = [("open", "/open", {"disabled": True}), ("strict", "/strict", {"requirement_name": "other"}),
              ("std", "/", {"requirement_name": "need"})]
    native_routes = [{"name": n, "match": {"prefix": pfx}, "route": {"cluster": "b"},
                      "typed_per_filter_config": {JWT_AUTHN: dict({"@type": PER_ROUTE_TYPE}, **pr)}}
                     for n, pfx, pr in routes]
    gate_routes = [{"name": n, "match": {"prefix": pfx}, "route": {"cluster": "b"}} for n, pfx, _ in routes]
    gate_cfg = dict(base, per_route={n: pr for n, _, pr in routes})
    meta_routes = [{"name": n, "match": {"prefix": pfx}, "route": {"cluster": "b"},
                    "metadata": {"filter_metadata": {"jwtgate": pr}}} for n, pfx, pr in routes]
    meta_cfg = dict(base, route_metadata=True)
    a, g, m = free_port(), free_port(), free_port()
    native = {"name": JWT_AUTHN, "typed_config": dict({"@type": JWT_AUTHN_TYPE}, **base)}
    envoy_factory([listener("a", a, [native], native_routes), listener("g", g, [wasm_filter(gate_cfg)], gate_routes),
                   listener("m", m, [wasm_filter(meta_cfg, vm_id="meta")], meta_routes)],
                  [cluster("b", echo.port)])
    api, other = idp.token(aud="api"), idp.token(aud="other")
    for path, headers in [("/open", {}), ("/strict", {"authorization": f"Bearer {api}"}),
                          ("/strict", {"authorization": f"Bearer {other}"}), ("/x", {}),
                          ("/x", {"authorization": f"Bearer {api}"})]:
        sa, sg, sm = request(a, path, headers)[0], request(g, path, headers)[0], request(m, path, headers)[0]
        assert sa == sg == sm, f"{path} {headers}: jwt_authn {sa}, jwtgate by name {sg}, by metadata {sm}"
