// RemoteJwks against a real HTTP server on 127.0.0.1: Cache-Control, rotation, failures
// keeping the last keys, the unknown-kid cooldown, single flight, discovery and the store.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Verifier, RemoteJwks } from 'jwtgate';
import { buildFixtures } from '../fixtures.mjs';

const fx = buildFixtures();
const NOW = fx.now;

// What the server answers, per path; each test sets it up.
const state = { routes: {}, hits: {}, delayMs: 0 };
let server;
let base;

before(async () => {
  server = createServer(async (req, res) => {
    state.hits[req.url] = (state.hits[req.url] ?? 0) + 1;
    if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
    const route = state.routes[req.url];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    const { status = 200, body, cacheControl, headers = {} } = typeof route === 'function' ? route() : route;
    res.writeHead(status, { 'content-type': 'application/json', ...(cacheControl ? { 'cache-control': cacheControl } : {}), ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});

// Connections first: close() alone waits for every open one, and a keep-alive socket the
// client still holds must not keep the file from ending.
after(() => {
  server.closeAllConnections();
  return new Promise((r) => server.close(r));
});

function reset(routes) {
  state.routes = routes;
  state.hits = {};
  state.delayMs = 0;
}

// verifyAsync, collecting background refreshes so a test can wait for them.
async function verifyAt(v, token, now) {
  const pending = [];
  try {
    return await v.verifyAsync(token, { now, waitUntil: (p) => pending.push(p) });
  } finally {
    await Promise.all(pending);
  }
}

const policy = { issuer: fx.issuer, audience: fx.audience };

test('Cache-Control max-age decides when keys are refetched', async () => {
  reset({ '/jwks': { body: fx.jwks, cacheControl: 'public, max-age=100' } });
  const jwks = new RemoteJwks(`${base}/jwks`);
  const v = new Verifier({ jwks, ...policy });
  await verifyAt(v, fx.tokens.good, NOW);
  await verifyAt(v, fx.tokens.good, NOW + 50);
  assert.equal(state.hits['/jwks'], 1);
  assert.equal(jwks.nextFetchAt, NOW + 100);
  await verifyAt(v, fx.tokens.good, NOW + 101);
  assert.equal(state.hits['/jwks'], 2);
});

test('a TTL below the floor is clamped (min 30 s by default)', async () => {
  reset({ '/jwks': { body: fx.jwks, cacheControl: 'max-age=1' } });
  const v = new Verifier({ jwks: new RemoteJwks(`${base}/jwks`), ...policy });
  await verifyAt(v, fx.tokens.good, NOW);
  await verifyAt(v, fx.tokens.good, NOW + 20);
  assert.equal(state.hits['/jwks'], 1);
});

test('rotation: a token with a new kid triggers one refetch and then verifies', async () => {
  let served = fx.jwksK2Only;
  reset({ '/jwks': () => ({ body: served, cacheControl: 'max-age=3600' }) });
  const v = new Verifier({ jwks: new RemoteJwks(`${base}/jwks`), ...policy });
  await verifyAt(v, fx.tokens.goodK2, NOW);
  served = fx.jwks;
  const r = await verifyAt(v, fx.tokens.good, NOW + 1);
  assert.equal(r.header.kid, 'k1');
  assert.equal(state.hits['/jwks'], 2);
});

test('a failed refresh keeps the last good keys and backs off', async () => {
  let fail = false;
  reset({ '/jwks': () => (fail ? { status: 503, body: 'down' } : { body: fx.jwks, cacheControl: 'max-age=60' }) });
  const jwks = new RemoteJwks(`${base}/jwks`);
  const v = new Verifier({ jwks, ...policy });
  await verifyAt(v, fx.tokens.good, NOW);
  fail = true;
  const r = await verifyAt(v, fx.tokens.good, NOW + 61);
  assert.equal(r.header.kid, 'k1');
  assert.equal(state.hits['/jwks'], 2);
  assert.match(jwks.lastError.message, /HTTP 503/);
  assert.equal(jwks.nextFetchAt, NOW + 61 + 1);
  // A body without usable keys is a failure too, and the keys stay.
  fail = false;
  state.routes['/jwks'] = { body: { keys: [] } };
  await verifyAt(v, fx.tokens.good, NOW + 62);
  assert.equal(jwks.lastError.code, 'no_usable_keys');
  assert.equal(jwks.nextFetchAt, NOW + 62 + 2);
  assert.equal(v.verify(fx.tokens.good, { now: NOW + 62 }).header.kid, 'k1');
});

test('first load failing: verify says no_usable_keys and why', async () => {
  reset({ '/jwks': { status: 500, body: 'oops' } });
  const v = new Verifier({ jwks: new RemoteJwks(`${base}/jwks`), ...policy });
  await assert.rejects(v.verifyAsync(fx.tokens.good, { now: NOW }), (e) => e.code === 'no_usable_keys' && /HTTP 500/.test(e.message));
  // Within the backoff no new request goes out.
  await assert.rejects(v.verifyAsync(fx.tokens.good, { now: NOW }), (e) => e.code === 'no_usable_keys');
  assert.equal(state.hits['/jwks'], 1);
});

test('unknown kid refetches respect the cooldown', async () => {
  reset({ '/jwks': { body: fx.jwks, cacheControl: 'max-age=3600' } });
  const v = new Verifier({ jwks: new RemoteJwks(`${base}/jwks`, { cooldownDuration: 30_000 }), ...policy });
  await verifyAt(v, fx.tokens.good, NOW);
  await assert.rejects(verifyAt(v, fx.tokens.unknownKid, NOW + 1), (e) => e.code === 'unknown_kid');
  await assert.rejects(verifyAt(v, fx.tokens.unknownKid, NOW + 2), (e) => e.code === 'unknown_kid');
  await assert.rejects(verifyAt(v, fx.tokens.unknownKid, NOW + 20), (e) => e.code === 'unknown_kid');
  assert.equal(state.hits['/jwks'], 2);
  await assert.rejects(verifyAt(v, fx.tokens.unknownKid, NOW + 31), (e) => e.code === 'unknown_kid');
  assert.equal(state.hits['/jwks'], 3);
});

test('single flight: concurrent first requests share one fetch', async () => {
  reset({ '/jwks': { body: fx.jwks, cacheControl: 'max-age=600' } });
  state.delayMs = 100;
  const jwks = new RemoteJwks(`${base}/jwks`);
  const verifiers = [new Verifier({ jwks, ...policy }), new Verifier({ jwks, ...policy })];
  const all = await Promise.all(Array.from({ length: 20 }, (_, i) => verifiers[i % 2].verifyAsync(fx.tokens.good, { now: NOW })));
  assert.equal(all.length, 20);
  assert.equal(state.hits['/jwks'], 1);
  // Concurrent unknown-kid refetches also share one fetch.
  const many = await Promise.allSettled(Array.from({ length: 10 }, () => verifiers[0].verifyAsync(fx.tokens.unknownKid, { now: NOW + 1 })));
  assert.ok(many.every((r) => r.status === 'rejected' && r.reason.code === 'unknown_kid'));
  assert.equal(state.hits['/jwks'], 2);
});

test('OIDC discovery finds jwks_uri and checks the issuer', async () => {
  reset({});
  state.routes['/.well-known/openid-configuration'] = { body: { issuer: base, jwks_uri: `${base}/keys` } };
  state.routes['/keys'] = { body: fx.jwks, cacheControl: 'max-age=600' };
  const jwks = RemoteJwks.fromIssuer(base);
  assert.deepEqual((await jwks.ready({ now: NOW })).keys.map((k) => k.kid), ['k1', 'k2']);
  const wrong = new RemoteJwks(`${base}/.well-known/openid-configuration`, { issuer: 'https://other.test' });
  assert.equal(await wrong.refresh({ now: NOW }), false);
  assert.equal(wrong.lastError.code, 'bad_discovery');
});

test('a store lets a new isolate start with cached keys', async () => {
  reset({ '/jwks': { body: fx.jwks, cacheControl: 'max-age=600' } });
  const kv = new Map();
  const puts = [];
  const store = {
    async get(key) { return kv.get(key) ?? null; },
    async put(key, value, { ttl }) { puts.push(ttl); kv.set(key, value); },
  };
  const first = new Verifier({ jwks: new RemoteJwks(`${base}/jwks`, { store }), ...policy });
  await verifyAt(first, fx.tokens.good, NOW);
  assert.deepEqual(puts, [600 + 86400]);
  // A "new isolate": fresh RemoteJwks, same store, no network needed while fresh.
  const second = new Verifier({ jwks: new RemoteJwks(`${base}/jwks`, { store }), ...policy });
  await verifyAt(second, fx.tokens.good, NOW + 100);
  assert.equal(state.hits['/jwks'], 1);
  // Stale record: keys are used at once and refreshed in the background.
  state.routes['/jwks'] = { status: 503, body: 'down' };
  const third = new Verifier({ jwks: new RemoteJwks(`${base}/jwks`, { store }), ...policy });
  assert.equal((await verifyAt(third, fx.tokens.good, NOW + 700)).header.kid, 'k1');
  assert.equal(state.hits['/jwks'], 2);
});

test('a broken store never breaks verification', async () => {
  reset({ '/jwks': { body: fx.jwks } });
  for (const store of [
    { get() { throw new Error('kv down'); }, put() { return Promise.reject(new Error('kv down')); } },
    { get: async () => '{"jwks": 42}', put() { throw new Error('kv down'); } },
  ]) {
    const jwks = new RemoteJwks(`${base}/jwks`, { store });
    const v = new Verifier({ jwks, ...policy });
    assert.equal((await verifyAt(v, fx.tokens.good, NOW)).header.kid, 'k1');
    assert.equal(jwks.lastError, null);
    assert.equal(jwks.nextFetchAt, NOW + 600);
  }
});

// Hostile IdPs (issue 7): nothing a misbehaving IdP sends replaces the last good keys.
test('garbage, truncated and oversized answers keep the last good keys', async () => {
  let answer = { body: fx.jwks, cacheControl: 'max-age=60' };
  reset({ '/jwks': () => answer });
  const jwks = new RemoteJwks(`${base}/jwks`);
  const v = new Verifier({ jwks, ...policy });
  await verifyAt(v, fx.tokens.good, NOW);
  const thousands = { keys: Array.from({ length: 3000 }, (_, i) => ({ kty: 'RSA', kid: `x${i}`, n: 'AQAB', e: 'AQAB' })) };
  const bad = [
    { body: '<html>not json</html>' },
    { body: JSON.stringify(fx.jwks).slice(0, 40) },
    { body: '' },
    { body: 'null' },
    { body: thousands },
    { body: '['.repeat(100000) },
  ];
  let now = NOW + 61;
  for (const b of bad) {
    answer = b;
    const r = await verifyAt(v, fx.tokens.good, now);
    assert.equal(r.header.kid, 'k1', JSON.stringify(b).slice(0, 60));
    assert.ok(jwks.lastError, 'the failure is reported');
    now = Math.max(now, jwks.nextFetchAt) + 1;
  }
  assert.equal(state.hits['/jwks'], 1 + bad.length);
});

test('redirects are not followed', async () => {
  reset({
    '/jwks': { status: 302, body: '', headers: { location: '/elsewhere' } },
    '/elsewhere': { body: fx.jwks },
  });
  const v = new Verifier({ jwks: new RemoteJwks(`${base}/jwks`), ...policy });
  await assert.rejects(v.verifyAsync(fx.tokens.good, { now: NOW }), (e) => e.code === 'no_usable_keys' && /HTTP/.test(e.message));
  assert.equal(state.hits['/elsewhere'], undefined);
});

test('a discovery document pointing at another host is used only for that URI', async () => {
  reset({
    '/.well-known/openid-configuration': { body: { issuer: base, jwks_uri: 'http://127.0.0.2:9/jwks' } },
  });
  const jwks = RemoteJwks.fromIssuer(base, { timeoutDuration: 2000 });
  const v = new Verifier({ jwks, ...policy });
  // The other host is not ours: nothing answers there, so no keys are loaded from anywhere.
  await assert.rejects(v.verifyAsync(fx.tokens.good, { now: NOW }), (e) => e.code === 'no_usable_keys');
  assert.equal(state.hits['/jwks'], undefined);
});

test('a stalled IdP is abandoned at the fetch timeout', async () => {
  reset({ '/jwks': { body: fx.jwks } });
  state.delayMs = 1500;
  const v = new Verifier({ jwks: new RemoteJwks(`${base}/jwks`, { timeoutDuration: 200 }), ...policy });
  await assert.rejects(v.verifyAsync(fx.tokens.good, { now: NOW }), (e) => e.code === 'no_usable_keys');
  state.delayMs = 0;
});

test('a refused connection says why: the cause, its code and message', async () => {
  // A port that was just free: nothing listens there.
  const probe = createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  const port = probe.address().port;
  await new Promise((r) => probe.close(r));
  const jwks = new RemoteJwks(`http://127.0.0.1:${port}/jwks`);
  const v = new Verifier({ jwks, ...policy });
  await assert.rejects(v.verifyAsync(fx.tokens.good, { now: NOW }), (e) => {
    assert.equal(e.code, 'no_usable_keys');
    assert.match(e.message, /ECONNREFUSED/);
    assert.equal(e.cause, jwks.lastError);
    return true;
  });
  assert.equal(jwks.lastError.code, 'jwks_fetch_failed');
  // The core's reason ("key fetch failed: ..."), with the runtime's cause.
  assert.match(jwks.lastError.message, new RegExp(`^key fetch failed: ECONNREFUSED: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
  assert.ok(jwks.lastError.cause instanceof Error, 'the fetch error is the cause');
  assert.equal(jwks.lastError.cause.cause.code, 'ECONNREFUSED');
});

test('cacheMaxAge (ms, as jose) caps Cache-Control and is the lifetime without one', async () => {
  reset({ '/long': { body: fx.jwks, cacheControl: 'max-age=86400' }, '/none': { body: fx.jwks } });
  const capped = new RemoteJwks(`${base}/long`, { cacheMaxAge: 120_000 });
  await capped.refresh({ now: NOW });
  assert.equal(capped.nextFetchAt, NOW + 120);
  const bare = new RemoteJwks(`${base}/none`, { cacheMaxAge: '5m' });
  await bare.refresh({ now: NOW });
  assert.equal(bare.nextFetchAt, NOW + 300);
  // Below the 30 s floor it still applies (jose has no floor).
  const short = new RemoteJwks(`${base}/none`, { cacheMaxAge: 10_000 });
  await short.refresh({ now: NOW });
  assert.equal(short.nextFetchAt, NOW + 10);
});

// The protocol is the core's (KeySource); these check that RemoteJwks follows it.
test('after a failure the next attempt rediscovers the jwks_uri', async () => {
  let keysPath = '/keys';
  reset({
    '/.well-known/openid-configuration': () => ({ body: { issuer: base, jwks_uri: `${base}${keysPath}` } }),
    '/keys': { body: fx.jwks, cacheControl: 'max-age=60' },
    '/moved': { body: fx.jwks, cacheControl: 'max-age=60' },
  });
  const jwks = RemoteJwks.fromIssuer(base);
  assert.equal(await jwks.refresh({ now: NOW }), true);
  // The keys move; the old jwks_uri now fails, and the next attempt asks discovery again.
  keysPath = '/moved';
  state.routes['/keys'] = { status: 404, body: '' };
  assert.equal(await jwks.refresh({ now: NOW + 61 }), false);
  assert.equal(jwks.lastError.code, 'jwks_fetch_failed');
  assert.equal(await jwks.refresh({ now: NOW + 62 }), true);
  assert.equal(jwks.lastError, null);
  assert.deepEqual(state.hits, { '/.well-known/openid-configuration': 2, '/keys': 2, '/moved': 1 });
  // The same keys from elsewhere: nothing changed for the verifiers.
  assert.equal(jwks.version, 1);
});

test('discovery checks the issuer: the option, else the URL before the well-known path', async () => {
  reset({ '/.well-known/openid-configuration': { body: { issuer: 'https://elsewhere.test', jwks_uri: `${base}/keys` } } });
  const derived = new RemoteJwks(`${base}/.well-known/openid-configuration`);
  assert.equal(await derived.refresh({ now: NOW }), false);
  assert.equal(derived.lastError.code, 'bad_discovery');
  assert.throws(() => new RemoteJwks(`${base}/oidc.json`, { discovery: true }), (e) => e.code === 'bad_policy' && e.field === 'issuer');
});
