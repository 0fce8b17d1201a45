// Writes the fixtures every runtime verifies: N distinct RS256 tokens (RSA-2048, made once
// here in Node) shaped like an EKS service-account token (~1.1 KB), their JWKS and PEM.
//
//   node fixtures.mjs OUT.json N
import { generateKeyPairSync, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const [out, count] = process.argv.slice(2);
const N = Number(count);
if (!out || !(N >= 2)) throw new Error('usage: node fixtures.mjs OUT.json N (N >= 2)');

const issuer = 'https://oidc.eks.eu-west-1.amazonaws.com/id/5C3A8F1B2D4E6F7A8B9C0D1E2F3A4B5C';
const audience = 'sts.amazonaws.com';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'bench', alg: 'RS256', use: 'sig' };
const now = Math.floor(Date.now() / 1000);
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const tokens = Array.from({ length: N }, (_, i) => {
  const payload = {
    aud: [audience], exp: now + 86400, iat: now - (i % 600), nbf: now - (i % 600), iss: issuer,
    jti: `6f1e2d3c-${String(i).padStart(6, '0')}-4b5a-9c8d-7e6f5a4b3c2d`,
    'kubernetes.io': {
      namespace: 'payments',
      node: { name: 'ip-10-0-12-34.eu-west-1.compute.internal', uid: '8f0c1d2e-3a4b-5c6d-7e8f-9a0b1c2d3e4f' },
      pod: { name: `api-7d9f8b6c5-${(i * 7919).toString(36).padStart(5, 'x')}`, uid: '1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d' },
      serviceaccount: { name: 'api', uid: '0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b' },
      warnafter: now + 3600,
    },
    sub: 'system:serviceaccount:payments:api',
  };
  const input = `${b64({ alg: 'RS256', kid: 'bench', typ: 'JWT' })}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
});
writeFileSync(out, JSON.stringify({
  issuer, audience, jwks: { keys: [jwk] }, pem: publicKey.export({ type: 'spki', format: 'pem' }), tokens,
}));
