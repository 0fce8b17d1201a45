// Runs the smoke suite in workerd: bundle like wrangler (esbuild, workerd conditions, the
// .wasm kept as a separate module), serve on 127.0.0.1, fetch the results, stop workerd.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const out = fileURLToPath(new URL(`../.out/${process.argv[2] === 'edge-light' ? 'edge' : 'workerd'}/`, import.meta.url));
mkdirSync(out, { recursive: true });

// Two bundles: the `workerd` condition as wrangler resolves it, and the `edge-light`
// condition (Vercel Edge), whose `?module` import Vercel's bundler turns into a compiled
// module; here a plugin strips the query so workerd provides the same thing.
const stripModuleQuery = {
  name: 'strip-module-query',
  setup(b) {
    b.onResolve({ filter: /\.wasm\?module$/ }, async (args) => {
      const r = await b.resolve(args.path.replace(/\?module$/, ''), { resolveDir: args.resolveDir, kind: args.kind });
      return { path: r.path, external: false };
    });
  },
};
const variant = process.argv[2] === 'edge-light' ? 'edge-light' : 'workerd';
await build({
  entryPoints: [here + 'worker.js'],
  bundle: true,
  format: 'esm',
  outfile: out + 'worker.js',
  conditions: variant === 'edge-light' ? ['edge-light', 'worker', 'browser'] : ['workerd', 'worker', 'browser'],
  loader: { '.wasm': 'copy' },
  assetNames: '[name]',
  plugins: [stripModuleQuery],
  logLevel: 'warning',
});
const bundled = readFileSync(out + 'worker.js', 'utf8');
if (!bundled.includes(variant === 'edge-light' ? 'js/edge.js' : 'js/workerd.js')) {
  throw new Error(`the ${variant} condition did not select its loader`);
}

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

writeFileSync(out + 'config.capnp', `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .smoke) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const smoke :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "jwtgate_bg.wasm", wasm = embed "jwtgate_bg.wasm"),
  ],
  compatibilityDate = "2025-09-01",
);
`);

const bin = fileURLToPath(new URL('../../node_modules/.bin/workerd', import.meta.url));
const child = spawn(bin, ['serve', out + 'config.capnp'], { stdio: ['ignore', 'inherit', 'inherit'] });
let exitCode = 1;
try {
  let results;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      results = await (await fetch(`http://127.0.0.1:${port}/`)).json();
      break;
    } catch (e) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`workerd did not answer: ${e.message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  let failed = 0;
  for (const r of results) {
    if (r.ok) console.log(`ok - ${r.name}`);
    else {
      failed++;
      console.log(`not ok - ${r.name}\n  ${r.error.replace(/\n/g, '\n  ')}`);
    }
  }
  console.log(`${results.length - failed} passed, ${failed} failed`);
  exitCode = failed ? 1 : 0;
} catch (e) {
  console.log(`not ok - workerd smoke suite\n  ${e.stack}`);
  console.log('0 passed, 1 failed');
} finally {
  child.kill('SIGTERM');
}
process.exit(exitCode);
