// Side-by-side RS256 verification in Node: jwtgate (wasm) against jose, fast-jwt,
// jsonwebtoken and bare signature checks, on the same RSA-2048 tokens shaped like an EKS
// service-account token (~900 bytes). Two workloads: distinct tokens (no cache can help)
// and one repeated token. Throughput is per CPU-second of this process (process.cpuUsage,
// all threads, so WebCrypto's thread pool counts too): on a shared machine wall time
// mostly measures the neighbours, and CPU time is also what edge platforms bill and limit.
// Rounds are interleaved and the median is reported. Prints a markdown table plus the
// package sizes.
//
//   node bench/bench.mjs [--seconds 1.5] [--rounds 3] [--json out.json]
import { generateKeyPairSync, sign, createPublicKey, verify as nodeVerify, webcrypto } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { Verifier } from 'jwtgate';
import { hostRsa, setHostRsa } from '../js/host.js';
import { jwtVerify, createLocalJWKSet } from 'jose';
import { createVerifier } from 'fast-jwt';
import jsonwebtoken from 'jsonwebtoken';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const SECONDS = Number(opt('seconds', 1.5));
const ROUNDS = Number(opt('rounds', 3));
const DISTINCT = 2000;

const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/5C3A8F1B2D4E6F7A8B9C0D1E2F3A4B5C';
const AUDIENCE = 'sts.amazonaws.com';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'bench', alg: 'RS256', use: 'sig' };
const jwks = { keys: [jwk] };
const pem = publicKey.export({ type: 'spki', format: 'pem' });
const now = Math.floor(Date.now() / 1000);

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
function token(i) {
  const header = { alg: 'RS256', kid: 'bench' };
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
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}
const tokens = Array.from({ length: DISTINCT }, (_, i) => token(i));
const one = tokens[0];

// Contenders: each is (token) => result, sync or async. All check signature, issuer,
// audience and expiry except the bare-signature lines, which only verify the RSA signature.
const policy = { issuer: ISSUER, audience: AUDIENCE };
const gate = new Verifier({ jwks, ...policy });
const gateCached = new Verifier({ jwks, ...policy, cacheSize: 1000 });
// What Deno, workerd and browsers run: the RSA check in the wasm engine, not node:crypto.
setHostRsa(undefined);
const gateWasm = new Verifier({ jwks, ...policy });
setHostRsa(hostRsa);
const joseKeys = createLocalJWKSet(jwks);
const fast = createVerifier({ key: pem, algorithms: ['RS256'], allowedIss: ISSUER, allowedAud: AUDIENCE });
const fastCached = createVerifier({ key: pem, algorithms: ['RS256'], allowedIss: ISSUER, allowedAud: AUDIENCE, cache: true });
const keyObject = createPublicKey(pem);
const subtleKey = await webcrypto.subtle.importKey('jwk', jwk, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
const parts = new Map(tokens.map((t) => {
  const dot = t.lastIndexOf('.');
  return [t, { input: Buffer.from(t.slice(0, dot)), sig: Buffer.from(t.slice(dot + 1), 'base64url') }];
}));

const contenders = [
  { name: 'jwtgate `verify` (no cache; RSA in node:crypto)', run: (t) => gate.verify(t) },
  { name: 'jwtgate `verify` (cacheSize 1000)', run: (t) => gateCached.verify(t) },
  { name: 'jwtgate `verify` (no cache; RSA in the wasm engine)', run: (t) => gateWasm.verify(t) },
  { name: 'jose `jwtVerify` + `createLocalJWKSet`', run: (t) => jwtVerify(t, joseKeys, policy), async: true },
  { name: 'fast-jwt (no cache)', run: (t) => fast(t) },
  { name: 'fast-jwt (cache: true)', run: (t) => fastCached(t) },
  { name: 'jsonwebtoken `verify`', run: (t) => jsonwebtoken.verify(t, pem, { algorithms: ['RS256'], ...policy }) },
  { name: 'bare `crypto.subtle.verify` (signature only)', async: true,
    run: (t) => { const p = parts.get(t); return webcrypto.subtle.verify('RSASSA-PKCS1-v1_5', subtleKey, p.sig, p.input); } },
  { name: 'bare `crypto.verify` (signature only)',
    run: (t) => { const p = parts.get(t); return nodeVerify('sha256', p.input, keyObject, p.sig); } },
];

// Sanity: every contender accepts the tokens, so nobody is timed on a fast rejection.
for (const c of contenders) {
  const r = await c.run(one);
  if (r === false) throw new Error(`${c.name} rejected the benchmark token`);
}

const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

async function measure(c, pick) {
  const deadline = performance.now() + SECONDS * 1000;
  let n = 0;
  const start = cpuSeconds();
  if (c.async) {
    while (performance.now() < deadline) {
      for (let k = 0; k < 16; k++) await c.run(pick(n++));
    }
  } else {
    while (performance.now() < deadline) {
      for (let k = 0; k < 16; k++) c.run(pick(n++));
    }
  }
  return n / (cpuSeconds() - start);
}

const workloads = {
  distinct: (i) => tokens[i % DISTINCT],
  repeated: () => one,
};
const samples = new Map(contenders.map((c) => [c.name, { distinct: [], repeated: [] }]));
for (const c of contenders) await measure(c, workloads.distinct); // warm-up (JIT, caches)
for (let round = 0; round < ROUNDS; round++) {
  for (const [w, pick] of Object.entries(workloads)) {
    for (const c of contenders) samples.get(c.name)[w].push(await measure(c, pick));
  }
  process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const result = {};
for (const [name, s] of samples) result[name] = { distinct: median(s.distinct), repeated: median(s.repeated) };
const jose = result['jose `jwtVerify` + `createLocalJWKSet`'];
const fastC = result['fast-jwt (cache: true)'];
const subtle = result['bare `crypto.subtle.verify` (signature only)'];
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;

console.log(`\nRS256, RSA-2048, ${tokens[0].length}-byte token, Node ${process.version}, ${SECONDS}s x ${ROUNDS} rounds, median verifications per CPU-second\n`);
console.log('| contender | distinct tokens | vs jose | repeated token | vs fast-jwt cached |');
console.log('|---|---:|---:|---:|---:|');
for (const [name, r] of Object.entries(result)) {
  console.log(`| ${name} | ${fmt(r.distinct)} | ${ratio(r.distinct, jose.distinct)} | ${fmt(r.repeated)} | ${ratio(r.repeated, fastC.repeated)} |`);
}
const g = result['jwtgate `verify` (no cache; RSA in node:crypto)'];
const gc = result['jwtgate `verify` (cacheSize 1000)'];
const gw = result['jwtgate `verify` (no cache; RSA in the wasm engine)'];
console.log(`\nTargets (issue 6): distinct >= 3x jose: ${ratio(g.distinct, jose.distinct)} (wasm engine: ${ratio(gw.distinct, jose.distinct)}); repeated with cache >= 2x fast-jwt cached: ${ratio(gc.repeated, fastC.repeated)}; vs bare crypto.subtle.verify: ${ratio(g.distinct, subtle.distinct)} (wasm engine: ${ratio(gw.distinct, subtle.distinct)})`);

const pkg = new URL('../pkg/', import.meta.url);
const js = new URL('../js/', import.meta.url);
const size = (u) => { const b = readFileSync(u); return { raw: b.length, gzip: gzipSync(b, { level: 9 }).length }; };
const wasm = size(new URL('jwtgate_bg.wasm', pkg));
const glueFiles = [new URL('jwtgate.js', pkg), new URL('api.js', js), new URL('node.js', js)];
const glue = glueFiles.map(size).reduce((a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip }));
const inline = size(new URL('jwtgate_wasm_inline.js', pkg));
console.log('\n| package part | raw bytes | gzip -9 bytes |');
console.log('|---|---:|---:|');
console.log(`| wasm (pkg/jwtgate_bg.wasm) | ${fmt(wasm.raw)} | ${fmt(wasm.gzip)} |`);
console.log(`| JS glue (pkg/jwtgate.js + js/api.js + a loader) | ${fmt(glue.raw)} | ${fmt(glue.gzip)} |`);
console.log(`| browser inline wasm (pkg/jwtgate_wasm_inline.js) | ${fmt(inline.raw)} | ${fmt(inline.gzip)} |`);

const out = opt('json');
if (out) writeFileSync(out, JSON.stringify({ result, sizes: { wasm, glue, inline } }, null, 2));
