// The published package: every `exports` target exists and is inside `files`, each
// runtime condition points at the loader meant for it, the metadata a registry shows is
// there, and a Node bundle made with esbuild finds the wasm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, mkdirSync, copyFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

test('every exports target exists and is packed', () => {
  const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
  }))[0].files.map((f) => f.path);
  const leaves = (t) => (typeof t === 'string' ? [t] : Object.values(t).flatMap(leaves));
  const targets = Object.values(pkg.exports).flatMap(leaves);
  for (const t of new Set([...targets, pkg.main, pkg.types])) {
    const rel = t.replace(/^\.\//, '');
    assert.ok(existsSync(new URL(rel, root)), `${t} exists`);
    assert.ok(packed.includes(rel), `${t} is packed`);
  }
  for (const f of ['pkg/jwtgate.js', 'pkg/jwtgate_bg.wasm', 'pkg/jwtgate_wasm_inline.js', 'pkg/index.d.cts', 'js/api.js', 'js/node.cjs', 'README.md', 'LICENSE']) {
    assert.ok(packed.includes(f), `${f} is packed`);
  }
  assert.ok(!packed.some((f) => f.startsWith('test/') || f.startsWith('node_modules/')), 'no tests or dependencies packed');
});

test('runtime conditions pick their loaders', () => {
  const e = pkg.exports['.'];
  assert.equal(e.workerd, './js/workerd.js');
  assert.equal(e['edge-light'], './js/edge.js');
  assert.equal(e.deno, './js/deno.js');
  // Node: require() gets a CommonJS file with CommonJS types, import the ESM loader.
  assert.deepEqual(e.node, {
    require: { types: './pkg/index.d.cts', default: './js/node.cjs' },
    default: { types: './js/index.d.ts', default: './js/node.js' },
  });
  assert.equal(e.types, './js/index.d.ts');
  assert.equal(e.browser, './js/browser.js');
  // Order matters: the first matching condition wins, and workerd/edge also match
  // "browser"/"import"; "node" must come before "types" so CommonJS consumers get .d.cts.
  const keys = Object.keys(e);
  assert.ok(keys.indexOf('workerd') < keys.indexOf('browser') && keys.indexOf('edge-light') < keys.indexOf('import'));
  assert.ok(keys.indexOf('node') < keys.indexOf('types') && keys.indexOf('types') < keys.indexOf('browser'));
});

test('require() from CommonJS gets the same module as import', async () => {
  const require = createRequire(import.meta.url);
  const cjs = require('jwtgate');
  const esm = await import('jwtgate');
  assert.equal(cjs.Verifier, esm.Verifier);
  assert.equal(require.resolve('jwtgate'), fileURLToPath(new URL('js/node.cjs', root)));
});

test('registry metadata and the license', () => {
  assert.equal(pkg.license, 'Apache-2.0');
  assert.match(pkg.repository.url, /^git\+https:\/\/github\.com\//);
  assert.equal(pkg.repository.directory, 'wasm-js');
  assert.match(pkg.homepage, /^https:\/\//);
  assert.ok(pkg.keywords.includes('jwt'));
  // The same Apache-2.0 text as the repository root's.
  const root = new URL('../../../LICENSE', import.meta.url);
  assert.equal(readFileSync(new URL('LICENSE', new URL('../../', import.meta.url)), 'utf8'), readFileSync(root, 'utf8'));
});

test('the CommonJS types are the ESM ones (pkg/index.d.cts is a build-time copy)', () => {
  assert.equal(readFileSync(new URL('pkg/index.d.cts', root), 'utf8'), readFileSync(new URL('js/index.d.ts', root), 'utf8'));
});

// esbuild --platform=node moves js/node.js into the bundle, away from pkg/: the loader then
// looks next to the bundle, then through node_modules.
test('an esbuild --platform=node bundle (ESM and CommonJS) finds the wasm', async () => {
  const dir = fileURLToPath(new URL('test/.out/node-bundle/', root));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const entry = fileURLToPath(new URL('test/runtimes/node-bundle-entry.mjs', root));
  for (const [format, file] of [['esm', 'app.mjs'], ['cjs', 'app.cjs']]) {
    await build({ entryPoints: [entry], bundle: true, platform: 'node', format, outfile: dir + file, logLevel: 'error' });
  }
  // Next to the bundle, as the README says to deploy it: run from a directory with no
  // node_modules above it is not possible here, so the copy must be what is found first.
  copyFileSync(new URL('pkg/jwtgate_bg.wasm', root), dir + 'jwtgate_bg.wasm');
  for (const file of ['app.mjs', 'app.cjs']) {
    const out = execFileSync(process.execPath, [dir + file], { encoding: 'utf8' });
    assert.equal(out.trim(), 'ok bad_audience', file);
  }
  // Without the copy, a bundle inside the project still finds the wasm through node_modules.
  rmSync(dir + 'jwtgate_bg.wasm');
  assert.equal(execFileSync(process.execPath, [dir + 'app.mjs'], { encoding: 'utf8' }).trim(), 'ok bad_audience');
});
