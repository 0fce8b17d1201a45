// The shared vector corpus (tests/vectors/corpus.json, format in tests/vectors/README.md):
// every case's verdict through the JS API must equal the core's expected code. Policies
// are given in the core's snake_case form and mapped to the JS option names here, which
// also proves the option mapping covers every policy field the corpus uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, validateHeaderValue } from 'node:http';
import { Verifier, JwtError } from 'jwtgate';
import { Core } from '../../pkg/jwtgate.js';
import { webcrypto } from 'node:crypto';
import { hostRsa, setHostRsa, setSubtleRsa, webCryptoRsa, paths } from '../../js/host.js';

const corpus = JSON.parse(readFileSync(new URL('../../../tests/vectors/corpus.json', import.meta.url), 'utf8'));

const OPTION = {
  issuers: 'issuer', audiences: 'audience', algorithms: 'algorithms', clock_skew_seconds: 'clockTolerance',
  require_exp: 'requireExp', max_token_age_seconds: 'maxTokenAge', required_claims: 'requiredClaims',
  subjects: 'subject', claims: 'claims', max_token_bytes: 'maxTokenBytes', types: 'typ', crit: 'crit',
};

// The package ships every algorithm (its test below fails if a build leaves one out); a
// smaller custom build would count and skip the cases it cannot run, the rest must agree.
const builtIn = (alg) => {
  try {
    new Core(JSON.stringify({ algorithms: [alg] }), 0).free();
    return true;
  } catch {
    return false;
  }
};
const MISSING = new Set(['PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA', 'Ed25519'].filter((a) => !builtIn(a)));
const FOREIGN_KTY = MISSING.has('ES256') && MISSING.has('EdDSA') ? /"kty"\s*:\s*"(EC|OKP)"/ : /$^/;
function headerAlg(token) {
  try {
    const seg = token.slice(0, token.indexOf('.')).replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(seg)).alg;
  } catch {
    return undefined;
  }
}
function needsMissing(c) {
  const algs = corpus.policies[c.policy].algorithms ?? [];
  if ([].concat(algs).some((a) => MISSING.has(a))) return true;
  if (MISSING.has(headerAlg(tokenOf(c)) ?? '')) return true;
  return FOREIGN_KTY.test(JSON.stringify(corpus.jwks[c.jwks]));
}

function options(policy) {
  const out = {};
  for (const [field, value] of Object.entries(policy)) {
    assert.ok(OPTION[field], `corpus policy field ${field} has no JS option`);
    out[OPTION[field]] = value;
  }
  return out;
}

function tokenOf(c) {
  if (c.token !== undefined) return c.token;
  const r = c.token_repeat;
  return r.prefix + r.unit.repeat(r.count) + r.suffix;
}

// One verifier per (jwks, policy) pair, as a host would hold them; in Node the RSA check
// runs in node:crypto by default, so every case also runs with the wasm engine.
const verifiers = new Map();
const nativeRsa = hostRsa;
const subtle = webCryptoRsa(webcrypto.subtle);
function verifierFor(c, engine) {
  const key = `${c.jwks}/${c.policy}/${engine}`;
  setHostRsa(engine === 'node:crypto' ? nativeRsa : undefined);
  setSubtleRsa(engine === 'subtle' ? subtle : undefined);
  if (!verifiers.has(key)) {
    verifiers.set(key, new Verifier({ jwks: corpus.jwks[c.jwks], ...options(corpus.policies[c.policy]) }));
  }
  setHostRsa(nativeRsa);
  setSubtleRsa(undefined);
  return verifiers.get(key);
}

async function verdictAsync(fn) {
  try {
    return { code: 'ok', value: await fn() };
  } catch (e) {
    assert.ok(e instanceof JwtError, `not a JwtError: ${e}`);
    assert.ok(e.message.length > 0);
    return { code: e.code, message: e.message };
  }
}

function verdict(fn) {
  try {
    return { code: 'ok', value: fn() };
  } catch (e) {
    assert.ok(e instanceof JwtError, `not a JwtError: ${e}`);
    assert.ok(e.message.length > 0);
    return { code: e.code, message: e.message };
  }
}

// Every path a signature can take: node:crypto (verify), the wasm engine (verify where no
// native check is registered), WebCrypto (verifyAsync in workerd and browsers). The same
// codes and messages on each; the counters say which path checked the signatures.
const messages = new Map();
for (const engine of ['node:crypto', 'wasm', 'subtle']) test(`corpus: ${corpus.cases.length} token cases, signatures in ${engine}`, async () => {
  assert.ok(nativeRsa, 'Node registers its native RSA check');
  assert.deepEqual([...MISSING], [], 'the package is built with every algorithm');
  const wrong = [];
  let skipped = 0;
  const before = { ...paths };
  for (const c of corpus.cases) {
    if (needsMissing(c)) {
      skipped++;
      continue;
    }
    const v = verifierFor(c, engine);
    const token = tokenOf(c);
    const got = c.entry === 'verify_jws' ? verdict(() => v.verifyJws(token))
      : engine === 'subtle' ? await verdictAsync(() => v.verifyAsync(token, { now: c.now }))
        : verdict(() => v.verify(token, { now: c.now }));
    if (!messages.has(c.name)) messages.set(c.name, got.message);
    else if (messages.get(c.name) !== got.message) wrong.push(`${c.name}: message ${got.message} differs from ${messages.get(c.name)}`);
    if (got.code !== c.expect) {
      wrong.push(`${c.name}: expected ${c.expect}, got ${got.code}${got.message ? ` (${got.message})` : ''}`);
      continue;
    }
    if (got.code === 'ok' && c.claims) {
      for (const [name, want] of Object.entries(c.claims)) {
        if (JSON.stringify(got.value.payload[name]) !== JSON.stringify(want)) wrong.push(`${c.name}: claim ${name}`);
      }
    }
    if (got.code === 'ok' && c.payload !== undefined) {
      if (new TextDecoder().decode(got.value.payload) !== c.payload) wrong.push(`${c.name}: payload bytes`);
    }
  }
  assert.deepEqual(wrong, []);
  const host = paths.host - before.host;
  const viaSubtle = paths.subtle - before.subtle;
  if (engine === 'node:crypto') assert.ok(host > 0 && viaSubtle === 0, `host ${host}, subtle ${viaSubtle}`);
  if (engine === 'wasm') assert.ok(host === 0 && viaSubtle === 0, `host ${host}, subtle ${viaSubtle}`);
  if (engine === 'subtle') assert.ok(host === 0 && viaSubtle > 0, `host ${host}, subtle ${viaSubtle}`);
  console.log(`# ${corpus.cases.length - skipped} token cases run, ${skipped} need ${[...MISSING].join('/')} (not built in); signatures: ${host} node:crypto, ${viaSubtle} WebCrypto`);
});

test(`corpus: ${corpus.jwks_cases.length} JWKS cases`, () => {
  const wrong = [];
  for (const c of corpus.jwks_cases) {
    if (FOREIGN_KTY.test(c.jwks_raw)) continue;
    const got = verdict(() => new Verifier({}).setJwks(c.jwks_raw));
    if (got.code !== c.expect) {
      wrong.push(`${c.name}: expected ${c.expect}, got ${got.code}`);
      continue;
    }
    if (got.code !== 'ok') continue;
    if (c.loaded && JSON.stringify(got.value.kids) !== JSON.stringify(c.loaded)) wrong.push(`${c.name}: loaded ${JSON.stringify(got.value.kids)}`);
    if (c.skipped) {
      const skipped = got.value.skipped.map(({ index, kid, reason }) => ({ index, kid, reason }));
      const want = c.skipped.map(({ index, kid = null, reason }) => ({ index, kid, reason }));
      if (JSON.stringify(skipped) !== JSON.stringify(want)) wrong.push(`${c.name}: skipped ${JSON.stringify(skipped)}`);
    }
  }
  assert.deepEqual(wrong, []);
});

// Policy documents straight into the core (Core::new takes the core's JSON form): the
// verdict and, for bad_policy, the field as data.
test(`corpus: ${corpus.policy_cases.length} policy cases through the core`, () => {
  assert.ok(corpus.policy_cases.length > 0);
  const wrong = [];
  for (const c of corpus.policy_cases) {
    let got = { code: 'ok' };
    try {
      new Core(c.policy_raw, 0).free();
    } catch (e) {
      const [code, reason, field] = JSON.parse(e);
      got = { code, field, reason };
    }
    if (got.code !== c.expect) wrong.push(`${c.name}: expected ${c.expect}, got ${got.code} (${got.reason})`);
    else if (c.field !== undefined && got.field !== c.field) wrong.push(`${c.name}: field ${got.field}, expected ${c.field}`);
  }
  assert.deepEqual(wrong, []);
});

// The same documents through the JS API: each core field given as its JS option must get
// the same verdict, with the field named as the user wrote it.
test('corpus: policy cases through new Verifier name the JS option', () => {
  const wrong = [];
  for (const c of corpus.policy_cases) {
    const doc = JSON.parse(c.policy_raw);
    if (!Object.keys(doc).every((f) => OPTION[f])) continue; // a core-only spelling (unknown field)
    const got = verdict(() => new Verifier(options(doc)));
    if (got.code !== c.expect) {
      wrong.push(`${c.name}: expected ${c.expect}, got ${got.code}`);
      continue;
    }
    if (c.field === undefined) continue;
    const [head, ...rest] = c.field.split('.');
    const option = [OPTION[head], ...rest].join('.');
    let field;
    try {
      new Verifier(options(doc));
    } catch (e) {
      field = e.field;
      if (!e.message.startsWith(`${option}: `)) wrong.push(`${c.name}: message ${e.message}`);
    }
    if (field !== option) wrong.push(`${c.name}: field ${field}, expected ${option}`);
  }
  assert.deepEqual(wrong, []);
});

// Every error a corpus case produces must be usable in an HTTP answer as it is: its
// message and its wwwAuthenticate() value go through WHATWG Headers and through Node's
// own header validation (which killed the old Node example on a non-ASCII reason).
test('corpus: every error message and challenge is a valid header value', async () => {
  const errors = [];
  const collect = (fn) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof JwtError, String(e));
      errors.push(e);
    }
  };
  for (const c of corpus.cases) {
    if (needsMissing(c)) continue;
    const v = verifierFor(c, 'node:crypto');
    const token = tokenOf(c);
    collect(() => (c.entry === 'verify_jws' ? v.verifyJws(token) : v.verify(token, { now: c.now })));
  }
  for (const c of corpus.jwks_cases) collect(() => new Verifier({}).setJwks(c.jwks_raw));
  for (const c of corpus.policy_cases) {
    const doc = JSON.parse(c.policy_raw);
    collect(() => new Verifier(Object.keys(doc).every((f) => OPTION[f]) ? options(doc) : doc));
  }
  // A kid of 80 characters with non-ASCII in it: the case that crashed the example.
  const kid = `${'k'.repeat(40)}\u00e9\u2026\u202e\ud83d\ude00"\\${'x'.repeat(34)}`;
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  collect(() => new Verifier({ jwks: corpus.jwks[corpus.cases[0].jwks] }).verify(`${b64({ alg: 'RS256', kid })}.${b64({ exp: 1 })}.AAAA`));
  assert.ok(errors.length > corpus.cases.length / 2, `${errors.length} errors`);
  assert.ok(errors.some((e) => e.code === 'unknown_kid' && e.message.includes('\\u{e9}')), 'the long non-ASCII kid is escaped');

  const printable = /^[\x20-\x7e]*$/;
  for (const e of errors) {
    for (const value of [e.message, e.wwwAuthenticate('api'), e.wwwAuthenticate('r\u00e9alm "x"')]) {
      assert.match(value, printable, `${e.code}: ${value}`);
      new Headers({ 'www-authenticate': value, 'x-reason': value });
      // What res.setHeader and res.writeHead run (ERR_INVALID_CHAR was the crash).
      validateHeaderValue('www-authenticate', value);
    }
  }
  // And one real answer carrying the long-kid error, through node:http and fetch.
  const kidError = errors.find((e) => e.code === 'unknown_kid' && e.message.includes('\\u{e9}'));
  const server = createServer((req, res) => {
    res.setHeader('x-reason', kidError.message);
    res.writeHead(401, { 'www-authenticate': kidError.wwwAuthenticate('api') }).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const res = await fetch(`http://127.0.0.1:${server.address().port}/`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('x-reason'), kidError.message);
    assert.match(res.headers.get('www-authenticate'), /^Bearer realm="api", error="invalid_token", error_description="unknown_kid: /);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
