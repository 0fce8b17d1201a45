"""make bench (Envoy part): one Envoy 1.40, one worker, listeners side by side in one run:
no auth (baseline), native jwt_authn without and with its JWT cache, and the jwtgate
filter (V8) without and with its verified-token cache (and once with the in-wasm RSA engine
instead of Envoy's verify_signature), all with the same inline JWKS and a
direct_response route. wrk -t1 -c16 sends one repeated token, then 2,000 distinct tokens.
Then ES256 (P-256, a Supabase-style issuer): jwt_authn and jwtgate (Envoy's verify_signature,
and the in-wasm fallback) with the same key, 2,000 distinct tokens, the listeners taken in
turn for BENCH_ES_ROUNDS rounds (median), so a load swing on a shared machine hits them alike.
BENCH_ALT_WASM=<module.wasm> adds the ES256 jwtgate listeners once more with another build
(an A/B of two modules in one Envoy). Prints markdown tables of requests/s, p99 latency and ratios."""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))

from envoyrun import Envoy, bearer, direct, free_port, listener, request, wasm_filter  # noqa: E402
from idp import Idp  # noqa: E402
from es256 import ISSUER as ES_ISSUER, Es256Issuer  # noqa: E402

ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/5C3A8F1B2D4E6F7A8B9C0D1E2F3A4B5C"
AUD = "sts.amazonaws.com"
DURATION = os.environ.get("BENCH_DURATION", "8s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "16")
DISTINCT = int(os.environ.get("BENCH_TOKENS", "2000"))
ES_ROUNDS = int(os.environ.get("BENCH_ES_ROUNDS", "3"))
ALT_WASM = os.environ.get("BENCH_ALT_WASM")
ES_AUD = "authenticated"

WRK_LUA = """
local toks = {}
for line in io.lines("%s") do toks[#toks + 1] = line end
local i = 0
request = function()
  i = i %% #toks + 1
  return wrk.format("GET", "/", {Authorization = "Bearer " .. toks[i]})
end
"""


def jwt_authn(jwks: str, cache: bool, issuer: str = ISSUER, aud: str = AUD) -> dict:
    provider = {"issuer": issuer, "audiences": [aud], "local_jwks": {"inline_string": jwks}}
    if cache:
        provider["jwt_cache_config"] = {"jwt_cache_size": 1000}
    return {
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
            "providers": {"eks": provider},
            "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "eks"}}],
        },
    }


def jwtgate(jwks: str, cache: int, native_rsa: bool = True, es256: bool = False,
            wasm: str | None = None, tag: str = "") -> dict:
    name = f"jwtgate_c{cache}" + ("" if native_rsa else "_wasm_rsa") + ("_es256" if es256 else "") + tag
    provider = {"issuer": ISSUER, "audiences": [AUD], "local_jwks": {"inline_string": jwks}}
    if es256:
        provider = {"issuer": ES_ISSUER, "audiences": [ES_AUD], "algorithms": ["ES256"],
                    "local_jwks": {"inline_string": jwks}}
    return wasm_filter({
        "providers": {"eks": provider},
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "eks"}}],
        "cache_size": cache,
        # Named for RSA, it sends every signature Envoy's verify_signature takes (RS*, ES256, ES384).
        "native_rsa": native_rsa,
        "stat_prefix": name,
    }, vm_id=name, wasm=wasm)


def cpu_ns(pid: int) -> int:
    """CPU time of every thread of a process, in ns: per-request cost that other load on a
    shared machine disturbs far less than requests/s."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def wrk(port: int, token: str | None, script: str | None, pid: int | None = None) -> dict:
    cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency"]
    if script:
        cmd += ["-s", script]
    elif token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    cmd.append(f"http://127.0.0.1:{port}/")
    cpu0 = cpu_ns(pid) if pid else 0
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    cpu = cpu_ns(pid) - cpu0 if pid else 0
    total = re.search(r"(\d+) requests in", out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    n = int(total.group(1)) if total else 0
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale, "non2xx": int(bad.group(1)) if bad else 0,
            "cpu_us": cpu / 1000 / n if n else 0.0,
            "socket_errors": errors.group(0) if errors else ""}


def main() -> int:
    idp = Idp(issuer=ISSUER)
    jwks = json.dumps(idp.jwks())
    t0 = time.time()
    repeated = idp.eks_token(lifetime=7200)
    distinct = [idp.eks_token(sa=f"sa-{i}", lifetime=7200) for i in range(DISTINCT)]
    print(f"signed {DISTINCT + 1} EKS-shaped tokens (~{len(repeated)} bytes) in {time.time() - t0:.1f}s", flush=True)
    tmp = tempfile.mkdtemp(prefix="jwtgate-bench-")
    tokens_file = os.path.join(tmp, "tokens.txt")
    with open(tokens_file, "w") as f:
        f.write("\n".join(distinct) + "\n")
    script = os.path.join(tmp, "distinct.lua")
    with open(script, "w") as f:
        f.write(WRK_LUA % tokens_file)
    es = Es256Issuer("sb-1")
    es_jwks = es.jwks()
    es_distinct = [es.token(sub=f"5f1c-user-{i}", lifetime=7200) for i in range(DISTINCT)]
    es_tokens_file = os.path.join(tmp, "es256.txt")
    with open(es_tokens_file, "w") as f:
        f.write("\n".join(es_distinct) + "\n")
    es_script = os.path.join(tmp, "es256.lua")
    with open(es_script, "w") as f:
        f.write(WRK_LUA % es_tokens_file)

    setups = [
        ("no auth (baseline)", []),
        ("jwt_authn", [jwt_authn(jwks, cache=False)]),
        ("jwt_authn + jwt_cache_config 1000", [jwt_authn(jwks, cache=True)]),
        ("jwtgate (V8), cache_size 0, in-wasm RSA", [jwtgate(jwks, 0, native_rsa=False)]),
        ("jwtgate (V8), cache_size 0", [jwtgate(jwks, 0)]),
        ("jwtgate (V8), cache_size 1000", [jwtgate(jwks, 1000)]),
    ]
    es_setups = [
        ("jwt_authn", [jwt_authn(es_jwks, cache=False, issuer=ES_ISSUER, aud=ES_AUD)]),
        ("jwtgate (V8), through verify_signature", [jwtgate(es_jwks, 0, es256=True)]),
        ("jwtgate (V8), in-wasm ECDSA (the fallback)", [jwtgate(es_jwks, 0, native_rsa=False, es256=True)]),
    ]
    if ALT_WASM:
        alt = os.path.basename(ALT_WASM)
        es_setups += [
            (f"{alt}, through verify_signature", [jwtgate(es_jwks, 0, es256=True, wasm=ALT_WASM, tag="_alt")]),
            (f"{alt}, in-wasm ECDSA", [jwtgate(es_jwks, 0, native_rsa=False, es256=True, wasm=ALT_WASM, tag="_alt")]),
        ]
    ports = [free_port() for _ in setups]
    es_ports = [free_port() for _ in es_setups]
    envoy = Envoy([listener(f"l{i}", p, filters, [direct()]) for i, ((_, filters), p) in enumerate(zip(setups, ports))]
                  + [listener(f"es{i}", p, filters, [direct()])
                     for i, ((_, filters), p) in enumerate(zip(es_setups, es_ports))],
                  [], concurrency=1, log_level="warning")
    es_results = {name: [] for name, _ in es_setups}
    results = {}
    try:
        envoy.start(timeout=60)
        for (name, filters), port in zip(setups, ports):
            if filters:
                assert request(port, "/", bearer(repeated))[0] == 200, name
                assert request(port, "/", bearer(distinct[7]))[0] == 200, name
                assert request(port, "/")[0] == 401, name
        for (name, _), port in zip(setups, ports):
            for workload in ("repeated", "distinct"):
                pid = envoy.proc.pid if envoy.proc else None
                r = wrk(port, repeated, None, pid) if workload == "repeated" else wrk(port, None, script, pid)
                results[(name, workload)] = r
                print(f"  {name:42} {workload:9} {r['rps']:>9.0f} req/s  p99 {r['p99_ms']:.2f} ms"
                      + (f"  NON-2xx {r['non2xx']}" if r["non2xx"] else ""), flush=True)
        for (name, _), port in zip(es_setups, es_ports):
            assert request(port, "/", bearer(es_distinct[7]))[0] == 200, name
            assert request(port, "/", bearer(es.token(der=True)))[0] == 401, name
            assert request(port, "/", bearer(repeated))[0] == 401, name
        for rnd in range(ES_ROUNDS):
            for (name, _), port in zip(es_setups, es_ports):
                r = wrk(port, None, es_script, envoy.proc.pid if envoy.proc else None)
                es_results[name].append(r)
                print(f"  ES256 round {rnd + 1}: {name:42} {r['rps']:>9.0f} req/s  p99 {r['p99_ms']:.2f} ms"
                      + (f"  NON-2xx {r['non2xx']}" if r["non2xx"] else ""), flush=True)
    finally:
        envoy.stop()

    base = {w: results[("no auth (baseline)", w)]["rps"] for w in ("repeated", "distinct")}
    ja = {"repeated": results[("jwt_authn + jwt_cache_config 1000", "repeated")]["rps"],
          "distinct": results[("jwt_authn", "distinct")]["rps"]}
    print()
    print(f"Envoy 1.40, --concurrency 1, wrk -t1 -c{CONNECTIONS} -d{DURATION}, direct_response route, "
          f"RS256 RSA-2048, {len(repeated)}-byte EKS-shaped tokens, {DISTINCT} distinct tokens.")
    print()
    print("| listener | repeated token: req/s | p99 | Envoy CPU/req | x jwt_authn (cached) "
          "| 2,000 distinct: req/s | p99 | Envoy CPU/req | x jwt_authn (no cache) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, _ in setups:
        r, d = results[(name, "repeated")], results[(name, "distinct")]
        print(f"| {name} | {r['rps']:,.0f} | {r['p99_ms']:.2f} ms | {r['cpu_us']:.1f} us "
              f"| {r['rps'] / ja['repeated']:.2f} | {d['rps']:,.0f} | {d['p99_ms']:.2f} ms | {d['cpu_us']:.1f} us "
              f"| {d['rps'] / ja['distinct']:.2f} |")
    print(f"\nBaseline: {base['repeated']:,.0f} / {base['distinct']:,.0f} req/s. Envoy CPU/req is the Envoy "
          "process's CPU time per request (all threads), steadier than req/s on a shared machine.")

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in es_results[name])

    es_base = med("jwt_authn", "rps")
    print()
    print(f"ES256 (P-256, the same key for all), {len(es_distinct[0])}-byte Supabase-style tokens, {DISTINCT} distinct, "
          f"median of {ES_ROUNDS} rounds (listeners in turn), same Envoy and wrk settings.")
    print()
    print(f"| listener | {DISTINCT:,} distinct ES256: req/s | p99 | Envoy CPU/req | x jwt_authn | req/s per round |")
    print("|---|---:|---:|---:|---:|---|")
    for name, _ in es_setups:
        rounds = ", ".join(f"{r['rps']:,.0f}" for r in es_results[name])
        print(f"| {name} | {med(name, 'rps'):,.0f} | {med(name, 'p99_ms'):.2f} ms | {med(name, 'cpu_us'):.1f} us "
              f"| {med(name, 'rps') / es_base:.2f} | {rounds} |")
    bad = [k for k, v in results.items() if v["non2xx"] and k[0] != "no auth (baseline)"]
    bad += [k for k, v in es_results.items() if any(r["non2xx"] for r in v)]
    if bad:
        print(f"\nnon-2xx answers during: {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
