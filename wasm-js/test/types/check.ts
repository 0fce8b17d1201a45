// Compiled (not run) by `tsc --noEmit`: the declarations describe the API as documented.
import { Verifier, RemoteJwks, JwtError, type JWTPayload, type KeyReport, type JwtErrorCode } from 'jwtgate';

interface MyClaims extends JWTPayload {
  tenant: string;
}

const jwks = new RemoteJwks('https://idp.example/.well-known/openid-configuration', {
  store: { get: async (k) => null, put: async (k, v, { ttl }) => undefined },
  cooldownDuration: '30s',
  timeoutDuration: 5000,
  cacheMaxAge: 600_000,
});
const verifier = new Verifier({
  jwks: { keys: [] },
  issuer: 'https://idp.example',
  audience: ['api'],
  algorithms: ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA', 'Ed25519'],
  clockTolerance: '30s',
  maxTokenAge: 3600,
  requiredClaims: ['tenant'],
  subject: 'system:serviceaccount:payments:*',
  claims: { 'kubernetes.io.namespace': ['payments'] },
  maxTokenBytes: 8192,
  requireExp: true,
  cacheSize: 1000,
});
const report: KeyReport = verifier.setJwks('{"keys":[]}');
const n: number = report.loaded + report.skipped.length;
const { header, payload } = verifier.verify<MyClaims>('t', { now: 1 });
const tenant: string = payload.tenant;
const kid: string | undefined = header.kid;
const bytes: Uint8Array = verifier.verifyJws('t').payload;
async function handler(req: Request): Promise<string> {
  const r = await new Verifier({ jwks }).verifyBearerAsync(req.headers.get('authorization'), { waitUntil: () => {} });
  return String(r.payload.sub);
}
try {
  verifier.verifyBearer('Bearer x');
} catch (e) {
  if (e instanceof JwtError) {
    const code: JwtErrorCode = e.code;
    console.log(code, e.message, n, tenant, kid, bytes, handler);
  }
}
// HS* (shared secrets) and ES512 are not algorithms of this package.
// @ts-expect-error
new Verifier({ algorithms: ['HS256'] });
