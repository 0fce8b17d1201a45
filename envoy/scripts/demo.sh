#!/usr/bin/env bash
# make demo: build the jwtgate Envoy filter, start a real Envoy 1.40 with it and a local
# EKS-like IdP on loopback, send a few real requests and print what happened.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bash envoy/scripts/setup.sh
echo "Building the filter (envoy/scripts/build.sh) ..."
log="$(mktemp)"
if ! bash envoy/scripts/build.sh >"$log" 2>&1; then
  cat "$log"; rm -f "$log"; exit 1
fi
rm -f "$log"
JWTGATE_WASM="$root/target/envoy/jwtgate_envoy.wasm" timeout 120 .venv/bin/python envoy/scripts/demo.py
