"""In-wasm RSA (jwtgate core) vs Envoy's verify_signature foreign function, measured inside
Envoy's V8 VM by envoy/ffi-bench. Prints microseconds per RS256 verification."""

import base64
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))

from cryptography.hazmat.primitives import serialization  # noqa: E402

from envoyrun import ROOT, Envoy, direct, free_port, listener, wasm_filter  # noqa: E402
from idp import Idp  # noqa: E402

WASM = os.environ.get("JWTGATE_FFI_WASM", str(ROOT / "target" / "ffi-bench" / "wasm32-wasip1" / "release" / "jwtgate_ffi_bench.wasm"))


def main() -> int:
    idp = Idp(issuer="https://oidc.eks.eu-west-1.amazonaws.com/id/5C3A8F1B2D4E6F7A8B9C0D1E2F3A4B5C")
    pub = idp.key.private.public_key()
    cfg = {
        "token": idp.eks_token(),
        "jwks": idp.jwks(),
        "pem": pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        "der": base64.b64encode(pub.public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)).decode(),
        "n": int(os.environ.get("FFI_BENCH_N", "500")),
    }
    e = Envoy([listener("ffi", free_port(), [wasm_filter(cfg, vm_id="ffi", wasm=WASM)], [direct()])], [], concurrency=1)
    try:
        e.start(timeout=120)
    finally:
        e.stop()
    rows = re.findall(r"FFI-BENCH n=(\d+) in_wasm_core_ns=(\d+) foreign_pem_ns=(\d+) foreign_der_ns=(\d+) ok=(\S+)", e.log())
    if not rows:
        print(e.log()[-2000:], file=sys.stderr)
        return 1
    print("\nRS256 (RSA-2048) verification inside Envoy 1.40's V8 VM, per call (one line per VM; "
          "the first VM runs before V8 has tiered the code up):\n")
    print("| VM | in-wasm core (verify_jws) | verify_signature, PEM key | verify_signature, DER key | ok |")
    print("|---|---:|---:|---:|---|")
    for i, (n, core, pem, der, ok) in enumerate(rows):
        print(f"| {i + 1} | {int(core) / 1000:.1f} us | {int(pem) / 1000:.1f} us | {int(der) / 1000:.1f} us | {ok} of {n} |")
    split = re.findall(r"FFI-SPLIT der_bad_hash_ns=(\d+) no_key_ns=(\d+) bad_hash_answer=(\".*?\") no_key_answer=(\".*?\")", e.log())
    rows_split = list(zip(rows, split))
    if rows_split:
        print("\nThe DER call split (an unknown hash name: Envoy imports the key, then stops; an empty key: "
              "it stops at the import):\n")
        print("| VM | crossing + protobuf (empty key) | key import (unknown hash - empty key) "
              "| verification (DER call - unknown hash) |")
        print("|---|---:|---:|---:|")
        for i, ((_, _, _, der, _), (bad, none, bad_ans, none_ans)) in enumerate(rows_split):
            print(f"| {i + 1} | {int(none) / 1000:.1f} us | {(int(bad) - int(none)) / 1000:.1f} us "
                  f"| {(int(der) - int(bad)) / 1000:.1f} us |")
        print(f"\nEnvoy's answers: unknown hash {split[0][2]}, empty key {split[0][3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
