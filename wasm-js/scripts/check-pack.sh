#!/usr/bin/env bash
# Lints the tarball npm would publish (not the working tree): publint (package.json,
# exports, file formats) and @arethetypeswrong/cli (types for ESM and CommonJS consumers
# under node10, node16 and bundler resolution). Needs a built pkg/ (scripts/build.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
out="$here/test/.out/pack"
rm -rf "$out"
mkdir -p "$out"
# --ignore-scripts: prepack would rebuild; the caller has built pkg/ already.
tarball="$(npm pack --ignore-scripts --silent --pack-destination "$out" | tail -n1)"
echo "packed $tarball ($(wc -c <"$out/$tarball") bytes)"
tar -tzf "$out/$tarball" | sed 's/^/  /'
node_modules/.bin/publint run --strict "$out/$tarball"
# The .wasm subpath is an asset, not a module: it has no types to check.
node_modules/.bin/attw "$out/$tarball" --format ascii --exclude-entrypoints jwtgate_bg.wasm
