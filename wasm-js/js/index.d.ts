// Types of the npm package `jwtgate` (every loader exports the same API). The build
// copies this file to pkg/index.d.cts for CommonJS consumers.

/** The core's stable verdict codes (`err.code`, `ErrorCode` in the core). */
export type JwtErrorCode =
  | 'token_too_large'
  | 'malformed'
  | 'jwe_unsupported'
  | 'nested_jwt_unsupported'
  | 'alg_not_allowed'
  | 'crit_unsupported'
  | 'unknown_kid'
  | 'no_usable_keys'
  | 'bad_signature'
  | 'invalid_claim'
  | 'expired'
  | 'not_yet_valid'
  | 'token_too_old'
  | 'bad_issuer'
  | 'bad_audience'
  | 'missing_claim'
  | 'claim_rule_failed'
  | 'jwks_malformed'
  | 'jwks_too_large'
  | 'jwks_too_many_keys'
  | 'bad_policy'
  | 'bad_discovery'
  | 'jwks_fetch_failed'
  | 'missing_token'
  | 'multiple_tokens';

/**
 * A rejection. `code` is stable; `message` says why in a sentence of printable ASCII (safe
 * to log and to put in a header).
 */
export class JwtError extends Error {
  readonly name: 'JwtError';
  code: JwtErrorCode;
  /** For `bad_policy`: the option at fault, as you wrote it (`audience`, `claims.team`, `cacheSize`). */
  field: string | undefined;
  /** The claim at fault (`exp`, `aud`, `iss`, `kubernetes.io.namespace`, `typ`), as jose's `claim`. */
  claim: string | undefined;
  /** With a claim, jose's reason: `missing`, `invalid` (wrong type) or `check_failed`. */
  reason: 'missing' | 'invalid' | 'check_failed' | undefined;
  /** True for `bad_audience` and `claim_rule_failed`: answer 403, not 401. */
  readonly forbidden: boolean;
  /** For `jwks_fetch_failed` (and `no_usable_keys` after one): the underlying failure. */
  cause?: unknown;
  constructor(code: JwtErrorCode, message: string, options?: { cause?: unknown; field?: string; claim?: string });
  /**
   * An RFC 6750 `WWW-Authenticate` value built by the core: `Bearer realm="…"`, then
   * `error` (`invalid_token`, `insufficient_scope`, `invalid_request`) and
   * `error_description`; the realm alone for `missing_token`. Always a valid header value.
   */
  wwwAuthenticate(realm: string): string;
}

/**
 * A JWS algorithm the package verifies. `Ed25519` is the fully-specified name of `EdDSA` with
 * Ed25519 (both accepted). `none`, `HS*` and `ES512` do not exist here.
 */
export type Algorithm =
  | 'RS256' | 'RS384' | 'RS512'
  | 'PS256' | 'PS384' | 'PS512'
  | 'ES256' | 'ES384'
  | 'EdDSA' | 'Ed25519';

/** A JSON Web Key Set: `{ keys: [...] }`. Only RSA signing keys are used. */
export interface JWKS {
  keys: Array<Record<string, unknown>>;
}

/**
 * A number, or a duration string by jose's grammar (the core's `jwtgate::duration`):
 * `"30s"`, `"1.5m"`, `"2 hours"`, `"1w"`, `"250ms"`; a string without a unit is seconds.
 * Numbers are seconds in `Verifier` options and milliseconds in `RemoteJwks` options, as in jose.
 */
export type Duration = number | string;

export interface VerifierOptions {
  /** Keys: a JWKS object, its JSON text, or a `RemoteJwks` (then use `verifyAsync`). */
  jwks?: JWKS | string | RemoteJwks;
  /** Accepted `iss` values (exact). Unset: `iss` is not checked. An empty list is refused. */
  issuer?: string | string[];
  /** Accepted `aud` values (any one match). Unset: `aud` is only type-checked. An empty list is refused. */
  audience?: string | string[];
  /** Algorithm allow-list (default `['RS256']`). An empty list is refused. */
  algorithms?: Algorithm[];
  /** Clock skew tolerated on `exp`, `nbf` and `iat`: seconds or a duration (default 60 s). */
  clockTolerance?: Duration;
  /** Refuse tokens whose `iat` is older than this: seconds or a duration (then `iat` is required). */
  maxTokenAge?: Duration | null;
  /** Claims (dotted paths) that must be present. */
  requiredClaims?: string[];
  /** Accepted `sub` values: exact, or a prefix when ending in `*`. An empty list is refused. */
  subject?: string | string[];
  /** Nested-claim rules: dotted path -> allowed value(s). An empty list of values is refused. */
  claims?: Record<string, unknown | unknown[]>;
  /**
   * Required `typ` header (RFC 8725 explicit typing), e.g. `'at+jwt'` for RFC 9068 access
   * tokens; compared as jose does (case-insensitive, `application/` optional). A mismatch
   * is `invalid_claim` with `claim: 'typ'`. Several may be given; an empty list is refused.
   */
  typ?: string | string[];
  /**
   * `crit` header extensions your code handles (RFC 7515 4.1.11). A token whose `crit`
   * names anything else is refused (`crit_unsupported`). Default: none.
   */
  crit?: string[];
  /** Cap on the compact token length in bytes (default 16384). */
  maxTokenBytes?: number;
  /** Whether a token without `exp` is refused (default true). */
  requireExp?: boolean;
  /** Verified-token cache entries (default 0: no cache). */
  cacheSize?: number;
}

export interface VerifyOptions {
  /**
   * The current time: seconds since the epoch or a Date (default `Date.now() / 1000`).
   * A number above 1e11 (milliseconds, most likely) is a TypeError.
   */
  now?: number | Date;
}

export interface AsyncVerifyOptions extends VerifyOptions {
  /** Keeps a background key refresh alive after the response (Workers: `ctx.waitUntil.bind(ctx)`). */
  waitUntil?: (promise: Promise<unknown>) => void;
}

export interface JWTPayload {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  [claim: string]: unknown;
}

export interface JWSHeader {
  alg: Algorithm;
  kid?: string;
  typ?: string;
  [member: string]: unknown;
}

export interface VerifyResult<P = JWTPayload> {
  /** The protected header (decoded on first access). */
  readonly header: JWSHeader;
  /** jose's name for `header`. */
  readonly protectedHeader: JWSHeader;
  /** The claims: a plain object parsed from the exact signed JSON (deep-frozen when `cacheSize` > 0). */
  readonly payload: P;
}

export interface JwsResult {
  readonly header: JWSHeader;
  readonly protectedHeader: JWSHeader;
  /** The payload bytes (need not be JSON). */
  payload: Uint8Array;
}

export interface SkippedKey {
  /** Position in the `keys` array. */
  index: number;
  kid: string | null;
  /** Stable reason code, e.g. `unsupported_kty`, `unsupported_curve`, `bad_point`, `modulus_too_small`, `wrong_use`, `private_key`. */
  reason: string;
  /** A sentence for humans. */
  detail: string;
}

export interface KeyReport {
  /** Number of usable keys. */
  loaded: number;
  /** The `kid` of each usable key (null for keys without one). */
  kids: Array<string | null>;
  skipped: SkippedKey[];
}

export class Verifier {
  constructor(options?: VerifierOptions);
  /** Replaces the keys; throws (and keeps the previous keys) when the document is unusable. */
  setJwks(jwks: JWKS | string): KeyReport;
  /** Whether a usable key has exactly this `kid`. */
  hasKid(kid: string): boolean;
  cacheStats(): { hits: number; misses: number };
  /** Full verification, synchronous. Throws `JwtError`. */
  verify<P = JWTPayload>(token: string, options?: VerifyOptions): VerifyResult<P>;
  /** Verifies the token of an `Authorization` header value; absent or non-Bearer: `missing_token`. */
  verifyBearer<P = JWTPayload>(authorization: string | null | undefined, options?: VerifyOptions): VerifyResult<P>;
  /** Signature-only verification (no claim or time rule). */
  verifyJws(token: string): JwsResult;
  /**
   * With a `RemoteJwks`: loads/refreshes keys as the schedule says, refetches once on an unknown kid.
   * In workerd, browsers and Vercel Edge, checks RSA signatures with WebCrypto (faster there than
   * the wasm engine of `verify`); the same verdicts as `verify`.
   */
  verifyAsync<P = JWTPayload>(token: string, options?: AsyncVerifyOptions): Promise<VerifyResult<P>>;
  verifyBearerAsync<P = JWTPayload>(authorization: string | null | undefined, options?: AsyncVerifyOptions): Promise<VerifyResult<P>>;
  /** Releases the wasm memory now (optional: the garbage collector does it otherwise). */
  free(): void;
}

/** Where `RemoteJwks` persists its last good JWKS across isolates (Workers KV, Cache API, ...). */
export interface JwksStore {
  get(key: string): Promise<string | null | undefined> | string | null | undefined;
  /** `ttl` in seconds (Workers KV counts seconds): the Cache-Control lifetime plus `storeGraceDuration`. */
  put(key: string, value: string, options: { ttl: number }): Promise<unknown> | unknown;
}

/**
 * `RemoteJwks` options: jose's names and units (milliseconds) where jose has them. Unknown
 * options are refused (`bad_policy`); the seconds-based names of 0.1 (`fetchTimeout`,
 * `kidCooldown`, `defaultTtl`, `minTtl`, `maxTtl`, `retryInitial`, `retryMax`,
 * `storeGrace`) are refused with their new name.
 */
export interface RemoteJwksOptions {
  /** Treat the URL as an OIDC discovery document (default: when it ends in `/.well-known/openid-configuration`). */
  discovery?: boolean;
  /**
   * With discovery: the document's `issuer` must equal this (default: the URL before
   * `/.well-known/openid-configuration`; required with `discovery: true` on another URL).
   */
  issuer?: string;
  /** The fetch to use (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** Extra request headers. */
  headers?: Record<string, string>;
  store?: JwksStore;
  /** Key in the store (default `jwtgate:jwks:<url>`). */
  storeKey?: string;
  /** How long a stored JWKS outlives its freshness, as a fallback while the IdP is down (default 1 day). */
  storeGraceDuration?: Duration;
  /** A fetch is abandoned after this long (default 15 s). jose: `timeoutDuration`. */
  timeoutDuration?: Duration;
  /** At most one refetch for an unknown `kid` per this long (default 30 s). jose: `cooldownDuration`. */
  cooldownDuration?: Duration;
  /**
   * Most time between fetches: caps a `Cache-Control` lifetime and is the lifetime without
   * one (defaults: 1 day cap, 10 minutes without `Cache-Control`). jose: `cacheMaxAge`.
   */
  cacheMaxAge?: Duration;
  /** Least time between scheduled fetches, however short `Cache-Control` says (default 30 s). */
  cacheMinAge?: Duration;
  /** First retry delay after a failed fetch, doubling up to `retryMaxDuration` (defaults 1 s, 5 min). */
  retryDuration?: Duration;
  retryMaxDuration?: Duration;
}

export class RemoteJwks {
  constructor(url: string | URL, options?: RemoteJwksOptions);
  /** Discovery at `<issuer>/.well-known/openid-configuration`, with the issuer checked. */
  static fromIssuer(issuer: string, options?: RemoteJwksOptions): RemoteJwks;
  /** Bumped on every new key set. */
  readonly version: number;
  /** The current JWKS text (undefined before the first load). */
  readonly jwksText: string | undefined;
  /** Why the last fetch failed, or null. */
  readonly lastError: JwtError | null;
  /** When the schedule next fetches (seconds since the epoch). */
  readonly nextFetchAt: number;
  /** Loads keys if none are loaded; throws `no_usable_keys` when that fails. */
  ready(options?: VerifyOptions): Promise<JWKS>;
  /** Fetches now (or joins the fetch in flight); resolves to whether it succeeded. */
  refresh(options?: VerifyOptions): Promise<boolean>;
}

/**
 * The token of an `Authorization` header value (RFC 6750, parsed by the core), or null when
 * there is none (no header, or another scheme). Throws `JwtError` (`malformed`) for a
 * malformed bearer value.
 */
export function bearerToken(authorization: string | null | undefined): string | null;

/**
 * UNVERIFIED: the payload of a compact JWT, decoded without checking its signature, time
 * or anything else (jose's `decodeJwt`). For display or routing only; never trust it.
 * Throws `JwtError` (`malformed`) when it is not a JWT.
 */
export function decodeJwt<P = JWTPayload>(token: string): P;

/**
 * UNVERIFIED: the protected header of a compact JWT, decoded without checking anything
 * (jose's `decodeProtectedHeader`). Throws `JwtError` (`malformed`) when it is not a JWT.
 */
export function decodeProtectedHeader(token: string): JWSHeader;
