// The benchmark body, one ES module for every runtime (Node, Bun, Deno, workerd, Chromium):
// the contenders, one timed batch, and interleaved rounds. The runners only load it, hand
// it the fixtures (the same tokens everywhere, made once in Node by fixtures.mjs) and, in
// Node/Bun/Deno, fast-jwt (it needs node:crypto, so workerd and browsers have no fast-jwt).
//
// Every contender checks the RS256 signature, `iss`, `aud` and `exp`, except the `bare`
// lines, floors shown but not counted as alternatives: `crypto.subtle.verify` and (Node,
// Bun) `crypto.verify` on inputs decoded in advance, the signature alone; and `crypto.verify`
// with the least a verifier that returns claims must do per token (split, base64url,
// JSON.parse, iss/aud/exp, no header checks at all), the ceiling for any verifier built
// on node:crypto.
import { Verifier } from 'jwtgate';
import { jwtVerify, createLocalJWKSet } from 'jose';
import { verifyWithJwks } from 'hono/jwt';
import tsndr from '@tsndr/cloudflare-worker-jwt';

export const WORKLOADS = ['distinct', 'repeated'];

/**
 * The contenders: { name, kind: 'jwtgate' | 'alternative' | 'floor', only?: workload,
 * async, run(token) }. Each accepts two fixture tokens before it is returned, so nobody is
 * timed on a fast rejection.
 */
export async function contenders(data, { fastJwt, nodeCrypto } = {}) {
  const policy = { issuer: data.issuer, audience: data.audience };
  const gate = new Verifier({ jwks: data.jwks, ...policy });
  // Cached verifiers (`cached`) only run the repeated token: the distinct rounds revisit
  // their tokens, so a cache would turn later rounds into hits. Their batches are longer
  // (a hit takes about a microsecond), so that timer granularity and, in workerd, the
  // request's own time stay small next to the batch.
  const gateCached = new Verifier({ jwks: data.jwks, ...policy, cacheSize: 1000 });
  const joseKeys = createLocalJWKSet(data.jwks);
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const subtleKey = await crypto.subtle.importKey('jwk', data.jwks.keys[0], alg, false, ['verify']);
  const honoOptions = { keys: data.jwks.keys, allowedAlgorithms: ['RS256'], verification: { iss: data.issuer, aud: data.audience } };
  const enc = new TextEncoder();
  const fromB64url = (s) => {
    const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  };
  const parts = new Map(data.tokens.map((t) => {
    const dot = t.lastIndexOf('.');
    return [t, { input: enc.encode(t.slice(0, dot)), sig: fromB64url(t.slice(dot + 1)) }];
  }));
  const audOk = (aud) => (Array.isArray(aud) ? aud.includes(data.audience) : aud === data.audience);

  const list = [
    { name: 'jwtgate verify', kind: 'jwtgate', run: (t) => gate.verify(t) },
    { name: 'jwtgate verifyAsync', kind: 'jwtgate', async: true, run: (t) => gate.verifyAsync(t) },
    { name: 'jwtgate verify (cacheSize 1000)', kind: 'jwtgate', only: 'repeated', cached: true, run: (t) => gateCached.verify(t) },
    { name: 'jwtgate verifyAsync (cacheSize 1000)', kind: 'jwtgate', only: 'repeated', cached: true, async: true, run: (t) => gateCached.verifyAsync(t) },
    { name: 'jose jwtVerify + createLocalJWKSet', kind: 'alternative', async: true, run: (t) => jwtVerify(t, joseKeys, policy) },
    { name: 'hono verifyWithJwks', kind: 'alternative', async: true, run: (t) => verifyWithJwks(t, honoOptions) },
    {
      // It takes a CryptoKey (imported once here) and checks exp/nbf but not iss/aud, so
      // those two are checked on its result, as an application would.
      name: '@tsndr/cloudflare-worker-jwt verify', kind: 'alternative', async: true,
      run: async (t) => {
        const r = await tsndr.verify(t, subtleKey, { algorithm: 'RS256', throwError: true });
        if (r?.payload?.iss !== data.issuer || !audOk(r.payload.aud)) throw new Error('tsndr: iss/aud mismatch');
        return r;
      },
    },
    {
      name: 'bare crypto.subtle.verify (signature only)', kind: 'floor', async: true,
      run: async (t) => {
        const p = parts.get(t);
        if (!(await crypto.subtle.verify(alg, subtleKey, p.sig, p.input))) throw new Error('bad signature');
        return true;
      },
    },
  ];
  if (fastJwt) {
    const opts = { key: data.pem, algorithms: ['RS256'], allowedIss: data.issuer, allowedAud: data.audience };
    const fast = fastJwt.createVerifier(opts);
    const fastCached = fastJwt.createVerifier({ ...opts, cache: true });
    list.splice(6, 0,
      { name: 'fast-jwt', kind: 'alternative', run: (t) => fast(t) },
      { name: 'fast-jwt (cache: true)', kind: 'alternative', only: 'repeated', cached: true, run: (t) => fastCached(t) });
  }
  if (nodeCrypto) {
    const key = nodeCrypto.createPublicKey(data.pem);
    const now = () => Math.floor(Date.now() / 1000);
    list.push(
      {
        name: 'bare crypto.verify (signature only)', kind: 'floor',
        run: (t) => {
          const p = parts.get(t);
          if (!nodeCrypto.verify('sha256', p.input, key, p.sig)) throw new Error('bad signature');
          return true;
        },
      },
      {
        name: 'bare crypto.verify + split, base64url, JSON.parse, iss/aud/exp', kind: 'floor',
        run: (t) => {
          const dot1 = t.indexOf('.');
          const dot2 = t.indexOf('.', dot1 + 1);
          const sig = Buffer.from(t.slice(dot2 + 1), 'base64url');
          if (!nodeCrypto.verify('sha256', Buffer.from(t.slice(0, dot2)), key, sig)) throw new Error('bad signature');
          const c = JSON.parse(Buffer.from(t.slice(dot1 + 1, dot2), 'base64url').toString());
          if (c.iss !== data.issuer || !audOk(c.aud) || !(c.exp > now())) throw new Error('bad claims');
          return c;
        },
      },
    );
  }
  for (const c of list) {
    for (const t of data.tokens.slice(0, 2)) {
      const r = await c.run(t);
      if (!r) throw new Error(`${c.name} rejected a fixture token`);
    }
  }
  return list;
}

/** How many verifications one batch of `c` runs for `workload`. */
export const batchSize = (c, workload, { n, repeat, cachedRepeat }) => (workload === 'distinct' ? n : c.cached ? cachedRepeat : repeat);

/** The contenders that run `workload`. */
export const forWorkload = (list, workload) => list.filter((c) => !c.only || c.only === workload);

/** One batch: `n` verifications, distinct tokens from `start` or the first token `n` times. */
export async function batch(c, tokens, workload, start, n) {
  const m = tokens.length;
  if (c.async) {
    if (workload === 'distinct') for (let i = 0; i < n; i++) await c.run(tokens[(start + i) % m]);
    else for (let i = 0; i < n; i++) await c.run(tokens[0]);
  } else if (workload === 'distinct') for (let i = 0; i < n; i++) c.run(tokens[(start + i) % m]);
  else for (let i = 0; i < n; i++) c.run(tokens[0]);
}

/**
 * Interleaved rounds inside one process: each round runs every contender once per
 * workload, starting one contender later than the round before (so no contender always
 * follows the same neighbour), after one warm-up batch each. `clock()` is milliseconds.
 * Returns { [workload]: { [name]: ops/s per round } }.
 */
export async function rounds(list, tokens, { rounds: R, clock, ...sizes }) {
  const samples = {};
  for (const w of WORKLOADS) {
    const cs = forWorkload(list, w);
    samples[w] = Object.fromEntries(cs.map((c) => [c.name, []]));
    for (const c of cs) await batch(c, tokens, w, 0, Math.min(batchSize(c, w, sizes), 200));
  }
  for (let r = 0; r < R; r++) {
    for (const w of WORKLOADS) {
      const cs = forWorkload(list, w);
      for (let k = 0; k < cs.length; k++) {
        const c = cs[(r + k) % cs.length];
        const size = batchSize(c, w, sizes);
        const t = clock();
        await batch(c, tokens, w, r * 97, size);
        samples[w][c.name].push((size * 1000) / (clock() - t));
      }
    }
  }
  return samples;
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Which signature path jwtgate took (`{ host, subtle }` counts), for the report. */
export const paths = () => Verifier[Symbol.for('jwtgate.paths')]?.();
