//! The key set the host pushes in: parsed from JWKS bytes once, validated per key.

use crate::b64;
use crate::error::{err, excerpt, Error};
use crate::host_crypto::{spki_der, HostKey, KeyKind};
use crate::json;
use crate::policy::{Algorithm, Family};
use crate::rsa::{self, KeyRejection};
use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde_json::{Map, Value};

/// Bounds on a JWKS document, checked before and while parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySetLimits {
    /// Largest accepted document, in bytes (default 256 KiB).
    pub max_bytes: usize,
    /// Most entries in `keys` (default 100), usable or not.
    pub max_keys: usize,
}

impl Default for KeySetLimits {
    fn default() -> KeySetLimits {
        KeySetLimits {
            max_bytes: 256 * 1024,
            max_keys: 100,
        }
    }
}

/// Why a JWK was left out of the set. [`SkipReason::as_str`] gives a stable code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// `kty` is not `RSA`, `EC` or `OKP` (oct, missing, ...), or its family is not built
    /// in (cargo features `ecdsa`, `eddsa`).
    UnsupportedKty,
    /// A member has the wrong type, or `n`/`e` (`crv`/`x`/`y`) is missing.
    BadMember,
    /// `n` or `e` is not canonical base64url, or not minimally encoded; an EC or OKP
    /// coordinate is not canonical base64url or not exactly the curve's size.
    BadEncoding,
    /// Modulus shorter than 2048 bits.
    ModulusTooSmall,
    /// Modulus longer than 8192 bits.
    ModulusTooLarge,
    /// Modulus even.
    BadModulus,
    /// `e` even, < 3, ≥ n or wider than 32 bits.
    BadExponent,
    /// `use` is present and not `sig`.
    WrongUse,
    /// `key_ops` is present and lacks `verify`.
    NoVerifyOp,
    /// The JWK's `alg` is not an algorithm jwtgate knows, or not one its key type and
    /// curve can verify (`ES384` on a P-256 key, `ES256` on an RSA key).
    AlgNotAllowed,
    /// The JWK carries private-key members: a published private key is refused, not used.
    PrivateKey,
    /// An EC key whose `crv` is not `P-256` or `P-384`, or an OKP key whose `crv` is not
    /// `Ed25519` (X25519, Ed448, P-521, secp256k1, ...).
    UnsupportedCurve,
    /// An EC point not on its curve (or a coordinate not below the field prime), or an
    /// Ed25519 key that does not decode, is not canonically encoded, or has small order.
    BadPoint,
}

impl SkipReason {
    /// The stable `snake_case` code.
    pub const fn as_str(self) -> &'static str {
        match self {
            SkipReason::UnsupportedKty => "unsupported_kty",
            SkipReason::BadMember => "bad_member",
            SkipReason::BadEncoding => "bad_encoding",
            SkipReason::ModulusTooSmall => "modulus_too_small",
            SkipReason::ModulusTooLarge => "modulus_too_large",
            SkipReason::BadModulus => "bad_modulus",
            SkipReason::BadExponent => "bad_exponent",
            SkipReason::WrongUse => "wrong_use",
            SkipReason::NoVerifyOp => "no_verify_op",
            SkipReason::AlgNotAllowed => "alg_not_allowed",
            SkipReason::PrivateKey => "private_key",
            SkipReason::UnsupportedCurve => "unsupported_curve",
            SkipReason::BadPoint => "bad_point",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key that was not loaded, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedKey {
    /// Position in the `keys` array.
    pub index: usize,
    /// Its `kid`, when it had a string one.
    pub kid: Option<String>,
    /// The stable reason.
    pub reason: SkipReason,
    /// A sentence for humans.
    pub detail: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Key {
    pub(crate) kid: Option<String>,
    pub(crate) alg: Option<Algorithm>,
    pub(crate) material: Material,
    /// DER SubjectPublicKeyInfo, for hosts that check signatures natively (EC and OKP
    /// keys end with their raw coordinates, read back from here).
    spki: Vec<u8>,
}

/// The verifying key itself, by type and curve.
#[derive(Clone, Debug)]
pub(crate) enum Material {
    Rsa(RsaMaterial),
    #[cfg(all(feature = "es256", not(feature = "ecdsa-compact")))]
    P256(p256::ecdsa::VerifyingKey),
    #[cfg(all(feature = "es384", not(feature = "ecdsa-compact")))]
    P384(p384::ecdsa::VerifyingKey),
    // The crate's own verifier (src/ec), for size-bound builds.
    #[cfg(all(feature = "es256", feature = "ecdsa-compact"))]
    P256(crate::ec::P256Key),
    #[cfg(all(feature = "es384", feature = "ecdsa-compact"))]
    P384(crate::ec::P384Key),
    #[cfg(feature = "eddsa")]
    Ed25519(ed25519_dalek::VerifyingKey),
}

#[derive(Clone, Debug)]
pub(crate) struct RsaMaterial {
    pub(crate) rsa: rsa::PublicKey,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl Key {
    /// The key in the forms a host's crypto library takes.
    #[cfg_attr(
        not(any(feature = "es256", feature = "es384", feature = "eddsa")),
        allow(unused_variables)
    )]
    pub(crate) fn host_view(&self) -> HostKey<'_> {
        let spki = self.spki.as_slice();
        // EC: the SPKI ends with x || y; Ed25519: with x.
        let tail = |len: usize| {
            spki.get(spki.len().saturating_sub(len)..)
                .unwrap_or_default()
        };
        let (kind, a, b) = match &self.material {
            Material::Rsa(r) => (KeyKind::Rsa, r.n.as_slice(), r.e.as_slice()),
            #[cfg(feature = "es256")]
            Material::P256(_) => {
                let (x, y) = tail(64).split_at(32.min(tail(64).len()));
                (KeyKind::P256, x, y)
            }
            #[cfg(feature = "es384")]
            Material::P384(_) => {
                let (x, y) = tail(96).split_at(48.min(tail(96).len()));
                (KeyKind::P384, x, y)
            }
            #[cfg(feature = "eddsa")]
            Material::Ed25519(_) => (KeyKind::Ed25519, tail(32), &[][..]),
        };
        HostKey {
            kid: self.kid.as_deref(),
            kind,
            a,
            b,
            spki,
        }
    }

    /// Whether this key may verify `alg`: its type and curve allow it, and so does the
    /// JWK's `alg` when it has one (`EdDSA` and `Ed25519` name the same algorithm here).
    pub(crate) fn allows(&self, alg: Algorithm) -> bool {
        self.material.allows(alg.family())
            && self.alg.is_none_or(|a| {
                a == alg || a.family() == alg.family() && a.family() == Family::Ed25519
            })
    }
}

impl Material {
    fn allows(&self, family: Family) -> bool {
        match self {
            Material::Rsa(_) => matches!(family, Family::Pkcs1 | Family::Pss),
            #[cfg(feature = "es256")]
            Material::P256(_) => family == Family::P256,
            #[cfg(feature = "es384")]
            Material::P384(_) => family == Family::P384,
            #[cfg(feature = "eddsa")]
            Material::Ed25519(_) => family == Family::Ed25519,
        }
    }

    /// The exact signature length this key takes.
    pub(crate) fn signature_len(&self) -> usize {
        match self {
            Material::Rsa(r) => r.rsa.modulus_len(),
            #[cfg(feature = "es256")]
            Material::P256(_) => 64,
            #[cfg(feature = "es384")]
            Material::P384(_) => 96,
            #[cfg(feature = "eddsa")]
            Material::Ed25519(_) => 64,
        }
    }
}

/// The usable keys of one JWKS document.
///
/// Duplicate `kid`s are kept: a token naming that `kid` is tried against each of
/// them (at most [`MAX_CANDIDATES`](crate::MAX_CANDIDATES)), which stays safe because
/// every candidate is a key the host trusts, and keeps rotations that reuse a `kid` working.
///
/// ```
/// let jwks = br#"{"keys":[{"kty":"EC","kid":"x","crv":"P-256","x":"","y":""}]}"#;
/// let err = jwtgate::KeySet::from_jwks(jwks).unwrap_err();
/// assert_eq!(err.code(), jwtgate::ErrorCode::NoUsableKeys);
/// ```
#[derive(Clone, Debug)]
pub struct KeySet {
    pub(crate) keys: Vec<Key>,
    skipped: Vec<SkippedKey>,
}

impl KeySet {
    /// Parses a JWKS document with the default [`KeySetLimits`].
    pub fn from_jwks(bytes: &[u8]) -> Result<KeySet, Error> {
        KeySet::from_jwks_with(bytes, &KeySetLimits::default())
    }

    /// Parses a JWKS document. Unusable keys are skipped (see [`KeySet::skipped`]);
    /// the whole document fails only when it is malformed, over a limit, or leaves no usable key.
    pub fn from_jwks_with(bytes: &[u8], limits: &KeySetLimits) -> Result<KeySet, Error> {
        if bytes.len() > limits.max_bytes {
            return Err(err!(
                JwksTooLarge,
                "JWKS is {} bytes, the limit is {}",
                bytes.len(),
                limits.max_bytes
            ));
        }
        let doc = json::parse_object(bytes).map_err(|e| {
            // A PEM key is the most common wrong input; say what is expected instead.
            if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
                err!(
                    JwksMalformed,
                    "JWKS: this is a PEM key; a JWKS is a JSON object {{\"keys\": [...]}} of JWKs"
                )
            } else {
                err!(JwksMalformed, "JWKS: {e}")
            }
        })?;
        let entries = match doc.get("keys") {
            Some(Value::Array(entries)) => entries,
            Some(_) => return Err(err!(JwksMalformed, "JWKS: \"keys\" is not an array")),
            None if doc.contains_key("kty") => {
                return Err(err!(
                    JwksMalformed,
                    "JWKS: this is a single JWK; wrap it as {{\"keys\": [<the JWK>]}}"
                ))
            }
            None => return Err(err!(JwksMalformed, "JWKS: no \"keys\" member")),
        };
        if entries.len() > limits.max_keys {
            return Err(err!(
                JwksTooManyKeys,
                "JWKS has {} keys, the limit is {}",
                entries.len(),
                limits.max_keys
            ));
        }
        let mut keys = Vec::new();
        let mut skipped = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let kid = entry.get("kid").and_then(Value::as_str).map(str::to_owned);
            match load(entry) {
                Ok(key) => keys.push(key),
                Err((reason, detail)) => skipped.push(SkippedKey {
                    index,
                    kid,
                    reason,
                    detail,
                }),
            }
        }
        if keys.is_empty() {
            let mut why = String::new();
            for s in skipped.iter().take(8) {
                why.push_str(&alloc::format!(
                    " [{}] {}: {};",
                    s.index,
                    s.reason,
                    s.detail
                ));
            }
            return Err(err!(
                NoUsableKeys,
                "JWKS has no usable key ({} entries){}",
                entries.len(),
                why.trim_end_matches(';')
            ));
        }
        Ok(KeySet { keys, skipped })
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false: a `KeySet` holds at least one usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys that were left out, and why.
    pub fn skipped(&self) -> &[SkippedKey] {
        &self.skipped
    }

    /// The `kid` of each usable key (None for keys without one), in document order.
    pub fn kids(&self) -> impl Iterator<Item = Option<&str>> {
        self.keys.iter().map(|k| k.kid.as_deref())
    }

    /// Whether a usable key has exactly this `kid`. Hosts use it to decide on a refetch.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// Why a `kid` that selects no usable key was skipped, if it was.
    pub(crate) fn skipped_kid(&self, kid: &str) -> Option<&SkippedKey> {
        self.skipped.iter().find(|s| s.kid.as_deref() == Some(kid))
    }
}

type Skip = (SkipReason, String);

fn skip(reason: SkipReason, detail: &str) -> Skip {
    (reason, detail.to_owned())
}

/// Validates one JWK; every refusal carries its reason.
fn load(entry: &Value) -> Result<Key, Skip> {
    let jwk: &Map<String, Value> = entry
        .as_object()
        .ok_or_else(|| skip(SkipReason::BadMember, "entry is not a JSON object"))?;
    let text = |name: &str| member(jwk, name);
    let kty = match text("kty")? {
        Some(k @ ("RSA" | "EC" | "OKP")) => k,
        Some(other) => {
            return Err((
                SkipReason::UnsupportedKty,
                alloc::format!("kty \"{}\" is not RSA, EC or OKP", excerpt(other)),
            ))
        }
        None => return Err(skip(SkipReason::UnsupportedKty, "no kty")),
    };
    let kid = text("kid")?.map(str::to_owned);
    if let Some(u) = text("use")? {
        if u != "sig" {
            return Err((
                SkipReason::WrongUse,
                alloc::format!("use \"{}\" is not sig", excerpt(u)),
            ));
        }
    }
    if let Some(ops) = jwk.get("key_ops") {
        let ops = ops
            .as_array()
            .ok_or_else(|| skip(SkipReason::BadMember, "\"key_ops\" is not an array"))?;
        if !ops.iter().all(Value::is_string) {
            return Err(skip(
                SkipReason::BadMember,
                "\"key_ops\" holds a non-string",
            ));
        }
        if !ops.iter().any(|o| o == "verify") {
            return Err(skip(SkipReason::NoVerifyOp, "key_ops lacks verify"));
        }
    }
    let alg = match text("alg")? {
        None => None,
        Some(name) => Some(Algorithm::from_name(name).ok_or_else(|| {
            (
                SkipReason::AlgNotAllowed,
                alloc::format!("alg \"{}\" is not a supported algorithm", excerpt(name)),
            )
        })?),
    };
    if ["d", "p", "q", "dp", "dq", "qi", "oth"]
        .iter()
        .any(|m| jwk.contains_key(*m))
    {
        return Err(skip(
            SkipReason::PrivateKey,
            "JWK holds private-key members",
        ));
    }
    let material = match kty {
        "EC" => ec_material(jwk)?,
        "OKP" => okp_material(jwk)?,
        _ => Material::Rsa(rsa_material(jwk)?),
    };
    let spki = host_spki(jwk, &material);
    if let Some(a) = alg {
        if !material.allows(a.family()) {
            return Err((
                SkipReason::AlgNotAllowed,
                alloc::format!("alg {} does not fit this {} key", a.name(), kty),
            ));
        }
    }
    Ok(Key {
        kid,
        alg,
        material,
        spki,
    })
}

/// A JWK member read as an optional string (wrong types refused).
fn member<'a>(jwk: &'a Jwk, name: &str) -> Result<Option<&'a str>, Skip> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err((
            SkipReason::BadMember,
            alloc::format!("\"{name}\" is not a string"),
        )),
    }
}

type Jwk = Map<String, Value>;

fn rsa_material(jwk: &Jwk) -> Result<RsaMaterial, Skip> {
    let text = |name: &str| member(jwk, name);
    let n = text("n")?.ok_or_else(|| skip(SkipReason::BadMember, "no n"))?;
    let e = text("e")?.ok_or_else(|| skip(SkipReason::BadMember, "no e"))?;
    let n = b64::decode(n.as_bytes())
        .ok_or_else(|| skip(SkipReason::BadEncoding, "n is not canonical base64url"))?;
    let e = b64::decode(e.as_bytes())
        .ok_or_else(|| skip(SkipReason::BadEncoding, "e is not canonical base64url"))?;
    let rsa = rsa::PublicKey::from_be_bytes(&n, &e).map_err(|r| match r {
        KeyRejection::NonMinimal => skip(SkipReason::BadEncoding, "n or e has leading zero bytes"),
        KeyRejection::ModulusTooSmall => (
            SkipReason::ModulusTooSmall,
            alloc::format!(
                "modulus is {} bits, at least 2048 are required",
                bit_len(&n)
            ),
        ),
        KeyRejection::ModulusTooLarge => (
            SkipReason::ModulusTooLarge,
            alloc::format!("modulus is {} bits, at most 8192 are accepted", bit_len(&n)),
        ),
        KeyRejection::ModulusEven => skip(SkipReason::BadModulus, "modulus is even"),
        KeyRejection::BadExponent => skip(
            SkipReason::BadExponent,
            "e must be odd, at least 3, below n and at most 32 bits",
        ),
    })?;
    Ok(RsaMaterial { rsa, n, e })
}

/// The key's DER SubjectPublicKeyInfo, built once at load for hosts with native crypto.
/// EC and OKP coordinates are read again from the JWK the loader has just accepted.
#[cfg_attr(
    not(any(feature = "es256", feature = "es384", feature = "eddsa")),
    allow(unused_variables)
)]
fn host_spki(jwk: &Jwk, material: &Material) -> Vec<u8> {
    #[cfg(any(feature = "es256", feature = "es384", feature = "eddsa"))]
    let raw = |name: &str, len: usize| coordinate(jwk, name, len).unwrap_or_default();
    match material {
        Material::Rsa(r) => spki_der(&r.n, &r.e),
        #[cfg(feature = "es256")]
        Material::P256(_) => crate::host_crypto::ec_spki_der(false, &raw("x", 32), &raw("y", 32)),
        #[cfg(feature = "es384")]
        Material::P384(_) => crate::host_crypto::ec_spki_der(true, &raw("x", 48), &raw("y", 48)),
        #[cfg(feature = "eddsa")]
        Material::Ed25519(_) => crate::host_crypto::ed25519_spki_der(&raw("x", 32)),
    }
}

/// A coordinate member: present, canonical base64url, exactly `len` bytes (RFC 7518
/// §6.2.1.2: the full size of the field, leading zeros kept).
#[cfg(any(feature = "es256", feature = "es384", feature = "eddsa"))]
fn coordinate(jwk: &Jwk, name: &str, len: usize) -> Result<Vec<u8>, Skip> {
    let v =
        member(jwk, name)?.ok_or_else(|| (SkipReason::BadMember, alloc::format!("no {name}")))?;
    let bytes = b64::decode(v.as_bytes()).ok_or_else(|| {
        (
            SkipReason::BadEncoding,
            alloc::format!("{name} is not canonical base64url"),
        )
    })?;
    if bytes.len() != len {
        return Err((
            SkipReason::BadEncoding,
            alloc::format!(
                "{name} is {} bytes, the curve needs exactly {len}",
                bytes.len()
            ),
        ));
    }
    Ok(bytes)
}

/// `crv`: present and a string.
#[cfg(any(feature = "es256", feature = "es384", feature = "eddsa"))]
fn curve(jwk: &Jwk) -> Result<&str, Skip> {
    member(jwk, "crv")?.ok_or_else(|| skip(SkipReason::BadMember, "no crv"))
}

#[cfg(any(feature = "es256", feature = "es384"))]
fn ec_material(jwk: &Jwk) -> Result<Material, Skip> {
    let crv = curve(jwk)?;
    let (size, built): (usize, Option<&str>) = match crv {
        "P-256" => (32, (!cfg!(feature = "es256")).then_some("es256")),
        "P-384" => (48, (!cfg!(feature = "es384")).then_some("es384")),
        other => {
            return Err((
                SkipReason::UnsupportedCurve,
                alloc::format!("crv \"{}\" is not P-256 or P-384", excerpt(other)),
            ))
        }
    };
    if let Some(feature) = built {
        return Err((
            SkipReason::UnsupportedCurve,
            alloc::format!("crv {crv}: this jwtgate is built without it (cargo feature {feature})"),
        ));
    }
    let x = coordinate(jwk, "x", size)?;
    let y = coordinate(jwk, "y", size)?;
    // SEC1 uncompressed form; the curve crates refuse coordinates ≥ p, points off the
    // curve and (having no encoding for it here) the identity.
    let mut sec1 = Vec::with_capacity(1 + 2 * size);
    sec1.push(0x04);
    sec1.extend_from_slice(&x);
    sec1.extend_from_slice(&y);
    let bad = || skip(SkipReason::BadPoint, "(x, y) is not a point of the curve");
    match size {
        #[cfg(all(feature = "es256", feature = "ecdsa-compact"))]
        32 => crate::ec::P256Key::from_xy(&x, &y)
            .map(Material::P256)
            .ok_or_else(bad),
        #[cfg(all(feature = "es384", feature = "ecdsa-compact"))]
        48 => crate::ec::P384Key::from_xy(&x, &y)
            .map(Material::P384)
            .ok_or_else(bad),
        #[cfg(all(feature = "es256", not(feature = "ecdsa-compact")))]
        32 => p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
            .map(Material::P256)
            .map_err(|_| bad()),
        #[cfg(all(feature = "es384", not(feature = "ecdsa-compact")))]
        48 => p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
            .map(Material::P384)
            .map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// An RS-only build keeps no EC code at all (module size).
#[cfg(not(any(feature = "es256", feature = "es384")))]
fn ec_material(_: &Jwk) -> Result<Material, Skip> {
    Err(skip(
        SkipReason::UnsupportedKty,
        "kty EC: this jwtgate is built without ECDSA (cargo features es256, es384)",
    ))
}

#[cfg(feature = "eddsa")]
fn okp_material(jwk: &Jwk) -> Result<Material, Skip> {
    let crv = curve(jwk)?;
    if crv != "Ed25519" {
        return Err((
            SkipReason::UnsupportedCurve,
            alloc::format!("crv \"{}\" is not Ed25519", excerpt(crv)),
        ));
    }
    let x = coordinate(jwk, "x", 32)?;
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&x);
    let bad = |why: &str| skip(SkipReason::BadPoint, why);
    let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map_err(|_| bad("x is not an Ed25519 point"))?;
    // One encoding per key: a y ≥ p (or a "negative" zero x) decodes, but is not canonical.
    if key.to_edwards().compress().to_bytes() != bytes {
        return Err(bad("x is not the canonical encoding of its point"));
    }
    // A small-order key verifies forged signatures for many messages (with a small-order
    // R); verify_strict refuses them per signature, and the key set refuses them here.
    if key.is_weak() {
        return Err(bad("x is a point of small order"));
    }
    Ok(Material::Ed25519(key))
}

#[cfg(not(feature = "eddsa"))]
fn okp_material(_: &Jwk) -> Result<Material, Skip> {
    Err(skip(
        SkipReason::UnsupportedKty,
        "kty OKP: this jwtgate is built without EdDSA (cargo feature eddsa)",
    ))
}

fn bit_len(be: &[u8]) -> usize {
    let trimmed: &[u8] = match be.iter().position(|b| *b != 0) {
        Some(i) => be.get(i..).unwrap_or_default(),
        None => &[],
    };
    match trimmed.first() {
        Some(top) => trimmed.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    }
}
