// One server file for Deno and Bun:
//   deno run --allow-net --allow-env server.js      bun server.js
// with JWKS_URL (or ISSUER, for OIDC discovery), optionally AUDIENCE, PORT, HOST.
import { Verifier, RemoteJwks } from 'jwtgate';
import { withJwt } from './middleware.js';

const env = (name) => (globalThis.Deno ? Deno.env.get(name) : process.env[name]);
const JWKS_URL = env('JWKS_URL');
const ISSUER = env('ISSUER');
const port = Number(env('PORT') ?? 8080);
const hostname = env('HOST') ?? '127.0.0.1';
if (!JWKS_URL && !ISSUER) throw new Error('set JWKS_URL or ISSUER');

const verifier = new Verifier({
  jwks: JWKS_URL ? new RemoteJwks(JWKS_URL) : RemoteJwks.fromIssuer(ISSUER),
  issuer: ISSUER,
  audience: env('AUDIENCE'),
  cacheSize: 1000,
});

const handler = withJwt(verifier, (request, claims) => Response.json({ hello: claims.sub, path: new URL(request.url).pathname }));

if (globalThis.Deno) Deno.serve({ port, hostname, onListen: () => console.log(`listening on http://${hostname}:${port}`) }, handler);
else {
  Bun.serve({ port, hostname, fetch: handler });
  console.log(`listening on http://${hostname}:${port}`);
}
