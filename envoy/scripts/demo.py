"""The jwtgate Envoy demo: a real Envoy 1.40 with the jwtgate filter in front of an echo
backend, keys found through OIDC discovery at a local EKS-like IdP (RS256), a second issuer
that signs ES256 as new Supabase projects do (inline JWKS), and a few real requests.
Everything listens on 127.0.0.1 and is stopped at the end."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))

from envoyrun import Envoy, bearer, cluster, free_port, listener, request, route_to, wasm_filter  # noqa: E402
from idp import Echo, Idp  # noqa: E402
from es256 import ISSUER as ES_ISSUER, Es256Issuer  # noqa: E402

ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/5C3A8F1B2D4E6F7A8B9C0D1E2F3A4B5C"


def main() -> int:
    idp = Idp(issuer=ISSUER, max_age=3600).start()
    echo = Echo().start()
    es = Es256Issuer("sb-1")
    impostor = Es256Issuer("sb-1")  # another P-256 key claiming the same kid
    port = free_port()
    plugin = {
        "providers": {
            "eks": {
                "issuer": ISSUER,
                "audiences": ["sts.amazonaws.com"],
                "subjects": ["system:serviceaccount:payments:*", "system:serviceaccount:billing:*"],
                "oidc_discovery": {"issuer_uri": ISSUER, "cluster": "eks_oidc", "timeout": "2s",
                                   "refetch_cooldown": "10s"},
                "claim_to_headers": [{"header_name": "x-jwt-sub", "claim_name": "sub"},
                                     {"header_name": "x-k8s-namespace", "claim_name": "kubernetes.io.namespace"}],
            },
            "supabase": {
                "issuer": ES_ISSUER,
                "audiences": ["authenticated"],
                "algorithms": ["ES256"],
                "local_jwks": {"inline_string": es.jwks()},
                "claim_to_headers": [{"header_name": "x-jwt-sub", "claim_name": "sub"}],
            },
        },
        "rules": [{"match": {"prefix": "/healthz"}},
                  {"match": {"prefix": "/app"}, "requires": {"provider_name": "supabase"}},
                  {"match": {"prefix": "/"}, "requires": {"provider_name": "eks"}}],
    }
    envoy = Envoy([listener("demo", port, [wasm_filter(plugin)], [route_to("backend")])],
                  [cluster("backend", echo.port), cluster("eks_oidc", idp.port)])
    rows = []

    def send(label, headers=None, path="/orders"):
        t0 = time.time()
        status, h, body = request(port, path, headers)
        ms = (time.time() - t0) * 1000
        if status == 200:
            up = json.loads(body)["headers"]
            what = f"upstream saw x-jwt-sub={up.get('x-jwt-sub', '-')}"
        else:
            what = (h.get("www-authenticate", "")).replace('Bearer realm="jwtgate", ', "")
        rows.append((label, status, what, f"{ms:.0f} ms", f"{idp.discovery_hits}/{idp.jwks_hits}"))

    try:
        print(f"Starting Envoy 1.40 with the jwtgate filter (V8) on 127.0.0.1:{port}; "
              f"EKS-like IdP (OIDC discovery, JWKS) on 127.0.0.1:{idp.port} ...", flush=True)
        envoy.start()
        deadline = time.time() + 10
        while idp.jwks_hits == 0 and time.time() < deadline:
            time.sleep(0.05)
        old_key = idp.key
        send("valid EKS service-account token (payments/api)", bearer(idp.eks_token()))
        send("expired token", bearer(idp.eks_token(lifetime=-600)))
        send("wrong audience (aud=vault)", bearer(idp.eks_token(aud="vault")))
        send("service account outside the allowed namespaces", bearer(idp.eks_token(namespace="kube-system")))
        send("no token", None)
        send("no token on an open path (/healthz)", None, path="/healthz")
        new_key = idp.rotate("k2")
        send("IdP rotated: token signed with new kid k2", bearer(idp.eks_token(key=new_key)))
        send("same new kid again (no refetch)", bearer(idp.eks_token(key=new_key)))
        idp.set_mode("fail")
        send("IdP down: old key still published last time", bearer(idp.eks_token(key=old_key)))
        stranger = idp.rotate("k3")
        send("IdP down + unknown kid k3 (refetch cooldown)", bearer(idp.eks_token(key=stranger)))
        idp.set_mode("ok")
        send("ES256 (Supabase-style issuer) on /app", bearer(es.token()), path="/app/profile")
        send("ES256 signed by another key under the same kid", bearer(impostor.token()), path="/app/profile")
        send("ES256 with a DER signature (JWS wants r || s)", bearer(es.token(der=True)), path="/app/profile")
        send("an EKS RS256 token on the ES256 route", bearer(idp.eks_token(key=new_key)), path="/app/profile")
        time.sleep(1.2)  # the filter flushes its counters on its 1 s tick
        host_checks = envoy.counter("jwtgate.native_rsa")
        wasm_checks = envoy.counter("jwtgate.native_rsa_no_verdict")
    except Exception as e:  # print what happened, then fail
        print(f"demo failed: {e}", file=sys.stderr)
        print(envoy.log()[-3000:], file=sys.stderr)
        return 1
    finally:
        envoy.stop()
        idp.stop()
        echo.stop()

    w = [max(len(str(r[i])) for r in rows + [HEADER]) for i in range(len(HEADER))]
    line = "| " + " | ".join(f"{{:{n}}}" for n in w) + " |"
    print()
    print(line.format(*HEADER))
    print("|" + "|".join("-" * (n + 2) for n in w) + "|")
    for r in rows:
        print(line.format(*[str(c) for c in r]))
    print()
    print("IdP fetches column: discovery/JWKS requests the IdP has served so far (one Envoy worker).")
    print(f"Signatures checked by Envoy's verify_signature (BoringSSL), RS256 and ES256 alike: {host_checks}; "
          f"left to the in-wasm engine: {wasm_checks}.")
    expected = [200, 401, 403, 403, 401, 200, 200, 200, 200, 401, 200, 401, 401, 401]
    got = [r[1] for r in rows]
    if got != expected:
        print(f"unexpected statuses: {got} (expected {expected})", file=sys.stderr)
        return 1
    print("demo: all requests behaved as expected")
    return 0


HEADER = ("request", "status", "what the client / upstream saw", "time", "IdP fetches")

if __name__ == "__main__":
    sys.exit(main())
