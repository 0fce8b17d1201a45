// Cloudflare Worker guarding an origin with jwtgate.
//
// - The Verifier lives at module scope: it (and its verified-token cache and keys) is
//   reused by every request the isolate serves.
// - RemoteJwks refreshes keys on the core's schedule; background refreshes are kept alive
//   with ctx.waitUntil; with a KV binding, new isolates start from the stored JWKS.
// - Rejections: 401 (or 403 for a refused audience/claim) with an RFC 6750 challenge.
import { Verifier, RemoteJwks, JwtError } from 'jwtgate';

let verifier;

// Workers KV as a RemoteJwks store (KV's minimum expirationTtl is 60 s).
function kvStore(kv) {
  return {
    get: (key) => kv.get(key),
    put: (key, value, { ttl }) => kv.put(key, value, { expirationTtl: Math.max(60, ttl) }),
  };
}

function getVerifier(env) {
  if (verifier === undefined) {
    const options = env.JWKS_CACHE ? { store: kvStore(env.JWKS_CACHE) } : {};
    const jwks = env.JWKS_URL ? new RemoteJwks(env.JWKS_URL, options) : RemoteJwks.fromIssuer(env.ISSUER, options);
    verifier = new Verifier({ jwks, issuer: env.ISSUER || undefined, audience: env.AUDIENCE || undefined, cacheSize: 1000 });
  }
  return verifier;
}

// e.wwwAuthenticate(realm) is the RFC 6750 challenge, built by jwtgate; like e.message it
// holds only printable ASCII, so it is always a valid header value.
function reject(e) {
  return Response.json({ error: e.code, message: e.message }, {
    status: e.forbidden ? 403 : 401,
    headers: { 'www-authenticate': e.wwwAuthenticate('api') },
  });
}

// Header values are Latin-1; claims may hold any Unicode, so they travel as base64 of UTF-8.
function base64(text) {
  let bin = '';
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin);
}

export default {
  async fetch(request, env, ctx) {
    let claims;
    try {
      const result = await getVerifier(env).verifyBearerAsync(request.headers.get('authorization'), {
        waitUntil: (p) => ctx.waitUntil(p),
      });
      claims = result.payload;
    } catch (e) {
      if (e instanceof JwtError) return reject(e);
      throw e;
    }
    // Forward to the origin: same method, path, query and body; the token stays behind and
    // the origin gets the verified subject and claims instead.
    const url = new URL(request.url);
    const upstream = new Request(new URL(url.pathname + url.search, env.ORIGIN), request);
    upstream.headers.delete('authorization');
    upstream.headers.set('x-jwt-sub', String(claims.sub ?? ''));
    upstream.headers.set('x-jwt-claims', base64(JSON.stringify(claims)));
    return fetch(upstream);
  },
};
