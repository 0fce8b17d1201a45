#!/usr/bin/env bash
# Runs every fuzz target for N seconds each (default 10) from a scratch copy of the
# committed seed corpus, so short CI runs never rewrite the repository.
# cargo-fuzz needs nightly-only flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-10}"
targets="${TARGETS:-verify jwks resign rsa_diff sig_diff}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
passed=0 failed=0
for t in $targets; do
  work=$(mktemp -d)
  cp corpus/"$t"/* "$work"/
  if cargo fuzz run -s none "$t" "$work" -- -max_total_time="$secs" -max_len=20000 -print_final_stats=1 \
       > "$work.log" 2>&1; then
    echo "fuzz $t: ok ($(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "$work.log" | awk '{print $2}') runs in ${secs}s)"
    passed=$((passed + 1))
  else
    echo "fuzz $t: FAILED"; tail -40 "$work.log"
    failed=$((failed + 1))
  fi
  rm -rf "$work" "$work.log"
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
