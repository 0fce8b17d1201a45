// The smoke suite every runtime runs (Node, Deno, Bun, workerd, Chromium): the public
// API through the package's own entry point, on fixtures made by fixtures.mjs.
// Runtime-neutral: no node: imports, no network (RemoteJwks gets an in-memory fetch).

export async function smoke(lib, fx) {
  const { Verifier, JwtError, RemoteJwks, decodeJwt, decodeProtectedHeader, bearerToken } = lib;
  const results = [];
  const test = async (name, fn) => {
    try {
      await fn();
      results.push({ name, ok: true });
    } catch (e) {
      results.push({ name, ok: false, error: String((e && e.stack) || e) });
    }
  };
  const eq = (a, b, what) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${what}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);
  };
  const codeOf = (fn) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof JwtError)) throw new Error(`not a JwtError: ${e}`);
      if (!(e instanceof Error)) throw new Error('JwtError is not an Error');
      if (typeof e.message !== 'string' || e.message.length === 0) throw new Error(`no message for ${e.code}`);
      return e.code;
    }
    return 'ok';
  };
  const opts = { jwks: fx.jwks, issuer: fx.issuer, audience: fx.audience };
  const at = { now: fx.now };

  await test('verifies a good token and returns plain claims', () => {
    const v = new Verifier(opts);
    const { header, payload } = v.verify(fx.tokens.good, at);
    eq(payload.sub, 'system:serviceaccount:payments:api', 'sub');
    eq(payload['kubernetes.io'], { namespace: 'payments' }, 'nested claim');
    eq(Object.getPrototypeOf(payload), Object.prototype, 'payload is a plain object');
    eq([header.alg, header.kid], ['RS256', 'k1'], 'header');
  });

  await test('every fixture gets the expected verdict code', () => {
    const v = new Verifier(opts);
    for (const [name, want] of Object.entries(fx.expect)) {
      eq(codeOf(() => v.verify(fx.tokens[name], at)), want, name);
    }
  });

  await test('errors say whether the answer is 403 or 401', () => {
    const v = new Verifier(opts);
    const err = (t) => { try { v.verify(t, at); } catch (e) { return e; } };
    eq([err(fx.tokens.badAudience).forbidden, err(fx.tokens.expired).forbidden, err(fx.tokens.forged).forbidden], [true, false, false], 'forbidden');
  });

  await test('setJwks reports loaded and skipped keys', () => {
    const v = new Verifier({ issuer: fx.issuer });
    const report = v.setJwks(JSON.stringify(fx.jwksWithJunk));
    eq(report.loaded, 1, 'loaded');
    eq(report.skipped.map((s) => [s.index, s.kid, s.reason]), [[0, 'ec', 'unsupported_curve'], [2, 'k2', 'wrong_use']], 'skipped');
    eq(codeOf(() => v.setJwks({ keys: [] })), 'no_usable_keys', 'empty set');
    eq(codeOf(() => v.setJwks('{nope')), 'jwks_malformed', 'bad json');
    // The failed pushes kept the last good keys.
    eq(codeOf(() => v.verify(fx.tokens.good, at)), 'ok', 'last good keys');
  });

  await test('no keys yet: no_usable_keys', () => {
    eq(codeOf(() => new Verifier({}).verify(fx.tokens.good, at)), 'no_usable_keys', 'no keys');
  });

  await test('verifyBearer parses RFC 6750 headers', () => {
    const v = new Verifier(opts);
    eq(v.verifyBearer(`Bearer ${fx.tokens.good}`, at).payload.iss, fx.issuer, 'bearer');
    eq(codeOf(() => v.verifyBearer(null, at)), 'missing_token', 'absent');
    eq(codeOf(() => v.verifyBearer('Basic dXNlcg==', at)), 'missing_token', 'basic');
    eq(codeOf(() => v.verifyBearer('Bearer a b', at)), 'malformed', 'two tokens');
    eq(codeOf(() => v.verifyBearer(`Bearer ${fx.tokens.expired}`, at)), 'expired', 'expired');
  });

  await test('verifyJws checks the signature only', () => {
    const v = new Verifier(opts);
    const { header, payload } = v.verifyJws(fx.tokens.jwsBinary);
    eq(Array.from(payload), [0, 1, 2, 255], 'binary payload');
    eq(header.kid, 'k1', 'kid');
    eq(v.verifyJws(fx.tokens.expired).header.alg, 'RS256', 'expired is fine for a JWS');
    eq(codeOf(() => v.verifyJws(fx.tokens.tampered)), 'bad_signature', 'tampered');
  });

  await test('policy options map to the core policy', () => {
    eq(codeOf(() => new Verifier({ ...opts, audiences: ['x'] })), 'bad_policy', 'unknown option');
    eq(codeOf(() => new Verifier({ ...opts, algorithms: ['HS256'] })), 'bad_policy', 'bad algorithm');
    const v = new Verifier({ ...opts, clockTolerance: '2h' });
    eq(codeOf(() => v.verify(fx.tokens.expired, at)), 'ok', 'clock tolerance as duration');
    eq(codeOf(() => new Verifier({ ...opts, subject: 'system:serviceaccount:billing:*' }).verify(fx.tokens.good, at)), 'claim_rule_failed', 'subject');
    eq(codeOf(() => new Verifier({ ...opts, claims: { 'kubernetes.io.namespace': ['payments'] } }).verify(fx.tokens.good, at)), 'ok', 'claim rule');
    eq(codeOf(() => new Verifier({ ...opts, requiredClaims: ['jti'] }).verify(fx.tokens.good, at)), 'missing_claim', 'required claim');
    eq(codeOf(() => new Verifier({ ...opts, maxTokenBytes: 100 }).verify(fx.tokens.good, at)), 'token_too_large', 'size cap');
    eq(codeOf(() => new Verifier({ ...opts, requireExp: false }).verify(fx.tokens.noExp, at)), 'ok', 'requireExp false');
  });

  await test('empty allow-lists are refused, naming the option', () => {
    for (const [options, field] of [[{ audience: [] }, 'audience'], [{ issuer: [] }, 'issuer'], [{ subject: [] }, 'subject'],
      [{ algorithms: [] }, 'algorithms'], [{ claims: { team: [] } }, 'claims.team']]) {
      let e;
      try { new Verifier({ ...opts, ...options }); } catch (x) { e = x; }
      eq([e?.code, e?.field], ['bad_policy', field], field);
    }
  });

  await test('errors: claim, field, and a wwwAuthenticate value every Headers accepts', () => {
    const v = new Verifier(opts);
    const err = (fn) => { try { fn(); } catch (e) { return e; } throw new Error('no error'); };
    const expired = err(() => v.verify(fx.tokens.expired, at));
    eq([expired.claim, expired.reason], ['exp', 'check_failed'], 'claim');
    eq(expired.wwwAuthenticate('api'), `Bearer realm="api", error="invalid_token", error_description="expired: ${expired.message}"`, 'challenge');
    eq(err(() => v.verifyBearer(undefined, at)).wwwAuthenticate('api'), 'Bearer realm="api"', 'missing token');
    // A long kid with characters a header cannot carry, straight into Headers.
    const b64 = (o) => btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(o)))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const kid = `${'k'.repeat(40)}\u00e9\u2026"\\${'x'.repeat(36)}`;
    const hostile = err(() => v.verify(`${b64({ alg: 'RS256', kid })}.${b64({ exp: 1 })}.AAAA`, at));
    eq(hostile.code, 'unknown_kid', 'long kid');
    const h = new Headers({ 'www-authenticate': hostile.wwwAuthenticate('api'), 'x-reason': hostile.message });
    eq(/^[\x20-\x7e]+$/.test(h.get('www-authenticate') + h.get('x-reason')), true, 'printable ASCII');
  });

  await test('typ, durations and the unverified helpers', () => {
    eq(codeOf(() => new Verifier({ ...opts, typ: 'at+jwt' }).verify(fx.tokens.good, at)), 'invalid_claim', 'typ JWT refused');
    eq(codeOf(() => new Verifier({ ...opts, typ: 'application/jwt' }).verify(fx.tokens.good, at)), 'ok', 'typ JWT');
    eq(codeOf(() => new Verifier({ ...opts, clockTolerance: '1w' }).verify(fx.tokens.expired, at)), 'ok', '1w');
    eq(decodeJwt(fx.tokens.good).iss, fx.issuer, 'decodeJwt');
    eq(decodeProtectedHeader(fx.tokens.good).kid, 'k1', 'decodeProtectedHeader');
    eq(bearerToken(`Bearer ${fx.tokens.good}`), fx.tokens.good, 'bearerToken');
  });

  await test('the cache serves a repeated token and still checks time', () => {
    const v = new Verifier({ ...opts, cacheSize: 16 });
    v.verify(fx.tokens.good, at);
    v.verify(fx.tokens.good, at);
    eq(v.cacheStats().hits, 1, 'hits');
    eq(codeOf(() => v.verify(fx.tokens.good, { now: fx.now + 7200 })), 'expired', 'expired on a hit');
  });

  await test('RemoteJwks loads keys with the runtime fetch and refetches on an unknown kid', async () => {
    let served = fx.jwksK2Only;
    let calls = 0;
    const fetch = async () => {
      calls++;
      return new Response(JSON.stringify(served), { headers: { 'content-type': 'application/json', 'cache-control': 'max-age=300' } });
    };
    const jwks = new RemoteJwks('https://idp.test/jwks', { fetch });
    const v = new Verifier({ jwks, issuer: fx.issuer, audience: fx.audience });
    eq((await v.verifyAsync(fx.tokens.goodK2, at)).payload.iss, fx.issuer, 'first load');
    served = fx.jwks; // rotation: k1 appears
    eq((await v.verifyAsync(fx.tokens.good, at)).header.kid, 'k1', 'refetch on unknown kid');
    eq(calls, 2, 'fetches');
    eq(v.verify(fx.tokens.good, at).header.kid, 'k1', 'sync verify uses the loaded keys');
  });

  // The signature path each runtime's verifyAsync takes (internal counters, never timing):
  // WebCrypto in workerd and browsers, node:crypto in Node and Bun, the wasm engine in Deno.
  const paths = Verifier[Symbol.for('jwtgate.paths')];
  const runtime = globalThis.Deno !== undefined ? 'deno'
    : globalThis.navigator?.userAgent === 'Cloudflare-Workers' ? 'workerd'
      : globalThis.Bun !== undefined || globalThis.process?.versions?.node !== undefined ? 'node'
        : 'browser';
  const expected = { deno: 'engine', workerd: 'subtle', browser: 'subtle', node: 'host' }[runtime];

  await test(`verifyAsync checks signatures in ${expected === 'subtle' ? 'WebCrypto' : expected === 'host' ? 'node:crypto' : 'the wasm engine'} (${runtime})`, async () => {
    const v = new Verifier(opts);
    const before = paths();
    eq((await v.verifyAsync(fx.tokens.good, at)).header.kid, 'k1', 'good');
    let code;
    try {
      await v.verifyAsync(fx.tokens.forged, at);
    } catch (e) {
      code = e.code;
    }
    eq(code, 'bad_signature', 'forged');
    const after = paths();
    const ran = { host: after.host - before.host, subtle: after.subtle - before.subtle };
    eq(ran, { host: expected === 'host' ? 2 : 0, subtle: expected === 'subtle' ? 2 : 0 }, 'signature checks by path');
    // Synchronous verify keeps the wasm engine (or node:crypto where it is synchronous).
    v.verify(fx.tokens.goodK2, at);
    eq(paths().subtle, after.subtle, 'verify never uses WebCrypto');
  });

  await test('the corpus gets the same verdicts through verify and verifyAsync', async () => {
    const OPTION = {
      issuers: 'issuer', audiences: 'audience', algorithms: 'algorithms', clock_skew_seconds: 'clockTolerance',
      require_exp: 'requireExp', max_token_age_seconds: 'maxTokenAge', required_claims: 'requiredClaims',
      subjects: 'subject', claims: 'claims', max_token_bytes: 'maxTokenBytes', types: 'typ', crit: 'crit',
    };
    const { cases, jwks, policies } = fx.corpus;
    const verifiers = new Map();
    const wrong = [];
    const before = paths();
    for (const c of cases) {
      const key = `${c.jwks}/${c.policy}`;
      if (!verifiers.has(key)) {
        const options = Object.fromEntries(Object.entries(policies[c.policy]).map(([f, v]) => [OPTION[f], v]));
        verifiers.set(key, new Verifier({ jwks: jwks[c.jwks], ...options }));
      }
      const v = verifiers.get(key);
      const outcome = async (fn) => {
        try {
          await fn();
          return 'ok';
        } catch (e) {
          if (!(e instanceof JwtError)) return `not a JwtError: ${e}`;
          return `${e.code}: ${e.message}`;
        }
      };
      const sync = await outcome(() => v.verify(c.token, { now: c.now }));
      const viaAsync = await outcome(() => v.verifyAsync(c.token, { now: c.now }));
      if (sync.split(':')[0] !== c.expect) wrong.push(`${c.name}: verify gave ${sync}, expected ${c.expect}`);
      if (viaAsync !== sync) wrong.push(`${c.name}: verifyAsync gave ${viaAsync}, verify ${sync}`);
    }
    eq(wrong, [], 'verdicts');
    if (cases.length < 300) throw new Error(`only ${cases.length} corpus cases`);
    if (expected === 'subtle' && paths().subtle - before.subtle < 100) throw new Error('verifyAsync did not use WebCrypto');
  });

  return results;
}
