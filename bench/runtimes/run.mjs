// The per-runtime benchmark driver (`make bench`, or bench/runtimes/run.sh): makes the
// fixtures once, runs body.js in every runtime that is present (Node, Bun, Deno, workerd,
// headless Chromium; a missing one is skipped with a line saying so), prints one markdown
// table and writes it, with the command, date, load and versions, to RESULTS.md.
//
//   node run.mjs            env: BENCH_N (distinct tokens, also the batch size; default 2000),
//                                BENCH_ROUNDS (default 7), BENCH_REPEAT (repeated-token batch
//                                size; default BENCH_N), BENCH_REPEAT_CACHED (the same for
//                                cached verifiers; default 50000), BENCH_ONLY (comma list of
//                                runtimes: node,bun,deno,workerd,chromium),
//                                CHROMIUM (browser binary; default /usr/bin/chromium)
//
// Node, Bun, Deno and Chromium time themselves (performance.now around each batch). In
// workerd the clock stands still while code runs, so each batch is one HTTP request timed
// from outside, minus the median of an empty request's time in the same rounds.
import { build } from 'esbuild';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WORKLOADS, batchSize, median } from './body.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const wasmJs = fileURLToPath(new URL('../../wasm-js/', import.meta.url));
const bin = `${wasmJs}node_modules/.bin/`;
const out = `${here}.out/`;
mkdirSync(out, { recursive: true });

const N = Number(process.env.BENCH_N ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const REPEAT = Number(process.env.BENCH_REPEAT ?? N);
const CACHED_REPEAT = Number(process.env.BENCH_REPEAT_CACHED ?? 50000);
const sizes = { n: N, repeat: REPEAT, cachedRepeat: CACHED_REPEAT };
const ONLY = process.env.BENCH_ONLY?.split(',');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const fixtures = `${out}fixtures.json`;
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
const started = new Date();
const loadBefore = uptime();
execFileSync(process.execPath, [`${here}fixtures.mjs`, fixtures, String(N)], { stdio: 'inherit' });

const version = (file, args, pick = (s) => s.split('\n')[0]) => {
  try {
    return pick(execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return undefined;
  }
};
const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});
const child = (file, args, opts = {}) => new Promise((resolve, reject) => {
  const p = spawn(file, args, { cwd: here, stdio: ['ignore', 'pipe', 'inherit'], ...opts });
  let stdout = '';
  p.stdout.on('data', (d) => { stdout += d; });
  p.on('error', reject);
  p.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${file} exited with ${code}`))));
});
const lastJson = (s) => JSON.parse(s.trim().split('\n').pop());

// Each runtime: how to tell it is present, its version, and a run returning
// { samples: { [workload]: { [contender]: ops/s per round } }, paths }.
const cliArgs = [fixtures, String(ROUNDS), String(REPEAT), String(CACHED_REPEAT)];
const runtimes = [
  { name: 'Node', file: process.execPath, version: () => `Node ${process.version}`,
    run: async () => lastJson(await child(process.execPath, ['cli.js', ...cliArgs])) },
  { name: 'Bun', file: `${bin}bun`, version: () => `Bun ${version(`${bin}bun`, ['--version'])}`,
    run: async () => lastJson(await child(`${bin}bun`, ['cli.js', ...cliArgs])) },
  { name: 'Deno', file: `${bin}deno`, version: () => version(`${bin}deno`, ['--version']),
    run: async () => lastJson(await child(`${bin}deno`, ['run', '--no-prompt', `--allow-read=${here},${wasmJs}`, '--allow-env', 'cli.js', ...cliArgs])) },
  { name: 'workerd', file: `${bin}workerd`, version: () => version(`${bin}workerd`, ['--version']), run: workerd },
  { name: 'Chromium', file: CHROMIUM, version: () => version(CHROMIUM, ['--version']), run: chromium },
];

async function workerd() {
  const dir = `${out}workerd/`;
  writeFileSync(`${out}worker.js`, `
import data from './fixtures.json';
import { contenders, forWorkload, batch, paths } from '../body.js';
let list;
export default {
  async fetch(request) {
    list ??= await contenders(data);
    const u = new URL(request.url);
    if (u.pathname === '/names') return Response.json(Object.fromEntries(${JSON.stringify(WORKLOADS)}.map((w) => [w, forWorkload(list, w).map((c) => ({ name: c.name, cached: !!c.cached }))])));
    if (u.pathname === '/paths') return Response.json(paths());
    const c = list.find((x) => x.name === u.searchParams.get('c'));
    if (c) await batch(c, data.tokens, u.searchParams.get('w'), Number(u.searchParams.get('s')), Number(u.searchParams.get('n')));
    return new Response('ok');
  },
};`);
  await build({
    entryPoints: [`${out}worker.js`], bundle: true, format: 'esm', outfile: `${dir}worker.js`,
    conditions: ['workerd', 'worker', 'browser'], loader: { '.wasm': 'copy' }, assetNames: '[name]', logLevel: 'warning',
  });
  const port = await freePort();
  writeFileSync(`${dir}config.capnp`, `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .bench) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const bench :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "jwtgate_bg.wasm", wasm = embed "jwtgate_bg.wasm"),
  ],
  compatibilityDate = "2025-09-01",
);`);
  const proc = spawn(`${bin}workerd`, ['serve', `${dir}config.capnp`], { stdio: ['ignore', 'inherit', 'inherit'] });
  try {
    const url = `http://127.0.0.1:${port}`;
    const get = async (q) => (await fetch(`${url}${q}`)).text();
    for (let i = 0; ; i++) {
      try {
        await get('/?c=none');
        break;
      } catch (e) {
        if (i > 150 || proc.exitCode !== null) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const names = JSON.parse(await get('/names'));
    const timed = async (c, w, s, n) => {
      const t = performance.now();
      const body = await get(`/?c=${encodeURIComponent(c)}&w=${w}&s=${s}&n=${n}`);
      if (body !== 'ok') throw new Error(`workerd: ${c}: ${body.slice(0, 300)}`);
      return performance.now() - t;
    };
    const raw = {};
    const empty = [];
    for (const w of WORKLOADS) {
      raw[w] = Object.fromEntries(names[w].map((c) => [c.name, []]));
      for (const c of names[w]) await timed(c.name, w, 0, Math.min(batchSize(c, w, sizes), 200)); // warm-up
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (const w of WORKLOADS) {
        const cs = names[w];
        for (let k = 0; k < cs.length; k++) {
          const c = cs[(r + k) % cs.length];
          const size = batchSize(c, w, sizes);
          raw[w][c.name].push({ ms: await timed(c.name, w, r * 97, size), size });
          empty.push(await timed('none', w, 0, 0));
        }
      }
    }
    const base = median(empty);
    const samples = Object.fromEntries(Object.entries(raw).map(([w, byC]) => [w, Object.fromEntries(
      Object.entries(byC).map(([c, xs]) => [c, xs.map(({ ms, size }) => (size * 1000) / Math.max(ms - base, 1e-3))]))]));
    return { samples, paths: JSON.parse(await get('/paths')), note: `empty request ${base.toFixed(2)} ms subtracted` };
  } finally {
    proc.kill('SIGTERM');
  }
}

async function chromium() {
  const { launch } = await import(`${wasmJs}test/runtimes/chromium.mjs`);
  const { serve } = await import(`${wasmJs}test/runtimes/serve.mjs`);
  writeFileSync(`${out}page.js`, `
import { contenders, rounds, paths } from '../body.js';
window.__run = async (r, sizes) => {
  const data = await (await fetch('/fixtures.json')).json();
  const list = await contenders(data);
  const samples = await rounds(list, data.tokens, { rounds: r, ...sizes, clock: () => performance.now() });
  return { samples, paths: paths() };
};`);
  await build({ entryPoints: [`${out}page.js`], bundle: true, format: 'esm', platform: 'browser', outfile: `${out}chromium/page.js`, logLevel: 'warning' });
  const server = await serve({ '/fixtures.json': fixtures, '/': `${out}chromium/` },
    { '/index.html': '<!doctype html><script type="module" src="/page.js"></script>' });
  const browser = await launch();
  try {
    const tab = await browser.newPage();
    const errors = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(`${server.url}/index.html`);
    await tab.waitForFunction(() => window.__run !== undefined, null, { timeout: 30_000 }).catch((e) => {
      throw new Error(`${e.message} ${errors.join('; ')}`);
    });
    return await tab.evaluate(([r, s]) => window.__run(r, s), [ROUNDS, sizes]);
  } finally {
    await browser.close();
    await server.close();
  }
}

const results = [];
const skipped = [];
const versions = [];
const loads = [];
for (const rt of runtimes) {
  if (ONLY && !ONLY.some((o) => o.toLowerCase() === rt.name.toLowerCase())) continue;
  if (!existsSync(rt.file)) {
    const line = `${rt.name}: skipped, ${rt.file} not found (wasm-js/scripts/setup.sh installs it)`;
    console.log(line);
    skipped.push(line);
    continue;
  }
  const v = rt.version();
  versions.push(`${rt.name}: ${v}`);
  const load = uptime().replace(/.*load average: /, '');
  process.stderr.write(`${rt.name} (${v}): running, load ${load}\n`);
  const t = performance.now();
  try {
    results.push({ runtime: rt.name, ...(await rt.run()) });
    const secs = ((performance.now() - t) / 1000).toFixed(0);
    loads.push(`${rt.name} ${secs} s, load ${load}`);
    process.stderr.write(`${rt.name}: done in ${secs} s\n`);
  } catch (e) {
    const line = `${rt.name}: failed, ${e.message}`;
    console.log(line);
    skipped.push(line);
  }
}
const loadAfter = uptime();

// The table: ops/s is the median of the rounds, the range their min-max; the last column
// is jwtgate's best line for that runtime and workload divided by the row.
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const rows = ['| runtime | tokens | contender | ops/s (median) | rounds min–max | jwtgate best ÷ this |', '|---|---|---|---:|---:|---:|'];
const summary = [];
for (const { runtime, samples, paths, note } of results) {
  for (const w of WORKLOADS) {
    const med = Object.entries(samples[w]).map(([name, xs]) => ({ name, ops: median(xs), lo: Math.min(...xs), hi: Math.max(...xs) }));
    const best = (pred) => med.filter(pred).reduce((a, b) => (b.ops > a.ops ? b : a), { ops: 0 });
    const gate = best((m) => m.name.startsWith('jwtgate'));
    const isAlt = (m) => !m.name.startsWith('jwtgate') && !m.name.startsWith('bare');
    const alt = best(isAlt);
    for (const m of med) {
      rows.push(`| ${runtime} | ${w} | ${m.name} | ${fmt(m.ops)} | ${fmt(m.lo)}–${fmt(m.hi)} | ${(gate.ops / m.ops).toFixed(2)}x |`);
    }
    const line = (g, a) => `jwtgate best (${g.name}) ${fmt(g.ops)}/s vs best alternative (${a.name}) ${fmt(a.ops)}/s: **${(g.ops / a.ops).toFixed(2)}x**`;
    summary.push(`- ${runtime}, ${w}: ${line(gate, alt)}`);
    const minimal = med.find((m) => m.name.startsWith('bare crypto.verify +'));
    if (minimal && w === 'distinct') {
      summary.push(`  - ceiling: ${minimal.name} ${fmt(minimal.ops)}/s is ${(minimal.ops / alt.ops).toFixed(2)}x ${alt.name}; no verifier built on node:crypto gets further ahead`);
    }
    // Not every alternative has a cache: the same comparison with no cache on either side.
    if (w === 'repeated') {
      const uncached = (m) => !/cache/.test(m.name);
      summary.push(`- ${runtime}, ${w}, no cache on either side: ${line(best((m) => m.name.startsWith('jwtgate') && uncached(m)), best((m) => isAlt(m) && uncached(m)))}`);
    }
  }
  summary.push(`  - ${runtime}: jwtgate's RSA checks by path ${JSON.stringify(paths)} (host: node:crypto, subtle: crypto.subtle, the rest: the wasm engine)${note ? `; ${note}` : ''}`);
}
const table = rows.join('\n');
const command = `BENCH_N=${N} BENCH_ROUNDS=${ROUNDS} BENCH_REPEAT=${REPEAT} BENCH_REPEAT_CACHED=${CACHED_REPEAT}${ONLY ? ` BENCH_ONLY=${ONLY.join(',')}` : ''} bench/runtimes/run.sh   (make bench runs it with the defaults)`;
const doc = `# jwtgate against other RS256 verifiers, per runtime

Generated by \`bench/runtimes/run.mjs\`; rerun with \`make bench\` or \`bench/runtimes/run.sh\`.

- Command: \`${command}\`
- Date: ${started.toISOString()} (took ${((Date.now() - started) / 1000).toFixed(0)} s)
- Load before: \`${loadBefore}\`
- Load after: \`${loadAfter}\`
- Per runtime (time, load average 1/5/15 min at its start): ${loads.join('; ')}
- Versions: ${versions.join('; ')}
${skipped.map((s) => `- ${s}\n`).join('')}
Workload: ${N} distinct EKS-shaped RS256 tokens (RSA-2048, one key, ~1.1 KB each), made once in
Node and verified by every runtime; "distinct" runs all ${N} per batch (no cache can help),
"repeated" verifies the first token ${REPEAT} times per batch. ${ROUNDS} rounds, contenders
interleaved round-robin (each round starts one contender later), one warm-up batch each;
ops/s is the median over rounds of wall-clock verifications per second, one at a time
(\`await\` each for async APIs). workerd is timed from outside (one request per batch, minus
an empty request), since its clock stands still while code runs. Every contender checks
signature, \`iss\`, \`aud\` and \`exp\`, except the "bare" lines, floors not counted as
alternatives: "bare crypto.subtle.verify" and (Node, Bun) "bare crypto.verify", the signature
alone on inputs decoded in advance; and "bare crypto.verify + split, ...", the least a
verifier that returns claims does per token with node:crypto (no header checks), the ceiling
for any such verifier. Cached verifiers (\`cacheSize 1000\`, fast-jwt \`cache: true\`) only run the
repeated token, ${CACHED_REPEAT} times per batch (a hit is ~1 µs: longer batches keep timer
granularity and workerd's request time small). fast-jwt needs node:crypto, so it runs in
Node, Bun and Deno only.
jwtgate \`verify\` checks RSA in node:crypto in Node and Bun and in its wasm engine elsewhere;
\`verifyAsync\` uses crypto.subtle in workerd and Chromium, node:crypto in Node and Bun, the
wasm engine in Deno.

The machine was shared (other jobs compiling), so the numbers are noisy: compare rows of one
runtime measured in the same rounds rather than runs.

${table}

jwtgate against the best alternative (per runtime and workload):

${summary.join('\n')}
`;
console.log(`\n${table}\n\n${summary.join('\n')}\n\nload before: ${loadBefore}\nload after:  ${loadAfter}`);
writeFileSync(`${here}RESULTS.md`, doc);
console.log(`written to ${here}RESULTS.md`);
if (!results.length) process.exit(1);
