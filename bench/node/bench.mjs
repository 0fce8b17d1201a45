// RS256 verification in Node's V8: jwtgate (wasm) vs crypto.verify, crypto.subtle.verify
// and jose jwtVerify, on the same RSA-2048 token. Prints one markdown table.
//
//   node bench/node/bench.mjs path/to/a.wasm[=label] [more.wasm[=label] ...]
//
// Each figure is the median of several timed windows (verifications/s). By default a window
// is measured in process CPU time (all threads, so WebCrypto's worker threads count too):
// on a shared, noisy machine that is far more repeatable than wall time, and on a quiet one
// the two agree. BENCH_CLOCK=wall measures wall time instead.
// Environment: BENCH_BITS (default 2048), BENCH_WINDOW_MS (default 300), BENCH_RUNS (default 7),
// BENCH_CLOCK (cpu|wall), BENCH_SKIP_JS=1 to time only the wasm modules.
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { jwtVerify, createLocalJWKSet } from 'jose';

const BITS = Number(process.env.BENCH_BITS ?? 2048);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 300);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const CLOCK = process.env.BENCH_CLOCK ?? 'cpu';
const SKIP_JS = process.env.BENCH_SKIP_JS === '1';

// Nanoseconds on the chosen clock.
const clock = CLOCK === 'wall'
  ? () => process.hrtime.bigint()
  : () => { const u = process.cpuUsage(); return BigInt(u.user + u.system) * 1000n; };

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// One timed window of `f` (awaited one call at a time when async, as a request handler
// uses it): calls per second on the chosen clock.
async function window(f, isAsync) {
  const start = clock();
  const end = start + BigInt(WINDOW_MS) * 1_000_000n;
  let n = 0, now = start;
  while (now < end) {
    if (isAsync) for (let i = 0; i < 8; i++) await f();
    else for (let i = 0; i < 8; i++) f();
    n += 8;
    now = clock();
  }
  return n / (Number(now - start) / 1e9);
}

// Contenders are timed round-robin, one window each per round, and each figure is the
// median of its rounds: a load swing on the shared machine then hits every contender
// alike instead of skewing the ratios between them.
const contenders = [];
const add = (what, f, isAsync = false) => contenders.push({ what, f, isAsync, rates: [] });

const b64u = (buf) => Buffer.from(buf).toString('base64url');

// A token shaped like an EKS projected service-account token (~900 bytes).
const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: BITS, publicExponent: 65537 });
const jwk = publicKey.export({ format: 'jwk' });
const ISS = 'https://oidc.eks.us-west-2.amazonaws.com/id/B8A3E1C9D2F04A6E8B7C5D3E1F2A4B6C';
const AUD = 'sts.amazonaws.com';
const NOW = 1_700_000_100;
const header = { alg: 'RS256', kid: 'bench-key', typ: 'JWT' };
const payload = {
  aud: [AUD], exp: 4102444800, iat: 1700000000, iss: ISS,
  'kubernetes.io': {
    namespace: 'payments',
    pod: { name: 'api-7d9c8b6f5-x2x4z', uid: '5d2f7c1e-8a4b-4c3d-9e6f-1a2b3c4d5e6f' },
    serviceaccount: { name: 'payments-api', uid: '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a' },
    warnafter: 1700003607,
  },
  nbf: 1700000000, sub: 'system:serviceaccount:payments:payments-api',
};
const signingInput = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
const data = Buffer.from(signingInput);
const sig = crypto.sign('RSA-SHA256', data, privateKey);
const token = `${signingInput}.${b64u(sig)}`;
const digest = crypto.createHash('sha256').update(data).digest();
const jwks = { keys: [{ ...jwk, kid: 'bench-key', use: 'sig', alg: 'RS256' }] };
const policy = { issuers: ISS, audiences: [AUD] };


if (!SKIP_JS) {
  add('Node `crypto.verify` (bare signature)', () => crypto.verify('RSA-SHA256', data, publicKey, sig));
  const cryptoKey = await crypto.subtle.importKey('jwk', jwk, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
  add('WebCrypto `crypto.subtle.verify` (bare signature)', () => crypto.subtle.verify('RSASSA-PKCS1-v1_5', cryptoKey, sig, data), true);
  const jwkSet = createLocalJWKSet(jwks);
  const joseNow = new Date(NOW * 1000);
  add('jose `jwtVerify` + `createLocalJWKSet` (full JWT)', async () => {
    const { payload: p } = await jwtVerify(token, jwkSet, { issuer: ISS, audience: AUD, algorithms: ['RS256'], currentDate: joseNow });
    return p.sub !== undefined;
  }, true);
}

const wasmArgs = process.argv.slice(2);
if (wasmArgs.length === 0) {
  console.error('usage: node bench.mjs file.wasm[=label] ...');
  process.exit(2);
}
for (const arg of wasmArgs) {
  const [file, label = file.split('/').pop()] = arg.split('=');
  const { instance } = await WebAssembly.instantiate(readFileSync(file), {});
  const x = instance.exports;
  const put = (bytes) => {
    const ptr = x.buf_alloc(bytes.length);
    new Uint8Array(x.memory.buffer, ptr, bytes.length).set(bytes);
    return [ptr, bytes.length];
  };
  const [nP, nL] = put(Buffer.from(jwk.n, 'base64url'));
  const [eP, eL] = put(Buffer.from(jwk.e, 'base64url'));
  const key = x.key_new(nP, nL, eP, eL);
  if (key < 0) throw new Error('key refused');
  const [dP, dL] = put(digest);
  const [sP, sL] = put(sig);
  const [jP, jL] = put(Buffer.from(JSON.stringify(jwks)));
  const [pP, pL] = put(Buffer.from(JSON.stringify(policy)));
  if (x.jwt_setup(jP, jL, pP, pL) !== 1) throw new Error('jwt_setup failed');
  const [tP, tL] = put(Buffer.from(token));
  const now = BigInt(NOW);
  add(`jwtgate wasm, bare RSA verify (${label})`, () => x.rsa_verify(key, dP, dL, sP, sL));
  add(`jwtgate wasm, \`Verifier::verify\` full JWT (${label})`, () => x.jwt_verify(tP, tL, now));
  if (x.jwt_verify_no_rsa) add(`jwtgate wasm, full JWT without the signature check (${label})`, () => x.jwt_verify_no_rsa(tP, tL, now));
  const [hP, hL] = put(data);
  if (x.sha256_only) add(`jwtgate wasm, SHA-256 of the signing input only (${label})`, () => x.sha256_only(hP, hL));
}

for (const c of contenders) {
  if (!(c.isAsync ? await c.f() : c.f())) throw new Error(`benchmarked call failed: ${c.what}`);
}
for (let r = 0; r < RUNS; r++) {
  for (const c of contenders) c.rates.push(await window(c.f, c.isAsync));
}
const rows = contenders.map(({ what, rates }) => ({ what, r: median(rates) }));

const by = (prefix) => rows.find((r) => r.what.startsWith(prefix))?.r;
const subtle = by('WebCrypto');
const jose = by('jose');
console.log(`RSA-${BITS}, Node ${process.version}, token ${token.length} bytes, median of ${RUNS} interleaved rounds of ${WINDOW_MS} ms of ${CLOCK} time\n`);
console.log('| what | verifications/s | vs crypto.subtle | vs jose |');
console.log('|---|---:|---:|---:|');
for (const { what, r } of rows) {
  const ratio = (base) => (base ? `${(r / base).toFixed(2)}x` : 'n/a');
  console.log(`| ${what} | ${Math.round(r)} | ${ratio(subtle)} | ${ratio(jose)} |`);
}
