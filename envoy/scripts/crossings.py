"""What the proxy-wasm boundary costs in Envoy 1.40 (V8), piece by piece: empty hand-written
filters (raw ABI, WAT, no SDK) that export only the callbacks named and make only the host
calls named, next to the jwtgate module and jwt_authn with its cache, one repeated token.
Prints the Envoy process's CPU time per request for each round, the median over the
no-filter baseline, and jwtgate's cost over the baseline as a multiple of the floor's (the
last variant, a module making exactly jwtgate's host calls on a cache hit), per round and
its median. Needs wat2wasm (wabt). Usage (after envoy/scripts/build.sh):

    .venv/bin/python envoy/scripts/crossings.py        # CROSSINGS_ROUNDS=5 CROSSINGS_DURATION=4s
    CROSSINGS_ONLY=floor .venv/bin/python envoy/scripts/crossings.py   # baseline, floor, jwtgate, jwt_authn
    .venv/bin/python envoy/scripts/crossings.py --distinct

`--distinct`: 2,000 distinct tokens, no cache anywhere; the floor makes jwtgate's host
calls plus one `verify_signature` (the key's DER SPKI, a real signature and signing input,
fixed in the module: the host re-imports the key and checks the signature on every call
anyway, so which token is not what it costs). It does none of a verifier's own work, so no
proxy-wasm filter that checks RS256 through `verify_signature` can cost less; it is printed
against jwt_authn (no cache) and jwtgate (no cache, `native_rsa`).
"""

import base64
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
    # name at 4096 (16 bytes), arguments at 8192 (their length patched in by `module`).
    "verify": "(drop (call $foreign (i32.const 4096) (i32.const 16) (i32.const 8192) (i32.const ARGS_LEN)"
              " (i32.const 2060) (i32.const 2064)))",
}
FLOOR = ("+ done, delete, pairs, time, remove (jwtgate's crossings)", ["done_delete"], ["pairs", "time", "remove"])
VARIANTS = [
    ("empty: context_create + request_headers", [], []),
    ("+ response headers/body, log exported", ["response"], []),
    ("+ done, delete exported", ["done_delete"], []),
    ("+ 4 x get_current_time", [], ["time"] * 4),
    ("+ remove_header_map_value(authorization)", [], ["remove"]),
    ("+ get_header_map_pairs (and the allocator call)", [], ["pairs"]),
    FLOOR,
]


def protobuf(fields: list) -> bytes:
    """Length-delimited protobuf fields (number, bytes), as envoy/src/native.rs writes them."""
    out = bytearray()
    for number, value in fields:
        out.append(number << 3 | 2)
        n = len(value)
        while n >= 0x80:
            out.append(n & 0x7F | 0x80)
            n >>= 7
        out.append(n)
        out += value
    return bytes(out)


def verify_arguments(idp: Idp, token: str) -> bytes:
    """verify_signature's arguments for `token` (RS256), with the key as DER SPKI."""
    from cryptography.hazmat.primitives import serialization
    der = idp.key.private.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    text, _, sig = token.rpartition(".")
    signature = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    return protobuf([(1, b"sha256"), (2, der), (3, signature), (4, text.encode())])


def module(tmp: str, i, exports: list, calls: list, args: bytes = b"") -> str:
    escaped = "".join(f"\\{b:02x}" for b in args)
    body = " ".join(CALLS[c] for c in calls).replace("ARGS_LEN", str(len(args)))
    wat = f"""(module
  (import "env" "proxy_get_header_map_pairs" (func $pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_call_foreign_function"
    (func $foreign (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_current_time_nanoseconds" (func $time (param i32) (result i32)))
  (import "env" "proxy_remove_header_map_value" (func $remove (param i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 1024) "authorization")
  (data (i32.const 4096) "verify_signature")
  (data (i32.const 8192) "{escaped}")
  (func (export "proxy_abi_version_0_2_1"))
  ;; One fixed buffer: nothing is kept across calls.
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) i32.const 65536)
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) i32.const 1)
  (func (export "proxy_on_configure") (param i32 i32) (result i32) i32.const 1)
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    {body} i32.const 0)
  {' '.join(EXPORTS[e] for e in exports)}
)"""
    src, out = os.path.join(tmp, f"v{i}.wat"), os.path.join(tmp, f"v{i}.wasm")
    with open(src, "w") as f:
        f.write(wat)
    subprocess.run(["wat2wasm", src, "-o", out], check=True)
    return out


def main() -> int:
    distinct_mode = "--distinct" in sys.argv[1:]
    idp = Idp(issuer=bench.ISSUER)
    jwks = json.dumps(idp.jwks())
    token = idp.eks_token(lifetime=7200)
    tmp = tempfile.mkdtemp(prefix="jwtgate-crossings-")
    script = None
    setups = [("no filter (baseline)", [])]
    if distinct_mode:
        tokens = [idp.eks_token(sa=f"sa-{i}", lifetime=7200) for i in range(bench.DISTINCT)]
        tokens_file, script = os.path.join(tmp, "tokens.txt"), os.path.join(tmp, "distinct.lua")
        with open(tokens_file, "w") as f:
            f.write("\n".join(tokens) + "\n")
        with open(script, "w") as f:
            f.write(bench.WRK_LUA % tokens_file)
        floor = "floor: jwtgate's crossings + verify_signature"
        name, exports, calls = FLOOR
        setups.append((floor, [wasm_filter({}, vm_id="floor", wasm=module(
            tmp, "floor", exports, calls + ["verify"], verify_arguments(idp, tokens[0])))]))
        gate = "jwtgate, no cache, native_rsa"
        setups.append((gate, [bench.jwtgate(jwks, 0)]))
        setups.append(("jwt_authn, no cache", [bench.jwt_authn(jwks, cache=False)]))
    else:
        only_floor = os.environ.get("CROSSINGS_ONLY") == "floor"
        for i, (name, exports, calls) in enumerate(VARIANTS):
            if not only_floor or (name, exports, calls) == FLOOR:
                setups.append((name, [wasm_filter({}, vm_id=f"v{i}", wasm=module(tmp, i, exports, calls))]))
        floor = FLOOR[0]
        gate = "jwtgate, cache_size 1000"
        setups.append((gate, [wasm_filter({
            "providers": {"eks": {"issuer": bench.ISSUER, "audiences": [bench.AUD], "local_jwks": {"inline_string": jwks}}},
            "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "eks"}}],
            "cache_size": 1000}, vm_id="jwtgate", wasm=WASM)]))
        setups.append(("jwt_authn + jwt_cache_config 1000", [bench.jwt_authn(jwks, cache=True)]))
    ports = [free_port() for _ in setups]
    envoy = Envoy([listener(f"l{i}", p, f, [direct()]) for i, ((_, f), p) in enumerate(zip(setups, ports))],
                  [], concurrency=1, log_level="warning")
    bench.DURATION = os.environ.get("CROSSINGS_DURATION", "4s")
    cpu: dict = {name: [] for name, _ in setups}
    rps: dict = {name: [] for name, _ in setups}
    try:
        envoy.start(timeout=60)
        for (name, _), port in zip(setups, ports):
            assert request(port, "/", bearer(token))[0] == 200, name
        for r in range(int(os.environ.get("CROSSINGS_ROUNDS", "5"))):
            for (name, _), port in zip(setups, ports):
                x = bench.wrk(port, None if script else token, script, envoy.proc.pid if envoy.proc else None)
                assert x["non2xx"] == 0, f"{name}: {x['non2xx']} refused"
                cpu[name].append(x["cpu_us"])
                rps[name].append(x["rps"])
                print(f"round {r}  {name:48} {x['rps']:>8.0f} req/s  {x['cpu_us']:6.1f} us/req", flush=True)
    finally:
        envoy.stop()
    base = statistics.median(cpu["no filter (baseline)"])
    print("\n| listener | req/s (median) | Envoy CPU/req (median) | over the baseline |\n|---|---:|---:|---:|")
    for name, values in cpu.items():
        m = statistics.median(values)
        print(f"| {name} | {statistics.median(rps[name]):.0f} | {m:.1f} us | {m - base:+.1f} us |")
    # Per round, so that a slow round moves both sides of a ratio alike.
    over = {name: [c - b for c, b in zip(values, cpu["no filter (baseline)"])] for name, values in cpu.items()}
    ratios = [g / f for g, f in zip(over[gate], over[floor]) if f > 0]
    if ratios:
        print(f"\n{gate}: its cost over the baseline is {statistics.median(ratios):.2f}x the floor's "
              f"(per round: {', '.join(f'{x:.2f}' for x in ratios)})")
    if distinct_mode:
        authn = "jwt_authn, no cache"
        for name in (floor, gate):
            per = [a / c for a, c in zip(cpu[authn], cpu[name])]
            print(f"{name}: jwt_authn's CPU/req is {statistics.median(per):.2f}x its own "
                  f"(per round: {', '.join(f'{x:.2f}' for x in per)}); "
                  f"req/s {statistics.median(rps[name]) / statistics.median(rps[authn]):.2f}x jwt_authn's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
