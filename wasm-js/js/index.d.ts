// Types of the npm package `jwtgate` (every loader exports the same API).

/** The core's stable verdict codes (`err.code`), plus `missing_token` for `verifyBearer`. */
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
  | 'missing_token'
  | 'jwks_fetch_failed';

/** A rejection. `code` is stable; `message` says why in a sentence (safe to log). */
export class JwtError extends Error {
  readonly name: 'JwtError';
  code: JwtErrorCode;
  /** True for `bad_audience` and `claim_rule_failed`: answer 403, not 401. */
  readonly forbidden: boolean;
  constructor(code: JwtErrorCode, message: string);
}

export type Algorithm = 'RS256' | 'RS384' | 'RS512';

/** A JSON Web Key Set: `{ keys: [...] }`. Only RSA signing keys are used. */
export interface JWKS {
  keys: Array<Record<string, unknown>>;
}

/** Seconds as a number, or a duration such as `"30s"`, `"5m"`, `"2h"`, `"1d"`. */
export type Duration = number | string;

export interface VerifierOptions {
  /** Keys: a JWKS object, its JSON text, or a `RemoteJwks` (then use `verifyAsync`). */
  jwks?: JWKS | string | RemoteJwks;
  /** Accepted `iss` values (exact). Unset: `iss` is not checked. */
  issuer?: string | string[];
  /** Accepted `aud` values (any one match). Unset: `aud` is only type-checked. */
  audience?: string | string[];
  /** Algorithm allow-list (default `['RS256']`). */
  algorithms?: Algorithm[];
  /** Clock skew tolerated on `exp`, `nbf` and `iat` (default 60 s). */
  clockTolerance?: Duration;
  /** Refuse tokens whose `iat` is older than this (then `iat` is required). */
  maxTokenAge?: Duration | null;
  /** Claims (dotted paths) that must be present. */
  requiredClaims?: string[];
  /** Accepted `sub` values: exact, or a prefix when ending in `*`. */
  subject?: string | string[];
  /** Nested-claim rules: dotted path -> allowed value(s). */
  claims?: Record<string, unknown | unknown[]>;
  /** Cap on the compact token length in bytes (default 16384). */
  maxTokenBytes?: number;
  /** Whether a token without `exp` is refused (default true). */
  requireExp?: boolean;
  /** Verified-token cache entries (default 0: no cache). */
  cacheSize?: number;
}

export interface VerifyOptions {
  /** The current time: seconds since the epoch or a Date (default `Date.now() / 1000`). */
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
  /** Stable reason code, e.g. `unsupported_kty`, `modulus_too_small`, `wrong_use`, `private_key`. */
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
  /** With a `RemoteJwks`: loads/refreshes keys as the schedule says, refetches once on an unknown kid. */
  verifyAsync<P = JWTPayload>(token: string, options?: AsyncVerifyOptions): Promise<VerifyResult<P>>;
  verifyBearerAsync<P = JWTPayload>(authorization: string | null | undefined, options?: AsyncVerifyOptions): Promise<VerifyResult<P>>;
  /** Releases the wasm memory now (optional: the garbage collector does it otherwise). */
  free(): void;
}

/** Where `RemoteJwks` persists its last good JWKS across isolates (Workers KV, Cache API, ...). */
export interface JwksStore {
  get(key: string): Promise<string | null | undefined> | string | null | undefined;
  /** `ttl` in seconds: the Cache-Control lifetime plus `storeGrace`. */
  put(key: string, value: string, options: { ttl: number }): Promise<unknown> | unknown;
}

export interface RemoteJwksOptions {
  /** Treat the URL as an OIDC discovery document (default: when it ends in `/.well-known/openid-configuration`). */
  discovery?: boolean;
  /** With discovery: the document's `issuer` must equal this. */
  issuer?: string;
  /** The fetch to use (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** Extra request headers. */
  headers?: Record<string, string>;
  store?: JwksStore;
  /** Key in the store (default `jwtgate:jwks:<url>`). */
  storeKey?: string;
  /** Seconds a stored JWKS outlives its freshness, as a fallback while the IdP is down (default 86400). */
  storeGrace?: number;
  /** Schedule knobs in seconds (defaults from the core: 600, 30, 86400, 1, 300, 30, 15). */
  defaultTtl?: number;
  minTtl?: number;
  maxTtl?: number;
  retryInitial?: number;
  retryMax?: number;
  kidCooldown?: number;
  fetchTimeout?: number;
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
