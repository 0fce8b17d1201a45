#!/usr/bin/env bash
# bench/node/fma.mjs in headless Chromium (relaxed SIMD on by default there): inlines the
# module and the key into one page, runs it synchronously, prints the table from the DOM.
#   bash bench/node/fma-chromium.sh path/to/jwtgate_bench_wasm.wasm   (CHROMIUM=/usr/bin/chromium)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
nhex="$(grep '^2048 ' "$here/../../filter/src/rsa/test_keys.txt" | head -n 1 | cut -d' ' -f3)"
{
  echo '<html><body><pre id=o></pre><script>'
  echo 'const out = []; try { const WINDOW_MS = 60, ROUNDS = 41;'
  echo "const WASM = Uint8Array.from(atob('$(base64 -w0 "$1")'), (c) => c.charCodeAt(0));"
  echo 'const instance = new WebAssembly.Instance(new WebAssembly.Module(WASM), {});'
  sed -n '/^const x = instance.exports;/,$p' "$here/fma.mjs" |
    sed -e '/^const keys = /d' -e "s/^const hex = .*\$/const hex = '$nhex';/" -e 's/console\.log(/out.push(/'
  echo '} catch (e) { out.push(`error: ${e}`); }'
  echo 'document.getElementById("o").textContent = `${out.join("\n")}\n${navigator.userAgent}`;</script></body></html>'
} >"$dir/page.html"
timeout 300 "${CHROMIUM:-/usr/bin/chromium}" --headless --no-sandbox --disable-gpu --dump-dom "file://$dir/page.html" 2>/dev/null |
  python3 -c 'import sys, html
s = sys.stdin.read()
a = s.find("<pre id=\"o\">") + 12
r = html.unescape(s[a:s.find("</pre>", a)]) if a >= 12 else ""
print(r or f"fma-chromium: no result in Chromium output ({len(s)} bytes); run it again", file=sys.stdout if r else sys.stderr)
sys.exit(0 if r else 1)'
