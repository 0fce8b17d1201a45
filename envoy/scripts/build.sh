#!/usr/bin/env bash
# Builds the Envoy module: cargo's cdylib, then the exports of proxy-wasm callbacks the
# filter does not implement removed (envoy/wasm-strip). The SDK exports all of them as
# no-ops; Envoy calls every exported one (response headers, response body, log on each
# stream) through V8 and skips absent ones, so removing them saves work on every request
# and changes no behaviour. Output: target/envoy/jwtgate_envoy.wasm (what to ship).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

# Callbacks left to the SDK's defaults (Continue / nothing). If the filter ever implements
# one, it must leave this list: the check below refuses to build otherwise.
unused=(
  proxy_on_response_headers proxy_on_response_body proxy_on_response_trailers proxy_on_log
  proxy_on_queue_ready proxy_on_foreign_function
  proxy_on_new_connection proxy_on_downstream_data proxy_on_downstream_connection_close
  proxy_on_upstream_data proxy_on_upstream_connection_close
  proxy_on_grpc_receive_initial_metadata proxy_on_grpc_receive
  proxy_on_grpc_receive_trailing_metadata proxy_on_grpc_close
)
implemented="$(grep -nE 'fn (on_http_response_(headers|body|trailers)|on_log|on_queue_ready|on_foreign_function|on_new_connection|on_downstream_|on_upstream_|on_grpc_)' envoy/src/*.rs || true)"
if [[ -n "$implemented" ]]; then
  echo "envoy/scripts/build.sh: the filter implements a callback this script strips:" >&2
  echo "$implemented" >&2
  exit 1
fi

# Reproducible bytes: dependency paths under CARGO_HOME appear in panic locations; map them
# to one name (the Makefile exports the same value, so make and this script share a build).
: "${CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS:=--remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo}"
export CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS

quiet=(--quiet)
[[ "${VERBOSE:-}" == 1 ]] && quiet=()
cargo build -p jwtgate-envoy --release --target wasm32-wasip1 "${quiet[@]}"
CARGO_TARGET_DIR=target/wasm-strip cargo build --manifest-path envoy/wasm-strip/Cargo.toml \
  --release "${quiet[@]}"
mkdir -p target/envoy
# cargo writes where CARGO_TARGET_DIR says (relative to the root, where it runs).
target/wasm-strip/release/jwtgate-wasm-strip "${CARGO_TARGET_DIR:-target}/wasm32-wasip1/release/jwtgate_envoy.wasm" \
  target/envoy/jwtgate_envoy.wasm "${unused[@]}"
