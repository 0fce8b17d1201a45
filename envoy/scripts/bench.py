"""make bench (Envoy part): one Envoy 1.40, one worker, listeners side by side in one run:
no auth (baseline), native jwt_authn without and with its JWT cache, and the jwtgate
filter (V8) without and with its verified-token cache (and once with the in-wasm RSA engine
instead of Envoy's verify_signature), all with the same inline JWKS and a
direct_response route. wrk -t1 -c16 sends one repeated token, then 2,000 distinct tokens.
Prints a markdown table of requests/s, p99 latency and ratios."""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))

from envoyrun import Envoy, bearer, direct, free_port, listener, request, wasm_filter  # noqa: E402
from idp import Idp  # noqa: E402

ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/5C3A8F1B2D4E6F7A8B9C0D1E2F3A4B5C"
AUD = "sts.amazonaws.com"
DURATION = os.environ.get("BENCH_DURATION", "8s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "16")
DISTINCT = int(os.environ.get("BENCH_TOKENS", "2000"))

WRK_LUA = """
local toks = {}
for line in io.lines("%s") do toks[#toks + 1] = line end
local i = 0
request = function()
  i = i %% #toks + 1
  return wrk.format("GET", "/", {Authorization = "Bearer " .. toks[i]})
end
"""


def jwt_authn(jwks: str, cache: bool) -> dict:
    provider = {"issuer": ISSUER, "audiences": [AUD], "local_jwks": {"inline_string": jwks}}
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


def jwtgate(jwks: str, cache: int, native_rsa: bool = True) -> dict:
    name = f"jwtgate_c{cache}" + ("" if native_rsa else "_wasm_rsa")
    return wasm_filter({
        "providers": {"eks": {"issuer": ISSUER, "audiences": [AUD], "local_jwks": {"inline_string": jwks}}},
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "eks"}}],
        "cache_size": cache,
        "native_rsa": native_rsa,
        "stat_prefix": name,
    }, vm_id=name)


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

    setups = [
        ("no auth (baseline)", []),
        ("jwt_authn", [jwt_authn(jwks, cache=False)]),
        ("jwt_authn + jwt_cache_config 1000", [jwt_authn(jwks, cache=True)]),
        ("jwtgate (V8), cache_size 0, in-wasm RSA", [jwtgate(jwks, 0, native_rsa=False)]),
        ("jwtgate (V8), cache_size 0", [jwtgate(jwks, 0)]),
        ("jwtgate (V8), cache_size 1000", [jwtgate(jwks, 1000)]),
    ]
    ports = [free_port() for _ in setups]
    envoy = Envoy([listener(f"l{i}", p, filters, [direct()]) for i, ((_, filters), p) in enumerate(zip(setups, ports))],
                  [], concurrency=1, log_level="warning")
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
    bad = [k for k, v in results.items() if v["non2xx"] and k[0] != "no auth (baseline)"]
    if bad:
        print(f"\nnon-2xx answers during: {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
