// Issue 15, item 2: can a cheaper node:crypto primitive, or less work around it, put
// jwtgate's `verify` clearly ahead of fast-jwt on distinct RS256 tokens? One process, the
// same EKS-shaped tokens as bench/runtimes (its fixtures.mjs), interleaved rounds, medians of
// wall time (tokens/s) and of CPU time (user+sys, us/token: steadier on a shared machine).
// Runs in Node and in Bun (`node_modules/.bin/bun bench/rsa-host.mjs`).
//
//   node bench/rsa-host.mjs [--rounds 9] [--n 2000] [--only word,word]
//
// The rows: the bare primitives on buffers ready in advance (crypto.verify; publicDecrypt
// with RSA_NO_PADDING, which returns s^e mod n, alone and with the SHA-256 and the
// comparison against the EMSA-PKCS1-v1_5 encoding it would need; createVerify), fast-jwt,
// and jwtgate's verify with the real host check and with variants of it swapped in
// (publicDecrypt, copies instead of views of wasm memory, createVerify, and no RSA at all:
// the cost of everything else).
//
// What it showed (2026-12-05, 2 shared cores at load 7-10, CPU us/token): Node 20.20 bare
// crypto.verify 24.1-26.8, publicDecrypt 21.4-22.5, publicDecrypt + crypto.hash + compare
// 24.2-25.7, createVerify 23.0-25.3, crypto.hash alone 1.4; fast-jwt 34.8-41.0; jwtgate
// 33.9-38.6, of which 7.5-8.6 without RSA. Bun 1.4.5: crypto.verify 17.4-18.2, publicDecrypt
// 16.6-17.1, fast-jwt 30.2-33.8, jwtgate 26.1-28.5 (6.4-6.6 without RSA). SHA-256 of the
// 832-byte signing input in wasm (the sha2 crate, unrolled; the package builds the slower
// compact rounds) costs 2.76 us: moving the RSA operation to publicDecrypt and the hash into
// the core saves nothing in Node (~3 us less RSA, ~3 us more hashing) and loses in Bun.
import { mkdirSync, readFileSync } from 'node:fs';
import { constants, createHash, createVerify, hash as oneShotHash, createPublicKey, publicDecrypt, verify as nodeVerify } from 'node:crypto';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { Verifier } from 'jwtgate';
import { setHostCrypto, hostCrypto } from '../js/host.js';

const args = process.argv.slice(2);
const arg = (name, d) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
const ROUNDS = arg('--rounds', 9);
const N = arg('--n', 2000);
mkdirSync(new URL('.out/', import.meta.url), { recursive: true });
const fixtures = new URL('.out/rsa-host-fixtures.json', import.meta.url).pathname;
execFileSync(process.execPath, [new URL('../../bench/runtimes/fixtures.mjs', import.meta.url).pathname, fixtures, String(N)]);
const data = JSON.parse(readFileSync(fixtures, 'utf8'));
const fastJwt = createRequire(import.meta.url)('fast-jwt');
const { issuer, audience, jwks, pem, tokens } = data;

const key = createPublicKey(pem);
const parts = tokens.map((t) => {
  const dot = t.lastIndexOf('.');
  return { input: Buffer.from(t.slice(0, dot)), sig: Buffer.from(t.slice(dot + 1), 'base64url') };
});
const raw = { key, padding: constants.RSA_NO_PADDING };
const prefix = Buffer.from('3031300d060960864801650304020105000420', 'hex');
const em = Buffer.alloc(256, 0xff);
em[0] = 0; em[1] = 1; em[256 - 52] = 0; prefix.copy(em, 256 - 51);

const fast = fastJwt.createVerifier({ key: pem, algorithms: ['RS256'], allowedIss: issuer, allowedAud: audience });
const policy = { jwks, issuer, audience };
const gate = new Verifier(policy);
// The same verifier with a host check by publicDecrypt, hashing and comparing in JS.
const nodeHost = hostCrypto;
setHostCrypto((spki, alg, input, signature, cache, keyId) => {
  if (alg !== 0) return nodeHost(spki, alg, input, signature, cache, keyId);
  let entry = cache.get(keyId);
  if (entry === undefined) cache.set(keyId, (entry = { key: createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }) }));
  const r = publicDecrypt({ key: entry.key, padding: constants.RSA_NO_PADDING }, signature);
  createHash('sha256').update(input).digest().copy(em, 256 - 32);
  return r.equals(em);
});
const gateDecrypt = new Verifier(policy);
// Everything but the RSA operation: a host that says yes without checking (the tokens are
// valid), and one that also looks its key up as the real one does.
setHostCrypto(() => true);
const gateNoRsa = new Verifier(policy);
setHostCrypto((spki, alg, input, signature, cache, keyId) => {
  let entry = cache.get(keyId);
  if (entry === undefined || !entry.spki.equals(spki)) cache.set(keyId, (entry = { spki: Buffer.from(spki) }));
  return input.length > 0 && signature.length === 256;
});
const gateNoRsaKey = new Verifier(policy);
// The real check on copies of the input and signature instead of views of wasm memory.
setHostCrypto((spki, alg, input, signature, cache, keyId) => nodeHost(spki, alg, Buffer.from(input), Buffer.from(signature), cache, keyId));
const gateCopies = new Verifier(policy);
// createVerify().update().verify() instead of the one-shot crypto.verify.
setHostCrypto((spki, alg, input, signature, cache, keyId) => {
  if (alg !== 0) return nodeHost(spki, alg, input, signature, cache, keyId);
  let entry = cache.get(keyId);
  if (entry === undefined || !entry.spki.equals(spki)) {
    const der = Buffer.from(spki);
    cache.set(keyId, (entry = { spki: der, key: createPublicKey({ key: der, format: 'der', type: 'spki' }) }));
  }
  return createVerify('sha256').update(input).verify(entry.key, signature);
});
const gateStream = new Verifier(policy);
setHostCrypto(nodeHost);

const cases = {
  'bare crypto.verify (buffers ready)': (i) => nodeVerify('sha256', parts[i].input, key, parts[i].sig),
  'bare publicDecrypt NO_PADDING (buffers ready)': (i) => publicDecrypt(raw, parts[i].sig).length === 256,
  'publicDecrypt + createHash + compare': (i) => {
    const r = publicDecrypt(raw, parts[i].sig);
    createHash('sha256').update(parts[i].input).digest().copy(em, 256 - 32);
    return r.equals(em);
  },
  'publicDecrypt + crypto.hash + compare': (i) => {
    const r = publicDecrypt(raw, parts[i].sig);
    oneShotHash('sha256', parts[i].input, 'buffer').copy(em, 256 - 32);
    return r.equals(em);
  },
  'createVerify().update().verify(key)': (i) => createVerify('sha256').update(parts[i].input).verify(key, parts[i].sig),
  'crypto.hash alone': (i) => oneShotHash('sha256', parts[i].input, 'buffer').length === 32,
  'fast-jwt': (i) => fast(tokens[i]),
  'jwtgate verify': (i) => gate.verify(tokens[i]),
  'jwtgate verify, host publicDecrypt (JS hash)': (i) => gateDecrypt.verify(tokens[i]),
  'jwtgate verify, host on copies': (i) => gateCopies.verify(tokens[i]),
  'jwtgate verify, host createVerify': (i) => gateStream.verify(tokens[i]),
  'jwtgate verify, host without RSA (() => true)': (i) => gateNoRsa.verify(tokens[i]),
  'jwtgate verify, host without RSA (key lookup)': (i) => gateNoRsaKey.verify(tokens[i]),
};
// --only a,b: the cases whose names contain one of these words (fast-jwt always runs).
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : undefined;
if (only) for (const k of Object.keys(cases)) if (k !== 'fast-jwt' && !only.some((w) => k.includes(w))) delete cases[k];
const res = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
const cpu = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (const f of Object.values(cases)) for (let i = 0; i < N; i++) if (!f(i)) throw new Error('refused');
for (let r = 0; r < ROUNDS; r++) {
  for (const [k, f] of Object.entries(cases)) {
    const t = performance.now();
    const c = process.cpuUsage();
    for (let i = 0; i < N; i++) f(i);
    const u = process.cpuUsage(c);
    res[k].push(N / ((performance.now() - t) / 1000));
    cpu[k].push((u.user + u.system) / N);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runtime = typeof Bun !== 'undefined' ? `Bun ${Bun.version}` : `Node ${process.version}`;
console.log(`${runtime}, ${tokens[0].length}-byte RS256 tokens, median of ${ROUNDS} interleaved rounds of ${N}`);
const base = median(res['fast-jwt']);
const baseCpu = median(cpu['fast-jwt']);
console.log('wall: tokens/s, ratio to fast-jwt | CPU time (user+sys): us/token, fast-jwt\'s over it');
for (const [k, v] of Object.entries(res)) {
  const c = median(cpu[k]);
  console.log(`${String(Math.round(median(v))).padStart(7)}/s ${(median(v) / base).toFixed(2)}x | ${c.toFixed(1).padStart(6)} us ${(baseCpu / c).toFixed(2)}x  ${k}`);
}
