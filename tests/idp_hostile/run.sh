#!/usr/bin/env bash
# Hostile-IdP scenarios against a real Envoy 1.40 with the jwtgate filter (remote JWKS and
# OIDC discovery sources): down, stalled, dripping, 5xx, garbage, huge, thousands of keys,
# redirects, another host, rotation mid-traffic, cooldown, backoff, memory.
# Set-up is envoy/scripts/setup.sh's (the project venv); nothing else is installed.
# Non-interactive; every Envoy and IdP a test starts is stopped by its fixtures; the whole
# run is capped. Extra arguments go to pytest (e.g. -k redirect).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bash envoy/scripts/setup.sh

log="$(mktemp)"
if ! bash envoy/scripts/build.sh >"$log" 2>&1; then
  cat "$log"; rm -f "$log"; exit 1
fi
rm -f "$log"

echo "== jwtgate-envoy: hostile IdP scenarios against real Envoy"
timeout --kill-after=20 900 .venv/bin/python -m pytest -q -p no:cacheprovider tests/idp_hostile "$@"
