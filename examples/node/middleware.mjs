// Bearer-token middleware for node:http (and anything with (req, res) handlers, such as
// Express or Connect). The verdict comes from jwtgate; this file only maps it to HTTP.
import { JwtError } from 'jwtgate';

/** RFC 6750 §3: which challenge to send for a rejection. */
export function challenge(error, realm = 'api') {
  if (error.code === 'missing_token') return `Bearer realm="${realm}"`;
  // error_description must not contain quotes or backslashes (RFC 6750 §3).
  const description = error.message.replace(/["\\]/g, "'");
  const kind = error.forbidden ? 'insufficient_scope' : 'invalid_token';
  return `Bearer realm="${realm}", error="${kind}", error_description="${description}"`;
}

/**
 * Wraps a handler: requests without a valid bearer token get 401 (403 when the token is
 * authentic but its audience or claims are refused); the others reach `handler` with the
 * verified claims in `req.jwt`.
 */
export function requireJwt(verifier, handler, { realm = 'api' } = {}) {
  return async (req, res) => {
    try {
      req.jwt = (await verifier.verifyBearerAsync(req.headers.authorization)).payload;
    } catch (e) {
      if (!(e instanceof JwtError)) throw e;
      res.writeHead(e.forbidden ? 403 : 401, { 'www-authenticate': challenge(e, realm), 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: e.code, message: e.message }));
      return;
    }
    return handler(req, res);
  };
}
