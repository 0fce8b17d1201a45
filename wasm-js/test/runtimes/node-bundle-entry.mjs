// Entry of the Node bundle test (test/node/package.test.mjs): the package through its
// "node" condition, bundled by esbuild with everything else.
import { generateKeyPairSync, sign } from 'node:crypto';
import { Verifier, JwtError } from 'jwtgate';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'b', alg: 'RS256', use: 'sig' };
const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const token = (aud) => {
  const input = `${enc({ alg: 'RS256', kid: 'b' })}.${enc({ aud, exp: 2_000_000_000 })}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
};
const v = new Verifier({ jwks: { keys: [jwk] }, audience: 'api' });
const ok = v.verify(token('api'), { now: 1_800_000_000 }).payload.aud === 'api' ? 'ok' : 'wrong';
let code = 'none';
try {
  v.verify(token('other'), { now: 1_800_000_000 });
} catch (e) {
  code = e instanceof JwtError ? e.code : String(e);
}
console.log(ok, code);
