// Runs the smoke suite in headless Chromium twice: native ESM (an import map points
// `jwtgate` at the package's browser entry) and an esbuild bundle. Served from 127.0.0.1.
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { fileURLToPath } from 'node:url';
import { serve } from './serve.mjs';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];
export const launch = () => chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });

const root = fileURLToPath(new URL('../../', import.meta.url));

async function main() {
  await build({
    entryPoints: [root + 'test/runtimes/browser-entry.js'],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    outfile: root + 'test/.out/browser/bundle.js',
    logLevel: 'warning',
  });
  const pages = {
    '/native.html': `<!doctype html><script type="importmap">{"imports":{"jwtgate":"/js/browser.js"}}</script>
<script type="module">
import * as lib from 'jwtgate';
import { smoke } from '/test/smoke.js';
const fx = await (await fetch('/test/.fixtures.json')).json();
window.__results = smoke(lib, fx);
</script>`,
    '/bundle.html': '<!doctype html><script type="module" src="/test/.out/browser/bundle.js"></script>',
  };
  const server = await serve({ '/': root }, pages);
  const browser = await launch();
  let passed = 0;
  let failed = 0;
  try {
    for (const page of ['native', 'bundle']) {
      const tab = await browser.newPage();
      const errors = [];
      tab.on('pageerror', (e) => errors.push(e.message));
      await tab.goto(`${server.url}/${page}.html`);
      let results;
      try {
        await tab.waitForFunction(() => window.__results !== undefined, null, { timeout: 30_000 });
        results = await tab.evaluate(() => window.__results);
      } catch (e) {
        results = [{ name: 'page loads', ok: false, error: `${e.message} ${errors.join('; ')}` }];
      }
      for (const r of results) {
        if (r.ok) {
          passed++;
          console.log(`ok - [${page}] ${r.name}`);
        } else {
          failed++;
          console.log(`not ok - [${page}] ${r.name}\n  ${r.error.replace(/\n/g, '\n  ')}`);
        }
      }
      await tab.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
