// A Node HTTP server whose every route needs a valid bearer token.
//
//   JWKS_URL=https://idp.example/.well-known/jwks.json ISSUER=https://idp.example AUDIENCE=my-api node server.mjs
//   (or ISSUER alone: the JWKS is found through OIDC discovery)
import { createServer } from 'node:http';
import { Verifier, RemoteJwks } from 'jwtgate';
import { requireJwt } from './middleware.mjs';

const { JWKS_URL, ISSUER, AUDIENCE, PORT = '8080', HOST = '127.0.0.1' } = process.env;
if (!JWKS_URL && !ISSUER) throw new Error('set JWKS_URL or ISSUER');

const verifier = new Verifier({
  jwks: JWKS_URL ? new RemoteJwks(JWKS_URL) : RemoteJwks.fromIssuer(ISSUER),
  issuer: ISSUER,
  audience: AUDIENCE,
  cacheSize: 1000,
});

const app = requireJwt(verifier, (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ hello: req.jwt.sub, path: req.url }));
});

createServer(app).listen(Number(PORT), HOST, () => console.log(`listening on http://${HOST}:${PORT}`));
