// A CommonJS TypeScript consumer (module/moduleResolution node16): `import` here compiles
// to require(), which resolves to js/node.cjs typed by pkg/index.d.cts. Compiled, not run.
import { Verifier, RemoteJwks, JwtError, bearerToken, decodeJwt, type JwtErrorCode } from 'jwtgate';

const verifier = new Verifier({ jwks: { keys: [] }, audience: 'api', typ: 'at+jwt', clockTolerance: '1.5m' });
const remote = new RemoteJwks('https://idp.example/jwks', { cooldownDuration: 30_000, timeoutDuration: '5s' });
try {
  verifier.verify(bearerToken('Bearer x') ?? '');
} catch (e) {
  if (e instanceof JwtError) {
    const code: JwtErrorCode = e.code;
    const header: string = e.wwwAuthenticate('api');
    const claim: string | undefined = e.claim;
    console.log(code, header, claim, e.field, e.reason, remote, decodeJwt('x.y.z').sub);
  }
}
