"""What the proxy-wasm boundary costs in Envoy 1.40 (V8), piece by piece: empty hand-written
filters (raw ABI, WAT, no SDK) that export only the callbacks named and make only the host
calls named, next to the jwtgate module and jwt_authn with its cache, one repeated token.
Prints the Envoy process's CPU time per request for each round and the median over the
no-filter baseline. Needs wat2wasm (wabt). Usage (after envoy/scripts/build.sh):

    .venv/bin/python envoy/scripts/crossings.py        # CROSSINGS_ROUNDS=5 CROSSINGS_DURATION=4s
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
sys.path.insert(0, os.path.dirname(__file__))

import bench  # noqa: E402
from envoyrun import WASM, Envoy, bearer, direct, free_port, listener, request, wasm_filter  # noqa: E402
from idp import Idp  # noqa: E402

# Callbacks beyond proxy_on_context_create and proxy_on_request_headers.
EXPORTS = {
    "response": '(func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) i32.const 0)'
                '(func (export "proxy_on_response_body") (param i32 i32 i32) (result i32) i32.const 0)'
                '(func (export "proxy_on_log") (param i32))',
    "done_delete": '(func (export "proxy_on_done") (param i32) (result i32) i32.const 1)'
                   '(func (export "proxy_on_delete") (param i32))',
}
# Host calls made in proxy_on_request_headers.
CALLS = {
    "pairs": "(drop (call $pairs (i32.const 0) (i32.const 2048) (i32.const 2052)))",
    "time": "(drop (call $time (i32.const 2056)))",
    "remove": "(drop (call $remove (i32.const 0) (i32.const 1024) (i32.const 13)))",
}
VARIANTS = [
    ("empty: context_create + request_headers", [], []),
    ("+ response headers/body, log exported", ["response"], []),
    ("+ done, delete exported", ["done_delete"], []),
    ("+ 4 x get_current_time", [], ["time"] * 4),
    ("+ remove_header_map_value(authorization)", [], ["remove"]),
    ("+ get_header_map_pairs (and the allocator call)", [], ["pairs"]),
    ("+ done, delete, pairs, time, remove (jwtgate's crossings)", ["done_delete"], ["pairs", "time", "remove"]),
]


def module(tmp: str, i: int, exports: list, calls: list) -> str:
    wat = f"""(module
  (import "env" "proxy_get_header_map_pairs" (func $pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_current_time_nanoseconds" (func $time (param i32) (result i32)))
  (import "env" "proxy_remove_header_map_value" (func $remove (param i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 1024) "authorization")
  (func (export "proxy_abi_version_0_2_1"))
  ;; One fixed buffer: nothing is kept across calls.
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) i32.const 65536)
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) i32.const 1)
  (func (export "proxy_on_configure") (param i32 i32) (result i32) i32.const 1)
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    {' '.join(CALLS[c] for c in calls)} i32.const 0)
  {' '.join(EXPORTS[e] for e in exports)}
)"""
    src, out = os.path.join(tmp, f"v{i}.wat"), os.path.join(tmp, f"v{i}.wasm")
    with open(src, "w") as f:
        f.write(wat)
    subprocess.run(["wat2wasm", src, "-o", out], check=True)
    return out


def main() -> int:
    idp = Idp(issuer=bench.ISSUER)
    jwks = json.dumps(idp.jwks())
    token = idp.eks_token(lifetime=7200)
    tmp = tempfile.mkdtemp(prefix="jwtgate-crossings-")
    setups = [("no filter (baseline)", [])]
    for i, (name, exports, calls) in enumerate(VARIANTS):
        setups.append((name, [wasm_filter({}, vm_id=f"v{i}", wasm=module(tmp, i, exports, calls))]))
    setups.append(("jwtgate, cache_size 1000", [wasm_filter({
        "providers": {"eks": {"issuer": bench.ISSUER, "audiences": [bench.AUD], "local_jwks": {"inline_string": jwks}}},
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "eks"}}],
        "cache_size": 1000}, vm_id="jwtgate", wasm=WASM)]))
    setups.append(("jwt_authn + jwt_cache_config 1000", [bench.jwt_authn(jwks, cache=True)]))
    ports = [free_port() for _ in setups]
    envoy = Envoy([listener(f"l{i}", p, f, [direct()]) for i, ((_, f), p) in enumerate(zip(setups, ports))],
                  [], concurrency=1, log_level="warning")
    bench.DURATION = os.environ.get("CROSSINGS_DURATION", "4s")
    cpu: dict = {name: [] for name, _ in setups}
    try:
        envoy.start(timeout=60)
        for (name, _), port in zip(setups, ports):
            assert request(port, "/", bearer(token))[0] == 200, name
        for r in range(int(os.environ.get("CROSSINGS_ROUNDS", "5"))):
            for (name, _), port in zip(setups, ports):
                x = bench.wrk(port, token, None, envoy.proc.pid if envoy.proc else None)
                cpu[name].append(x["cpu_us"])
                print(f"round {r}  {name:48} {x['rps']:>8.0f} req/s  {x['cpu_us']:6.1f} us/req", flush=True)
    finally:
        envoy.stop()
    base = statistics.median(cpu["no filter (baseline)"])
    print("\n| listener | Envoy CPU/req (median) | over the baseline |\n|---|---:|---:|")
    for name, values in cpu.items():
        m = statistics.median(values)
        print(f"| {name} | {m:.1f} us | {m - base:+.1f} us |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
