// The published package: every `exports` target exists and is inside `files`, and each
// runtime condition points at the loader meant for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

test('every exports target exists and is packed', () => {
  const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
  }))[0].files.map((f) => f.path);
  const targets = Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)));
  for (const t of new Set([...targets, pkg.main, pkg.types])) {
    const rel = t.replace(/^\.\//, '');
    assert.ok(existsSync(new URL(rel, root)), `${t} exists`);
    assert.ok(packed.includes(rel), `${t} is packed`);
  }
  for (const f of ['pkg/jwtgate.js', 'pkg/jwtgate_bg.wasm', 'pkg/jwtgate_wasm_inline.js', 'js/api.js', 'README.md']) {
    assert.ok(packed.includes(f), `${f} is packed`);
  }
  assert.ok(!packed.some((f) => f.startsWith('test/') || f.startsWith('node_modules/')), 'no tests or dependencies packed');
});

test('runtime conditions pick their loaders', () => {
  const e = pkg.exports['.'];
  assert.equal(e.types, './js/index.d.ts');
  assert.equal(e.workerd, './js/workerd.js');
  assert.equal(e['edge-light'], './js/edge.js');
  assert.equal(e.deno, './js/deno.js');
  assert.equal(e.node, './js/node.js');
  assert.equal(e.browser, './js/browser.js');
  // Order matters: the first matching condition wins, and workerd/edge also match "browser"/"import".
  const keys = Object.keys(e);
  assert.ok(keys.indexOf('workerd') < keys.indexOf('browser') && keys.indexOf('edge-light') < keys.indexOf('import'));
  assert.equal(keys[0], 'types');
});
