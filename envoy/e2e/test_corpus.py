"""The shared vector corpus (tests/vectors/corpus.json) through real Envoy: every token the
core has a verdict for is sent to the filter, and the code in the reply must be the core's.

Each case's recorded time is replayed with the filter's `fixed_now`; each (jwks, policy) pair
becomes a provider behind its own path. The token travels in a header without a prefix."""

import json
import time
from pathlib import Path

import pytest

from envoyrun import Envoy, cluster, direct, free_port, listener, request, wasm_filter

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "vectors" / "corpus.json"


def load():
    if not CORPUS.exists():
        return {"cases": [], "jwks": {}, "policies": {}}
    return json.loads(CORPUS.read_text())


DOC = load()


def token_of(case) -> str:
    if "token" in case:
        return case["token"]
    r = case["token_repeat"]
    return r["prefix"] + r["unit"] * r["count"] + r["suffix"]


def skip_reason(case) -> str | None:
    if case.get("entry") != "verify":
        return "signature-only entry point; the filter always verifies claims"
    tok = token_of(case)
    if tok == "":
        return "an empty header is no token at the HTTP layer"
    if any(ord(c) < 0x21 or ord(c) > 0x7e for c in tok):
        return "not representable in an HTTP header value (whitespace, control or non-ASCII bytes)"
    return None


CASES = DOC["cases"]


class Corpus:
    pass


@pytest.fixture(scope="module", params=[True, False], ids=["native_rsa", "in_wasm_rsa"])
def corpus(request):
    """Once with Envoy's `verify_signature` checking signatures, once with the in-wasm engine."""
    c = Corpus()
    c.native = request.param
    groups = {}
    for case in CASES:
        if skip_reason(case):
            continue
        g = groups.setdefault(case["now"], {})
        g.setdefault((case["jwks"], case["policy"]), f"p{len(g)}")
    c.where = {}
    listeners = []
    for now, providers in groups.items():
        port = free_port()
        plugin = {
            "providers": {name: dict(DOC["policies"][pol], local_jwks={"inline_string": json.dumps(DOC["jwks"][jw])},
                                     from_headers=[{"name": "x-token"}])
                          for (jw, pol), name in providers.items()},
            "rules": [{"match": {"path": f"/{name}"}, "requires": {"provider_name": name}}
                      for name in providers.values()],
            "fixed_now": now,
            "cache_size": 0,
            "native_rsa": c.native,
        }
        listeners.append(listener(f"now{now}", port, [wasm_filter(plugin)], [direct()], max_headers_kb=8192))
        for key, name in providers.items():
            c.where[(now,) + key] = (port, f"/{name}")
    c.envoy = Envoy(listeners, [cluster("unused", 9)])
    try:
        c.envoy.start(timeout=60)
        yield c
    finally:
        c.envoy.stop()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_verdict_equals_the_core(corpus, case):
    why = skip_reason(case)
    if why:
        pytest.skip(why)
    port, path = corpus.where[(case["now"], case["jwks"], case["policy"])]
    status, headers, body = request(port, path, {"x-token": token_of(case)}, timeout=30)
    if case["expect"] == "ok":
        assert status == 200, body
    else:
        assert json.loads(body) == {"error": case["expect"]}, (status, body)
        assert f'error_description="{case["expect"]}"' in headers["www-authenticate"]


def test_signatures_were_checked_where_configured(corpus):
    """Runs after the cases: with `native_rsa` on (the default) every RSA check above went
    through Envoy's `verify_signature`, and each call gave a verdict (valid and refused alike;
    none fell back to the in-wasm engine), so the verdicts compared above are BoringSSL's.
    With it off, the host is never asked."""
    time.sleep(1.5)  # counters are flushed on the 1 s tick
    if corpus.native:
        assert corpus.envoy.counter("jwtgate.native_rsa") > 0
        assert "RS*/ES* signatures checked by the host (verify_signature)" in corpus.envoy.log()
    else:
        assert corpus.envoy.counter("jwtgate.native_rsa") == 0
    assert corpus.envoy.counter("jwtgate.native_rsa_no_verdict") == 0
