// Runs the examples as a user would and checks what they answer, all on 127.0.0.1:
// - examples/browser: the page in headless Chromium; a valid token and a rejected one,
//   with screenshots (test/.out/examples/*.png) whose verdict colour is checked;
// - examples/node: the node:http server;
// - examples/deno-bun: the same server file under Deno and under Bun;
// - examples/cloudflare-worker: bundled like wrangler does and run in workerd in front of
//   a local origin.
// A local JWKS server plays the IdP. Each server also gets every token of the shared corpus
// and one with an 80-character non-ASCII kid: each must be answered 401/403 with a valid
// challenge, and the server must still serve afterwards. Prints "N passed, N failed".
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { createServer } from 'node:http';
import { createServer as netServer } from 'node:net';
import { mkdirSync, symlinkSync, existsSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { makeKey, signToken } from './fixtures.mjs';
import { serve } from './runtimes/serve.mjs';
import { launch } from './runtimes/chromium.mjs';

const pkgDir = fileURLToPath(new URL('../', import.meta.url));
const repo = fileURLToPath(new URL('../../', import.meta.url));
const examples = repo + 'examples/';
const out = pkgDir + 'test/.out/examples/';
const bin = pkgDir + 'node_modules/.bin/';
mkdirSync(out, { recursive: true });

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}\n  ${String(e.stack ?? e).replace(/\n/g, '\n  ')}`);
  }
}
function expect(cond, what) {
  if (!cond) throw new Error(what);
}

// The examples depend on "jwtgate": "file:../../wasm-js"; npm install would make this link.
for (const dir of ['node', 'deno-bun', 'cloudflare-worker']) {
  const link = `${examples}${dir}/node_modules/jwtgate`;
  if (!existsSync(link)) {
    mkdirSync(`${examples}${dir}/node_modules`, { recursive: true });
    symlinkSync('../../../wasm-js', link);
  }
}

// The IdP: a JWKS on 127.0.0.1, tokens signed now.
const ISSUER = 'https://idp.test';
const AUDIENCE = 'orders-api';
const key = makeKey('live');
const now = Math.floor(Date.now() / 1000);
const claims = (extra = {}) => ({ iss: ISSUER, aud: AUDIENCE, sub: 'alice', iat: now, exp: now + 3600, ...extra });
const good = signToken(key, claims({ name: 'Zoë' }));
const expired = signToken(key, claims({ iat: now - 7200, exp: now - 3600 }));
// An ES256 issuer (as new Supabase projects sign): JWS's raw r || s signature.
const es = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const esJwk = { ...es.publicKey.export({ format: 'jwk' }), kid: 'es', alg: 'ES256', use: 'sig' };
const esInput = [{ alg: 'ES256', typ: 'JWT', kid: 'es' }, claims({ sub: 'bob' })]
  .map((o) => Buffer.from(JSON.stringify(o)).toString('base64url')).join('.');
const esToken = `${esInput}.${sign('sha256', Buffer.from(esInput), { key: es.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
const wrongAudience = signToken(key, claims({ aud: 'other' }));
// Issue 13 point 2: a kid of 80 characters with non-ASCII in it. The core's reason used
// to end in U+2026, which Node's setHeader and WHATWG Headers refuse: the Node example
// died on this one request.
const longKid = `${'k'.repeat(40)}\u00e9\u2026\u202e\ud83d\ude00"\\${'x'.repeat(34)}`;
const hostileKid = signToken({ ...key, kid: longKid }, claims());
const jwks = { keys: [key.jwk] };
const idp = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(JSON.stringify(jwks));
});
await new Promise((r) => idp.listen(0, '127.0.0.1', r));
const JWKS_URL = `http://127.0.0.1:${idp.address().port}/jwks`;

const freePort = () => new Promise((resolve) => {
  const s = netServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

// Starts a server process and waits until it answers HTTP.
async function start(cmd, args, env, port, cwd) {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return child;
    } catch {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill();
        throw new Error(`${cmd} ${args.join(' ')} did not start:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
}

// The same three requests against any of the guarded servers.
async function guardChecks(base, okBody) {
  const none = await fetch(`${base}/orders`);
  expect(none.status === 401, `no token: ${none.status}`);
  expect(none.headers.get('www-authenticate') === 'Bearer realm="api"', `challenge: ${none.headers.get('www-authenticate')}`);
  const ok = await fetch(`${base}/orders?x=1`, { headers: { authorization: `Bearer ${good}` } });
  expect(ok.status === 200, `good token: ${ok.status} ${await ok.clone().text()}`);
  await okBody(await ok.json());
  const old = await fetch(`${base}/orders`, { headers: { authorization: `Bearer ${expired}` } });
  expect(old.status === 401 && (await old.json()).error === 'expired', 'expired token');
  expect(/error="invalid_token"/.test(old.headers.get('www-authenticate')), 'invalid_token challenge');
  const aud = await fetch(`${base}/orders`, { headers: { authorization: `Bearer ${wrongAudience}` } });
  expect(aud.status === 403 && (await aud.json()).error === 'bad_audience', 'wrong audience: 403');
  expect(/error="insufficient_scope"/.test(aud.headers.get('www-authenticate')), 'insufficient_scope challenge');
  const hostile = await fetch(`${base}/orders`, { headers: { authorization: `Bearer ${hostileKid}` } });
  const hostileBody = await hostile.json();
  expect(hostile.status === 401 && hostileBody.error === 'unknown_kid', `long non-ASCII kid: ${hostile.status} ${JSON.stringify(hostileBody)}`);
  const challenge = hostile.headers.get('www-authenticate');
  expect(/^Bearer realm="api", error="invalid_token", error_description="unknown_kid: no key has kid '/.test(challenge), `challenge: ${challenge}`);
  expect(/^[\x20-\x7e]+$/.test(challenge) && /^[\x20-\x7e]+$/.test(hostileBody.message), 'printable ASCII only');
  // The server survived it.
  const after = await fetch(`${base}/orders`, { headers: { authorization: `Bearer ${good}` } });
  expect(after.status === 200, `good token after the hostile one: ${after.status}`);
}

// Every token of the shared corpus as a bearer token: none verifies against this IdP, so each
// gets a rejection whose message and challenge the server must be able to send. Tokens that
// cannot travel in a header at all (non-ASCII, spaces, over 8 KB) are left out.
const corpus = JSON.parse(readFileSync(repo + 'tests/vectors/corpus.json', 'utf8'));
const corpusTokens = corpus.cases
  .map((c) => c.token ?? c.token_repeat.prefix + c.token_repeat.unit.repeat(c.token_repeat.count) + c.token_repeat.suffix)
  .filter((t) => t.length <= 8000 && /^[\x21-\x7e]*$/.test(t));

async function corpusChecks(base) {
  const printable = /^[\x20-\x7e]+$/;
  for (const token of corpusTokens) {
    const res = await fetch(`${base}/orders`, { headers: { authorization: `Bearer ${token}` } });
    const challenge = res.headers.get('www-authenticate');
    expect(res.status === 401 || res.status === 403, `corpus token: ${res.status} for ${token.slice(0, 40)}`);
    expect(challenge !== null && printable.test(challenge) && challenge.startsWith('Bearer realm="api"'), `challenge: ${challenge}`);
    const body = await res.json();
    expect(printable.test(body.message), `message: ${body.message}`);
  }
  const after = await fetch(`${base}/orders`, { headers: { authorization: `Bearer ${good}` } });
  expect(after.status === 200, `good token after the corpus: ${after.status}`);
}

const serverEnv = { JWKS_URL, ISSUER, AUDIENCE, HOST: '127.0.0.1' };

await check('node example: node:http middleware guards every route', async () => {
  const port = await freePort();
  const child = await start('node', ['server.mjs'], { ...serverEnv, PORT: String(port) }, port, examples + 'node');
  try {
    await guardChecks(`http://127.0.0.1:${port}`, (body) => expect(body.hello === 'alice' && body.path === '/orders?x=1', JSON.stringify(body)));
    await corpusChecks(`http://127.0.0.1:${port}`);
  } finally {
    child.kill();
  }
});

for (const [runtime, cmd, args] of [
  ['deno', bin + 'deno', ['run', '--no-prompt', '--allow-net=127.0.0.1', '--allow-env', 'server.js']],
  ['bun', bin + 'bun', ['server.js']],
]) {
  await check(`deno-bun example under ${runtime}: fetch-style middleware`, async () => {
    const port = await freePort();
    const child = await start(cmd, args, { ...serverEnv, PORT: String(port) }, port, examples + 'deno-bun');
    try {
      await guardChecks(`http://127.0.0.1:${port}`, (body) => expect(body.hello === 'alice' && body.path === '/orders', JSON.stringify(body)));
      await corpusChecks(`http://127.0.0.1:${port}`);
    } finally {
      child.kill();
    }
  });
}

await check('cloudflare-worker example in workerd: guards an origin and forwards claims', async () => {
  // The origin echoes what it received.
  const origin = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      path: req.url, sub: req.headers['x-jwt-sub'], claims: req.headers['x-jwt-claims'], authorization: req.headers.authorization ?? null,
    }));
  });
  await new Promise((r) => origin.listen(0, '127.0.0.1', r));
  const dir = out + 'worker/';
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [examples + 'cloudflare-worker/src/index.js'], bundle: true, format: 'esm', outfile: dir + 'index.js',
    conditions: ['workerd', 'worker', 'browser'], loader: { '.wasm': 'copy' }, assetNames: '[name]', logLevel: 'warning',
  });
  const port = await freePort();
  writeFileSync(dir + 'config.capnp', `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .guard), (name = "loopback", network = (allow = ["local", "private", "public"])) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const guard :Workerd.Worker = (
  modules = [ (name = "index.js", esModule = embed "index.js"), (name = "jwtgate_bg.wasm", wasm = embed "jwtgate_bg.wasm") ],
  compatibilityDate = "2025-09-01",
  globalOutbound = "loopback",
  bindings = [
    (name = "ISSUER", text = "${ISSUER}"), (name = "AUDIENCE", text = "${AUDIENCE}"),
    (name = "JWKS_URL", text = "${JWKS_URL}"), (name = "ORIGIN", text = "http://127.0.0.1:${origin.address().port}"),
  ],
);
`);
  const child = await start(bin + 'workerd', ['serve', dir + 'config.capnp'], {}, port);
  try {
    await guardChecks(`http://127.0.0.1:${port}`, (body) => {
      expect(body.path === '/orders?x=1' && body.sub === 'alice' && body.authorization === null, JSON.stringify(body));
      const forwarded = JSON.parse(Buffer.from(body.claims, 'base64').toString('utf8'));
      expect(forwarded.name === 'Zoë', `claims header: ${body.claims}`);
    });
    await corpusChecks(`http://127.0.0.1:${port}`);
  } finally {
    child.kill();
    origin.close();
  }
});

await check('browser example: verdict, claims and reason, checked on screenshots', async () => {
  const server = await serve({ '/examples/browser/': examples + 'browser/', '/wasm-js/': pkgDir });
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/examples/browser/index.html`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });

    // Mean colour of a screenshot, decoded by the browser itself (no PNG library needed).
    const meanColour = (png) => page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      const sum = [0, 0, 0];
      for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) sum[k] += d[i + k];
      return sum.map((s) => s / (d.length / 4));
    }, png.toString('base64'));

    await page.fill('#token', good);
    await page.fill('#jwks', JSON.stringify({ keys: [{ kty: 'EC', kid: 'ec', crv: 'P-521', x: 'AA', y: 'AA' }, key.jwk] }));
    await page.fill('#issuer', ISSUER);
    await page.fill('#audience', AUDIENCE);
    await page.click('#verify');
    const okText = await page.textContent('#verdict');
    expect(/^Valid: signature verified with key live/.test(okText), `verdict: ${okText}`);
    const shown = JSON.parse(await page.textContent('#claims'));
    expect(shown.sub === 'alice' && shown.name === 'Zoë', 'claims shown');
    expect(/skipped #0 \(ec\): unsupported_curve/.test(await page.textContent('#keys')), 'skipped key shown');
    await page.screenshot({ path: out + 'browser-valid.png', fullPage: true });
    const [r1, g1, b1] = await meanColour(await page.locator('#verdict').screenshot());
    expect(g1 > r1 + 10 && g1 > b1, `valid verdict is green: ${[r1, g1, b1].map(Math.round)}`);

    await page.fill('#token', expired);
    await page.click('#verify');
    const badText = await page.textContent('#verdict');
    expect(/^Rejected: expired: token expired at/.test(badText), `verdict: ${badText}`);
    expect((await page.textContent('#claims')).startsWith('// NOT verified'), 'unverified claims are labelled');
    const answer = await page.textContent('#challenge');
    expect(answer.startsWith('HTTP 401\nWWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="expired: '), `challenge: ${answer}`);
    await page.screenshot({ path: out + 'browser-rejected.png', fullPage: true });
    const [r2, g2, b2] = await meanColour(await page.locator('#verdict').screenshot());
    expect(r2 > g2 + 10 && r2 > b2 + 10, `rejected verdict is red: ${[r2, g2, b2].map(Math.round)}`);

    await page.fill('#token', hostileKid);
    await page.click('#verify');
    expect(/^Rejected: unknown_kid: no key has kid "k+\\u\{e9\}/.test(await page.textContent('#verdict')), 'long kid verdict');

    // The page allows every algorithm unless narrowed: an ES256 token verifies, and is
    // refused once the list says RS256 only.
    await page.fill('#token', esToken);
    await page.fill('#jwks', JSON.stringify({ keys: [esJwk] }));
    await page.click('#verify');
    const esText = await page.textContent('#verdict');
    expect(/^Valid: signature verified with key es/.test(esText), `ES256 verdict: ${esText}`);
    await page.fill('#algorithms', 'RS256');
    await page.click('#verify');
    const narrowed = await page.textContent('#verdict');
    expect(/^Rejected: alg_not_allowed/.test(narrowed), `ES256 under RS256 only: ${narrowed}`);

    await page.fill('#jwks', '{"keys": []}');
    await page.click('#verify');
    expect(/^Rejected: no_usable_keys/.test(await page.textContent('#verdict')), 'empty JWKS reason');
    expect(errors.length === 0, `page errors: ${errors.join('; ')}`);
  } finally {
    await browser.close();
    await server.close();
  }
});

idp.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
