//! The signature step of a verification, as a value: what [`Verifier::prepare`] leaves
//! for whoever checks the signature fastest (the core's engine, or a host primitive such
//! as WebCrypto's `crypto.subtle.verify`, possibly asynchronous), before
//! [`Verifier::finish`] applies the claims and the policy.
//!
//! [`Verifier::verify`] is `prepare`, the core's check, then `finish`: one code path, so
//! a verdict cannot depend on who checked the signature.

use crate::error::{err, excerpt, Error};
use crate::host_crypto::{well_formed, HostCrypto, HostKey, KeyKind};
use crate::jwks::{Key, KeySet, Material};
use crate::policy::{Algorithm, Family};

use crate::token::{Compact, Header};
use crate::verified::Verified;
use crate::verify::{hash_into, signature_holds, MAX_CANDIDATES};
use alloc::borrow::Cow;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

#[cfg(doc)]
use crate::Verifier;

/// What [`Verifier::prepare`] found.
// Not boxed: every verification makes one, and a box would cost an allocation each time.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Prepared<'t> {
    /// The verified-token cache knew the token, and its time claims still hold: done.
    Cached(Verified),
    /// Everything before the signature holds; check it, then call [`Verifier::finish`].
    Signature(SignatureCheck<'t>),
}

/// A token whose structure, header and key selection passed, waiting for its signature
/// check. Holds the key set it selected from, so a key change while the check runs
/// (asynchronously, say) cannot swap the keys under it.
///
/// ```
/// use jwtgate::{KeySet, Policy, Prepared, Verifier, ErrorCode};
/// # let jwks = include_bytes!("../tests/data/rfc7515-a2.jwks.json");
/// let verifier = Verifier::new(KeySet::from_jwks(jwks).unwrap(), Policy::new().require_exp(false));
/// # let token = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
/// let now = 1_300_000_000;
/// let verified = match verifier.prepare(token, now).unwrap() {
///     Prepared::Cached(v) => v,
///     Prepared::Signature(check) => {
///         // A host would hand check.signing_input(), check.signature() and each
///         // candidate key to its own primitive; here the core's engine decides.
///         let holds = check.verify_signature();
///         verifier.finish(check, holds, now).unwrap()
///     }
/// };
/// assert_eq!(verified.claims().iss(), Some("joe"));
/// ```
#[derive(Debug)]
pub struct SignatureCheck<'t> {
    token: Cow<'t, str>,
    /// `token[..signing_len]` is the signing input; the payload starts at `payload_at`.
    signing_len: usize,
    payload_at: usize,
    pub(crate) header: Header,
    signature: Vec<u8>,
    pub(crate) keys: Arc<KeySet>,
    pub(crate) generation: u64,
    /// Indices into `keys.keys` of the keys to try, each allowing the algorithm and
    /// taking exactly this signature's length.
    slots: [usize; MAX_CANDIDATES],
    count: usize,
    /// The token's cache hash, when the verifier has a cache.
    pub(crate) cache_hash: Option<u64>,
}

/// One key a [`SignatureCheck`] may verify with.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a> {
    index: usize,
    key: &'a Key,
}

impl<'a> Candidate<'a> {
    /// The key's position among the usable keys of its key set: with
    /// [`SignatureCheck::generation`], a name for caching a host's imported key.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The key's `kid`, if it has one.
    pub fn kid(&self) -> Option<&'a str> {
        self.key.kid.as_deref()
    }

    /// The key in the forms a host's crypto library takes.
    pub fn key(&self) -> HostKey<'a> {
        self.key.host_view()
    }

    /// The key when it is an RSA key (None for other key types).
    pub fn rsa(&self) -> Option<HostKey<'a>> {
        Some(self.key.host_view()).filter(|k| k.kind() == KeyKind::Rsa)
    }
}

impl<'t> SignatureCheck<'t> {
    pub(crate) fn new(
        token: &'t str,
        compact: Compact<'_>,
        keys: Arc<KeySet>,
        generation: u64,
        cache_hash: Option<u64>,
    ) -> Result<SignatureCheck<'t>, Error> {
        let (slots, count) = select(&keys, &compact)?;
        let signing_len = compact.signing_input.len();
        Ok(SignatureCheck {
            token: Cow::Borrowed(token),
            signing_len,
            // The payload segment ends where the signing input does.
            payload_at: signing_len.saturating_sub(compact.payload_b64.len()),
            header: compact.header,
            signature: compact.signature,
            keys,
            generation,
            slots,
            count,
            cache_hash,
        })
    }

    /// The same check owning its token, to keep across an `await` or a callback.
    pub fn into_owned(self) -> SignatureCheck<'static> {
        SignatureCheck {
            token: Cow::Owned(self.token.into_owned()),
            signing_len: self.signing_len,
            payload_at: self.payload_at,
            header: self.header,
            signature: self.signature,
            keys: self.keys,
            generation: self.generation,
            slots: self.slots,
            count: self.count,
            cache_hash: self.cache_hash,
        }
    }

    /// The token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The header's algorithm, already on the policy's allow-list.
    pub fn alg(&self) -> Algorithm {
        self.header.alg
    }

    /// `BASE64URL(header) || '.' || BASE64URL(payload)`: what the signature covers.
    pub fn signing_input(&self) -> &[u8] {
        self.token
            .as_bytes()
            .get(..self.signing_len)
            .unwrap_or_default()
    }

    /// The decoded signature; its length is exactly what every candidate takes.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The key set's generation (bumped by each `set_keys`).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The keys to try, in order (at least one, at most [`MAX_CANDIDATES`]): the
    /// signature holds when it verifies under any of them.
    pub fn candidates(&self) -> impl Iterator<Item = Candidate<'_>> {
        self.slots
            .get(..self.count)
            .unwrap_or_default()
            .iter()
            .filter_map(|&index| {
                Some(Candidate {
                    index,
                    key: self.keys.keys.get(index)?,
                })
            })
    }

    /// Whether the signature passes the encoding checks on which two correct libraries
    /// could disagree (ECDSA `r` and `s` in `[1, n-1]`; Ed25519 `S < L` and `R` not of
    /// small order; see [`HostCrypto`]). When `false` the signature holds on no path:
    /// a host checking it asynchronously must not be asked, and the verdict is `false`.
    pub fn well_formed(&self) -> bool {
        well_formed(self.header.alg, &self.signature)
    }

    /// The signature checked by the core's own engine.
    pub fn verify_signature(&self) -> bool {
        self.holds(None)
    }

    /// The signature checked by `host` (the core's engine for each key it returns `None`
    /// for), after the core's own encoding checks ([`SignatureCheck::well_formed`]).
    pub fn verify_signature_with(&self, host: &dyn HostCrypto) -> bool {
        self.holds(Some(host))
    }

    // One copy for both entries (the wasm module's size budget).
    #[inline(never)]
    fn holds(&self, host: Option<&dyn HostCrypto>) -> bool {
        let alg = self.header.alg;
        let input = self.signing_input();
        // Refused on every path alike; the host never sees such a signature.
        if !self.well_formed() {
            return false;
        }
        // Hashed only when the core's engine runs: a host check hashes the input itself.
        let mut digest = [0u8; 64];
        let mut hashed = None;
        for c in self.candidates() {
            if let Some(verdict) =
                host.and_then(|h| h.verify(&c.key.host_view(), alg, input, &self.signature))
            {
                if verdict {
                    return true;
                }
                continue;
            }
            let (hash, len) = *hashed.get_or_insert_with(|| hash_into(alg, input, &mut digest));
            let digest = digest.get(..len).unwrap_or_default();
            if signature_holds(&c.key.material, alg, hash, digest, input, &self.signature) {
                return true;
            }
        }
        false
    }

    /// The payload segment (base64url, its strict decoding still to come).
    pub(crate) fn payload_b64(&self) -> &[u8] {
        self.token
            .as_bytes()
            .get(self.payload_at..self.signing_len)
            .unwrap_or_default()
    }

    /// The error of a failed check: the same whoever checked.
    pub(crate) fn failure() -> Error {
        err!(BadSignature, "signature does not verify")
    }

    pub(crate) fn into_parts(self) -> (Header, Cow<'t, str>) {
        (self.header, self.token)
    }
}

/// Key selection: the usable keys the token may name (by `kid`, or all of them without
/// one, at most [`MAX_CANDIDATES`]) that take this signature's length.
fn select(keys: &KeySet, c: &Compact<'_>) -> Result<([usize; MAX_CANDIDATES], usize), Error> {
    let alg = c.header.alg;
    // At most MAX_CANDIDATES keys are tried: a fixed array, no allocation per token.
    let mut slots = [0usize; MAX_CANDIDATES];
    let mut found = 0usize;
    let mut total = 0usize;
    for (index, key) in keys.keys.iter().enumerate() {
        if !key.allows(alg) {
            continue;
        }
        let wanted = match (&c.header.kid, &key.kid) {
            (Some(want), Some(have)) => want == have,
            (Some(_), None) => false,
            (None, _) => true,
        };
        if wanted {
            total += 1;
            if let Some(slot) = slots.get_mut(found) {
                *slot = index;
                found += 1;
            }
        }
    }
    if found == 0 {
        return Err(match &c.header.kid {
            Some(kid) => match keys.skipped_kid(kid) {
                Some(s) => err!(
                    UnknownKid,
                    "kid \"{}\" names a skipped key ({}: {})",
                    excerpt(kid),
                    s.reason,
                    s.detail
                ),
                None if keys.contains_kid(kid) => {
                    err!(
                        UnknownKid,
                        "kid \"{}\" has no key usable with {}",
                        excerpt(kid),
                        alg.name()
                    )
                }
                None => err!(UnknownKid, "no key has kid \"{}\"", excerpt(kid)),
            },
            None => err!(
                UnknownKid,
                "token has no kid and no key is usable with {}",
                alg.name()
            ),
        });
    }
    if total > MAX_CANDIDATES && c.header.kid.is_none() {
        return Err(err!(
            UnknownKid,
            "token has no kid and {total} keys could match; at most {MAX_CANDIDATES} are tried"
        ));
    }
    // Keys that take another signature length cannot verify it: dropped here, and when
    // that leaves none the length is the error.
    let first = slots.first().and_then(|&i| keys.keys.get(i));
    let mut kept = 0usize;
    for i in 0..found {
        let Some(&index) = slots.get(i) else { break };
        let fits = keys
            .keys
            .get(index)
            .is_some_and(|k| k.material.signature_len() == c.signature.len());
        if fits {
            if let Some(slot) = slots.get_mut(kept) {
                *slot = index;
            }
            kept += 1;
        }
    }
    if kept == 0 {
        let want = first.map_or(0, |k| k.material.signature_len());
        return Err(match first.map(|k| &k.material) {
            Some(Material::Rsa(_)) => err!(
                BadSignature,
                "signature is {} bytes, the key's modulus is {want}",
                c.signature.len()
            ),
            _ => err!(
                BadSignature,
                "signature is {} bytes, {} takes exactly {want}{}",
                c.signature.len(),
                alg.name(),
                if matches!(alg.family(), Family::P256 | Family::P384) {
                    " (raw r || s, not DER)"
                } else {
                    ""
                }
            ),
        });
    }
    Ok((slots, kept))
}

/// The payload, decoded after the signature held.
pub(crate) fn payload_text(payload: Vec<u8>) -> Result<String, Error> {
    String::from_utf8(payload).map_err(|_| err!(Malformed, "payload is not UTF-8"))
}
