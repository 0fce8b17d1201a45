#!/usr/bin/env bash
# The Envoy filter's tests: native unit tests of the pure modules, then the built .wasm in
# a real Envoy 1.40 (V8) against the local IdP, including the shared vector corpus.
# Installs what it needs (idempotent); exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bash envoy/scripts/setup.sh

echo "== jwtgate-envoy: unit tests (native)"
cargo test -p jwtgate-envoy --quiet

echo "== jwtgate-envoy: build the filter (wasm32-wasip1, release, unused callbacks stripped)"
bash envoy/scripts/build.sh
export JWTGATE_WASM="$root/target/envoy/jwtgate_envoy.wasm"

echo "== jwtgate-envoy: the migrate command (native; test_migrate.py runs it)"
cargo test -p jwtgate-envoy --features migrate --quiet migrate
cargo build -p jwtgate-envoy --features migrate --bin jwtgate-envoy --quiet

echo "== jwtgate-envoy: end-to-end against real Envoy"
# Bounded: every test stops its Envoy and servers; the whole run is capped too.
timeout 900 .venv/bin/python -m pytest -q -p no:cacheprovider envoy/e2e "$@"
