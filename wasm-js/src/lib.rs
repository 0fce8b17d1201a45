//! wasm-bindgen bindings of the `jwtgate` core for the npm package `jwtgate`.
//!
//! The bindings translate; they do not decide. Every verdict, schedule and parse
//! comes from the core. What lives here is only the shape of the boundary, chosen to
//! cross it as rarely as possible:
//!
//! - a token goes in once as a string; a verified payload comes back as the exact
//!   signed JSON text, which JS hands to `JSON.parse` (faster than building objects
//!   through the boundary one property at a time);
//! - the hot path reports failure as `None` and keeps the error, which JS then reads
//!   with [`Core::last_error`]: no exception objects are built in Rust, and the error
//!   path costs one more crossing only when there is an error;
//! - cold paths (construction, key pushes, the key source's answers) return `Result<_, JsValue>`,
//!   whose error value is the same encoded error (see [`encode`]).

// On wasm32 the crate is no_std: std's panic handler formats messages with locations,
// which drags in Debug formatting, Unicode tables and path strings (tens of KB). Our
// handler traps instead; no input can panic anyway, so it only guards against bugs.
#![cfg_attr(target_arch = "wasm32", no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write;
use jwtgate::refresh::RefreshConfig;
use jwtgate::source::{KeySource, Origin, SourceConfig, Step};
use jwtgate::{
    Algorithm, Error, ErrorCode, HostCrypto, HostKey, KeySet, Policy, Prepared, SignatureCheck,
    Verifier,
};
use wasm_bindgen::prelude::*;

#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

// The allocator std uses on wasm32.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// The one error shape JS turns into a `JwtError`: a JSON array
/// `[code, reason, field, claim, challenge]`, field and claim `null` when absent. The
/// field and claim travel as data so JS never reads them out of the reason text.
/// `challenge` is what the core's `Error::www_authenticate` appends after the realm; it
/// is computed here because a `JwtError` cannot be turned back into a core `Error`.
fn encode(e: &Error) -> String {
    let mut out = String::with_capacity(e.reason().len() + 128);
    out.push('[');
    json_str(&mut out, e.code().as_str());
    out.push(',');
    json_str(&mut out, e.reason());
    out.push(',');
    json_opt_str(&mut out, e.field());
    out.push(',');
    json_opt_str(&mut out, e.claim());
    out.push(',');
    let full = e.www_authenticate("");
    // The realm comes first in the core's challenge; should that ever change, JS gets an
    // empty challenge and its tests fail, rather than a wrong header.
    json_str(&mut out, full.strip_prefix(EMPTY_REALM).unwrap_or(""));
    out.push(']');
    out
}

/// What `Error::www_authenticate("")` starts with.
const EMPTY_REALM: &str = "Bearer realm=\"\"";

fn js_err(e: &Error) -> JsValue {
    JsValue::from_str(&encode(e))
}

/// Seconds since the epoch from a JS number. The JS layer validates `now`; this only
/// has to be total: `as` saturates (negative and NaN become 0), so nothing can trap.
fn secs(now: f64) -> u64 {
    now as u64
}

/// A policy until keys are pushed, then a core [`Verifier`] that owns it.
#[wasm_bindgen]
pub struct Core {
    /// Moved into the verifier with the first keys (not cloned: cloning a policy links
    /// BTreeMap cloning code for its claim rules, for nothing).
    policy: Option<Policy>,
    cache_size: usize,
    verifier: Option<Verifier>,
    /// The runtime's own signature check, when it has a fast synchronous one (see
    /// [`HostCryptoFn`]), and the algorithms it takes (bit `alg_code`).
    host: Option<HostCryptoFn>,
    host_algs: u32,
    /// The encoded last failure of `verify`/`verify_jws` (see [`encode`]).
    last_error: String,
}

#[wasm_bindgen]
impl Core {
    /// Builds the policy from the core's JSON form (`Policy::from_json`, snake_case
    /// fields); `cache_size` entries of verified-token cache (0: none).
    #[wasm_bindgen(constructor)]
    pub fn new(policy_json: &str, cache_size: usize) -> Result<Core, JsValue> {
        let policy = Policy::from_json(policy_json.as_bytes()).map_err(|e| js_err(&e))?;
        Ok(Core {
            policy: Some(policy),
            cache_size,
            verifier: None,
            host: None,
            host_algs: 0,
            last_error: String::new(),
        })
    }

    /// Replaces the keys with a JWKS document. Returns a JSON report
    /// `{"loaded":n,"kids":[...],"skipped":[{index,kid,reason,detail}]}`; on error
    /// the previous keys stay in place (last good keys).
    pub fn set_jwks(&mut self, jwks: &str) -> Result<String, JsValue> {
        let keys = KeySet::from_jwks(jwks.as_bytes()).map_err(|e| js_err(&e))?;
        let report = key_report(&keys);
        match (&mut self.verifier, self.policy.take()) {
            (Some(v), _) => v.set_keys(keys),
            (None, Some(policy)) => {
                self.verifier = Some(Verifier::new(keys, policy).with_cache(self.cache_size))
            }
            // Unreachable: the policy leaves only into the verifier. Never fall back to a
            // default (weaker) policy.
            (None, None) => {
                return Err(js_err(&Error::for_field(
                    ErrorCode::BadPolicy,
                    "jwks",
                    "the verifier lost its policy (a jwtgate-js bug)",
                )))
            }
        }
        Ok(report)
    }

    /// Lets the runtime check signatures natively (Node's and Bun's synchronous
    /// `crypto.verify` beat the wasm engine) for the algorithms whose bit (`1 << code`, see
    /// [`alg_code`]) `algs` sets; `undefined` goes back to the engine. The core still
    /// parses, selects the key, checks lengths and encodings and decides everything else.
    pub fn set_host(&mut self, f: Option<HostCryptoFn>, algs: u32) {
        self.host = f;
        self.host_algs = algs;
    }

    /// Whether keys have been pushed.
    pub fn has_keys(&self) -> bool {
        self.verifier.is_some()
    }

    /// Whether a usable key has exactly this `kid`.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.verifier
            .as_ref()
            .is_some_and(|v| v.keys().contains_kid(kid))
    }

    /// Full verification at `now` (seconds). The payload JSON as a JS string, or
    /// `undefined` with the error kept for [`Core::last_error`]. The string is made
    /// straight from the verified payload's bytes: returning a `String` would first copy
    /// it into a new wasm allocation, freed again right after JS decoded it.
    pub fn verify(&mut self, token: &str, now: f64) -> JsValue {
        self.run(token, now).map_or(JsValue::UNDEFINED, |verified| {
            JsValue::from_str(verified.payload_json())
        })
    }

    fn run(&mut self, token: &str, now: f64) -> Option<jwtgate::Verified> {
        let Some(v) = &self.verifier else {
            self.last_error = no_keys();
            return None;
        };
        let result = match &self.host {
            Some(f) => v.verify_with(token, secs(now), &JsHost(f, self.host_algs)),
            None => v.verify(token, secs(now)),
        };
        result.map_err(|e| self.last_error = encode(&e)).ok()
    }

    /// Full verification without returning the payload: for tokens whose payload JS
    /// already holds (the payload is a function of the token bytes, so only the verdict
    /// can change, with time or keys). On `false`, see `last_error`.
    pub fn check(&mut self, token: &str, now: f64) -> bool {
        self.run(token, now).is_some()
    }

    /// The first half of a verification whose signature JS checks itself (WebCrypto,
    /// asynchronously): `None` on failure (see `last_error`), else a [`Pending`] that is
    /// either done already (a cache hit: [`Pending::done`]) or waits for
    /// [`Core::finish`].
    pub fn prepare(&mut self, token: &str, now: f64) -> Option<Pending> {
        let Some(v) = &self.verifier else {
            self.last_error = no_keys();
            return None;
        };
        match v.prepare(token, secs(now)) {
            Ok(Prepared::Cached(hit)) => Some(Pending(State::Done(hit.payload_json().to_owned()))),
            Ok(Prepared::Signature(check)) => Some(Pending(State::Check(check.into_owned()))),
            Err(e) => {
                self.last_error = encode(&e);
                None
            }
        }
    }

    /// The second half: `verdict` is JS's check of the pending signature, 1 when a
    /// candidate verified it, 0 when none did (refused with the code the wasm engine's
    /// failure gives), 2 when JS could not tell (the wasm engine checks it instead).
    /// `Some(payload JSON)` or `None` (see `last_error`).
    pub fn finish(&mut self, pending: Pending, verdict: u32, now: f64) -> Option<String> {
        let Some(v) = &self.verifier else {
            self.last_error = no_keys();
            return None;
        };
        let check = match pending.0 {
            State::Done(payload) => return Some(payload),
            State::Check(check) => check,
        };
        let holds = match verdict {
            0 => false,
            1 => true,
            _ => check.verify_signature(),
        };
        match v.finish(check, holds, secs(now)) {
            Ok(verified) => Some(verified.payload_json().to_owned()),
            Err(e) => {
                self.last_error = encode(&e);
                None
            }
        }
    }

    /// Signature-only verification: `Some(payload bytes)` or `None` (see `last_error`).
    pub fn verify_jws(&mut self, token: &str) -> Option<Vec<u8>> {
        let Some(v) = &self.verifier else {
            self.last_error = no_keys();
            return None;
        };
        match v.verify_jws(token) {
            Ok(jws) => Some(jws.payload),
            Err(e) => {
                self.last_error = encode(&e);
                None
            }
        }
    }

    /// The last error, encoded (see [`encode`]; empty when there was none).
    pub fn last_error(&self) -> String {
        self.last_error.clone()
    }

    /// Verified-token cache `[hits, misses]`.
    pub fn cache_stats(&self) -> Vec<f64> {
        let (hits, misses) = self.verifier.as_ref().map_or((0, 0), Verifier::cache_stats);
        vec![hits as f64, misses as f64]
    }
}

/// A verification between [`Core::prepare`] and [`Core::finish`], owning its token and
/// the key set it selected from (keys replaced meanwhile do not change its candidates).
/// WebCrypto's asynchronous `crypto.subtle.verify` (where it beats the wasm engine) runs
/// between the two halves; the core still parses, selects the keys, checks lengths and
/// decides everything else. (Node's synchronous check goes through [`HostCryptoFn`] inside
/// one `verify` call instead: one crossing, the bytes passed as views of wasm memory.)
#[wasm_bindgen]
pub struct Pending(State);

enum State {
    Done(String),
    Check(SignatureCheck<'static>),
}

#[wasm_bindgen]
impl Pending {
    /// `[alg, generation, index...]`: [`alg_code`] + 1, or 0 when no host may be asked
    /// (a signature the core's encoding checks refuse: the wasm engine gives the same
    /// refusal); the key set's generation; each candidate key's index in it (with the
    /// generation, a name for JS's cache of imported keys). Empty for a cache hit: nothing to check. JS takes
    /// the signing input from the token itself (the core has checked it has three
    /// canonical base64url segments: ASCII up to the last dot).
    pub fn info(&self) -> Vec<f64> {
        let State::Check(c) = &self.0 else {
            return Vec::new();
        };
        let alg = if c.well_formed() {
            f64::from(alg_code(c.alg()) + 1)
        } else {
            0.0
        };
        let mut out = vec![alg, c.generation() as f64];
        out.extend(c.candidates().map(|k| k.index() as f64));
        out
    }

    /// The signature, as the core decoded it (JS decoding the base64url again costs more
    /// than this copy).
    pub fn signature(&self) -> Vec<u8> {
        match &self.0 {
            State::Check(c) => c.signature().to_vec(),
            State::Done(_) => Vec::new(),
        }
    }

    /// The DER SubjectPublicKeyInfo of the candidate at `position`.
    pub fn spki(&self, position: usize) -> Option<Vec<u8>> {
        let State::Check(c) = &self.0 else {
            return None;
        };
        c.candidates()
            .nth(position)
            .map(|k| k.key().spki_der().to_vec())
    }
}

#[wasm_bindgen]
extern "C" {
    /// A JS function `(keyId, alg, spki, signingInput, signature) => 0 | 1 | 2`: invalid,
    /// valid, or "cannot tell" (the core's engine then decides). `alg` is [`alg_code`];
    /// `keyId` names the key within one key set (cache hint; the SPKI bytes are the truth).
    pub type HostCryptoFn;

    #[wasm_bindgen(method, js_name = call)]
    fn call_host(
        this: &HostCryptoFn,
        this_arg: &JsValue,
        key_id: u32,
        alg: u32,
        spki: &[u8],
        signing_input: &[u8],
        signature: &[u8],
    ) -> u32;
}

/// The algorithm's code for JS: its index in `ALGS` of js/host.js.
fn alg_code(alg: Algorithm) -> u32 {
    match alg {
        Algorithm::RS256 => 0,
        Algorithm::RS384 => 1,
        Algorithm::RS512 => 2,
        Algorithm::PS256 => 3,
        Algorithm::PS384 => 4,
        Algorithm::PS512 => 5,
        Algorithm::ES256 => 6,
        Algorithm::ES384 => 7,
        Algorithm::EdDSA | Algorithm::Ed25519 => 8,
    }
}

/// The JS check and the algorithms it takes (bit `alg_code`).
struct JsHost<'a>(&'a HostCryptoFn, u32);

impl HostCrypto for JsHost<'_> {
    fn verify(
        &self,
        key: &HostKey<'_>,
        alg: Algorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Option<bool> {
        let alg = alg_code(alg);
        if self.1 & (1 << alg) == 0 {
            return None;
        }
        let spki = key.spki_der();
        // The address is stable while the key set lives; JS checks the bytes anyway.
        let key_id = spki.as_ptr() as usize as u32;
        match self.0.call_host(
            &JsValue::UNDEFINED,
            key_id,
            alg,
            spki,
            signing_input,
            signature,
        ) {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

/// The core refuses an empty key set, so "nothing pushed yet" is reported with the
/// code the core uses for a key set without usable keys. JS adds what to do about it.
fn no_keys() -> String {
    encode(&Error::for_field(
        ErrorCode::NoUsableKeys,
        "jwks",
        "no JWKS has been loaded yet",
    ))
}

/// The key report as JSON, written by hand: serde's serializer would add a float
/// formatter to the module for a document that holds only integers and strings.
fn key_report(keys: &KeySet) -> String {
    let mut out = String::with_capacity(64);
    let _ = write!(out, "{{\"loaded\":{},\"kids\":[", keys.len());
    for (i, kid) in keys.kids().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_opt_str(&mut out, kid);
    }
    out.push_str("],\"skipped\":[");
    for (i, s) in keys.skipped().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{{\"index\":{},\"kid\":", s.index);
        json_opt_str(&mut out, s.kid.as_deref());
        out.push_str(",\"reason\":");
        json_str(&mut out, s.reason.as_str());
        out.push_str(",\"detail\":");
        json_str(&mut out, &s.detail);
        out.push('}');
    }
    out.push_str("]}");
    out
}

fn json_opt_str(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => json_str(out, s),
        None => out.push_str("null"),
    }
}

/// A JSON string literal (RFC 8259 §7): quote, backslash and control characters escaped.
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                // By hand: `{:04x}` would link the padded hex formatter for this alone.
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let n = c as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[(n >> 4) & 0xf]));
                out.push(char::from(HEX[n & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// RFC 6750 bearer parsing: `Some(token)`, `Some("")` when the header carries no
/// bearer token (another scheme, or absent), or an encoded error.
#[wasm_bindgen]
pub fn bearer_token(value: &str) -> Result<String, JsValue> {
    match jwtgate::bearer_token(value) {
        Ok(Some(token)) => Ok(token.to_owned()),
        Ok(None) => Ok(String::new()),
        Err(e) => Err(js_err(&e)),
    }
}

/// The codes for which HTTP hosts answer 403 rather than 401 (`ErrorCode::is_forbidden`),
/// comma-separated, so JS can build the set once.
#[wasm_bindgen]
pub fn forbidden_codes() -> String {
    let mut out = String::new();
    for code in ErrorCode::ALL.iter().filter(|c| c.is_forbidden()) {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(code.as_str());
    }
    out
}

/// An error the JS layer detects itself (an option, a fetch, a hint), built by the core
/// so that it has the same shape as the core's own: a printable-ASCII reason
/// `"subject: detail"` (untrusted text escaped) and its challenge. `field` is set to
/// `subject`; JS keeps it only where the subject is an option name.
#[wasm_bindgen]
pub fn host_error(code: &str, subject: &str, detail: &str) -> String {
    // Only JS-made codes arrive here; an unknown one (a user-made JwtError) is
    // challenged as a plain invalid token.
    let code = ErrorCode::ALL
        .iter()
        .copied()
        .find(|c| c.as_str() == code)
        .unwrap_or(ErrorCode::Malformed);
    encode(&Error::for_field(code, subject, detail))
}

/// `WWW-Authenticate` for an error whose challenge [`encode`] computed: the core's
/// realm (filtered as the core filters it), then that challenge.
#[wasm_bindgen]
pub fn www_authenticate(realm: &str, challenge: &str) -> String {
    // MissingToken's challenge is the realm alone (RFC 6750 3.1).
    let mut out = Error::for_field(ErrorCode::MissingToken, "", "").www_authenticate(realm);
    out.push_str(challenge);
    out
}

/// The core's policy fields (`Policy::from_json`), comma-separated: the one list JS
/// derives its option names from.
#[wasm_bindgen]
pub fn policy_fields() -> String {
    Policy::FIELDS.join(",")
}

/// A duration in milliseconds by the core's grammar (`jwtgate::duration`: jose's, plus
/// `ms`; a bare number is seconds), or `None` when it does not parse.
#[wasm_bindgen]
pub fn parse_millis(text: &str) -> Option<f64> {
    jwtgate::duration::parse_millis(text).map(|ms| ms as f64)
}

/// [`parse_millis`] in whole seconds, rounded as the core rounds.
#[wasm_bindgen]
pub fn parse_seconds(text: &str) -> Option<f64> {
    jwtgate::duration::parse_seconds(text).map(|s| s as f64)
}

/// The core's remote-key protocol ([`KeySource`]: discovery, the JWKS, the refresh
/// schedule, rediscovery after a failure, validation before install, last good keys,
/// versioning) for `RemoteJwks`, which only performs the GETs it names and hands the
/// answers back. Times in seconds; a fetch is named by its URL. A failed step throws the
/// encoded error (see [`encode`]).
#[wasm_bindgen]
pub struct Source {
    inner: KeySource,
}

#[wasm_bindgen]
impl Source {
    /// A JWKS at `url`, or, with `issuer`, the discovery document at `url` whose `issuer`
    /// must equal it. Knobs in seconds; a negative or non-number value keeps the core
    /// default.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        url: String,
        issuer: Option<String>,
        default_ttl: f64,
        min_ttl: f64,
        max_ttl: f64,
        retry_initial: f64,
        retry_max: f64,
        kid_cooldown: f64,
        fetch_timeout: f64,
    ) -> Source {
        let d = RefreshConfig::default();
        let pick = |v: f64, dflt: u64| if v >= 0.0 { secs(v) } else { dflt };
        let refresh = RefreshConfig {
            default_ttl: pick(default_ttl, d.default_ttl),
            min_ttl: pick(min_ttl, d.min_ttl),
            max_ttl: pick(max_ttl, d.max_ttl),
            retry_initial: pick(retry_initial, d.retry_initial),
            retry_max: pick(retry_max, d.retry_max),
            kid_cooldown: pick(kid_cooldown, d.kid_cooldown),
            fetch_timeout: pick(fetch_timeout, d.fetch_timeout),
        };
        let origin = match issuer {
            Some(issuer) => Origin::Discovery {
                issuer,
                discovery_uri: url,
            },
            None => Origin::Jwks(url),
        };
        let config = SourceConfig {
            refresh,
            ..SourceConfig::default()
        };
        Source {
            inner: KeySource::new(origin, config),
        }
    }

    /// The URL to fetch now, if any: `why` 0 when the schedule says a fetch is due, 1 for
    /// a token with an unknown `kid` (the cooldown decides), 2 for `refresh()` (now, even
    /// before it is due). None while a fetch is in flight. One export for the three: each
    /// export costs its own glue in the module.
    pub fn poll(&mut self, now: f64, why: u8) -> Option<String> {
        let now = secs(now);
        let fetch = match why {
            1 => self.inner.unknown_kid(now),
            // The core has no "fetch now" event: poll at the due time. The start time
            // that records only bounds how long the fetch counts as in flight, and JS
            // finishes every fetch it starts.
            2 => self
                .inner
                .poll(now.max(self.inner.schedule().next_fetch_at())),
            _ => self.inner.poll(now),
        };
        fetch.map(|f| f.uri)
    }

    /// The outcome of the fetch in flight: HTTP `status`, the body and `Cache-Control`;
    /// or no status when it failed before an answer, and `body` says why. Returns the
    /// next URL to fetch (the discovery document named the JWKS), or `None` when done
    /// (keys installed, see [`Source::version`]); throws the encoded error of a failure.
    pub fn answer(
        &mut self,
        now: f64,
        status: Option<u16>,
        body: &str,
        cache_control: Option<String>,
    ) -> Result<Option<String>, JsValue> {
        let now = secs(now);
        let step = match status {
            Some(status) => {
                self.inner
                    .complete(now, status, body.as_bytes(), cache_control.as_deref())
            }
            None => self.inner.fail(now, body),
        };
        match step {
            Step::Fetch(f) => Ok(Some(f.uri)),
            // Stale cannot reach JS: it starts a fetch only when none is in flight and
            // answers each one exactly once.
            Step::Installed { .. } | Step::Stale => Ok(None),
            Step::Failed(e) => Err(js_err(&e)),
        }
    }

    /// Installs a JWKS kept in a store, as fetched at `fetched_at` with this
    /// `Cache-Control`; false when keys are installed already or it does not load.
    pub fn restore(&mut self, fetched_at: f64, jwks: &str, cache_control: Option<String>) -> bool {
        self.inner
            .restore(secs(fetched_at), jwks, cache_control.as_deref())
    }

    /// Bumped each time different keys are installed (0: none yet).
    pub fn version(&self) -> f64 {
        self.inner.version() as f64
    }

    /// The installed JWKS document, as fetched.
    pub fn document(&self) -> Option<String> {
        self.inner.document().map(String::from)
    }

    /// When the schedule next fetches.
    pub fn next_fetch_at(&self) -> f64 {
        self.inner.schedule().next_fetch_at() as f64
    }
}
