#!/usr/bin/env bash
# The per-runtime benchmark (`make bench`): jwtgate against jose, fast-jwt, hono,
# @tsndr/cloudflare-worker-jwt and bare crypto.subtle.verify in Node, Bun, Deno, workerd
# and headless Chromium. Installs what it needs, idempotently (the npm package's set-up and
# build, then this directory's pinned packages), and writes RESULTS.md. Sizes: BENCH_N,
# BENCH_ROUNDS, BENCH_REPEAT, BENCH_REPEAT_CACHED, BENCH_ONLY (see run.mjs).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
wasm_js="$here/../../wasm-js"
bash "$wasm_js/scripts/setup.sh"
bash "$wasm_js/scripts/build.sh"
if [[ ! -f "$here/node_modules/.package-lock.json" || "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]]; then
  echo "bench/runtimes: npm ci"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
cd "$here"
node run.mjs
