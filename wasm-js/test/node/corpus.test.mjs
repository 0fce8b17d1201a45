// The shared vector corpus (tests/vectors/corpus.json, format in tests/vectors/README.md):
// every case's verdict through the JS API must equal the core's expected code. Policies
// are given in the core's snake_case form and mapped to the JS option names here, which
// also proves the option mapping covers every policy field the corpus uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Verifier, JwtError } from 'jwtgate';
import { hostRsa, setHostRsa } from '../../js/host.js';

const corpus = JSON.parse(readFileSync(new URL('../../../tests/vectors/corpus.json', import.meta.url), 'utf8'));

const OPTION = {
  issuers: 'issuer', audiences: 'audience', algorithms: 'algorithms', clock_skew_seconds: 'clockTolerance',
  require_exp: 'requireExp', max_token_age_seconds: 'maxTokenAge', required_claims: 'requiredClaims',
  subjects: 'subject', claims: 'claims', max_token_bytes: 'maxTokenBytes',
};

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
function verifierFor(c, engine) {
  const key = `${c.jwks}/${c.policy}/${engine}`;
  setHostRsa(engine === 'wasm' ? undefined : nativeRsa);
  if (!verifiers.has(key)) {
    verifiers.set(key, new Verifier({ jwks: corpus.jwks[c.jwks], ...options(corpus.policies[c.policy]) }));
  }
  setHostRsa(nativeRsa);
  return verifiers.get(key);
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

for (const engine of ['node:crypto', 'wasm']) test(`corpus: ${corpus.cases.length} token cases, RSA in ${engine}`, () => {
  assert.ok(nativeRsa, 'Node registers its native RSA check');
  const wrong = [];
  for (const c of corpus.cases) {
    const v = verifierFor(c, engine);
    const token = tokenOf(c);
    const got = c.entry === 'verify_jws' ? verdict(() => v.verifyJws(token)) : verdict(() => v.verify(token, { now: c.now }));
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
});

test(`corpus: ${corpus.jwks_cases.length} JWKS cases`, () => {
  const wrong = [];
  for (const c of corpus.jwks_cases) {
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
