// Test fixtures shared by every runtime: RSA keys, a JWKS and tokens signed with
// node:crypto (an independent signer). Written once per run to test/.fixtures.json
// (Deno, Bun, workerd and Chromium read that file; they never sign anything).
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

export const NOW = 1_800_000_000;
export const ISSUER = 'https://idp.test';
export const AUDIENCE = 'api://gate';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const enc = (obj) => b64url(JSON.stringify(obj));

export function makeKey(kid, bits = 2048) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const jwk = publicKey.export({ format: 'jwk' });
  return { kid, privateKey, jwk: { kty: 'RSA', kid, use: 'sig', alg: 'RS256', n: jwk.n, e: jwk.e } };
}

export function signToken(key, payload, header = {}) {
  const h = { alg: 'RS256', typ: 'JWT', kid: key.kid, ...header };
  const input = `${enc(h)}.${enc(payload)}`;
  const alg = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' }[h.alg] ?? 'sha256';
  return `${input}.${b64url(sign(alg, Buffer.from(input), key.privateKey))}`;
}

export function claims(extra = {}) {
  return { iss: ISSUER, aud: AUDIENCE, sub: 'system:serviceaccount:payments:api', iat: NOW - 10, exp: NOW + 3600, ...extra };
}

export function buildFixtures() {
  const k1 = makeKey('k1');
  const k2 = makeKey('k2');
  const other = makeKey('k1'); // same kid, different key: a forgery
  const good = signToken(k1, claims({ 'kubernetes.io': { namespace: 'payments' } }));
  const [h, p] = good.split('.');
  const tokens = {
    good,
    goodK2: signToken(k2, claims()),
    expired: signToken(k1, claims({ exp: NOW - 3600 })),
    notYetValid: signToken(k1, claims({ nbf: NOW + 3600 })),
    badIssuer: signToken(k1, claims({ iss: 'https://evil.test' })),
    badAudience: signToken(k1, claims({ aud: 'other' })),
    unknownKid: signToken(makeKey('k9'), claims()),
    forged: signToken(other, claims()),
    tampered: `${h}.${enc({ ...claims(), sub: 'admin' })}.${good.split('.')[2]}`,
    algNone: `${b64url(JSON.stringify({ alg: 'none' }))}.${p}.`,
    hs256: `${b64url(JSON.stringify({ alg: 'HS256', kid: 'k1' }))}.${p}.${b64url('x')}`,
    jwe: 'a.b.c.d.e',
    garbage: 'not a token',
    noExp: signToken(k1, { iss: ISSUER, aud: AUDIENCE, sub: 'x' }),
    stringExp: signToken(k1, claims({ exp: 'tomorrow' })),
    jwsBinary: (() => {
      const input = `${enc({ alg: 'RS256', kid: 'k1' })}.${b64url(Buffer.from([0, 1, 2, 255]))}`;
      return `${input}.${b64url(sign('sha256', Buffer.from(input), k1.privateKey))}`;
    })(),
  };
  return {
    now: NOW,
    issuer: ISSUER,
    audience: AUDIENCE,
    jwks: { keys: [k1.jwk, k2.jwk] },
    jwksK2Only: { keys: [k2.jwk] },
    jwksWithJunk: { keys: [{ kty: 'EC', kid: 'ec', crv: 'P-521', x: 'AA', y: 'AA' }, k1.jwk, { ...k2.jwk, use: 'enc' }] },
    tokens,
    // The verdict each token must get under { issuer, audience } at NOW.
    expect: {
      good: 'ok', goodK2: 'ok', expired: 'expired', notYetValid: 'not_yet_valid', badIssuer: 'bad_issuer',
      badAudience: 'bad_audience', unknownKid: 'unknown_kid', forged: 'bad_signature', tampered: 'bad_signature',
      algNone: 'alg_not_allowed', hs256: 'alg_not_allowed', jwe: 'jwe_unsupported', garbage: 'malformed',
      noExp: 'missing_claim', stringExp: 'invalid_claim',
    },
  };
}

// The shared corpus's token cases (every algorithm: the package ships them all), for the
// runtimes to run through verify and verifyAsync. The Node suite runs the whole corpus itself.
export function corpusFixtures() {
  const corpus = JSON.parse(readFileSync(new URL('../../tests/vectors/corpus.json', import.meta.url), 'utf8'));
  const cases = [];
  for (const c of corpus.cases) {
    if (c.entry === 'verify_jws') continue;
    const token = c.token ?? c.token_repeat.prefix + c.token_repeat.unit.repeat(c.token_repeat.count) + c.token_repeat.suffix;
    // Huge tokens only test the size cap, which every path applies before anything else.
    if (token.length > 20000) continue;
    cases.push({ name: c.name, jwks: c.jwks, policy: c.policy, token, now: c.now, expect: c.expect });
  }
  const used = (field) => Object.fromEntries([...new Set(cases.map((c) => c[field]))].map((k) => [k, corpus[`${field === 'jwks' ? 'jwks' : 'policies'}`][k]]));
  return { cases, jwks: used('jwks'), policies: used('policy') };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? new URL('./.fixtures.json', import.meta.url);
  writeFileSync(out, JSON.stringify({ ...buildFixtures(), corpus: corpusFixtures() }));
}
