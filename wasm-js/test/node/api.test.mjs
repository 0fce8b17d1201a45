// The API's contract in Node: error shape, options, results, robustness on hostile input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Verifier, JwtError, RemoteJwks, bearerToken, decodeJwt, decodeProtectedHeader } from 'jwtgate';
import { buildFixtures, makeKey, signToken, claims, NOW } from '../fixtures.mjs';

const fx = buildFixtures();
const opts = { jwks: fx.jwks, issuer: fx.issuer, audience: fx.audience };
const at = { now: fx.now };

function rejects(fn, code, pattern) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof JwtError, `not a JwtError: ${e}`);
    assert.equal(e.name, 'JwtError');
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

test('error messages say why, with the core reason', () => {
  const v = new Verifier(opts);
  rejects(() => v.verify(fx.tokens.expired, at), 'expired', /expired at/);
  rejects(() => v.verify(fx.tokens.badIssuer, at), 'bad_issuer', /evil\.test/);
  rejects(() => v.verify(fx.tokens.unknownKid, at), 'unknown_kid', /k9/);
  rejects(() => v.verify(fx.tokens.forged, at), 'bad_signature', /does not verify/);
});

test('option errors name the JS option, not the core field', () => {
  rejects(() => new Verifier({ issuer: 3 }), 'bad_policy', /^issuer:/);
  rejects(() => new Verifier({ maxTokenBytes: 0 }), 'bad_policy', /^maxTokenBytes:/);
  rejects(() => new Verifier({ clockTolerance: -1 }), 'bad_policy', /^clockTolerance:/);
  rejects(() => new Verifier({ clockTolerance: '3 fortnights' }), 'bad_policy', /^clockTolerance:/);
  rejects(() => new Verifier({ audiences: 'x' }), 'bad_policy', /^audiences: unknown option/);
  rejects(() => new Verifier({ cacheSize: -1 }), 'bad_policy', /^cacheSize:/);
});

test('durations: seconds or jose-style strings', () => {
  for (const [tolerance, code] of [[3599, 'expired'], ['3601s', 'ok'], ['61m', 'ok'], ['1h', 'expired'], ['1 day', 'ok']]) {
    const v = new Verifier({ ...opts, clockTolerance: tolerance });
    let got = 'ok';
    try { v.verify(fx.tokens.expired, at); } catch (e) { got = e.code; }
    assert.equal(got, code, String(tolerance));
  }
  const v = new Verifier({ ...opts, maxTokenAge: '5s' });
  rejects(() => v.verify(fx.tokens.good, { now: NOW + 100 }), 'token_too_old');
});

test('now: seconds, a Date, or the clock by default', () => {
  const v = new Verifier(opts);
  assert.equal(v.verify(fx.tokens.good, { now: new Date(NOW * 1000) }).payload.sub, 'system:serviceaccount:payments:api');
  const k = makeKey('live');
  const live = new Verifier({ jwks: { keys: [k.jwk] } });
  const t = signToken(k, { exp: Math.floor(Date.now() / 1000) + 60 });
  assert.ok(live.verify(t).payload.exp);
  assert.throws(() => v.verify(fx.tokens.good, { now: NaN }), TypeError);
  assert.throws(() => v.verify(fx.tokens.good, { now: -1 }), TypeError);
  assert.throws(() => v.verify(fx.tokens.good, { now: '1800000000' }), TypeError);
});

test('results: plain payload, lazy header, jose alias, JSON form', () => {
  const r = new Verifier(opts).verify(fx.tokens.good, at);
  assert.deepEqual(r.protectedHeader, r.header);
  assert.deepEqual(JSON.parse(JSON.stringify(r)).header, { alg: 'RS256', typ: 'JWT', kid: 'k1' });
  assert.equal(r.payload.exp, NOW + 3600);
});

test('payload comes back exactly as signed (key order, unicode, numbers)', () => {
  const k = makeKey('u');
  const v = new Verifier({ jwks: { keys: [k.jwk] } });
  const payload = { z: 1, a: 'zürich ✓ 𝄞', big: 12345678901234567890, f: 1.5, exp: NOW + 1, arr: [null, true] };
  const r = v.verify(signToken(k, payload), at);
  assert.equal(JSON.stringify(r.payload), JSON.stringify(payload));
});

test('hostile inputs are refused with a code, never a crash', () => {
  const v = new Verifier(opts);
  const hostile = [
    '', '.', '..', '...', 'a.b.c', '\u0000.\u0000.\u0000', '\ud800.x.y', 'é.é.é', '{"alg":"RS256"}',
    fx.tokens.good + '=', fx.tokens.good.replace('.', '..'), ' ' + fx.tokens.good, 'x'.repeat(20000),
    `${Buffer.from('{"alg":"RS256","crit":["exp"]}').toString('base64url')}.e30.AA`,
  ];
  for (const t of hostile) {
    assert.throws(() => v.verify(t, at), JwtError, JSON.stringify(t.slice(0, 40)));
  }
  assert.throws(() => v.verify(undefined, at), (e) => e.code === 'malformed');
  assert.throws(() => v.verify(42, at), (e) => e.code === 'malformed');
  // The verifier still works after all that.
  assert.equal(v.verify(fx.tokens.good, at).header.kid, 'k1');
});

test('hostile JWKS documents are refused or skipped, never a crash', () => {
  const v = new Verifier({});
  for (const doc of ['', 'null', '[]', '{"keys":{}}', '{"keys":[1,2,3]}', '{"keys":[{"kty":"RSA","n":"","e":""}]}', 'x'.repeat(300000)]) {
    assert.throws(() => v.setJwks(doc), JwtError, doc.slice(0, 30));
  }
  assert.throws(() => v.setJwks(null), JwtError);
  assert.throws(() => v.setJwks(42), JwtError);
});

test('RS384 and RS512 when allowed; the allow-list is enforced', () => {
  const k = makeKey('multi');
  const jwk = { ...k.jwk };
  delete jwk.alg;
  const t384 = signToken(k, claims(), { alg: 'RS384' });
  const t512 = signToken(k, claims(), { alg: 'RS512' });
  const strict = new Verifier({ jwks: { keys: [jwk] } });
  rejects(() => strict.verify(t384, at), 'alg_not_allowed');
  const all = new Verifier({ jwks: { keys: [jwk] }, algorithms: ['RS256', 'RS384', 'RS512'] });
  assert.equal(all.verify(t384, at).header.alg, 'RS384');
  assert.equal(all.verify(t512, at).header.alg, 'RS512');
});

test('3072- and 4096-bit keys verify', () => {
  for (const bits of [3072, 4096]) {
    const k = makeKey(`b${bits}`, bits);
    const v = new Verifier({ jwks: { keys: [k.jwk] } });
    assert.equal(v.verify(signToken(k, claims()), at).header.kid, `b${bits}`);
  }
});

test('many verifiers can be created and dropped (memory is reclaimed by GC)', () => {
  for (let i = 0; i < 2000; i++) new Verifier(opts).verify(fx.tokens.good, at);
});

test('free() is optional and explicit release works', () => {
  const v = new Verifier(opts);
  v.free();
});

test('CommonJS require works (Node >= 20.19 loads the ESM entry)', () => {
  const require = createRequire(import.meta.url);
  const cjs = require('jwtgate');
  assert.equal(typeof cjs.Verifier, 'function');
  assert.equal(new cjs.Verifier(opts).verify(fx.tokens.good, at).header.kid, 'k1');
});

test('RemoteJwks needs a fetch', () => {
  assert.throws(() => new RemoteJwks('https://idp.test/jwks', { fetch: null }), TypeError);
});

test('cached results are frozen, so a shared result cannot be changed by one caller', () => {
  const v = new Verifier({ ...opts, cacheSize: 8 });
  const a = v.verify(fx.tokens.good, at);
  assert.ok(Object.isFrozen(a.payload) && Object.isFrozen(a.payload['kubernetes.io']) && Object.isFrozen(a.header));
  assert.throws(() => { a.payload.sub = 'admin'; }, TypeError);
  assert.equal(v.verify(fx.tokens.good, at).payload.sub, 'system:serviceaccount:payments:api');
});

test('without a cache every call gets its own plain, mutable objects (as with jose)', () => {
  const v = new Verifier(opts);
  const a = v.verify(fx.tokens.good, at);
  a.payload.sub = 'changed';
  a.header.extra = 1;
  const b = v.verify(fx.tokens.good, at);
  assert.equal(b.payload.sub, 'system:serviceaccount:payments:api');
  assert.equal(b.header.extra, undefined);
});

test('a cached result is still judged on every call: time and key changes apply', () => {
  const v = new Verifier({ ...opts, cacheSize: 8 });
  v.verify(fx.tokens.good, at);
  rejects(() => v.verify(fx.tokens.good, { now: fx.now + 7200 }), 'expired');
  v.verify(fx.tokens.good, at);
  v.setJwks(fx.jwksK2Only);
  rejects(() => v.verify(fx.tokens.good, at), 'unknown_kid');
  v.setJwks(fx.jwks);
  assert.equal(v.verify(fx.tokens.good, at).header.kid, 'k1');
});

test('the result cache is bounded', () => {
  const k = makeKey('many');
  const v = new Verifier({ jwks: { keys: [k.jwk] }, cacheSize: 3 });
  const tokens = Array.from({ length: 10 }, (_, i) => signToken(k, claims({ jti: String(i) })));
  for (const t of tokens) v.verify(t, at);
  for (const t of tokens) assert.equal(v.verify(t, at).payload.jti, String(tokens.indexOf(t)));
});

test('mutated tokens and JWKS documents never trap (seeded, 4,000 cases)', () => {
  // xorshift32: deterministic, so a failure is reproducible.
  let seed = 0x9e3779b9;
  const rand = (n) => {
    seed ^= seed << 13; seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5; seed >>>= 0;
    return seed % n;
  };
  const alphabet = 'AZaz09-_.=+/ {}":,\\\u0000é\ud83d';
  const mutate = (s) => {
    const chars = [...s];
    for (let k = 1 + rand(4); k > 0; k--) {
      const i = rand(chars.length + 1);
      switch (rand(4)) {
        case 0: chars.splice(i, 1); break;
        case 1: chars.splice(i, 0, alphabet[rand(alphabet.length)]); break;
        case 2: chars[i] = alphabet[rand(alphabet.length)]; break;
        default: chars.length = i;
      }
    }
    return chars.join('');
  };
  const v = new Verifier({ ...opts, cacheSize: 4 });
  const seeds = Object.values(fx.tokens);
  for (let n = 0; n < 3000; n++) {
    const t = mutate(seeds[rand(seeds.length)]);
    try {
      v.verify(t, at);
      v.verifyJws(t);
    } catch (e) {
      assert.ok(e instanceof JwtError, `${JSON.stringify(t.slice(0, 60))}: ${e}`);
    }
  }
  const doc = JSON.stringify(fx.jwksWithJunk);
  const w = new Verifier({});
  for (let n = 0; n < 1000; n++) {
    try {
      w.setJwks(mutate(doc));
    } catch (e) {
      assert.ok(e instanceof JwtError, String(e));
    }
  }
  assert.equal(v.verify(fx.tokens.good, at).header.kid, 'k1');
});

test('in Node the RSA check runs in node:crypto; the core still decides everything else', async () => {
  const { hostRsa, setHostRsa, paths } = await import('../../js/host.js');
  const calls = [];
  setHostRsa((spki, alg, input, sig, cache, keyId) => {
    calls.push({ alg, spkiBytes: spki.length, inputBytes: input.length, sigBytes: sig.length });
    return hostRsa(spki, alg, input, sig, cache, keyId);
  });
  try {
    const v = new Verifier(opts);
    const before = paths.host;
    assert.equal(v.verify(fx.tokens.good, at).header.kid, 'k1');
    rejects(() => v.verify(fx.tokens.forged, at), 'bad_signature');
    rejects(() => v.verify(fx.tokens.unknownKid, at), 'unknown_kid');
    rejects(() => v.verify(fx.tokens.hs256, at), 'alg_not_allowed');
    assert.equal(calls.length, 2, 'called for the two tokens that reach the signature check only');
    assert.equal(paths.host - before, 2);
    assert.deepEqual(calls[0], { alg: 0 /* RS256 */, spkiBytes: 294, inputBytes: fx.tokens.good.lastIndexOf('.'), sigBytes: 256 });
    assert.equal((await v.verifyAsync(fx.tokens.good, at)).header.kid, 'k1');
    assert.equal(paths.host - before, 3, 'verifyAsync uses node:crypto too');
  } finally {
    setHostRsa(hostRsa);
  }
});

test('a failing native check falls back to the wasm engine', async () => {
  const { hostRsa, setHostRsa } = await import('../../js/host.js');
  setHostRsa(() => { throw new Error('no crypto here'); });
  try {
    const v = new Verifier(opts);
    assert.equal(v.verify(fx.tokens.good, at).header.kid, 'k1');
    rejects(() => v.verify(fx.tokens.tampered, at), 'bad_signature');
  } finally {
    setHostRsa(hostRsa);
  }
});

test('verifyAsync checks RSA in WebCrypto where a loader registers it, with the same verdicts', async () => {
  const { hostRsa, setHostRsa, setSubtleRsa, webCryptoRsa, paths } = await import('../../js/host.js');
  const { webcrypto } = await import('node:crypto');
  setHostRsa(undefined);
  setSubtleRsa(webCryptoRsa(webcrypto.subtle));
  let v;
  try {
    v = new Verifier({ ...opts, cacheSize: 10 });
  } finally {
    setHostRsa(hostRsa);
    setSubtleRsa(undefined);
  }
  const before = paths.subtle;
  assert.equal((await v.verifyAsync(fx.tokens.good, at)).header.kid, 'k1');
  assert.equal(paths.subtle - before, 1);
  assert.equal((await v.verifyAsync(fx.tokens.good, at)).header.kid, 'k1');
  assert.equal(paths.subtle - before, 1, 'a cached token is not checked again');
  for (const [name, want] of Object.entries(fx.expect)) {
    await assert.rejects(v.verifyAsync(fx.tokens[name], at).then(() => { if (want !== 'ok') throw new Error('accepted'); }, (e) => { throw e; }).then(() => { throw { code: 'ok' }; }), (e) => {
      assert.equal(e.code, want, name);
      return true;
    });
  }
  assert.ok(paths.subtle - before >= 2, 'the forged token reached WebCrypto');
});

test('WebCrypto keys are imported once per key set; a failing WebCrypto leaves the check to the engine', async () => {
  const { hostRsa, setHostRsa, setSubtleRsa, webCryptoRsa, paths } = await import('../../js/host.js');
  const { webcrypto } = await import('node:crypto');
  const real = webCryptoRsa(webcrypto.subtle);
  let imports = 0;
  let broken = false;
  setHostRsa(undefined);
  setSubtleRsa({
    importKey: (spki, hash) => {
      imports++;
      return broken ? Promise.reject(new Error('no WebCrypto')) : real.importKey(spki, hash);
    },
    verify: real.verify,
  });
  let v;
  try {
    v = new Verifier(opts);
  } finally {
    setHostRsa(hostRsa);
    setSubtleRsa(undefined);
  }
  for (let i = 0; i < 3; i++) assert.equal((await v.verifyAsync(fx.tokens.good, at)).header.kid, 'k1');
  assert.equal(imports, 1);
  v.setJwks(fx.jwks);
  broken = true;
  const before = paths.subtle;
  assert.equal((await v.verifyAsync(fx.tokens.good, at)).header.kid, 'k1', 'the engine verified it');
  await assert.rejects(v.verifyAsync(fx.tokens.tampered, at), (e) => e.code === 'bad_signature');
  assert.equal(imports, 3, 'a new key set is imported again, a failed import retried');
  assert.equal(paths.subtle - before, 2);
});

test('native key cache: rotated keys under a reused kid and address are never mixed up', () => {
  // Same kid, new key material, pushed into the same verifier: the cached KeyObject of the
  // old key must not verify (or refuse) tokens of the new one.
  const a = makeKey('same');
  const b = makeKey('same');
  const v = new Verifier({ jwks: { keys: [a.jwk] } });
  const ta = signToken(a, claims());
  const tb = signToken(b, claims());
  for (let i = 0; i < 20; i++) {
    v.setJwks({ keys: [a.jwk] });
    assert.equal(v.verify(ta, at).header.kid, 'same');
    rejects(() => v.verify(tb, at), 'bad_signature');
    v.setJwks({ keys: [b.jwk] });
    assert.equal(v.verify(tb, at).header.kid, 'same');
    rejects(() => v.verify(ta, at), 'bad_signature');
  }
});

test('the key report carries any kid and detail text intact (JSON escaping)', () => {
  const odd = 'q"u\\o\u0001t\u001fe\u00e9\u{1d11e}\n';
  const v = new Verifier({});
  const report = v.setJwks({ keys: [{ kty: 'EC', crv: 'P-521', kid: odd }, { ...fx.jwks.keys[0], kid: odd }] });
  assert.deepEqual(report.kids, [odd]);
  assert.equal(report.skipped[0].kid, odd);
  assert.equal(report.skipped[0].reason, 'unsupported_curve');
});

// Issue 13 point 1: an empty allow-list must never mean "anything". The core refuses it;
// the JS layer hands it over untouched and names the option the user wrote.
test('empty allow-lists are refused, naming the JS option', () => {
  for (const [options, field] of [
    [{ audience: [] }, 'audience'], [{ issuer: [] }, 'issuer'], [{ subject: [] }, 'subject'],
    [{ algorithms: [] }, 'algorithms'], [{ claims: { team: [] } }, 'claims.team'],
    [{ claims: { 'kubernetes.io.namespace': [] } }, 'claims.kubernetes.io.namespace'],
  ]) {
    assert.throws(() => new Verifier({ jwks: fx.jwks, ...options }), (e) => {
      assert.ok(e instanceof JwtError);
      assert.equal(e.code, 'bad_policy', e.message);
      assert.equal(e.field, field);
      assert.ok(e.message.startsWith(`${field}: `), e.message);
      return true;
    });
  }
  // And a token with any audience is not accepted by some verifier built anyway.
  const v = new Verifier({ ...opts, audience: ['nobody'] });
  rejects(() => v.verify(fx.tokens.good, at), 'bad_audience');
});

test('errors carry claim, jose reason and field as data', () => {
  const v = new Verifier(opts);
  const caught = (fn) => { try { fn(); } catch (e) { return e; } throw new Error('no error'); };
  const expired = caught(() => v.verify(fx.tokens.expired, at));
  assert.deepEqual([expired.code, expired.claim, expired.reason, expired.field], ['expired', 'exp', 'check_failed', undefined]);
  const k = makeKey('k1x');
  const noExp = caught(() => new Verifier({ jwks: { keys: [k.jwk] } }).verify(signToken(k, { iss: 'x' }), at));
  assert.deepEqual([noExp.code, noExp.claim, noExp.reason], ['missing_claim', 'exp', 'missing']);
  const badIss = caught(() => v.verify(fx.tokens.badIssuer, at));
  assert.deepEqual([badIss.claim, badIss.reason], ['iss', 'check_failed']);
  const sig = caught(() => v.verify(fx.tokens.forged, at));
  assert.deepEqual([sig.claim, sig.reason], [undefined, undefined]);
  const opt = caught(() => new Verifier({ maxTokenBytes: 0 }));
  assert.equal(opt.field, 'maxTokenBytes');
});

test('wwwAuthenticate: the core builds an RFC 6750 challenge', () => {
  const v = new Verifier(opts);
  const caught = (fn) => { try { fn(); } catch (e) { return e; } throw new Error('no error'); };
  const expired = caught(() => v.verify(fx.tokens.expired, at));
  assert.equal(expired.wwwAuthenticate('api'),
    `Bearer realm="api", error="invalid_token", error_description="expired: ${expired.message}"`);
  const aud = caught(() => v.verify(fx.tokens.badAudience ?? signToken(makeKey('k1'), claims({ aud: 'x' })), at));
  assert.match(aud.wwwAuthenticate('api'), /error="(insufficient_scope|invalid_token)"/);
  const missing = caught(() => v.verifyBearer(undefined, at));
  assert.equal(missing.code, 'missing_token');
  assert.equal(missing.wwwAuthenticate('api'), 'Bearer realm="api"');
  assert.equal(caught(() => v.verifyBearer('Basic abc', at)).wwwAuthenticate('api'), 'Bearer realm="api"');
  // Quotes and backslashes in the reason cannot break out of the quoted string; the
  // realm keeps only what a quoted string may hold.
  const iss = caught(() => v.verify(fx.tokens.badIssuer, at));
  assert.match(iss.message, /"/);
  assert.doesNotMatch(iss.wwwAuthenticate('api').slice('Bearer realm="api", error="invalid_token", error_description="'.length, -1), /["\\]/);
  assert.equal(iss.wwwAuthenticate('a"b\\c\u00e9'), iss.wwwAuthenticate('abc'));
  // A JwtError made by hand gets a challenge too.
  assert.equal(new JwtError('bad_audience', 'aud: nope').wwwAuthenticate('x'),
    'Bearer realm="x", error="insufficient_scope", error_description="bad_audience: aud: nope"');
  assert.throws(() => expired.wwwAuthenticate(), TypeError);
});

test('every message is printable ASCII, JS-made ones included', () => {
  const v = new Verifier({});
  const messages = [];
  for (const fn of [
    () => v.verify('x.y.z'), () => v.verify(fx.tokens.good, at), () => v.verifyBearer('Basic \u00e9'),
    () => new Verifier({ 'aud\u00e9ience': 1 }), () => new Verifier({ clockTolerance: '5 \u00e9' }),
    () => v.setJwks('-----BEGIN PUBLIC KEY-----\nMIIB'), () => v.setJwks({ kty: 'RSA', n: 'x', e: 'AQAB' }),
  ]) {
    try { fn(); } catch (e) { messages.push(e.message); }
  }
  assert.equal(messages.length, 7);
  for (const m of messages) assert.match(m, /^[\x20-\x7e]+$/, m);
});

test('durations: the core grammar (jose): 1w, 1.5m, 0.5, ms', () => {
  const at0 = { now: NOW + 3600 + 89 };
  const k = makeKey('d');
  const t = signToken(k, { exp: NOW + 3600 });
  const verdict = (clockTolerance) => {
    try { new Verifier({ jwks: { keys: [k.jwk] }, clockTolerance }).verify(t, at0); return 'ok'; } catch (e) { return e.code; }
  };
  assert.equal(verdict('1.5m'), 'ok'); // 90 s
  assert.equal(verdict('1 min'), 'expired');
  assert.equal(verdict('1w'), 'ok');
  assert.equal(verdict(89.6), 'ok'); // rounded to 90 s, as the core rounds
  assert.equal(verdict(0.5), 'expired');
  assert.equal(verdict('90000ms'), 'ok');
  for (const bad of ['-1s', '1 fortnight', NaN, Infinity, -1, '', true]) {
    rejects(() => new Verifier({ clockTolerance: bad }), 'bad_policy', /^clockTolerance: expected seconds/);
  }
});

test('typ: explicit typing compared as jose does', () => {
  const k = makeKey('t');
  const jwks = { keys: [k.jwk] };
  const at1 = signToken(k, claims(), { typ: 'at+jwt' });
  const at2 = signToken(k, claims(), { typ: 'application/AT+JWT' });
  const plain = signToken(k, claims());
  const none = signToken(k, claims(), { typ: undefined });
  for (const cacheSize of [0, 4]) {
    const v = new Verifier({ jwks, typ: 'at+jwt', cacheSize });
    assert.equal(v.verify(at1, at).payload.sub, claims().sub);
    assert.equal(v.verify(at2, at).header.typ, 'application/AT+JWT');
    for (const t of [plain, none, plain]) {
      assert.throws(() => v.verify(t, at), (e) => {
        assert.equal(e.code, 'invalid_claim');
        assert.equal(e.claim, 'typ');
        assert.equal(e.reason, 'check_failed');
        assert.match(e.message, /^typ (".*" is not an accepted type|is required)/);
        return true;
      });
    }
    // Header rules come before the claims (as jose checks typ first): an expired token of
    // the wrong type is refused for its type.
    rejects(() => v.verify(plain, { now: NOW + 7200 }), 'invalid_claim');
  }
  assert.equal(new Verifier({ jwks, typ: 'application/jwt' }).verify(plain, at).header.typ, 'JWT');
  for (const bad of ['', 3, 'application/']) rejects(() => new Verifier({ typ: bad }), 'bad_policy', /^typ:/);
});

test('mistakes get errors that say what to do', () => {
  const v = new Verifier(opts);
  rejects(() => v.verify(`Bearer ${fx.tokens.good}`, at), 'malformed', /without the Bearer prefix/);
  rejects(() => v.verify(`bearer ${fx.tokens.good}`, at), 'malformed', /bearerToken\(\)/);
  const pem = '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----\n';
  rejects(() => new Verifier({ jwks: pem }), 'jwks_malformed', /PEM.*JWKS|JWKS.*PEM/);
  rejects(() => v.setJwks(fx.jwks.keys[0]), 'jwks_malformed', /single JWK.*wrap it as \{keys:\[\.\.\.\]\}/);
  rejects(() => v.setJwks(JSON.stringify(fx.jwks.keys[0])), 'jwks_malformed', /wrap it as/);
  assert.equal(v.verify(fx.tokens.good, at).header.kid, 'k1', 'the previous keys stay');
  rejects(() => new Verifier({}).verify(fx.tokens.good, at), 'no_usable_keys', /setJwks\(\)/);
  assert.throws(() => v.verify(fx.tokens.good, { now: Date.now() }), (e) => e instanceof TypeError && /milliseconds/.test(e.message));
  rejects(() => new Verifier({ audiences: 'x' }), 'bad_policy', /did you mean audience\?/);
});

test('verify before a RemoteJwks has keys points at verifyAsync', () => {
  const jwks = new RemoteJwks('https://idp.test/jwks', { fetch: async () => new Response('{}') });
  const v = new Verifier({ jwks });
  rejects(() => v.verify(fx.tokens.good, at), 'no_usable_keys', /verifyAsync\(\)/);
});

test('RemoteJwks options: jose names in milliseconds; unknown and renamed options refused', () => {
  const fetch = async () => new Response('{}');
  const url = 'https://idp.test/jwks';
  new RemoteJwks(url, { fetch, timeoutDuration: 5000, cooldownDuration: '30s', cacheMaxAge: 600_000, cacheMinAge: 1000,
    retryDuration: 500, retryMaxDuration: '5m', storeGraceDuration: '1d', headers: {}, storeKey: 'k' });
  rejects(() => new RemoteJwks(url, { fetch, cooldown: 1 }), 'bad_policy', /^cooldown: unknown option/);
  rejects(() => new RemoteJwks(url, { fetch, kidCooldown: 30 }), 'bad_policy', /^kidCooldown: renamed cooldownDuration \(milliseconds/);
  rejects(() => new RemoteJwks(url, { fetch, fetchTimeout: 2 }), 'bad_policy', /renamed timeoutDuration/);
  rejects(() => new RemoteJwks(url, { fetch, timeoutDuration: -1 }), 'bad_policy', /^timeoutDuration: expected milliseconds/);
  rejects(() => new RemoteJwks(url, { fetch, cacheMaxAge: '10 fortnights' }), 'bad_policy', /^cacheMaxAge:/);
});

test('unverified decoding helpers', () => {
  assert.equal(decodeJwt(fx.tokens.good).sub, 'system:serviceaccount:payments:api');
  assert.equal(decodeJwt(fx.tokens.forged).sub !== undefined, true, 'no signature check: a forgery decodes too');
  assert.deepEqual(decodeProtectedHeader(fx.tokens.good), { alg: 'RS256', typ: 'JWT', kid: 'k1' });
  for (const bad of ['', 'a.b', 'a.b.c.d.e', 'e30.e30', '!!.e30.x', `${Buffer.from('[1]').toString('base64url')}.e30.x`, 42]) {
    assert.throws(() => decodeProtectedHeader(bad), (e) => e instanceof JwtError && e.code === 'malformed', String(bad));
  }
  assert.throws(() => decodeJwt('e30.bnVsbA.x'), (e) => e.code === 'malformed');
  assert.deepEqual(decodeJwt('e30.e30.x'), {});
});

test('bearerToken: the core\'s RFC 6750 parsing', () => {
  assert.equal(bearerToken(`Bearer ${fx.tokens.good}`), fx.tokens.good);
  assert.equal(bearerToken(`bEaReR ${fx.tokens.good}`), fx.tokens.good);
  assert.equal(bearerToken(undefined), null);
  assert.equal(bearerToken('Basic dXNlcg=='), null);
  assert.throws(() => bearerToken('Bearer a b'), (e) => e instanceof JwtError);
});
