#!/usr/bin/env bash
# make demo: build the jwtgate Envoy filter, start a real Envoy 1.40 with it and a local
# EKS-like IdP on loopback, send a few real requests and print what happened.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bash envoy/scripts/setup.sh
echo "Building the filter (cargo build -p jwtgate-envoy --release --target wasm32-wasip1) ..."
log="$(mktemp)"
if ! cargo build -p jwtgate-envoy --release --target wasm32-wasip1 >"$log" 2>&1; then
  cat "$log"; rm -f "$log"; exit 1
fi
rm -f "$log"
timeout 120 .venv/bin/python envoy/scripts/demo.py
