#!/usr/bin/env bash
# Runs every fuzz target from a scratch copy of the committed seed corpus, so short runs
# never rewrite the repository.
#   run.sh SECONDS   explores for SECONDS per target with a random seed (`make fuzz`).
#   run.sh --fixed   replays the corpus, then runs a fixed number of inputs per target from
#                    a fixed seed (`make test`): the same amount of work on any machine, not
#                    what fits in a few seconds of this one. Not bit-for-bit repeatable: the
#                    targets' signers draw random salts, so coverage can differ slightly.
# cargo-fuzz needs nightly-only flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
set -euo pipefail
cd "$(dirname "$0")"
mode="${1:-10}"
# Inputs per target in --fixed mode: about 10 s each on a 2-core machine (resign signs
# every input with RSA, so it runs far fewer).
declare -A fixed_runs=([verify]=1000000 [jwks]=600000 [resign]=1000 [rsa_diff]=1500 [sig_diff]=3000)
targets="${TARGETS:-verify jwks resign rsa_diff sig_diff}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
passed=0 failed=0
for t in $targets; do
  work=$(mktemp -d)
  cp corpus/"$t"/* "$work"/
  if [[ $mode == --fixed ]]; then
    budget=(-seed=1 -runs="${fixed_runs[$t]}")
  else
    budget=(-max_total_time="$mode")
  fi
  started=$SECONDS
  if cargo fuzz run -s none "$t" "$work" -- "${budget[@]}" -max_len=20000 -print_final_stats=1 \
       > "$work.log" 2>&1; then
    echo "fuzz $t: ok ($(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "$work.log" | awk '{print $2}') runs in $((SECONDS - started)) s)"
    passed=$((passed + 1))
  else
    echo "fuzz $t: FAILED"; tail -40 "$work.log"
    failed=$((failed + 1))
  fi
  rm -rf "$work" "$work.log"
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
