#!/usr/bin/env bash
# Installs what building and testing the npm package needs. Idempotent, fast when
# everything is present, non-interactive (CI=true):
#   - the wasm32-unknown-unknown Rust target;
#   - wasm-bindgen-cli at exactly the version of the wasm-bindgen crate;
#   - npm dev dependencies from package-lock.json (jose, fast-jwt, jsonwebtoken, binaryen, deno,
#     bun, workerd, esbuild, playwright-core, typescript);
#   - binaryen (wasm-opt) from npm, pinned;
#   - Debian's chromium for the headless browser tests.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

want="$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' "$here/Cargo.toml")"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" || true
if [[ "$have" != "$want" ]]; then
  echo "wasm-js setup: installing wasm-bindgen-cli $want (found '${have:-none}')"
  # Not --locked: the CLI's own lockfile pins a webpki-roots the registry no longer
  # serves. No default features: the TLS stack only serves the test runner's downloads,
  # which we do not use, and leaving it out halves the build.
  cargo install wasm-bindgen-cli --version "$want" --no-default-features --quiet
fi

if [[ ! -f "$here/node_modules/.package-lock.json" || "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]]; then
  echo "wasm-js setup: npm ci"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

need=()
[[ -x /usr/bin/chromium ]] || need+=(chromium)
if ((${#need[@]})); then
  echo "wasm-js setup: apt-get install ${need[*]}"
  sudo_=""
  [[ "$(id -u)" == 0 ]] || sudo_="sudo"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "wasm-js setup: ok"
