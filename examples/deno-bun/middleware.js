// Bearer-token middleware for fetch-style handlers ((Request) => Response), as used by
// Deno.serve, Bun.serve, Hono and most edge runtimes. jwtgate decides; this maps to HTTP.
import { JwtError } from 'jwtgate';

/** RFC 6750 §3 challenge for a rejection. */
export function challenge(error, realm = 'api') {
  if (error.code === 'missing_token') return `Bearer realm="${realm}"`;
  const description = error.message.replace(/["\\]/g, "'");
  return `Bearer realm="${realm}", error="${error.forbidden ? 'insufficient_scope' : 'invalid_token'}", error_description="${description}"`;
}

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
        headers: { 'www-authenticate': challenge(e, realm) },
      });
    }
    return handler(request, claims);
  };
}
