// Each algorithm beyond RS256 in Node, distinct tokens (no cache can help): jwtgate's
// verify with the signature in node:crypto (the default in Node), jwtgate with the wasm
// engine (no host check; what Deno, and `verify` in workerd and browsers, run), jose's
// jwtVerify with the same key type, and a bare `crypto.subtle.verify` of the signature
// alone (inputs decoded in advance: the floor of any WebCrypto-based verifier), and a bare
// node:crypto `verify` the same way (the ceiling for anything that uses it, jwtgate too). Throughput per
// CPU-second of this process (process.cpuUsage), rounds interleaved, the median reported.
// Algorithms the package was built without are skipped (the npm package has them all).
//
//   node bench/algs.mjs [--seconds 1] [--rounds 3]
import { constants, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { Verifier } from 'jwtgate';
import { Core } from '../pkg/jwtgate.js';
import { hostCrypto, setHostCrypto } from '../js/host.js';
import { jwtVerify, importJWK } from 'jose';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const SECONDS = opt('seconds', 1);
const ROUNDS = opt('rounds', 3);
const DISTINCT = 2000;
const ISSUER = 'https://idp.bench';
const AUDIENCE = 'api://bench';
const now = Math.floor(Date.now() / 1000);
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

// WebCrypto's names for each algorithm: import parameters, then verify parameters.
const SUBTLE = {
  RS256: [{ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, { name: 'RSASSA-PKCS1-v1_5' }],
  PS256: [{ name: 'RSA-PSS', hash: 'SHA-256' }, { name: 'RSA-PSS', saltLength: 32 }],
  ES256: [{ name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: 'SHA-256' }],
  ES384: [{ name: 'ECDSA', namedCurve: 'P-384' }, { name: 'ECDSA', hash: 'SHA-384' }],
  EdDSA: [{ name: 'Ed25519' }, { name: 'Ed25519' }],
};

const SPECS = {
  RS256: ['rsa', { modulusLength: 2048 }, 'sha256'],
  PS256: ['rsa', { modulusLength: 2048 }, 'sha256'],
  ES256: ['ec', { namedCurve: 'P-256' }, 'sha256'],
  ES384: ['ec', { namedCurve: 'P-384' }, 'sha384'],
  EdDSA: ['ed25519', {}, null],
};

const builtIn = (alg) => {
  try {
    new Core(JSON.stringify({ algorithms: [alg] }), 0).free();
    return true;
  } catch {
    return false;
  }
};

function cpuRate(fn, list) {
  let i = 0;
  let n = 0;
  const start = process.cpuUsage();
  const limit = SECONDS * 1e6;
  let used = 0;
  while (used < limit) {
    for (let k = 0; k < 50; k++) {
      fn(list[i]);
      i = (i + 1) % list.length;
      n++;
    }
    const u = process.cpuUsage(start);
    used = u.user + u.system;
  }
  return n / (used / 1e6);
}

async function cpuRateAsync(fn, list) {
  let i = 0;
  let n = 0;
  const start = process.cpuUsage();
  const limit = SECONDS * 1e6;
  let used = 0;
  while (used < limit) {
    for (let k = 0; k < 50; k++) {
      await fn(list[i]);
      i = (i + 1) % list.length;
      n++;
    }
    const u = process.cpuUsage(start);
    used = u.user + u.system;
  }
  return n / (used / 1e6);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const native = hostCrypto;
const rows = [];
for (const [alg, [type, opts, hash]] of Object.entries(SPECS)) {
  if (!builtIn(alg)) {
    console.error(`# ${alg}: not built into this package, skipped`);
    continue;
  }
  const { privateKey, publicKey } = generateKeyPairSync(type, opts);
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'bench', alg, use: 'sig' };
  const key = alg.startsWith('PS')
    ? { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
    : alg.startsWith('ES') ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey;
  const tokens = Array.from({ length: DISTINCT }, (_, i) => {
    const input = `${b64({ alg, kid: 'bench', typ: 'JWT' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: `user-${i}`, iat: now, exp: now + 3600 })}`;
    return `${input}.${sign(hash, Buffer.from(input), key).toString('base64url')}`;
  });
  const policy = { jwks: { keys: [jwk] }, issuer: ISSUER, audience: AUDIENCE, algorithms: [alg] };
  setHostCrypto(native);
  const viaNode = new Verifier(policy);
  setHostCrypto(undefined);
  const viaWasm = new Verifier(policy);
  setHostCrypto(native);
  const joseKey = await importJWK(jwk, alg);
  const joseOpts = { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg] };
  for (const t of tokens.slice(0, 3)) {
    viaNode.verify(t);
    viaWasm.verify(t);
    await jwtVerify(t, joseKey, joseOpts);
  }
  const { alg: _alg, kid: _kid, use: _use, ...bareJwk } = jwk;
  const [importParams, verifyParams] = SUBTLE[alg];
  const subtleKey = await crypto.subtle.importKey('jwk', bareJwk, importParams, false, ['verify']);
  const decoded = tokens.map((t) => {
    const dot = t.lastIndexOf('.');
    return [Buffer.from(t.slice(dot + 1), 'base64url'), Buffer.from(t.slice(0, dot))];
  });
  if (!(await crypto.subtle.verify(verifyParams, subtleKey, ...decoded[0]))) throw new Error(`${alg}: subtle refused`);
  const nodeKey = createPublicKey({ key: bareJwk, format: 'jwk' });
  const nodeVerifyKey = alg.startsWith('PS')
    ? { key: nodeKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
    : alg.startsWith('ES') ? { key: nodeKey, dsaEncoding: 'ieee-p1363' } : nodeKey;
  if (!verify(hash, decoded[0][1], nodeVerifyKey, decoded[0][0])) throw new Error(`${alg}: node:crypto refused`);
  const r = { node: [], wasm: [], jose: [], subtle: [], bare: [] };
  for (let round = 0; round < ROUNDS; round++) {
    r.node.push(cpuRate((t) => viaNode.verify(t), tokens));
    r.wasm.push(cpuRate((t) => viaWasm.verify(t), tokens));
    r.jose.push(await cpuRateAsync((t) => jwtVerify(t, joseKey, joseOpts), tokens));
    r.subtle.push(await cpuRateAsync(([sig, data]) => crypto.subtle.verify(verifyParams, subtleKey, sig, data), decoded));
    r.bare.push(cpuRate(([sig, data]) => verify(hash, data, nodeVerifyKey, sig), decoded));
  }
  rows.push([alg, median(r.node), median(r.wasm), median(r.jose), median(r.subtle), median(r.bare)]);
}

const f = (x) => Math.round(x).toLocaleString('en-US');
console.log(`Node ${process.version}, ${DISTINCT} distinct tokens per algorithm, verifications per CPU-second (median of ${ROUNDS} interleaved rounds of ${SECONDS} s)\n`);
console.log('| alg | jwtgate (node:crypto) | jwtgate (wasm engine) | jose jwtVerify | bare crypto.subtle.verify | bare crypto.verify | jwtgate / jose | bare crypto.verify / jose | wasm engine / bare subtle |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const [alg, node, wasm, jose, subtle, bare] of rows) {
  const x = (a, b) => `${(a / b).toFixed(2)}x`;
  console.log(`| ${alg} | ${f(node)} | ${f(wasm)} | ${f(jose)} | ${f(subtle)} | ${f(bare)} | ${x(node, jose)} | ${x(bare, jose)} | ${x(wasm, subtle)} |`);
}
