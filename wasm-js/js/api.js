// The public API of the npm package. Runtime-independent: each loader (node.js,
// workerd.js, edge.js, browser.js) instantiates the wasm, then re-exports this module.
// This file translates between JS and the core; every verdict comes from the core
// (explicit typing, `typ`, is the core's `types` rule).

import {
  Core, Source, bearer_token, forbidden_codes, host_error, www_authenticate, policy_fields, parse_millis,
  parse_seconds,
} from '../pkg/jwtgate.js';
import { hostCrypto, subtleCrypto, paths } from './host.js';

// The algorithms (bit = code, see js/host.js ALGS) the synchronous host check takes:
// all of them (node:crypto and Bun's BoringSSL verify each faster than the engine).
const HOST_ALGS = 0x1ff;
// Algorithm codes (+1) this runtime's WebCrypto rejected as not supported: found once,
// then those signatures go to the wasm engine without asking.
const subtleLacks = new Set();

let forbiddenCodes;

// Where a JwtError made from a core error keeps the core's challenge (see wwwAuthenticate).
const CHALLENGE = Symbol('challenge');

// jose's `reason` vocabulary (JWTClaimValidationFailed) for errors about a claim.
const JOSE_REASON = { missing_claim: 'missing', invalid_claim: 'invalid' };

/**
 * A rejection: `code` is the core's stable snake_case code, `message` says why (printable
 * ASCII), `claim` names the claim at fault, `field` the option at fault (`bad_policy`).
 */
export class JwtError extends Error {
  #challenge;

  constructor(code, message, options) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'JwtError';
    this.code = code;
    /** The option at fault (`audience`, `claims.team`), for `bad_policy` errors. */
    this.field = options?.field;
    /** The claim at fault (`exp`, `aud`, `kubernetes.io.namespace`). */
    this.claim = options?.claim;
    /** With a claim: jose's reason, `missing`, `invalid` or `check_failed`. */
    // jose reports a wrong `typ` header as a failed check, not an invalid claim.
    this.reason = this.claim === undefined ? undefined
      : this.claim === 'typ' ? 'check_failed' : (JOSE_REASON[code] ?? 'check_failed');
    this.#challenge = options?.[CHALLENGE];
  }

  /**
   * True when the token is authentic and current but the policy refuses its audience or
   * claims: HTTP hosts answer 403 for these and 401 otherwise (the core's rule).
   */
  get forbidden() {
    forbiddenCodes ??= new Set(forbidden_codes().split(','));
    return forbiddenCodes.has(this.code);
  }

  /**
   * A ready RFC 6750 `WWW-Authenticate` value for this rejection, built by the core
   * (`Error::www_authenticate`): the realm, then `error` and `error_description` (none for
   * `missing_token`). Only characters a header may carry.
   */
  wwwAuthenticate(realm) {
    if (typeof realm !== 'string') throw new TypeError('wwwAuthenticate(realm): the realm must be a string');
    if (this.#challenge === undefined) {
      // A JwtError made outside the package: let the core build it from code and message.
      const i = this.message.indexOf(': ');
      const [subject, detail] = i > 0 ? [this.message.slice(0, i), this.message.slice(i + 2)] : ['error', this.message];
      this.#challenge = JSON.parse(host_error(String(this.code), subject, detail))[4];
    }
    return www_authenticate(realm, this.#challenge);
  }
}

// The core's errors cross the boundary as a JSON array [code, reason, field, claim,
// challenge] (wasm-js/src/lib.rs `encode`): field and claim are data, never read out of
// the reason. Anything else (a trap, a JS exception) is passed on as it is.
function coreError(encoded, cause, fromHost = false) {
  if (typeof encoded !== 'string') return encoded instanceof Error ? encoded : new JwtError('malformed', String(encoded));
  const [code, reason, field, claim, challenge] = JSON.parse(encoded);
  const error = new JwtError(code, reason, { claim: claim ?? undefined, cause, [CHALLENGE]: challenge });
  if (code === 'bad_policy' && field !== null && !fromHost) {
    // The core names its snake_case field; the user wrote the JS option.
    const dot = field.indexOf('.');
    const head = dot < 0 ? field : field.slice(0, dot);
    optionNames();
    const option = (optionOfField[head] ?? head) + (dot < 0 ? '' : field.slice(dot));
    error.field = option;
    if (reason.startsWith(`${field}: `)) error.message = option + reason.slice(field.length);
  }
  return error;
}

// An error this layer detects itself, built by the core so that it has the core's shape:
// "subject: detail" in printable ASCII (untrusted text escaped) and a challenge.
function hostError(code, subject, detail, { cause, field } = {}) {
  const error = coreError(host_error(code, subject, detail), cause, true);
  if (field !== undefined) error.field = field;
  return error;
}

const optionError = (name, detail) => hostError('bad_policy', name, detail, { field: name });

const nowSeconds = () => Date.now() / 1000;

// Past 1e11 seconds (year 5138) a "now" is almost certainly Date.now() in milliseconds,
// which would make every token look expired.
const NOW_MAX = 1e11;

function timeOf(options) {
  if (options === undefined || options === null || options.now === undefined) return nowSeconds();
  const now = options.now instanceof Date ? options.now.getTime() / 1000 : options.now;
  if (typeof now !== 'number' || !Number.isFinite(now) || now < 0) {
    throw new TypeError('options.now must be seconds since the epoch (a finite, non-negative number) or a Date');
  }
  if (now > NOW_MAX) {
    throw new TypeError(`options.now is ${now}: that looks like milliseconds; pass seconds since the epoch (Date.now() / 1000) or a Date`);
  }
  return now;
}

// Durations are read by the core's grammar (jwtgate::duration, jose's): numbers and
// strings such as "30s", "1.5m", "2 hours", "1w".
const DURATION_HINT = 'a non-negative number or a duration such as 30s, 1.5m, 2 hours, 1w';

/** Seconds (policy options, as jose): a number of seconds or a duration string. */
function seconds(value, name) {
  const text = typeof value === 'number' ? String(value) : value;
  const s = typeof text === 'string' ? parse_seconds(text) : undefined;
  if (s === undefined) throw optionError(name, `expected seconds as ${DURATION_HINT}`);
  return s;
}

/** Milliseconds (RemoteJwks options, as jose): a number of milliseconds or a duration string. */
function millis(value, name) {
  const text = typeof value === 'number' ? `${value}ms` : value;
  const ms = typeof text === 'string' ? parse_millis(text) : undefined;
  if (ms === undefined) throw optionError(name, `expected milliseconds as ${DURATION_HINT}`);
  return ms;
}

// The core's policy fields are the one list (Policy::FIELDS); a JS option is the field's
// camelCase name, or jose's name where jose has one.
const JOSE_NAMES = {
  issuers: 'issuer', audiences: 'audience', subjects: 'subject', clock_skew_seconds: 'clockTolerance',
  max_token_age_seconds: 'maxTokenAge', types: 'typ',
};
// Built on first use: the loaders instantiate the wasm after this module is evaluated.
let optionOfField;
let fieldOfOption;
function optionNames() {
  if (optionOfField === undefined) {
    optionOfField = Object.fromEntries(policy_fields().split(',').map((field) => [
      field, JOSE_NAMES[field] ?? field.replace(/_([a-z])/g, (_, c) => c.toUpperCase()),
    ]));
    fieldOfOption = Object.fromEntries(Object.entries(optionOfField).map(([f, o]) => [o, f]));
  }
  return fieldOfOption;
}
// Options of this layer, not of the core's policy.
const OTHER_OPTIONS = ['jwks', 'cacheSize'];

function unknownOption(name, known) {
  // `audiences` for `audience`, `subjects` for `subject`: say which one was meant.
  const near = known.find((k) => k === name.replace(/s$/, '') || k === `${name}s` || k.toLowerCase() === name.toLowerCase());
  return optionError(name, near ? `unknown option (did you mean ${near}?)` : `unknown option (known: ${known.join(', ')})`);
}

// Unknown options are refused: a typo such as `audiences` must not silently switch a
// check off. Empty lists go to the core as they are, which refuses them (an empty
// allow-list would accept anything).
function policyJson(options) {
  const policy = {};
  const fields = optionNames();
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const field = fields[name];
    if (field === undefined) {
      if (OTHER_OPTIONS.includes(name)) continue;
      throw unknownOption(name, [...Object.keys(fields), ...OTHER_OPTIONS]);
    }
    policy[field] = field.endsWith('_seconds') && value !== null ? seconds(value, name) : value;
  }
  return JSON.stringify(policy);
}

const decoder = new TextDecoder();

// With a cache, one token's result is shared by every request that presents it, so those
// results are deep-frozen: a handler must not be able to change what another one sees.
// Without a cache each call gets its own plain objects, as with jose.
function deepFreeze(value) {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key in value) deepFreeze(value[key]);
  }
  return value;
}

// base64url -> bytes, only for segments the core has already verified as canonical.
function b64urlBytes(s) {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// The signing input of a token the core has prepared (three canonical base64url segments;
// `dot` is the last dot): the bytes the core itself checks.
const encoder = new TextEncoder();
const signingInput = (token, dot) => encoder.encode(token.slice(0, dot));

function headerOf(token) {
  return JSON.parse(decoder.decode(b64urlBytes(token.slice(0, token.indexOf('.')))));
}

/**
 * What `verify` returns. `payload` is a plain object parsed from the exact signed JSON
 * (deep-frozen when the result is cached, see deepFreeze); `header` is decoded on first
 * access (most callers never read it, so it costs nothing then).
 */
class VerifyResult {
  #token;
  #header;
  #shared;
  constructor(token, payload, shared) {
    this.#token = token;
    this.#shared = shared;
    this.payload = shared ? deepFreeze(payload) : payload;
    if (shared) Object.freeze(this);
  }
  get header() {
    if (this.#header === undefined) {
      const header = headerOf(this.#token);
      this.#header = this.#shared ? deepFreeze(header) : header;
    }
    return this.#header;
  }
  /** jose's name for the same thing. */
  get protectedHeader() {
    return this.header;
  }
  toJSON() {
    return { header: this.header, payload: this.payload };
  }
}

class JwsResult {
  #token;
  #header;
  constructor(token, payload) {
    this.#token = token;
    this.payload = payload;
  }
  get header() {
    return (this.#header ??= headerOf(this.#token));
  }
  get protectedHeader() {
    return this.header;
  }
}

function jwksText(jwks) {
  if (typeof jwks === 'string') return jwks;
  if (jwks !== null && typeof jwks === 'object') return JSON.stringify(jwks);
  throw hostError('jwks_malformed', 'jwks', `expected a JWKS object or its JSON text, not ${jwks === null ? 'null' : typeof jwks}`);
}

// The two common mistakes with a JWKS, named on the error path only (nothing is read
// twice when the document loads): a PEM key, and a single JWK without its set.
function jwksMistake(error, text) {
  if (error.code !== 'jwks_malformed') return error;
  if (/^\s*-----BEGIN /.test(text)) {
    return hostError('jwks_malformed', 'jwks', 'this is a PEM key, and a JWKS (JSON, {keys:[...]}) is expected, not PEM: '
      + "export the key as a JWK (Node: crypto.createPublicKey(pem).export({ format: 'jwk' })) and wrap it as {keys:[jwk]}");
  }
  let doc;
  try {
    doc = JSON.parse(text);
  } catch {
    return error;
  }
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc) && 'kty' in doc && !('keys' in doc)) {
    return hostError('jwks_malformed', 'jwks', 'this is a single JWK, and a JWK Set is expected: wrap it as {keys:[...]}');
  }
  return error;
}

/**
 * Verifies RS256/RS384/RS512 JWTs against a JWKS under a policy, synchronously.
 * Memory is reclaimed by the garbage collector; `free()` is optional.
 */
export class Verifier {
  #core;
  #remote;
  #remoteVersion = -1;
  // With a cache: token -> its VerifyResult. The core still judges every call (`check`:
  // time, keys); this only saves copying the payload out of wasm and parsing it again,
  // which is most of the cost of a cache hit.
  #results;
  #resultsMax = 0;

  constructor(options = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('Verifier options must be an object');
    const { jwks, cacheSize = 0 } = options;
    if (!Number.isInteger(cacheSize) || cacheSize < 0) throw optionError('cacheSize', 'expected a non-negative integer');
    const policy = policyJson(options);
    try {
      this.#core = new Core(policy, cacheSize);
    } catch (e) {
      throw coreError(e);
    }
    if (this.#hostRsa !== undefined) this.#core.set_host(this.#hostCheck(), HOST_ALGS);
    if (cacheSize > 0) {
      this.#results = new Map();
      this.#resultsMax = cacheSize;
    }
    if (jwks instanceof RemoteJwks) this.#remote = jwks;
    else if (jwks !== undefined) this.setJwks(jwks);
  }

  // Keys imported by WebCrypto (promises of CryptoKeys), named by key index and algorithm
  // for one key-set generation and emptied when the generation changes. The SPKI comes
  // from the core's key set.
  #hostKeys = new Map();
  // The runtime's checks as the loader registered them when this verifier was made.
  #hostRsa = hostCrypto;
  #subtleRsa = hostCrypto === undefined ? subtleCrypto : undefined;

  /** Internal, for tests: how many signatures each host path checked (`{ host, subtle }`). */
  static [Symbol.for('jwtgate.paths')]() {
    return { ...paths };
  }
  #hostKeysGeneration = -1;

  #hostKey(rsa, pending, info, position) {
    if (info[1] !== this.#hostKeysGeneration) {
      this.#hostKeys.clear();
      this.#hostKeysGeneration = info[1];
    }
    const name = info[2 + position] * 16 + info[0];
    let key = this.#hostKeys.get(name);
    if (key === undefined) {
      const generation = info[1];
      key = rsa.importKey(pending.spki(position), info[0] - 1);
      // Once imported the key itself is kept (no await per token); a rejected import is
      // not kept, so the next token tries again.
      key.then((k) => {
        if (this.#hostKeysGeneration === generation) this.#hostKeys.set(name, k);
      }, () => this.#hostKeys.delete(name));
      this.#hostKeys.set(name, key);
    }
    return key;
  }

  // The function the core calls for each signature check: 1 valid, 0 invalid, 2 "cannot
  // tell" (any exception: the core's own engine decides). Its key cache is per verifier and
  // emptied with each new key set.
  #hostCheck() {
    const check = this.#hostRsa;
    const keys = (this.#nodeKeys = new Map());
    return (keyId, alg, spki, input, signature) => {
      paths.host++;
      try {
        return check(spki, alg, input, signature, keys, keyId) ? 1 : 0;
      } catch {
        return 2;
      }
    };
  }

  #nodeKeys;

  /**
   * Replaces the keys (a JWKS object or its JSON text). Returns `{ loaded, kids, skipped }`;
   * throws a `JwtError` (and keeps the previous keys) when the document is unusable.
   */
  setJwks(jwks) {
    const text = jwksText(jwks);
    let report;
    try {
      report = JSON.parse(this.#core.set_jwks(text));
    } catch (e) {
      throw jwksMistake(coreError(e), text);
    }
    this.#nodeKeys?.clear();
    return report;
  }

  /** Whether a usable key has exactly this `kid`. */
  hasKid(kid) {
    return typeof kid === 'string' && this.#core.contains_kid(kid);
  }

  /** Cache hits and misses so far. */
  cacheStats() {
    const [hits, misses] = this.#core.cache_stats();
    return { hits, misses };
  }

  #syncRemote() {
    const remote = this.#remote;
    if (remote.version !== this.#remoteVersion && remote.jwksText !== undefined) {
      try {
        this.#core.set_jwks(remote.jwksText);
      } catch (e) {
        throw coreError(e);
      }
      this.#nodeKeys?.clear();
      this.#remoteVersion = remote.version;
    }
  }

  /** Verifies a compact JWT: returns `{ header, payload }` or throws a `JwtError`. */
  verify(token, options) {
    return this.#verify(token, options, false);
  }

  #verify(token, options, async) {
    const now = this.#start(token, options);
    const known = this.#known(token, now, async);
    if (known !== undefined) return known;
    const json = this.#core.verify(token, now);
    if (json === undefined) throw this.#failure(token, async);
    return this.#result(token, json);
  }

  // verifyAsync where WebCrypto beats the wasm engine: the core prepares, WebCrypto checks
  // the signature, the core finishes. The same core steps as verify, so the same verdicts.
  async #verifySubtle(token, options) {
    const now = this.#start(token, options);
    const known = this.#known(token, now, true);
    if (known !== undefined) return known;
    const pending = this.#core.prepare(token, now);
    if (pending === undefined) throw this.#failure(token, true);
    const info = pending.info();
    // 1 valid, 0 invalid, 2 "cannot tell" (refused by the core's encoding checks, an
    // algorithm this runtime lacks, or WebCrypto threw: the wasm engine decides). A cache
    // hit (no info) has nothing to check.
    let verdict = 1;
    if (info.length !== 0) {
      verdict = 2;
      if (info[0] !== 0 && !subtleLacks.has(info[0])) {
        const rsa = this.#subtleRsa;
        try {
          const dot = token.lastIndexOf('.');
          const input = signingInput(token, dot);
          const signature = pending.signature();
          verdict = 0;
          for (let i = 2; i < info.length; i++) {
            paths.subtle++;
            let key = this.#hostKey(rsa, pending, info, i - 2);
            if (key instanceof Promise) key = await key;
            if (await rsa.verify(key, info[0] - 1, input, signature)) {
              verdict = 1;
              break;
            }
          }
        } catch (e) {
          // An algorithm the runtime's WebCrypto does not know (Ed25519 in older
          // browsers): found once, then the wasm engine checks it without asking.
          if (e?.name === 'NotSupportedError') subtleLacks.add(info[0]);
          verdict = 2;
        }
      }
    }
    const json = this.#core.finish(pending, verdict, now);
    if (json === undefined) throw this.#failure(token, true);
    return this.#result(token, json);
  }

  // What every verification starts with: the token's type, the time, fresh remote keys.
  #start(token, options) {
    if (typeof token !== 'string') throw hostError('malformed', 'token', `expected a string, not ${token === null ? 'null' : typeof token}`);
    const now = timeOf(options);
    if (this.#remote !== undefined) this.#syncRemote();
    return now;
  }

  // A token whose result this verifier holds: the core still judges it (time, keys).
  #known(token, now, async) {
    const known = this.#results?.get(token);
    if (known === undefined) return undefined;
    if (this.#core.check(token, now)) return known;
    this.#results.delete(token);
    throw this.#failure(token, async);
  }

  #result(token, json) {
    const results = this.#results;
    const result = new VerifyResult(token, JSON.parse(json), results !== undefined);
    if (results !== undefined) {
      // First in, first out, like the core's cache; Map keeps insertion order.
      if (results.size >= this.#resultsMax) results.delete(results.keys().next().value);
      results.set(token, result);
    }
    return result;
  }

  /**
   * Verifies the token of an `Authorization` header value (RFC 6750). A missing header
   * or another scheme throws a `JwtError` with code `missing_token`.
   */
  verifyBearer(authorization, options) {
    return this.verify(bearer(authorization), options);
  }

  /**
   * Signature-only check (no claim or time rule; the algorithm allow-list and size cap
   * still apply): returns `{ header, payload }` with `payload` as a `Uint8Array`.
   */
  verifyJws(token) {
    if (typeof token !== 'string') throw hostError('malformed', 'token', `expected a string, not ${token === null ? 'null' : typeof token}`);
    if (this.#remote !== undefined) this.#syncRemote();
    const bytes = this.#core.verify_jws(token);
    if (bytes === undefined) throw this.#failure(token, false);
    return new JwsResult(token, bytes);
  }

  /**
   * With a `RemoteJwks`: loads keys when needed (from the store, then the network),
   * refreshes them on schedule, and on an unknown `kid` refetches once (subject to the
   * cooldown) before giving up. In workerd, browsers and Vercel Edge the RSA signature is
   * checked with WebCrypto (faster there than the wasm engine `verify` uses); the verdict
   * is the same as `verify`'s.
   */
  verifyAsync(token, options) {
    // Not an async function: the WebCrypto path's promise is returned as it is (each
    // promise adopted costs ticks), and a synchronous failure still becomes a rejection.
    if (this.#remote === undefined) {
      if (this.#subtleRsa !== undefined) return this.#verifySubtle(token, options);
      try {
        return Promise.resolve(this.verify(token, options));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.#verifyRemote(token, options);
  }

  async #verifyRemote(token, options) {
    const remote = this.#remote;
    const subtle = this.#subtleRsa !== undefined;
    const now = timeOf(options);
    await remote._ensure(now, options?.waitUntil);
    const once = () => (subtle ? this.#verifySubtle(token, { now }) : this.#verify(token, { now }, true));
    try {
      return await once();
    } catch (e) {
      if (e.code !== 'unknown_kid' || !(await remote._refetchForKid(now))) throw e;
      return once();
    }
  }

  /** `verifyBearer` with a `RemoteJwks` (see `verifyAsync`). */
  async verifyBearerAsync(authorization, options) {
    return this.verifyAsync(bearer(authorization), options);
  }

  // The core's verdict on the last call, with what to do about the common mistakes.
  #failure(token, async) {
    const error = coreError(this.#core.last_error());
    if (error.code === 'malformed' && /^bearer[ \t]/i.test(token)) {
      return hostError('malformed', 'token', 'starts with Bearer: pass the token without the Bearer prefix, or use verifyBearer() or bearerToken()');
    }
    if (error.code !== 'no_usable_keys' || this.#core.has_keys()) return error;
    const remote = this.#remote;
    if (remote === undefined) return hostError('no_usable_keys', 'jwks', 'no JWKS has been loaded yet: pass jwks to new Verifier() or call setJwks()');
    const failure = remote.lastError;
    if (failure) return hostError('no_usable_keys', 'jwks', `no JWKS has been loaded yet; the last fetch failed: ${failure.message}`, { cause: failure });
    return hostError('no_usable_keys', 'jwks', async
      ? 'no JWKS has been loaded yet'
      : 'no JWKS has been loaded yet: a RemoteJwks fetches keys in verifyAsync() and verifyBearerAsync(); use those, or await jwks.ready() before verify()');
  }

  /** Releases the wasm memory now instead of at garbage collection (optional). */
  free() {
    this.#core.free();
  }
}

/**
 * The token of an `Authorization` header value (RFC 6750, parsed by the core), or null
 * when there is none (no header, or another scheme). Throws a `JwtError` for a malformed
 * bearer value.
 */
export function bearerToken(authorization) {
  if (authorization === undefined || authorization === null) return null;
  if (typeof authorization !== 'string') throw new TypeError('the Authorization header value must be a string');
  let token;
  try {
    token = bearer_token(authorization);
  } catch (e) {
    throw coreError(e);
  }
  return token === '' ? null : token;
}

function bearer(authorization) {
  const token = bearerToken(authorization);
  if (token !== null) return token;
  throw hostError('missing_token', 'request', authorization === undefined || authorization === null
    ? 'no Authorization header'
    : 'the Authorization header does not use the Bearer scheme');
}

// Unverified decoding, for display and routing only (which issuer, which key): nothing
// here checks a signature, a time or a policy.
function unverifiedSegment(token, index, what) {
  if (typeof token !== 'string') throw hostError('malformed', 'token', `expected a string, not ${token === null ? 'null' : typeof token}`);
  const parts = token.split('.');
  if (parts.length !== 3) throw hostError('malformed', 'token', `expected a compact JWT (three segments), got ${parts.length} segment(s)`);
  const segment = parts[index];
  let value;
  try {
    if (!/^[A-Za-z0-9_-]*$/.test(segment)) throw new Error('not base64url');
    value = JSON.parse(decoder.decode(b64urlBytes(segment)));
  } catch {
    throw hostError('malformed', 'token', `the ${what} is not base64url-encoded JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw hostError('malformed', 'token', `the ${what} is not a JSON object`);
  }
  return value;
}

/**
 * UNVERIFIED: the payload of a compact JWT, decoded without checking anything (as jose's
 * `decodeJwt`). Never trust what it returns; use `Verifier.verify` for that.
 */
export function decodeJwt(token) {
  return unverifiedSegment(token, 1, 'payload');
}

/**
 * UNVERIFIED: the protected header of a compact JWT, decoded without checking anything
 * (as jose's `decodeProtectedHeader`).
 */
export function decodeProtectedHeader(token) {
  return unverifiedSegment(token, 0, 'header');
}

const DISCOVERY_PATH = '/.well-known/openid-configuration';

// RemoteJwks options: jose's (timeoutDuration, cooldownDuration, cacheMaxAge, headers)
// and the schedule's other knobs, every duration in milliseconds.
const REMOTE_OPTIONS = [
  'discovery', 'issuer', 'fetch', 'headers', 'store', 'storeKey', 'storeGraceDuration', 'timeoutDuration',
  'cooldownDuration', 'cacheMaxAge', 'cacheMinAge', 'retryDuration', 'retryMaxDuration',
];
// The names of 0.1 counted seconds: refused with their new name rather than silently
// read in another unit.
const REMOTE_RENAMED = {
  fetchTimeout: 'timeoutDuration', kidCooldown: 'cooldownDuration', defaultTtl: 'cacheMaxAge', maxTtl: 'cacheMaxAge',
  minTtl: 'cacheMinAge', retryInitial: 'retryDuration', retryMax: 'retryMaxDuration', storeGrace: 'storeGraceDuration',
};
// The core's minimum Cache-Control lifetime (RefreshConfig::default().min_ttl).
const DEFAULT_MIN_AGE_MS = 30_000;

// What a fetch is for, as the core's Source.poll reads it.
const POLL_DUE = 0;
const POLL_UNKNOWN_KID = 1;
const POLL_NOW = 2;

// Why a fetch failed before an answer, for the core's error ("key fetch failed: ..."):
// Node's "fetch failed" alone says nothing, its cause (ECONNREFUSED, a DNS or TLS error)
// is what the operator needs; runtimes without a cause say it in the message.
function fetchFailure(e) {
  const cause = e?.cause;
  const why = cause && typeof cause === 'object'
    ? [cause.code, cause.message].filter((x) => typeof x === 'string' && x !== '').join(': ')
    : '';
  return why === '' ? String(e?.message ?? e) : why;
}

/**
 * A JWKS fetched from a URL (or found through OIDC discovery) with the runtime's `fetch`.
 * The protocol is the core's (`jwtgate::source::KeySource`, the one the Envoy filter
 * runs): which URL to fetch and when (Cache-Control clamped to [minTtl, maxTtl],
 * exponential backoff on failure, a cooldown on unknown-kid refetches), discovery and
 * rediscovery after a failure, validation before install, last good keys, versioning.
 * This class performs the fetches it asks for, shares one fetch between concurrent
 * callers, and keeps an optional `store` ({ get(key), put(key, value, { ttl }) }, e.g.
 * Workers KV or the Cache API) so that short-lived isolates start with cached keys.
 */
export class RemoteJwks {
  #source;
  #fetch;
  #headers;
  #store;
  #storeKey;
  #storeGrace;
  #timeoutMs;
  #inflight = null;
  #storeRead = null;
  /** Bumped each time new keys are loaded (the core's version); verifiers reload when it changes. */
  version = 0;
  /** The current JWKS JSON text (undefined before the first load). */
  jwksText = undefined;
  /** The error of the last failed fetch, or null. */
  lastError = null;

  constructor(url, options = {}) {
    const u = url instanceof URL ? url : new URL(String(url));
    if (options === null || typeof options !== 'object') throw new TypeError('RemoteJwks options must be an object');
    for (const name of Object.keys(options)) {
      if (REMOTE_OPTIONS.includes(name) || options[name] === undefined) continue;
      const renamed = REMOTE_RENAMED[name];
      if (renamed) throw optionError(name, `renamed ${renamed} (milliseconds, as jose, or a duration such as 30s)`);
      throw unknownOption(name, REMOTE_OPTIONS);
    }
    const {
      discovery = u.pathname.endsWith(DISCOVERY_PATH),
      // Called unbound: workerd throws "Illegal invocation" for fetch called as a method.
      fetch: fetchFn = globalThis.fetch,
      headers,
      store,
      storeKey = `jwtgate:jwks:${u.href}`,
    } = options;
    if (typeof fetchFn !== 'function') throw new TypeError('no fetch function: pass options.fetch');
    let issuer;
    if (discovery) {
      // The core always checks the discovery document's issuer (OIDC Discovery 4.3): the
      // one given, else the URL the well-known path was appended to.
      issuer = options.issuer;
      if (issuer === undefined && u.pathname.endsWith(DISCOVERY_PATH) && u.search === '' && u.hash === '') {
        issuer = u.origin + u.pathname.slice(0, -DISCOVERY_PATH.length);
      }
      if (typeof issuer !== 'string') {
        throw optionError('issuer', 'expected the issuer the discovery document must name (a string)');
      }
    }
    // jose's names and units (milliseconds); the core's schedule counts whole seconds.
    const ms = (name) => (options[name] === undefined ? undefined : millis(options[name], name));
    const secs = (v) => (v === undefined ? -1 : Math.ceil(v / 1000));
    const timeout = ms('timeoutDuration');
    const cooldown = ms('cooldownDuration');
    const maxAge = ms('cacheMaxAge');
    const minAge = ms('cacheMinAge') ?? (maxAge === undefined ? undefined : Math.min(maxAge, DEFAULT_MIN_AGE_MS));
    const retry = ms('retryDuration');
    const retryMax = ms('retryMaxDuration');
    const grace = ms('storeGraceDuration');
    this.#fetch = fetchFn;
    this.#headers = headers;
    this.#store = store;
    this.#storeKey = storeKey;
    this.#storeGrace = grace === undefined ? 86400 : Math.ceil(grace / 1000);
    // cacheMaxAge is jose's "most time between fetches": it caps a Cache-Control lifetime
    // and replaces the lifetime used without one.
    this.#source = new Source(u.href, issuer, secs(maxAge), secs(minAge), secs(maxAge), secs(retry), secs(retryMax),
      secs(cooldown), secs(timeout));
    this.#timeoutMs = timeout ?? 15000;
  }

  /** The JWKS of the OIDC issuer `issuer` (discovery at `<issuer>/.well-known/openid-configuration`). */
  static fromIssuer(issuer, options = {}) {
    return new RemoteJwks(issuer.replace(/\/+$/, '') + DISCOVERY_PATH, { issuer, ...options, discovery: true });
  }

  /** When the schedule next fetches (seconds since the epoch). */
  get nextFetchAt() {
    return this.#source.next_fetch_at();
  }

  /** Loads keys if none are loaded yet (store first, then network). Resolves to the JWKS object. */
  async ready(options) {
    await this._ensure(timeOf(options));
    if (this.jwksText === undefined) {
      const failure = this.lastError;
      throw hostError('no_usable_keys', 'jwks', `no JWKS could be loaded${failure ? `: ${failure.message}` : ''}`, { cause: failure ?? undefined });
    }
    return JSON.parse(this.jwksText);
  }

  /** Fetches now, unless a fetch is already in flight (then waits for it). Resolves to true on success. */
  async refresh(options) {
    const now = timeOf(options);
    return this.#inflight ?? this.#start(now, POLL_NOW) ?? false;
  }

  // Internal (used by Verifier): make sure keys are loaded and fresh enough.
  async _ensure(now, waitUntil) {
    if (this.jwksText === undefined && this.#store !== undefined) {
      await (this.#storeRead ??= this.#readStore());
    }
    if (this.#inflight !== null) {
      if (this.jwksText === undefined) await this.#inflight;
      return;
    }
    const p = this.#start(now, POLL_DUE);
    if (p === null) return;
    // With keys in hand, a due refresh runs in the background (stale-while-revalidate);
    // the platform's waitUntil (Workers) keeps it alive after the response.
    if (this.jwksText === undefined) await p;
    else if (typeof waitUntil === 'function') waitUntil(p);
  }

  // Internal (used by Verifier): an unknown kid was seen. Resolves to true when new keys
  // may have arrived (a fetch was waited for), false when the cooldown forbids a refetch.
  async _refetchForKid(now) {
    return this.#inflight ?? this.#start(now, POLL_UNKNOWN_KID) ?? false;
  }

  // The fetch the core asks for, if any, as the one in flight (null when there is none).
  #start(now, why) {
    const url = this.#source.poll(now, why);
    if (url === undefined) return null;
    const p = this.#drive(now, url).finally(() => {
      this.#inflight = null;
    });
    this.#inflight = p;
    return p;
  }

  // Performs the GETs the core names (the discovery document, then the JWKS) and hands
  // each outcome back; the core decides what it means. Answers are given at the time the
  // fetch started, as the schedule counts from there. Resolves to true when keys were
  // installed; never throws.
  async #drive(now, url) {
    const source = this.#source;
    // Called unbound: workerd throws "Illegal invocation" for fetch called as a method.
    const fetchFn = this.#fetch;
    let body;
    let cacheControl;
    while (url !== undefined) {
      const signal = typeof AbortSignal !== 'undefined' && AbortSignal.timeout ? AbortSignal.timeout(this.#timeoutMs) : undefined;
      let status;
      try {
        // Redirects are not followed (as in the Envoy filter): the configured URL, or the
        // discovered jwks_uri, is the only place keys come from.
        const response = await fetchFn(url, { headers: { accept: 'application/json', ...this.#headers }, signal, redirect: 'manual' });
        // Read whatever the status: the core judges it, and a drained body lets the
        // connection be reused.
        body = String(await response.text());
        status = response.status;
        // Without a status the core would read this as a failure, with the body as its cause.
        if (typeof status !== 'number') throw new TypeError('the response has no HTTP status');
        const cc = response.headers.get('cache-control');
        cacheControl = typeof cc === 'string' ? cc : undefined;
      } catch (e) {
        // Anything thrown before a whole answer (a custom fetch included) is a failed
        // fetch for the core, which must hear of every fetch it asked for.
        try {
          source.answer(now, undefined, fetchFailure(e), undefined);
        } catch (encoded) {
          this.lastError = coreError(encoded, e);
        }
        return false;
      }
      try {
        url = source.answer(now, status, body, cacheControl);
      } catch (encoded) {
        this.lastError = jwksMistake(coreError(encoded), body);
        return false;
      }
    }
    this.lastError = null;
    this.#sync();
    if (this.#store !== undefined) {
      const record = JSON.stringify({ jwks: this.jwksText, fetchedAt: now, cacheControl });
      // A failing store (thrown or rejected) must not turn a good fetch into a failure.
      try {
        const ttl = Math.max(0, this.#source.next_fetch_at() - Math.floor(now));
        await this.#store.put(this.#storeKey, record, { ttl: ttl + this.#storeGrace });
      } catch {
        // The keys are in memory; the next isolate will fetch them itself.
      }
    }
    return true;
  }

  // The core's installed keys, mirrored for verifiers (read once per version).
  #sync() {
    const version = this.#source.version();
    if (version !== this.version) {
      this.jwksText = this.#source.document();
      this.version = version;
    }
  }

  // A stored record is replayed by the core as if it had just been fetched at its
  // original time, so freshness is decided by the same Cache-Control rules.
  async #readStore() {
    try {
      const raw = await this.#store.get(this.#storeKey);
      if (typeof raw !== 'string' || this.jwksText !== undefined) return;
      const record = JSON.parse(raw);
      if (typeof record?.jwks !== 'string' || typeof record.fetchedAt !== 'number') return;
      const cacheControl = typeof record.cacheControl === 'string' ? record.cacheControl : undefined;
      if (this.#source.restore(record.fetchedAt, record.jwks, cacheControl)) this.#sync();
    } catch {
      // A broken or foreign record is ignored: the network is the source of truth.
    }
  }
}
