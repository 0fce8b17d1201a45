//! The verifier: header, key selection, signature, then claims, in that order.

use crate::b64;
use crate::cache::TokenCache;
use crate::claims::{lookup, Claims};
use crate::error::{err, excerpt, Error};
use crate::host_crypto::HostCrypto as HostRsa;
use crate::json;
use crate::jwks::{KeySet, Material};
use crate::policy::{Algorithm, Family, Policy};
use crate::prepared::{payload_text, Prepared, SignatureCheck};
use crate::rsa::Hash;
use crate::token::{self, Header};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha384, Sha512};
use spin::mutex::SpinMutex;
use spin::RwLock;

/// Most keys one token is tried against: a token without `kid` (or a `kid` shared by
/// several keys) costs at most this many RSA operations.
pub const MAX_CANDIDATES: usize = 4;

pub use crate::verified::Verified;

/// A signature-only result: RFC 7515 payloads need not be JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct Jws {
    /// The protected header.
    pub header: Header,
    /// The decoded payload bytes.
    pub payload: Vec<u8>,
}

/// Verifies tokens against a key set under a policy. Sans I/O: the host pushes keys
/// in and passes the time; nothing here reads a clock or the network.
///
/// ```
/// use jwtgate::{KeySet, Policy, Verifier, ErrorCode};
/// # let jwks = include_bytes!("../tests/data/rfc7515-a2.jwks.json");
/// let keys = KeySet::from_jwks(jwks).unwrap();
/// let verifier = Verifier::new(keys, Policy::new());
/// // RFC 7515 Appendix A.2: RS256, no kid, exp in March 2011.
/// let token = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
/// let err = verifier.verify(token, 1_400_000_000).unwrap_err();
/// assert_eq!(err.code(), ErrorCode::Expired);
/// assert!(verifier.verify_jws(token).is_ok());
/// ```
///
/// `Send + Sync`: share one verifier between threads (an `Arc<Verifier>`); every method
/// takes `&self`, including [`Verifier::set_keys`]. Readers never wait on a cache lock
/// (a busy cache shard is skipped, not awaited), and a key replacement holds its lock
/// only for a pointer swap.
#[derive(Debug)]
pub struct Verifier {
    /// The key set and its generation; read for an `Arc` clone per token.
    keys: RwLock<(Arc<KeySet>, u64)>,
    policy: Policy,
    cache: Option<Cache>,
}

/// The verified-token cache in shards, each with the key generation its entries were
/// verified under: an entry never outlives the keys that verified it.
#[derive(Debug)]
struct Cache {
    shards: Vec<SpinMutex<Shard>>,
}

impl Cache {
    /// The shard of a token whose cache hash is `h`.
    fn shard(&self, h: u64) -> Option<&SpinMutex<Shard>> {
        self.shards
            .get(usize::try_from(h >> 32).unwrap_or(0) % self.shards.len().max(1))
    }

    /// The entry for `token` (cache hash `h`) verified under key `generation`; a shard of
    /// an older generation is emptied first. A shard another thread holds is skipped,
    /// never waited for.
    fn get(&self, h: u64, token: &str, generation: u64, count_miss: bool) -> Option<Verified> {
        let mut s = self.shard(h).and_then(SpinMutex::try_lock)?;
        if s.generation != generation {
            s.tokens.clear();
            s.generation = generation;
        }
        s.tokens.get(h, token, count_miss)
    }
}

#[derive(Debug)]
struct Shard {
    generation: u64,
    tokens: TokenCache,
}

/// Shards for a cache of `entries`: one in wasm (single-threaded: exact FIFO capacity),
/// up to 8 natively so threads rarely meet on one lock.
fn shard_count(entries: usize) -> usize {
    if cfg!(target_family = "wasm") {
        1
    } else {
        (entries / 64).clamp(1, 8)
    }
}

impl Verifier {
    /// A verifier with no cache.
    pub fn new(keys: KeySet, policy: Policy) -> Verifier {
        Verifier {
            keys: RwLock::new((Arc::new(keys), 0)),
            policy,
            cache: None,
        }
    }

    /// Adds a verified-token cache of `entries` entries (0 disables it). Entries are
    /// keyed by a hash of the whole token and compared byte for byte, never outlive the
    /// token's `exp` (time claims are re-checked on every hit), and are dropped when
    /// the keys change.
    pub fn with_cache(mut self, entries: usize) -> Verifier {
        self.cache = (entries > 0).then(|| {
            let n = shard_count(entries);
            let generation = self.keys.read().1;
            Cache {
                shards: (0..n)
                    .map(|_| {
                        SpinMutex::new(Shard {
                            generation,
                            tokens: TokenCache::new(entries.div_ceil(n)),
                        })
                    })
                    .collect(),
            }
        });
        self
    }

    /// Replaces the key set. Cached verdicts of the old keys are never served again;
    /// verifications already under way finish with the keys they started with.
    pub fn set_keys(&self, keys: KeySet) {
        let mut current = self.keys.write();
        let generation = current.1.wrapping_add(1);
        *current = (Arc::new(keys), generation);
    }

    /// The current key set.
    pub fn keys(&self) -> Arc<KeySet> {
        self.keys.read().0.clone()
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Cache hits and misses so far (both 0 without a cache).
    pub fn cache_stats(&self) -> (u64, u64) {
        self.cache
            .iter()
            .flat_map(|c| c.shards.iter())
            .fold((0, 0), |(h, m), s| {
                let (sh, sm) = s.lock().tokens.stats();
                (h.saturating_add(sh), m.saturating_add(sm))
            })
    }

    /// Verifies a compact JWT at time `now` (seconds since the Unix epoch): structure,
    /// header, signature, then claims and policy. Returns the first failed rule.
    pub fn verify(&self, token: &str, now: u64) -> Result<Verified, Error> {
        self.verify_inner(token, now, None)
    }

    /// Like [`Verifier::verify`], but the host checks the signature with the keys the
    /// core selected (falling back to the core's engine when the host returns `None`).
    pub fn verify_with(
        &self,
        token: &str,
        now: u64,
        host: &dyn HostRsa,
    ) -> Result<Verified, Error> {
        self.verify_inner(token, now, Some(host))
    }

    fn verify_inner(
        &self,
        token: &str,
        now: u64,
        host: Option<&dyn HostRsa>,
    ) -> Result<Verified, Error> {
        match self.prepare(token, now)? {
            Prepared::Cached(hit) => Ok(hit),
            Prepared::Signature(check) => {
                let holds = match host {
                    Some(h) => check.verify_signature_with(h),
                    None => check.verify_signature(),
                };
                self.finish(check, holds, now)
            }
        }
    }

    /// The first step of a verification split around its signature check: the cache,
    /// then structure, header rules, the algorithm allow-list and key selection. The
    /// signature of a [`Prepared::Signature`] is then checked by whoever is fastest
    /// ([`SignatureCheck::verify_signature`] is the core's engine) and the verdict
    /// passed to [`Verifier::finish`]. `verify` is exactly these three steps.
    pub fn prepare<'t>(&self, token: &'t str, now: u64) -> Result<Prepared<'t>, Error> {
        let (keys, generation) = {
            let k = self.keys.read();
            (k.0.clone(), k.1)
        };
        let mut cache_hash = None;
        if let Some(cache) = &self.cache {
            let h = crate::cache::hash(token.as_bytes());
            cache_hash = Some(h);
            if let Some(hit) = cache.get(h, token, generation, true) {
                check_times(&self.policy, hit.claims().as_map(), now)?;
                return Ok(Prepared::Cached(hit));
            }
        }
        let compact = token::parse(token, &self.policy)?;
        SignatureCheck::new(token, compact, keys, generation, cache_hash).map(Prepared::Signature)
    }

    /// The cache's verdict on `token`, before any check of the token itself: `Some` when a
    /// token byte for byte equal to it verified under the current keys (the time claims
    /// are checked again at `now`, as on every hit), `None` when it is not cached or the
    /// verifier has no cache; then [`Verifier::verify`] decides (and counts the miss).
    ///
    /// A cached token has passed every check, so it is three strict base64url segments:
    /// a caller may leave its own syntax checks of the token (RFC 6750 `b64token`, in
    /// [`crate::bearer_token`]) until this answers `None`, and the verdict is the same.
    pub fn cached(&self, token: &str, now: u64) -> Option<Result<Verified, Error>> {
        let cache = self.cache.as_ref()?;
        let generation = self.keys.read().1;
        let hit = cache.get(
            crate::cache::hash(token.as_bytes()),
            token,
            generation,
            false,
        )?;
        Some(check_times(&self.policy, hit.claims().as_map(), now).map(|()| hit))
    }

    /// The second step: `holds` is the verdict on `check`'s signature (any candidate
    /// verified it); `false` is refused as `bad_signature`, the code the core's own
    /// check gives. Then the payload, claims and policy at `now`, and the cache. Pass
    /// back only checks this verifier prepared.
    pub fn finish(
        &self,
        check: SignatureCheck<'_>,
        holds: bool,
        now: u64,
    ) -> Result<Verified, Error> {
        if !holds {
            return Err(SignatureCheck::failure());
        }
        let payload = b64::decode(check.payload_b64())
            .ok_or_else(|| err!(Malformed, "payload is not canonical base64url"))?;
        let map = json::parse_object(&payload).map_err(|e| err!(Malformed, "payload: {e}"))?;
        check_claims(&self.policy, &map, now)?;
        let payload = payload_text(payload)?;
        let (generation, cache_hash) = (check.generation, check.cache_hash);
        let same_keys = Arc::ptr_eq(&check.keys, &self.keys.read().0);
        let (header, token) = check.into_parts();
        let verified = Verified::new(header, Claims { map }, payload);
        if let (Some(cache), Some(h), true) = (&self.cache, cache_hash, same_keys) {
            if let Some(mut s) = cache.shard(h).and_then(SpinMutex::try_lock) {
                // Keys replaced meanwhile: the entry would belong to the old generation.
                if s.generation == generation {
                    s.tokens.insert(h, &token, verified.clone());
                }
            }
        }
        Ok(verified)
    }

    /// Checks structure, header and signature only; the payload may be any bytes and
    /// no claim or time rule applies. The algorithm allow-list and size cap still do.
    pub fn verify_jws(&self, token: &str) -> Result<Jws, Error> {
        let compact = token::parse(token, &self.policy)?;
        let (keys, generation) = {
            let k = self.keys.read();
            (k.0.clone(), k.1)
        };
        let check = SignatureCheck::new(token, compact, keys, generation, None)?;
        if !check.verify_signature() {
            return Err(SignatureCheck::failure());
        }
        let payload = b64::decode(check.payload_b64())
            .ok_or_else(|| err!(Malformed, "payload is not canonical base64url"))?;
        Ok(Jws {
            header: check.into_parts().0,
            payload,
        })
    }
}

/// The signature check of one key, which already allows `alg` and whose signature
/// length matches. `digest` is the signing input hashed with `alg`'s hash (Ed25519
/// hashes the input itself).
#[cfg_attr(not(feature = "eddsa"), allow(unused_variables))]
pub(crate) fn signature_holds(
    key: &Material,
    alg: Algorithm,
    hash: Hash,
    digest: &[u8],
    signing_input: &[u8],
    sig: &[u8],
) -> bool {
    match key {
        Material::Rsa(r) => match alg.family() {
            Family::Pkcs1 => r.rsa.verify_pkcs1v15(hash, digest, sig),
            #[cfg(feature = "pss")]
            Family::Pss => r.rsa.verify_pss(hash, digest, sig),
            _ => false,
        },
        // `Signature::from_slice` refuses r or s outside [1, n-1] (r = s = 0, the 2022
        // "psychic signature", never reaches the equation); high s is accepted, as
        // RFC 7518 §3.4 and other JOSE libraries do.
        #[cfg(all(feature = "es256", feature = "ecdsa-compact"))]
        Material::P256(key) => key.verify(digest, sig),
        #[cfg(all(feature = "es384", feature = "ecdsa-compact"))]
        Material::P384(key) => key.verify(digest, sig),
        #[cfg(all(feature = "es256", not(feature = "ecdsa-compact")))]
        Material::P256(vk) => {
            use p256::ecdsa::signature::hazmat::PrehashVerifier;
            p256::ecdsa::Signature::from_slice(sig)
                .is_ok_and(|s| vk.verify_prehash(digest, &s).is_ok())
        }
        #[cfg(all(feature = "es384", not(feature = "ecdsa-compact")))]
        Material::P384(vk) => {
            use p384::ecdsa::signature::hazmat::PrehashVerifier;
            p384::ecdsa::Signature::from_slice(sig)
                .is_ok_and(|s| vk.verify_prehash(digest, &s).is_ok())
        }
        // verify_strict: S must be canonical (< L), R and the key must not have small
        // order, and the check is the cofactorless equation [S]B = R + [k]A.
        #[cfg(feature = "eddsa")]
        Material::Ed25519(vk) => <&[u8; 64]>::try_from(sig).is_ok_and(|bytes| {
            let s = ed25519_dalek::Signature::from_bytes(bytes);
            vk.verify_strict(signing_input, &s).is_ok()
        }),
    }
}

/// Hashes the signing input with the algorithm's hash into `out`; returns the hash and
/// its length. Ed25519 hashes inside its own check: nothing is hashed for it.
pub(crate) fn hash_into(alg: Algorithm, input: &[u8], out: &mut [u8; 64]) -> (Hash, usize) {
    fn put(out: &mut [u8; 64], digest: &[u8]) -> usize {
        if let Some(dst) = out.get_mut(..digest.len()) {
            dst.copy_from_slice(digest);
        }
        digest.len()
    }
    match alg {
        Algorithm::RS256 | Algorithm::PS256 | Algorithm::ES256 => {
            (Hash::Sha256, put(out, &Sha256::digest(input)))
        }
        Algorithm::RS384 | Algorithm::PS384 | Algorithm::ES384 => {
            (Hash::Sha384, put(out, &Sha384::digest(input)))
        }
        Algorithm::RS512 | Algorithm::PS512 => (Hash::Sha512, put(out, &Sha512::digest(input))),
        Algorithm::EdDSA | Algorithm::Ed25519 => (Hash::Sha512, 0),
    }
}

/// Reads a time claim: absent, or a finite non-negative number (fractions allowed).
fn time_claim(map: &Map<String, Value>, name: &str) -> Result<Option<f64>, Error> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(t) if t.is_finite() && t >= 0.0 => Ok(Some(t)),
            _ => Err(err!(InvalidClaim, "{name} must be a non-negative number").with_claim(name)),
        },
        Some(other) => Err(err!(
            InvalidClaim,
            "{name} is {}, not a number",
            json::kind(other)
        )
        .with_claim(name)),
    }
}

/// `exp`, `nbf` and the `iat` age, in f64 so that no value can overflow.
pub(crate) fn check_times(
    policy: &Policy,
    map: &Map<String, Value>,
    now: u64,
) -> Result<(), Error> {
    let now = now as f64;
    let skew = policy.clock_skew as f64;
    let exp = time_claim(map, "exp")?;
    let nbf = time_claim(map, "nbf")?;
    let iat = time_claim(map, "iat")?;
    match exp {
        Some(exp) if now >= exp + skew => {
            // Seconds since the epoch pass 1e11 in the year 5138: a `now` that large is
            // milliseconds, and the hint saves a search.
            let hint = if now > 1e11 {
                " (now looks like milliseconds; pass seconds since the epoch)"
            } else {
                ""
            };
            return Err(err!(Expired, "token expired at {}{hint}", Secs(exp)).with_claim("exp"));
        }
        None if policy.require_exp => {
            return Err(err!(MissingClaim, "exp is required").with_claim("exp"))
        }
        _ => {}
    }
    if let Some(nbf) = nbf {
        if now + skew < nbf {
            return Err(
                err!(NotYetValid, "token is not valid before {}", Secs(nbf)).with_claim("nbf")
            );
        }
    }
    if let Some(max_age) = policy.max_token_age {
        let iat = iat.ok_or_else(|| {
            err!(MissingClaim, "iat is required by the max token age").with_claim("iat")
        })?;
        if now + skew < iat {
            return Err(err!(
                NotYetValid,
                "token was issued in the future ({})",
                Secs(iat)
            )
            .with_claim("iat"));
        }
        if now > iat + max_age as f64 + skew {
            return Err(err!(
                TokenTooOld,
                "token issued at {} is older than {max_age} s",
                Secs(iat)
            )
            .with_claim("iat"));
        }
    }
    Ok(())
}

/// Registered-claim types first, then time, issuer, audience, subject, required claims, rules.
fn check_claims(policy: &Policy, map: &Map<String, Value>, now: u64) -> Result<(), Error> {
    for name in ["iss", "sub", "jti"] {
        if let Some(v) = map.get(name) {
            if !v.is_string() {
                return Err(
                    err!(InvalidClaim, "{name} is {}, not a string", json::kind(v))
                        .with_claim(name),
                );
            }
        }
    }
    let aud: Option<Vec<&str>> = match map.get("aud") {
        None => None,
        Some(Value::String(s)) => Some(alloc::vec![s.as_str()]),
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(Value::as_str)
                .collect::<Option<Vec<&str>>>()
                .ok_or_else(|| err!(InvalidClaim, "aud holds a non-string").with_claim("aud"))?,
        ),
        Some(other) => {
            return Err(err!(
                InvalidClaim,
                "aud is {}, not a string or array",
                json::kind(other)
            )
            .with_claim("aud"))
        }
    };
    check_times(policy, map, now)?;
    if !policy.issuers.is_empty() {
        let iss = map
            .get("iss")
            .and_then(Value::as_str)
            .ok_or_else(|| err!(MissingClaim, "iss is required").with_claim("iss"))?;
        if !policy.issuers.iter().any(|i| i == iss) {
            return Err(
                err!(BadIssuer, "issuer \"{}\" is not accepted", excerpt(iss)).with_claim("iss"),
            );
        }
    }
    if !policy.audiences.is_empty() {
        let aud = aud.ok_or_else(|| err!(MissingClaim, "aud is required").with_claim("aud"))?;
        if !aud.iter().any(|a| policy.audiences.iter().any(|p| p == a)) {
            return Err(err!(BadAudience, "no audience of the token is accepted").with_claim("aud"));
        }
    }
    if !policy.subjects.is_empty() {
        let sub = map
            .get("sub")
            .and_then(Value::as_str)
            .ok_or_else(|| err!(MissingClaim, "sub is required").with_claim("sub"))?;
        if !policy.subject_allowed(sub) {
            return Err(err!(
                ClaimRuleFailed,
                "subject \"{}\" is not allowed",
                excerpt(sub)
            )
            .with_claim("sub"));
        }
    }
    for path in &policy.required_claims {
        if lookup(map, path).is_none() {
            return Err(err!(
                MissingClaim,
                "{} is required (absent or ambiguous)",
                excerpt(path)
            )
            .with_claim(path.as_str()));
        }
    }
    if let Some((rule, present)) = policy.failing_rule(map) {
        return Err(if present {
            err!(
                ClaimRuleFailed,
                "claim {} is not an allowed value",
                excerpt(&rule.path)
            )
            .with_claim(rule.path.as_str())
        } else {
            err!(
                ClaimRuleFailed,
                "claim {} is absent or ambiguous",
                excerpt(&rule.path)
            )
            .with_claim(rule.path.as_str())
        });
    }
    Ok(())
}

/// Seconds for a reason string, printed without `f64` formatting (which would link
/// `core::fmt::float`: ~7 KB gzipped in the wasm module): the integer part, and
/// milliseconds when there is a fraction.
struct Secs(f64);

impl core::fmt::Display for Secs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let t = self.0;
        if !(0.0..1e18).contains(&t) {
            return f.write_str("a time beyond 1e18");
        }
        let whole = t as u64;
        let millis = ((t - whole as f64) * 1000.0) as u64;
        if millis == 0 {
            write!(f, "{whole}")
        } else {
            write!(f, "{whole}.{millis:03}")
        }
    }
}
