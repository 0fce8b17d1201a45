// Bearer-token middleware for node:http (and anything with (req, res) handlers, such as
// Express or Connect). The verdict comes from jwtgate; this file only maps it to HTTP.
import { JwtError } from 'jwtgate';

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
      // wwwAuthenticate builds the RFC 6750 challenge (the realm; error and description
      // unless the token was missing); like e.message it holds only printable ASCII, so
      // it is always a valid header value.
      res.writeHead(e.forbidden ? 403 : 401, { 'www-authenticate': e.wwwAuthenticate(realm), 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: e.code, message: e.message }));
      return;
    }
    return handler(req, res);
  };
}
