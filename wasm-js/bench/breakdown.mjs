// Where a Node verification's time goes: the same 2,000 distinct EKS-shaped RS256 tokens
// through a bare crypto.verify, the steps our node:crypto path adds, the core's steps
// without RSA, and the whole verify. Interleaved rounds, median, microseconds per token
// (wall time per token on a quiet process; run it alone).
//
//   node bench/breakdown.mjs [--rounds 7]
import { generateKeyPairSync, sign, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { Verifier } from 'jwtgate';
import { Core } from '../pkg/jwtgate.js';

const args = process.argv.slice(2);
const ROUNDS = Number(args[args.indexOf('--rounds') + 1] || 7);
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
const key = createPublicKey(publicKey.export({ type: 'spki', format: 'pem' }));
const parts = tokens.map((t) => {
  const dot = t.lastIndexOf('.');
  return { input: Buffer.from(t.slice(0, dot)), sig: Buffer.from(t.slice(dot + 1), 'base64url') };
});
const policy = JSON.stringify({ issuers: [ISSUER], audiences: [AUDIENCE] });
const core = new Core(policy, 0);
core.set_jwks(JSON.stringify({ keys: [jwk] }));
const gate = new Verifier({ jwks: { keys: [jwk] }, issuer: ISSUER, audience: AUDIENCE });
const enc = new TextEncoder();

const steps = {
  'bare crypto.verify (buffers ready)': (i) => nodeVerify('sha256', parts[i].input, key, parts[i].sig),
  'crypto.verify + input/signature from the token string': (i) => {
    const t = tokens[i];
    const dot = t.lastIndexOf('.');
    return nodeVerify('sha256', enc.encode(t.slice(0, dot)), key, Buffer.from(t.slice(dot + 1), 'base64url'));
  },
  'core prepare + info + finish (no RSA), payload out': (i) => {
    const p = core.prepare(tokens[i], now);
    p.info();
    return core.finish(p, 1, now);
  },
  'the above + JSON.parse of the payload': (i) => {
    const p = core.prepare(tokens[i], now);
    p.info();
    return JSON.parse(core.finish(p, 1, now));
  },
  'jwtgate verify (node:crypto)': (i) => gate.verify(tokens[i], { now }),
};
const N = 2000;
const res = Object.fromEntries(Object.keys(steps).map((k) => [k, []]));
for (const f of Object.values(steps)) for (let i = 0; i < N; i++) f(i); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const [k, f] of Object.entries(steps)) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) f(i);
    res[k].push(Number(process.hrtime.bigint() - t) / N / 1000);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`Node ${process.version}, ${tokens[0].length}-byte RS256 tokens, median of ${ROUNDS} interleaved rounds of ${N}`);
for (const [k, v] of Object.entries(res)) console.log(`${median(v).toFixed(2).padStart(7)} us  ${k}`);
