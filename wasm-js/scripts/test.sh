#!/usr/bin/env bash
# Tests the npm package in every runtime it supports: Node (node:test: API, error codes,
# vector corpus, RemoteJwks against a local server, CommonJS, a Node bundle), types for ESM
# and CommonJS consumers, the packed tarball (publint, @arethetypeswrong/cli), then the
# shared smoke suite in Deno, Bun, workerd and headless Chromium (native ESM and an esbuild
# bundle), and the examples. Prints per-runtime results and a final "N passed, N failed" line;
# exits non-zero on any failure. Runs scripts/setup.sh first (idempotent, ~0.2 s when
# everything is installed), so a fresh machine or CI needs nothing else.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bin="$here/node_modules/.bin"

if ! bash scripts/setup.sh; then
  echo "wasm-js: setup failed"
  echo "0 passed, 1 failed"
  exit 1
fi

if ! bash scripts/build.sh; then
  echo "wasm-js: build failed"
  echo "0 passed, 1 failed"
  exit 1
fi
node test/fixtures.mjs test/.fixtures.json

total_pass=0
total_fail=0
summary=()

# Each suite's time limit: a suite normally takes seconds to a minute, so one that hangs
# fails here, named and with what it printed, instead of holding the whole run until CI's limit.
SUITE_SECONDS="${SUITE_SECONDS:-300}"

# run NAME COMMAND...: runs one runtime's suite under the time limit, prefixes its output,
# and counts either node's "ℹ pass N"/"ℹ fail N" or our runners' "N passed, N failed".
run() {
  local name="$1"
  shift
  local log
  log="$(mktemp)"
  echo "== $name"
  local started=$SECONDS
  timeout --kill-after=10 "$SUITE_SECONDS" "$@" >"$log" 2>&1
  local rc=$?
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    echo "not ok - $name did not finish within ${SUITE_SECONDS} s (what it printed is above)" >>"$log"
  fi
  sed "s/^/[$name] /" "$log"
  local pass fail
  pass="$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p; s/^\([0-9]*\) passed, [0-9]* failed$/\1/p' "$log" | tail -n1)"
  fail="$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p; s/^[0-9]* passed, \([0-9]*\) failed$/\1/p' "$log" | tail -n1)"
  pass="${pass:-0}"
  fail="${fail:-0}"
  # A crash before any count, or a non-zero exit with no failure counted, is a failure;
  # a silent success (the type check) counts as one pass.
  if [[ $rc -ne 0 && $fail -eq 0 ]]; then fail=1; fi
  if [[ $rc -eq 0 && $pass -eq 0 && $fail -eq 0 ]]; then pass=1; fi
  rm -f "$log"
  total_pass=$((total_pass + pass))
  total_fail=$((total_fail + fail))
  summary+=("$(printf '%-22s %4d passed, %d failed (%d s)' "$name" "$pass" "$fail" $((SECONDS - started)))")
}

# Node's files run one by one, each in its own process with node:test in-process, rather
# than under `node --test`, whose parent reads its children's results as framed messages
# through a pipe. Node 20's reader misplaces a byte when a read ends just after a frame's
# size byte 0xff (a frame written in two pieces across that point is refused: "Unable to
# deserialize"), and can spin forever on a partial frame (nodejs/node#62693). One CI run
# stopped in this suite, printing nothing, until CI's limit; 80 runs here did not show it
# again, so which cause it was is not known. Now a hang is a failure that names the file,
# within the suite limit; --test-force-exit ends the process once its tests are done,
# whatever handles (a server, a timer) a test left behind.
for f in test/node/*.test.mjs; do
  n="${f##*/}"
  run "node ${n%.test.mjs}" node --test-reporter=spec --test-force-exit "$f"
done
run types "$bin/tsc" -p test/types --noEmit --pretty false
run types-cjs "$bin/tsc" -p test/types/tsconfig.cjs.json --noEmit --pretty false
run pack bash scripts/check-pack.sh
run deno "$bin/deno" run --no-prompt --allow-read="$here/test" test/runtimes/cli.js test/.fixtures.json
run bun "$bin/bun" test/runtimes/cli.js test/.fixtures.json
run workerd node test/runtimes/workerd.mjs
run edge-light node test/runtimes/workerd.mjs edge-light
run chromium node test/runtimes/chromium.mjs
run examples node test/examples.mjs

echo "== wasm-js summary"
printf '%s\n' "${summary[@]}"
echo "${total_pass} passed, ${total_fail} failed"
[[ $total_fail -eq 0 ]]
