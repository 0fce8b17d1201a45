#!/usr/bin/env bash
# Load and soak through a real Envoy 1.40 (--concurrency 2) running the jwtgate filter, on
# loopback, with wrk cycling valid, expired, forged and malformed tokens.
#   tests/soak/soak.sh           1,000,000 requests, at most 9 minutes of load (make soak)
#   tests/soak/soak.sh --quick   20,000 requests, at most 20 s of load (make test)
# Other options go to soak.py (--requests, --seconds, --connections, --threads, --rss-growth-mb).
# Installs what it needs (the project venv via envoy/scripts/setup.sh, wrk from Debian),
# idempotently and non-interactively; soak.py stops Envoy and wrk whatever happens.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bash envoy/scripts/setup.sh
if ! command -v wrk >/dev/null; then
  sudo_cmd=""; [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk
fi
log="$(mktemp)"
if ! bash envoy/scripts/build.sh >"$log" 2>&1; then
  cat "$log"; rm -f "$log"; exit 1
fi
rm -f "$log"

cap=660
[[ " $* " == *" --quick "* ]] && cap=90
timeout --kill-after=10 "$cap" .venv/bin/python tests/soak/soak.py "$@"
