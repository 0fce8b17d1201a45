#!/usr/bin/env bash
# Benchmarks the npm package in Node against jose, fast-jwt, jsonwebtoken and bare
# signature checks (bench/bench.mjs), then prints the package sizes, then every algorithm
# against jose and bare crypto.subtle.verify (bench/algs.mjs). Not a test: it only
# reports. Extra arguments go to bench.mjs (--seconds N, --rounds N, --json FILE).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash scripts/setup.sh
bash scripts/build.sh
node bench/bench.mjs "$@"
node bench/algs.mjs --seconds 1 --rounds 3
