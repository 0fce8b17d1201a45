// Bearer-token middleware for fetch-style handlers ((Request) => Response), as used by
// Deno.serve, Bun.serve, Hono and most edge runtimes. jwtgate decides; this maps to HTTP.
import { JwtError } from 'jwtgate';

/** `handler(request, claims)` runs only for requests with a valid bearer token. */
export function withJwt(verifier, handler, { realm = 'api' } = {}) {
  return async (request) => {
    let claims;
    try {
      claims = (await verifier.verifyBearerAsync(request.headers.get('authorization'))).payload;
    } catch (e) {
      if (!(e instanceof JwtError)) throw e;
      return Response.json({ error: e.code, message: e.message }, {
        status: e.forbidden ? 403 : 401,
        // The RFC 6750 challenge, built by jwtgate; always a valid header value.
        headers: { 'www-authenticate': e.wwwAuthenticate(realm) },
      });
    }
    return handler(request, claims);
  };
}
