// The public API of the npm package. Runtime-independent: each loader (node.js,
// workerd.js, edge.js, browser.js) instantiates the wasm, then re-exports this module.
// This file translates between JS and the core; every verdict comes from the core.

import { Core, Schedule, bearer_token, discovery_jwks_uri, forbidden_codes } from '../pkg/jwtgate.js';
import { hostRsa } from './host.js';

let forbiddenCodes;

/** A rejection: `code` is the core's stable snake_case code, `message` says why. */
export class JwtError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'JwtError';
    this.code = code;
  }

  /**
   * True when the token is authentic and current but the policy refuses its audience or
   * claims: HTTP hosts answer 403 for these and 401 otherwise (the core's rule).
   */
  get forbidden() {
    forbiddenCodes ??= new Set(forbidden_codes().split(','));
    return forbiddenCodes.has(this.code);
  }
}

// The core's errors cross the boundary as "code\nreason".
function decodeError(text) {
  if (typeof text !== 'string') return text instanceof Error ? text : new JwtError('malformed', String(text));
  const i = text.indexOf('\n');
  return i < 0 ? new JwtError(text, text) : new JwtError(text.slice(0, i), text.slice(i + 1));
}

const nowSeconds = () => Date.now() / 1000;

function timeOf(options) {
  if (options === undefined || options === null || options.now === undefined) return nowSeconds();
  const now = options.now instanceof Date ? options.now.getTime() / 1000 : options.now;
  if (typeof now !== 'number' || !Number.isFinite(now) || now < 0) {
    throw new TypeError('options.now must be seconds since the epoch (a finite, non-negative number) or a Date');
  }
  return now;
}

const UNITS = { s: 1, sec: 1, secs: 1, second: 1, seconds: 1, m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600, d: 86400, day: 86400, days: 86400 };

// jose accepts durations as seconds or as strings like "30s" / "2 h"; so do we.
function seconds(value, name) {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const m = /^(\d+)\s*([a-z]*)$/i.exec(value.trim());
    const unit = m && (m[2] === '' ? 1 : UNITS[m[2].toLowerCase()]);
    if (unit) return Number(m[1]) * unit;
  }
  throw new JwtError('bad_policy', `${name}: expected a non-negative integer of seconds or a duration like "30s", "5m", "2h"`);
}

// JS option name -> core policy field (Policy::from_json). Unknown options are refused:
// a typo such as `audiences` must not silently switch a check off.
const OPTION_FIELDS = {
  issuer: 'issuers', audience: 'audiences', algorithms: 'algorithms', clockTolerance: 'clock_skew_seconds',
  maxTokenAge: 'max_token_age_seconds', requiredClaims: 'required_claims', subject: 'subjects', claims: 'claims',
  maxTokenBytes: 'max_token_bytes', requireExp: 'require_exp',
};
const OTHER_OPTIONS = new Set(['jwks', 'cacheSize']);
const FIELD_OPTIONS = Object.fromEntries(Object.entries(OPTION_FIELDS).map(([k, v]) => [v, k]));

function policyJson(options) {
  const policy = {};
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const field = OPTION_FIELDS[name];
    if (field === undefined) {
      if (OTHER_OPTIONS.has(name)) continue;
      throw new JwtError('bad_policy', `${name}: unknown option (known: ${[...Object.keys(OPTION_FIELDS), ...OTHER_OPTIONS].join(', ')})`);
    }
    if (name === 'clockTolerance') policy[field] = seconds(value, name);
    else if (name === 'maxTokenAge') policy[field] = value === null ? null : seconds(value, name);
    else if (name === 'subject' && typeof value === 'string') policy[field] = [value];
    else policy[field] = value;
  }
  return JSON.stringify(policy);
}

// Core errors name snake_case fields; users wrote camelCase options.
function renameFields(error) {
  if (error.code !== 'bad_policy') return error;
  const m = /^([a-z_]+)/.exec(error.message);
  const option = m && FIELD_OPTIONS[m[1]];
  if (option) error.message = option + error.message.slice(m[1].length);
  return error;
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
  throw new JwtError('jwks_malformed', 'jwks must be a JWKS object or its JSON text');
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
    if (!Number.isInteger(cacheSize) || cacheSize < 0) throw new JwtError('bad_policy', 'cacheSize: expected a non-negative integer');
    const policy = policyJson(options);
    try {
      this.#core = new Core(policy, cacheSize);
    } catch (e) {
      throw renameFields(decodeError(e));
    }
    if (hostRsa !== undefined) this.#core.set_host_rsa(this.#hostCheck());
    if (cacheSize > 0) {
      this.#results = new Map();
      this.#resultsMax = cacheSize;
    }
    if (jwks instanceof RemoteJwks) this.#remote = jwks;
    else if (jwks !== undefined) this.setJwks(jwks);
  }

  // The function the core calls for each RSA check: 1 valid, 0 invalid, 2 "cannot tell"
  // (any exception: the core's own engine decides). Its key cache is per verifier and
  // emptied with each new key set.
  #hostCheck() {
    const check = hostRsa;
    const keys = (this.#hostKeys = new Map());
    return (keyId, alg, spki, input, signature) => {
      try {
        return check(spki, alg, input, signature, keys, keyId) ? 1 : 0;
      } catch {
        return 2;
      }
    };
  }

  #hostKeys;

  /**
   * Replaces the keys (a JWKS object or its JSON text). Returns `{ loaded, kids, skipped }`;
   * throws a `JwtError` (and keeps the previous keys) when the document is unusable.
   */
  setJwks(jwks) {
    let report;
    try {
      report = JSON.parse(this.#core.set_jwks(jwksText(jwks)));
    } catch (e) {
      throw decodeError(e);
    }
    this.#hostKeys?.clear();
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
        throw decodeError(e);
      }
      this.#hostKeys?.clear();
      this.#remoteVersion = remote.version;
    }
  }

  /** Verifies a compact JWT: returns `{ header, payload }` or throws a `JwtError`. */
  verify(token, options) {
    if (typeof token !== 'string') throw new JwtError('malformed', 'the token must be a string');
    const now = timeOf(options);
    if (this.#remote !== undefined) this.#syncRemote();
    const results = this.#results;
    if (results !== undefined) {
      const known = results.get(token);
      if (known !== undefined) {
        if (this.#core.check(token, now)) return known;
        results.delete(token);
        throw this.#noKeysWhy(decodeError(this.#core.last_error()));
      }
    }
    const json = this.#core.verify(token, now);
    if (json === undefined) throw this.#noKeysWhy(decodeError(this.#core.last_error()));
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
    if (typeof token !== 'string') throw new JwtError('malformed', 'the token must be a string');
    if (this.#remote !== undefined) this.#syncRemote();
    const bytes = this.#core.verify_jws(token);
    if (bytes === undefined) throw this.#noKeysWhy(decodeError(this.#core.last_error()));
    return new JwsResult(token, bytes);
  }

  /**
   * With a `RemoteJwks`: loads keys when needed (from the store, then the network),
   * refreshes them on schedule, and on an unknown `kid` refetches once (subject to the
   * cooldown) before giving up. Without one, the same as `verify`.
   */
  async verifyAsync(token, options) {
    const remote = this.#remote;
    if (remote === undefined) return this.verify(token, options);
    const now = timeOf(options);
    await remote._ensure(now, options?.waitUntil);
    try {
      return this.verify(token, { now });
    } catch (e) {
      if (e.code !== 'unknown_kid' || !(await remote._refetchForKid(now))) throw e;
      return this.verify(token, { now });
    }
  }

  /** `verifyBearer` with a `RemoteJwks` (see `verifyAsync`). */
  async verifyBearerAsync(authorization, options) {
    return this.verifyAsync(bearer(authorization), options);
  }

  #noKeysWhy(error) {
    const failure = this.#remote?.lastError;
    if (error.code === 'no_usable_keys' && this.#remoteVersion < 0 && failure) {
      error.message += ` (last JWKS fetch: ${failure.message})`;
    }
    return error;
  }

  /** Releases the wasm memory now instead of at garbage collection (optional). */
  free() {
    this.#core.free();
  }
}

function bearer(authorization) {
  if (authorization === undefined || authorization === null) {
    throw new JwtError('missing_token', 'no Authorization header');
  }
  if (typeof authorization !== 'string') throw new TypeError('the Authorization header value must be a string');
  let token;
  try {
    token = bearer_token(authorization);
  } catch (e) {
    throw decodeError(e);
  }
  if (token === '') throw new JwtError('missing_token', 'the Authorization header does not use the Bearer scheme');
  return token;
}

const DISCOVERY_PATH = '/.well-known/openid-configuration';

/**
 * A JWKS fetched from a URL (or found through OIDC discovery) with the runtime's `fetch`.
 * When to fetch is decided by the core's refresh schedule (Cache-Control clamped to
 * [minTtl, maxTtl], exponential backoff on failure, a cooldown on unknown-kid refetches),
 * the same schedule the Envoy filter uses. Failures keep the last good keys; concurrent
 * callers share one fetch. An optional `store` ({ get(key), put(key, value, { ttl }) },
 * e.g. Workers KV or the Cache API) lets short-lived isolates start with cached keys.
 */
export class RemoteJwks {
  #url;
  #discovery;
  #issuer;
  #fetch;
  #headers;
  #store;
  #storeKey;
  #storeGrace;
  #schedule;
  #timeoutMs;
  #inflight = null;
  #storeRead = null;
  #jwksUri;
  #probe;
  /** Bumped each time new keys are loaded; verifiers reload when it changes. */
  version = 0;
  /** The current JWKS JSON text (undefined before the first load). */
  jwksText = undefined;
  /** The error of the last failed fetch, or null. */
  lastError = null;

  constructor(url, options = {}) {
    const u = url instanceof URL ? url : new URL(String(url));
    const {
      discovery = u.pathname.endsWith(DISCOVERY_PATH),
      issuer,
      // Called unbound: workerd throws "Illegal invocation" for fetch called as a method.
      fetch: fetchFn = globalThis.fetch,
      headers,
      store,
      storeKey = `jwtgate:jwks:${u.href}`,
      storeGrace = 86400,
      defaultTtl = -1, minTtl = -1, maxTtl = -1, retryInitial = -1, retryMax = -1, kidCooldown = -1, fetchTimeout = -1,
    } = options;
    if (typeof fetchFn !== 'function') throw new TypeError('no fetch function: pass options.fetch');
    this.#url = u.href;
    this.#discovery = Boolean(discovery);
    this.#issuer = issuer;
    this.#fetch = fetchFn;
    this.#headers = headers;
    this.#store = store;
    this.#storeKey = storeKey;
    this.#storeGrace = storeGrace;
    this.#schedule = new Schedule(defaultTtl, minTtl, maxTtl, retryInitial, retryMax, kidCooldown, fetchTimeout);
    this.#timeoutMs = (fetchTimeout >= 0 ? fetchTimeout : 15) * 1000;
    // A policy-free core used only to check that a fetched document has usable keys.
    this.#probe = new Core('{}', 0);
  }

  /** The JWKS of the OIDC issuer `issuer` (discovery at `<issuer>/.well-known/openid-configuration`). */
  static fromIssuer(issuer, options = {}) {
    return new RemoteJwks(issuer.replace(/\/+$/, '') + DISCOVERY_PATH, { issuer, ...options, discovery: true });
  }

  /** When the schedule next fetches (seconds since the epoch). */
  get nextFetchAt() {
    return this.#schedule.next_fetch_at();
  }

  /** Loads keys if none are loaded yet (store first, then network). Resolves to the JWKS object. */
  async ready(options) {
    await this._ensure(timeOf(options));
    if (this.jwksText === undefined) {
      throw new JwtError('no_usable_keys', `no JWKS could be loaded${this.lastError ? `: ${this.lastError.message}` : ''}`);
    }
    return JSON.parse(this.jwksText);
  }

  /** Fetches now, unless a fetch is already in flight (then waits for it). Resolves to true on success. */
  async refresh(options) {
    const now = timeOf(options);
    return this.#inflight ?? this.#start(now);
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
    if (!this.#schedule.due(now)) return;
    const p = this.#start(now);
    // With keys in hand, a due refresh runs in the background (stale-while-revalidate);
    // the platform's waitUntil (Workers) keeps it alive after the response.
    if (this.jwksText === undefined) await p;
    else if (typeof waitUntil === 'function') waitUntil(p);
  }

  // Internal (used by Verifier): an unknown kid was seen. Resolves to true when new keys
  // may have arrived (a fetch was waited for), false when the cooldown forbids a refetch.
  async _refetchForKid(now) {
    if (this.#inflight !== null) return this.#inflight;
    if (!this.#schedule.may_refetch_for_kid(now)) return false;
    if (!this.#schedule.due(now)) return false;
    return this.#start(now);
  }

  #start(now) {
    this.#schedule.start(now);
    const p = this.#load(now).finally(() => {
      this.#inflight = null;
    });
    this.#inflight = p;
    return p;
  }

  async #get(url, what) {
    const signal = typeof AbortSignal !== 'undefined' && AbortSignal.timeout ? AbortSignal.timeout(this.#timeoutMs) : undefined;
    const fetchFn = this.#fetch;
    // Redirects are not followed (as in the Envoy filter): the configured URL, or the
    // discovered jwks_uri, is the only place keys come from.
    const response = await fetchFn(url, { headers: { accept: 'application/json', ...this.#headers }, signal, redirect: 'manual' });
    if (!response.ok) {
      // Drain the body so the connection can be reused.
      await response.text().catch(() => {});
      throw new JwtError('jwks_fetch_failed', `${what} ${url} answered HTTP ${response.status}`);
    }
    return { text: await response.text(), cacheControl: response.headers.get('cache-control') };
  }

  // One fetch: discovery (when configured and not yet known), then the JWKS. Never throws.
  async #load(now) {
    try {
      if (this.#discovery && this.#jwksUri === undefined) {
        const { text } = await this.#get(this.#url, 'discovery document');
        try {
          this.#jwksUri = discovery_jwks_uri(text, this.#issuer);
        } catch (e) {
          throw decodeError(e);
        }
      }
      const { text, cacheControl } = await this.#get(this.#discovery ? this.#jwksUri : this.#url, 'JWKS');
      try {
        this.#probe.set_jwks(text);
      } catch (e) {
        throw decodeError(e);
      }
      const ttl = this.#schedule.succeeded(now, cacheControl ?? undefined);
      this.#install(text);
      this.lastError = null;
      if (this.#store !== undefined) {
        const record = JSON.stringify({ jwks: text, fetchedAt: now, cacheControl });
        // A failing store (thrown or rejected) must not turn a good fetch into a failure.
        try {
          await this.#store.put(this.#storeKey, record, { ttl: ttl + this.#storeGrace });
        } catch {
          // The keys are in memory; the next isolate will fetch them itself.
        }
      }
      return true;
    } catch (e) {
      // Rediscover on the next attempt: the jwks_uri itself may have moved.
      this.#jwksUri = undefined;
      this.lastError = e instanceof JwtError ? e : new JwtError('jwks_fetch_failed', `JWKS fetch failed: ${e?.message ?? e}`);
      this.#schedule.failed(now);
      return false;
    }
  }

  #install(text) {
    if (text !== this.jwksText) {
      this.jwksText = text;
      this.version++;
    }
  }

  // A stored record is replayed through the schedule as if it had just been fetched at
  // its original time, so freshness is decided by the same Cache-Control rules.
  async #readStore() {
    try {
      const raw = await this.#store.get(this.#storeKey);
      if (typeof raw !== 'string' || this.jwksText !== undefined) return;
      const record = JSON.parse(raw);
      if (typeof record?.jwks !== 'string' || typeof record.fetchedAt !== 'number') return;
      this.#probe.set_jwks(record.jwks);
      this.#schedule.succeeded(record.fetchedAt, record.cacheControl ?? undefined);
      this.#install(record.jwks);
    } catch {
      // A broken or foreign record is ignored: the network is the source of truth.
    }
  }
}
