// verifyAsync (RSA in crypto.subtle) against verify (the wasm engine) and jose, in the same
// process, in workerd and headless Chromium: 2,000 distinct EKS-shaped RS256 tokens
// (RSA-2048), contenders interleaved round by round, median of the rounds. In workerd the
// clock stands still while code runs, so each batch is one request timed from outside
// (minus an empty request's time); Chromium times itself (performance.now).
//
//   node bench/webcrypto.mjs [--rounds 7] [--only workerd|chromium]
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const arg = (name, dflt) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : dflt);
const ROUNDS = Number(arg('rounds', 7));
const ONLY = arg('only', undefined);
const root = fileURLToPath(new URL('../', import.meta.url));
const out = `${root}bench/.out/`;
mkdirSync(out, { recursive: true });

// The tokens, shaped like bench.mjs's.
const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/5C3A8F1B2D4E6F7A8B9C0D1E2F3A4B5C';
const AUDIENCE = 'sts.amazonaws.com';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'bench', alg: 'RS256', use: 'sig' };
const now = Math.floor(Date.now() / 1000);
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const tokens = Array.from({ length: 2000 }, (_, i) => {
  const payload = {
    aud: [AUDIENCE], exp: now + 86400, iat: now - i % 600, nbf: now - i % 600, iss: ISSUER,
    jti: `6f1e2d3c-${String(i).padStart(4, '0')}-4b5a-9c8d-7e6f5a4b3c2d`,
    'kubernetes.io': {
      namespace: 'payments',
      node: { name: 'ip-10-0-12-34.eu-west-1.compute.internal', uid: '8f0c1d2e-3a4b-5c6d-7e8f-9a0b1c2d3e4f' },
      pod: { name: `api-7d9f8b6c5-${(i * 7919).toString(36).padStart(5, 'x')}`, uid: '1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d' },
      serviceaccount: { name: 'api', uid: '0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b' },
      warnafter: now + 3600,
    },
    sub: 'system:serviceaccount:payments:api',
  };
  const input = `${b64({ alg: 'RS256', kid: 'bench' })}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
});
writeFileSync(`${out}data.json`, JSON.stringify({ jwks: { keys: [jwk] }, tokens, issuer: ISSUER, audience: AUDIENCE }));

// The contenders, runtime-neutral: each runs one batch of `n` tokens from `start`.
writeFileSync(`${out}contenders.js`, `
import { Verifier } from 'jwtgate';
import { jwtVerify, createLocalJWKSet } from 'jose';
import { Core } from '../../pkg/jwtgate.js';
import data from './data.json';
const policy = { issuer: data.issuer, audience: data.audience };
const gate = new Verifier({ jwks: data.jwks, ...policy });
const joseKeys = createLocalJWKSet(data.jwks);
const paths = Verifier[Symbol.for('jwtgate.paths')];
// The parts of verifyAsync: the bare WebCrypto check (inputs ready), the same decoding
// the inputs from each token, and the core's steps without RSA (plus JSON.parse).
const core = new Core(JSON.stringify({ issuers: [data.issuer], audiences: [data.audience] }), 0);
core.set_jwks(JSON.stringify(data.jwks));
const subtleKey = crypto.subtle.importKey('jwk', data.jwks.keys[0], { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
const enc = new TextEncoder();
const sigOf = (t) => {
  const s = t.slice(t.lastIndexOf('.') + 1);
  if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(s, { alphabet: 'base64url' });
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
};
const parts = data.tokens.map((t) => ({ input: enc.encode(t.slice(0, t.lastIndexOf('.'))), sig: sigOf(t) }));
export const contenders = {
  none: async () => {},
  'jwtgate verifyAsync (crypto.subtle)': async (s, n) => { for (let i = 0; i < n; i++) await gate.verifyAsync(data.tokens[(s + i) % 2000]); },
  'jwtgate verify (wasm engine)': async (s, n) => { for (let i = 0; i < n; i++) gate.verify(data.tokens[(s + i) % 2000]); },
  'bare crypto.subtle.verify (inputs ready)': async (s, n) => {
    const key = await subtleKey;
    for (let i = 0; i < n; i++) { const p = parts[(s + i) % 2000]; await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, p.sig, p.input); }
  },
  'crypto.subtle.verify + inputs from the token': async (s, n) => {
    const key = await subtleKey;
    for (let i = 0; i < n; i++) {
      const t = data.tokens[(s + i) % 2000];
      await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, sigOf(t), enc.encode(t.slice(0, t.lastIndexOf('.'))));
    }
  },
  'core prepare + finish, no RSA (+ JSON.parse)': async (s, n) => {
    for (let i = 0; i < n; i++) { const p = core.prepare(data.tokens[(s + i) % 2000], ${now}); p.info(); JSON.parse(core.finish(p, 1, ${now})); }
  },
  'jose jwtVerify': async (s, n) => { for (let i = 0; i < n; i++) await jwtVerify(data.tokens[(s + i) % 2000], joseKeys, policy); },
};
export { paths };
`);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const report = (runtime, perToken) => {
  const jose = perToken['jose jwtVerify'];
  console.log(`\n${runtime}: median of ${ROUNDS} interleaved rounds, verifications per second (wall), load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log('| contender | per second | vs jose |');
  console.log('|---|---:|---:|');
  for (const [name, us] of Object.entries(perToken)) {
    if (name === 'none') continue;
    console.log(`| ${name} | ${Math.round(1e6 / us).toLocaleString('en-US')} | ${(jose / us).toFixed(2)}x |`);
  }
};
const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

async function workerd() {
  writeFileSync(`${out}worker.js`, `
import { contenders, paths } from './contenders.js';
export default {
  async fetch(request) {
    const u = new URL(request.url);
    if (u.pathname === '/paths') return Response.json(paths());
    if (u.pathname === '/names') return Response.json(Object.keys(contenders).filter((n) => n !== 'none'));
    await contenders[u.searchParams.get('c')](Number(u.searchParams.get('s')), Number(u.searchParams.get('n')));
    return new Response('ok');
  },
};`);
  await build({
    entryPoints: [`${out}worker.js`], bundle: true, format: 'esm', outfile: `${out}workerd/worker.js`,
    conditions: ['workerd', 'worker', 'browser'], loader: { '.wasm': 'copy' }, assetNames: '[name]', logLevel: 'warning',
  });
  const port = await freePort();
  writeFileSync(`${out}workerd/config.capnp`, `using Workerd = import "/workerd/workerd.capnp";
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
  const child = spawn(`${root}node_modules/.bin/workerd`, ['serve', `${out}workerd/config.capnp`], { stdio: ['ignore', 'inherit', 'inherit'] });
  try {
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try {
        await (await fetch(`${url}/?c=none&s=0&n=0`)).text();
        break;
      } catch (e) {
        if (i > 150) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const names = ['none', ...(await (await fetch(`${url}/names`)).json())];
    const N = 2000;
    const samples = Object.fromEntries(names.map((n) => [n, []]));
    const batch = async (c, s) => {
      const t = performance.now();
      await (await fetch(`${url}/?c=${encodeURIComponent(c)}&s=${s}&n=${c === 'none' ? 0 : N}`)).text();
      return performance.now() - t;
    };
    for (const c of names) await batch(c, 0); // warm-up
    for (let r = 0; r < ROUNDS; r++) for (const c of names) samples[c].push(await batch(c, r * 97));
    const empty = median(samples.none);
    const perToken = Object.fromEntries(names.map((c) => [c, ((median(samples[c]) - empty) * 1000) / N]));
    report('workerd', perToken);
    console.log('signature paths taken:', JSON.stringify(await (await fetch(`${url}/paths`)).json()));
  } finally {
    child.kill('SIGTERM');
  }
}

async function chromium() {
  const { launch } = await import('../test/runtimes/chromium.mjs');
  const { serve } = await import('../test/runtimes/serve.mjs');
  writeFileSync(`${out}page.js`, `
import { contenders, paths } from './contenders.js';
window.__run = async (rounds) => {
  const names = Object.keys(contenders).filter((n) => n !== 'none');
  const N = 2000;
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (const c of names) await contenders[c](0, 200);
  for (let r = 0; r < rounds; r++) for (const c of names) {
    const t = performance.now();
    await contenders[c](r * 97, N);
    samples[c].push(((performance.now() - t) * 1000) / N);
  }
  return { samples, paths: paths() };
};`);
  await build({ entryPoints: [`${out}page.js`], bundle: true, format: 'esm', platform: 'browser', outfile: `${out}chromium/page.js`, logLevel: 'warning' });
  const server = await serve({ '/': `${out}chromium/` }, { '/index.html': '<!doctype html><script type="module" src="/page.js"></script>' });
  const browser = await launch();
  try {
    const tab = await browser.newPage();
    await tab.goto(`${server.url}/index.html`);
    await tab.waitForFunction(() => window.__run !== undefined);
    const { samples, paths } = await tab.evaluate((r) => window.__run(r), ROUNDS);
    report('Chromium', Object.fromEntries(Object.entries(samples).map(([c, xs]) => [c, median(xs)])));
    console.log('signature paths taken:', JSON.stringify(paths));
  } finally {
    await browser.close();
    await server.close();
  }
}

if (ONLY !== 'chromium') await workerd();
if (ONLY !== 'workerd') await chromium();
