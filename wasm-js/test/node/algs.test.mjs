// Every algorithm on every signature path: node:crypto (verify), the wasm engine (no host
// check registered), WebCrypto (verifyAsync as in workerd and browsers). Keys and tokens are
// made with node:crypto (an independent signer), then altered the ways on which libraries
// could disagree (ECDSA r or s out of range, high s, Ed25519 S >= L, a small-order R): the
// same codes and messages on each path, and the counters say which path checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, sign, webcrypto } from 'node:crypto';
import { Verifier, JwtError } from 'jwtgate';
import { Core } from '../../pkg/jwtgate.js';
import { hostCrypto, setHostCrypto, setSubtleCrypto, webCrypto, paths } from '../../js/host.js';

const NOW = 1_800_000_000;
const b64url = (buf) => Buffer.from(buf).toString('base64url');
const enc = (obj) => b64url(JSON.stringify(obj));

const builtIn = (alg) => {
  try {
    new Core(JSON.stringify({ algorithms: [alg] }), 0).free();
    return true;
  } catch {
    return false;
  }
};

const P256_N = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
const P384_N = Buffer.from('ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973', 'hex');
const ED25519_L_LE = Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex');

// n - v for big-endian equal-length buffers.
function minus(n, v) {
  const out = Buffer.alloc(n.length);
  let borrow = 0;
  for (let i = n.length - 1; i >= 0; i--) {
    let d = n[i] - v[i] - borrow;
    borrow = d < 0 ? 1 : 0;
    if (d < 0) d += 256;
    out[i] = d;
  }
  return out;
}

const SPECS = {
  PS256: { type: 'rsa', opts: { modulusLength: 2048 }, hash: 'sha256' },
  PS384: { type: 'rsa', opts: { modulusLength: 2048 }, hash: 'sha384' },
  PS512: { type: 'rsa', opts: { modulusLength: 3072 }, hash: 'sha512' },
  ES256: { type: 'ec', opts: { namedCurve: 'P-256' }, hash: 'sha256', n: P256_N },
  ES384: { type: 'ec', opts: { namedCurve: 'P-384' }, hash: 'sha384', n: P384_N },
  EdDSA: { type: 'ed25519', opts: {}, hash: null },
};

function signer(alg) {
  const spec = SPECS[alg];
  const { privateKey, publicKey } = generateKeyPairSync(spec.type, spec.opts);
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: alg, alg };
  const key = alg.startsWith('PS')
    ? { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
    : alg.startsWith('ES') ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey;
  const token = (payload, mutate = (s) => s) => {
    const input = `${enc({ alg, kid: alg })}.${enc(payload)}`;
    const sig = Buffer.from(sign(spec.hash, Buffer.from(input), key));
    return `${input}.${b64url(mutate(sig))}`;
  };
  return { jwk, token };
}

// The tokens of one algorithm: valid ones and every alteration that must be refused (or,
// for a high-s ECDSA signature, accepted) identically on every path.
function cases(alg) {
  const { jwk, token } = signer(alg);
  const spec = SPECS[alg];
  const out = [];
  for (let i = 0; i < 4; i++) out.push([`valid ${i}`, token({ sub: `s${i}`, exp: NOW + 60 })]);
  out.push(['expired', token({ sub: 'x', exp: NOW - 600 })]);
  out.push(['flipped bit', token({ sub: 'f', exp: NOW + 60 }, (s) => { s[s.length - 1] ^= 1; return s; })]);
  out.push(['zero signature', token({ sub: 'z', exp: NOW + 60 }, (s) => s.fill(0))]);
  if (spec.n) {
    const h = spec.n.length;
    out.push(['r = 0', token({ sub: 'r0', exp: NOW + 60 }, (s) => { s.fill(0, 0, h); return s; })]);
    out.push(['s = n', token({ sub: 'sn', exp: NOW + 60 }, (s) => { spec.n.copy(s, h); return s; })]);
    out.push(['r = n', token({ sub: 'rn', exp: NOW + 60 }, (s) => { spec.n.copy(s, 0); return s; })]);
    out.push(['s + n overflows: all ones', token({ sub: 'ff', exp: NOW + 60 }, (s) => s.fill(0xff, h))]);
    // n - s: the other valid s for the same r ("high s"): accepted everywhere.
    out.push(['high s', token({ sub: 'hs', exp: NOW + 60 }, (s) => { minus(spec.n, s.subarray(h)).copy(s, h); return s; })]);
  }
  if (alg === 'EdDSA') {
    out.push(['S = L', token({ sub: 'L', exp: NOW + 60 }, (s) => { ED25519_L_LE.copy(s, 32); return s; })]);
    out.push(['S + L', token({ sub: 'SL', exp: NOW + 60 }, (s) => {
      let carry = 0;
      for (let i = 0; i < 32; i++) {
        const v = s[32 + i] + ED25519_L_LE[i] + carry;
        s[32 + i] = v & 0xff;
        carry = v >> 8;
      }
      return s;
    })]);
    const identity = Buffer.alloc(32);
    identity[0] = 1;
    out.push(['small-order R, S = 0', token({ sub: 'so', exp: NOW + 60 }, (s) => { identity.copy(s, 0); s.fill(0, 32); return s; })]);
  }
  return { jwk, cases: out };
}

async function outcome(fn) {
  try {
    const r = await fn();
    return { code: 'ok', sub: r.payload.sub };
  } catch (e) {
    assert.ok(e instanceof JwtError, String(e));
    return { code: e.code, message: e.message };
  }
}

const native = hostCrypto;
const subtle = webCrypto(webcrypto.subtle);

for (const alg of Object.keys(SPECS)) {
  test(`${alg}: node:crypto, the wasm engine and WebCrypto give the same verdicts`, { skip: !builtIn(alg) && `${alg} not built in` }, async () => {
    assert.ok(native, 'Node registers its native check');
    const { jwk, cases: list } = cases(alg);
    const make = (host, sub) => {
      setHostCrypto(host);
      setSubtleCrypto(sub);
      try {
        return new Verifier({ jwks: { keys: [jwk] }, algorithms: [alg] });
      } finally {
        setHostCrypto(native);
        setSubtleCrypto(undefined);
      }
    };
    const viaNode = make(native, undefined);
    const viaWasm = make(undefined, undefined);
    const viaSubtle = make(undefined, subtle);
    const before = { ...paths };
    const got = { node: [], wasm: [], subtle: [] };
    for (const [, token] of list) {
      got.node.push(await outcome(() => viaNode.verify(token, { now: NOW })));
      got.wasm.push(await outcome(() => viaWasm.verify(token, { now: NOW })));
      got.subtle.push(await outcome(() => viaSubtle.verifyAsync(token, { now: NOW })));
    }
    const named = (xs) => xs.map((x, i) => ({ case: list[i][0], ...x }));
    assert.deepEqual(named(got.node), named(got.wasm));
    assert.deepEqual(named(got.subtle), named(got.wasm));
    for (let i = 0; i < 4; i++) assert.equal(got.wasm[i].code, 'ok', list[i][0]);
    const high = list.findIndex(([name]) => name === 'high s');
    if (high >= 0) assert.equal(got.wasm[high].code, 'ok', 'high s is accepted (RFC 7518)');
    for (const [i, [name]] of list.entries()) {
      if (!name.startsWith('valid') && name !== 'high s' && name !== 'expired') assert.equal(got.wasm[i].code, 'bad_signature', name);
    }
    const host = paths.host - before.host;
    const sub = paths.subtle - before.subtle;
    // Malformed signatures (the core's pre-checks) never reach a host.
    const malformed = list.filter(([name]) => /^(r = |s = |S = L|S \+ L|small-order|s \+ n|zero signature)/.test(name) && !(alg.startsWith('PS') && name === 'zero signature')).length;
    assert.equal(host, list.length - malformed, `node:crypto checked ${host}`);
    const ed25519Missing = alg === 'EdDSA' && sub === 0;
    if (!ed25519Missing) assert.equal(sub, list.length - malformed, `WebCrypto checked ${sub}`);
    console.log(`# ${alg}: ${list.length} tokens; node:crypto ${host}, WebCrypto ${sub}${ed25519Missing ? ' (no Ed25519 in this WebCrypto: engine)' : ''}`);
  });
}
