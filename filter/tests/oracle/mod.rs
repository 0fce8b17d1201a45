//! jwt-compact as the oracle of jwtgate's verdicts, shared by `tests/differential.rs` and
//! the fuzz crate's `resign` target (which includes this file by `#[path]`): the committed
//! test keys and their JWKS, a signer for every algorithm both crates implement (RS*, PS*,
//! ES256, EdDSA), jwt-compact's verdict on a token, and [`judge`], which checks one token
//! against the contract:
//!
//! - whatever jwtgate accepts, jwt-compact accepts with the same claims (except the
//!   [`ORACLE_STRICTER`] cases: members jwtgate ignores and jwt-compact parses);
//! - whatever jwtgate refuses and jwt-compact accepts breaks one of the [`RULES`].
//!
//! jwt-compact only checks integrity, `exp` and `nbf` (everything else is its caller's
//! job), and it is handed every key of the token's key type (it does no key selection), so
//! the rules include key selection by `kid` and the policy's issuer and audience.
// Test code: a failure should stop loudly (the no-panic lints are for the library).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)]

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use jwt_compact::alg::{Ed25519, Es256, Rsa, RsaPrivateKey, RsaPublicKey, RsaSignature};
use jwt_compact::{Algorithm, AlgorithmExt, AlgorithmSignature, TimeOptions, UntrustedToken};
use jwtgate::{ErrorCode, KeySet, Policy, Verifier};
use rand_chacha::rand_core::SeedableRng;
// One pkcs8 crate behind rsa, p256 and ed25519-dalek: one trait for the three key types.
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Map, Value};
use sha2::Digest;

/// The fixed clock: 2026-01-01T00:00:00Z.
pub const NOW: i64 = 1_767_225_600;
/// jwtgate's default clock skew, given to jwt-compact as its leeway.
pub const SKEW: i64 = 60;
/// The issuer and audience the policy requires.
pub const ISS: &str = "https://issuer.example";
pub const AUD: &str = "api";

/// Every algorithm both crates implement, by JOSE name (`Ed25519` is the fully-specified
/// name of EdDSA with Ed25519, which both accept).
pub const ALGS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "EdDSA", "Ed25519",
];

/// The committed test keys (`tests/data`, copies of `tests/vectors/keys`).
pub struct Keys {
    pub rsa: RsaPrivateKey,
    pub rsa4096: RsaPrivateKey,
    pub ec256: p256::ecdsa::SigningKey,
    pub ed25519: ed25519_dalek::SigningKey,
}

/// The DER body of a PEM document (the curves' crates are built without their `pem`
/// features here).
fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).expect("PEM body")
}

impl Keys {
    pub fn load() -> Keys {
        Keys {
            rsa: RsaPrivateKey::from_pkcs8_pem(include_str!("../data/main.pem")).unwrap(),
            rsa4096: RsaPrivateKey::from_pkcs8_pem(include_str!("../data/rsa4096.pem")).unwrap(),
            ec256: p256::ecdsa::SigningKey::from_pkcs8_der(&pem_der(include_str!(
                "../data/ec256.pem"
            )))
            .unwrap(),
            ed25519: ed25519_dalek::SigningKey::from_pkcs8_der(&pem_der(include_str!(
                "../data/ed25519.pem"
            )))
            .unwrap(),
        }
    }

    /// The `kid` the minted tokens carry for `alg`: RS512 and PS512 sign with the 4096-bit key.
    pub fn kid(alg: &str) -> &'static str {
        match alg {
            "RS512" | "PS512" => "rsa4096",
            "ES256" => "ec256",
            "EdDSA" | "Ed25519" => "ed25519",
            _ => "rsa",
        }
    }

    /// One JWK per key, no `alg` member (each key serves every algorithm of its type).
    pub fn jwks(&self) -> String {
        let rsa = |kid: &str, k: &RsaPrivateKey| {
            format!(
                r#"{{"kty":"RSA","kid":"{kid}","use":"sig","n":"{}","e":"{}"}}"#,
                b64(&k.n().to_bytes_be()),
                b64(&k.e().to_bytes_be())
            )
        };
        let p = self.ec256.verifying_key().to_encoded_point(false);
        format!(
            r#"{{"keys":[{},{},{{"kty":"EC","kid":"ec256","crv":"P-256","x":"{}","y":"{}"}},{{"kty":"OKP","kid":"ed25519","crv":"Ed25519","x":"{}"}}]}}"#,
            rsa("rsa", &self.rsa),
            rsa("rsa4096", &self.rsa4096),
            b64(p.x().unwrap()),
            b64(p.y().unwrap()),
            b64(&self.ed25519.verifying_key().to_bytes()),
        )
    }

    /// jwtgate with every algorithm allowed, the issuer and audience required, the
    /// default skew, `exp` required.
    pub fn verifier(&self) -> Verifier {
        Keys::verifier_over(&self.jwks())
    }

    /// [`Keys::verifier`] over another JWKS (the fuzz crate adds its own `kid`s).
    pub fn verifier_over(jwks: &str) -> Verifier {
        let keys = KeySet::from_jwks(jwks.as_bytes()).unwrap();
        assert!(keys.skipped().is_empty());
        let policy = Policy::new()
            .algorithms(&jwtgate::Algorithm::ALL)
            .issuer(ISS)
            .audience(AUD);
        Verifier::new(keys, policy)
    }

    /// Signs `input` (the signing input, any bytes) as `alg` with jwt-compact, with the
    /// key [`Keys::kid`] names; `None` for an algorithm jwt-compact does not implement.
    pub fn sign(&self, alg: &str, input: &[u8]) -> Option<Vec<u8>> {
        Some(match alg {
            "RS256" | "RS384" | "PS256" | "PS384" => rsa_sign(alg, &self.rsa, input),
            "RS512" | "PS512" => rsa_sign(alg, &self.rsa4096, input),
            "ES256" => Es256.sign(&self.ec256, input).as_bytes().into_owned(),
            "EdDSA" | "Ed25519" => Ed25519.sign(&self.ed25519, input).as_bytes().into_owned(),
            _ => return None,
        })
    }

    /// A whole token over `header` and `payload` (raw JSON text, any bytes).
    pub fn token(&self, alg: &str, header: &[u8], payload: &[u8]) -> String {
        let input = format!("{}.{}", b64(header), b64(payload));
        let sig = self.sign(alg, input.as_bytes()).unwrap();
        format!("{input}.{}", b64(&sig))
    }

    /// Mints a token with jwt-compact's own header and claims serialization.
    pub fn mint(
        &self,
        alg: &str,
        header: &jwt_compact::Header,
        claims: &jwt_compact::Claims<Map<String, Value>>,
    ) -> String {
        match alg {
            "RS256" | "RS384" | "RS512" => {
                let key = if alg == "RS512" {
                    &self.rsa4096
                } else {
                    &self.rsa
                };
                alg.parse::<Rsa>().unwrap().token(header, claims, key)
            }
            "PS256" | "PS384" | "PS512" => {
                let key = if alg == "PS512" {
                    &self.rsa4096
                } else {
                    &self.rsa
                };
                SeededPss(alg.parse().unwrap()).token(header, claims, key)
            }
            "ES256" => Es256.token(header, claims, &self.ec256),
            "EdDSA" => Ed25519.token(header, claims, &self.ed25519),
            "Ed25519" => Ed25519::with_specific_name().token(header, claims, &self.ed25519),
            _ => panic!("{alg}"),
        }
        .unwrap()
    }
}

fn rsa_sign(alg: &str, key: &RsaPrivateKey, input: &[u8]) -> Vec<u8> {
    let a: Rsa = alg.parse().unwrap();
    if alg.starts_with("PS") {
        SeededPss(a).sign(key, input).as_bytes().into_owned()
    } else {
        a.sign(key, input).as_bytes().into_owned()
    }
}

/// jwt-compact's PSS signer draws its salt from the OS; this one draws it from a ChaCha
/// stream seeded with the message's hash, so every run mints the same tokens. Only
/// signing differs: the name and the verification are jwt-compact's.
pub struct SeededPss(pub Rsa);

impl Algorithm for SeededPss {
    type SigningKey = RsaPrivateKey;
    type VerifyingKey = RsaPublicKey;
    type Signature = RsaSignature;

    fn name(&self) -> std::borrow::Cow<'static, str> {
        self.0.name()
    }

    fn sign(&self, key: &RsaPrivateKey, message: &[u8]) -> RsaSignature {
        let mut rng = rand_chacha::ChaCha20Rng::from_seed(sha2::Sha256::digest(message).into());
        let sig = match self.0.name().as_ref() {
            "PS256" => key.sign_with_rng(
                &mut rng,
                rsa::Pss::new_with_salt::<sha2::Sha256>(32),
                &sha2::Sha256::digest(message),
            ),
            "PS384" => key.sign_with_rng(
                &mut rng,
                rsa::Pss::new_with_salt::<sha2::Sha384>(48),
                &sha2::Sha384::digest(message),
            ),
            _ => key.sign_with_rng(
                &mut rng,
                rsa::Pss::new_with_salt::<sha2::Sha512>(64),
                &sha2::Sha512::digest(message),
            ),
        };
        RsaSignature::try_from_slice(&sig.unwrap()).unwrap()
    }

    fn verify_signature(&self, sig: &RsaSignature, key: &RsaPublicKey, message: &[u8]) -> bool {
        self.0.verify_signature(sig, key, message)
    }
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The fixed clock as jwt-compact takes it.
fn options() -> TimeOptions<impl Fn() -> DateTime<Utc>> {
    TimeOptions::new(chrono::Duration::try_seconds(SKEW).unwrap(), || {
        Utc.timestamp_opt(NOW, 0).unwrap()
    })
}

/// jwt-compact's verdict: the token parses, its signature holds under a key of the
/// `alg`'s type (every one is tried; jwt-compact leaves key selection to its caller), and
/// `exp` (required) and `nbf` hold at [`NOW`] with [`SKEW`]. The claims come back as one
/// object with `exp`, `nbf` and `iat` as whole seconds (jwt-compact truncates fractions).
pub fn compact_verdict(keys: &Keys, token: &str) -> Result<Map<String, Value>, String> {
    type Custom = Map<String, Value>;
    let untrusted = UntrustedToken::new(token).map_err(|e| e.to_string())?;
    let checked = match untrusted.algorithm() {
        alg @ ("RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512") => {
            let a: Rsa = alg.parse().unwrap();
            let big = keys.rsa4096.to_public_key();
            let main = keys.rsa.to_public_key();
            a.validator::<Custom>(&main)
                .validate(&untrusted)
                .or_else(|_| a.validator::<Custom>(&big).validate(&untrusted))
        }
        "ES256" => Es256
            .validator::<Custom>(keys.ec256.verifying_key())
            .validate(&untrusted),
        "EdDSA" => Ed25519
            .validator::<Custom>(&keys.ed25519.verifying_key())
            .validate(&untrusted),
        "Ed25519" => Ed25519::with_specific_name()
            .validator::<Custom>(&keys.ed25519.verifying_key())
            .validate(&untrusted),
        other => return Err(format!("alg {other:?} is not implemented")),
    };
    let token = checked.map_err(|e| e.to_string())?;
    let claims = token.claims();
    claims
        .validate_expiration(&options())
        .map_err(|e| e.to_string())?;
    if claims.not_before.is_some() {
        claims
            .validate_maturity(&options())
            .map_err(|e| e.to_string())?;
    }
    let mut out = claims.custom.clone();
    for (name, t) in [
        ("exp", claims.expiration),
        ("nbf", claims.not_before),
        ("iat", claims.issued_at),
    ] {
        if let Some(t) = t {
            out.insert(name.into(), Value::from(t.timestamp()));
        }
    }
    Ok(out)
}

/// jwtgate's claims in the shape [`compact_verdict`] returns: time claims as whole seconds.
pub fn normalized(claims: &Map<String, Value>) -> Map<String, Value> {
    let mut out = claims.clone();
    for name in ["exp", "nbf", "iat"] {
        if let Some(t) = claims.get(name).and_then(Value::as_f64) {
            out.insert(name.into(), Value::from(t.floor() as i64));
        }
    }
    out
}

/// A documented reason for jwtgate to refuse what jwt-compact accepts: the error code
/// and a piece of its reason that identify the rule, and why the rule is right.
pub struct Rule {
    pub name: &'static str,
    pub code: ErrorCode,
    pub reason_contains: &'static str,
    pub why: &'static str,
}

/// Every way jwtgate may refuse a token jwt-compact accepts. Found by the targeted cases
/// of `tests/differential.rs` (each rule has one) and the mutation and fuzz runs.
pub const RULES: &[Rule] = &[
    Rule {
        name: "duplicate-members",
        code: ErrorCode::Malformed,
        reason_contains: "duplicate member name",
        why: "RFC 7515 §5.2, RFC 7519 §4, RFC 8725 §3.9: member names are unique; \
              jwt-compact (serde) keeps the last of duplicate claims",
    },
    Rule {
        name: "nesting",
        code: ErrorCode::Malformed,
        reason_contains: "nesting deeper than",
        why: "RFC 8259 §9 lets a parser bound nesting: jwtgate stops at 32 levels, \
              serde_json at 128",
    },
    Rule {
        name: "header-member-types",
        code: ErrorCode::Malformed,
        reason_contains: "not a string",
        why: "RFC 7515 §4.1.4, §4.1.9, §4.1.10: kid, typ and cty are strings; a null is \
              not an absent member (jwt-compact reads null as absent)",
    },
    Rule {
        name: "header-jwk-type",
        code: ErrorCode::Malformed,
        reason_contains: "jwk is ",
        why: "RFC 7515 §4.1.3: jwk is a JSON object (a JWK); jwtgate never reads it (keys \
              come only from the key set) but refuses a header that gets its type wrong; \
              jwt-compact ignores the member",
    },
    Rule {
        name: "header-x5c-type",
        code: ErrorCode::Malformed,
        reason_contains: "x5c is not a non-empty array of strings",
        why: "RFC 7515 §4.1.6: x5c is a non-empty JSON array of certificate strings; \
              jwtgate never reads it but refuses a header that gets its type wrong; \
              jwt-compact ignores the member",
    },
    Rule {
        name: "crit",
        code: ErrorCode::CritUnsupported,
        reason_contains: "crit",
        why: "RFC 7515 §4.1.11: a recipient MUST refuse a JWS whose crit it does not \
              understand or that is malformed; jwt-compact ignores crit",
    },
    Rule {
        name: "b64",
        code: ErrorCode::CritUnsupported,
        reason_contains: "b64",
        why: "RFC 7797 §3, §6: b64=false changes what is signed and must be understood; \
              jwt-compact ignores b64 and verifies the encoded payload",
    },
    Rule {
        name: "candidate-bound",
        code: ErrorCode::UnknownKid,
        reason_contains: "keys could match",
        why: "RFC 7515 §4.1.4 makes kid optional; without one jwtgate tries at most 4 keys \
              (MAX_CANDIDATES), so a token cannot make it run every key of a large set",
    },
    Rule {
        name: "kid-selects-the-key",
        code: ErrorCode::UnknownKid,
        reason_contains: "kid",
        why: "RFC 7515 §4.1.4: kid names the key; a kid naming no key usable with the alg \
              is refused, not tried against other keys (jwt-compact is handed the key)",
    },
    Rule {
        name: "kid-selects-the-key-size",
        code: ErrorCode::BadSignature,
        reason_contains: "the key's modulus is",
        why: "RFC 7515 §4.1.4: kid names the key, and RFC 8017 §8.2.2 step 1: a signature \
              is exactly as long as that key's modulus; a kid naming the 2048-bit key on a \
              4096-bit signature is refused (jwt-compact is handed both keys and tries the \
              other)",
    },
    Rule {
        name: "claim-types",
        code: ErrorCode::InvalidClaim,
        reason_contains: "",
        why: "RFC 7519 §4.1.1-4.1.3, §4.1.7 and §2 (NumericDate): iss, sub and jti are \
              strings, aud a string or array of strings, exp/nbf/iat non-negative \
              numbers; jwt-compact types only exp, nbf and iat",
    },
    Rule {
        name: "exp-is-exclusive",
        code: ErrorCode::Expired,
        reason_contains: "expired",
        why: "RFC 7519 §4.1.4: the current time MUST be before exp; jwtgate refuses at \
              now == exp + skew, jwt-compact one second later",
    },
    Rule {
        name: "token-size",
        code: ErrorCode::TokenTooLarge,
        reason_contains: "",
        why: "the policy's cap on the token (16 KiB by default), checked before any \
              decoding: a bound on the work an unauthenticated request can cause",
    },
    Rule {
        name: "policy-issuer",
        code: ErrorCode::BadIssuer,
        reason_contains: "",
        why: "the policy's issuers (RFC 7519 §4.1.1 leaves iss to the application, and \
              so does jwt-compact)",
    },
    Rule {
        name: "policy-audience",
        code: ErrorCode::BadAudience,
        reason_contains: "",
        why: "RFC 7519 §4.1.3: a recipient that does not identify itself with aud MUST \
              refuse; jwt-compact leaves aud to the application",
    },
    Rule {
        name: "policy-required-claims",
        code: ErrorCode::MissingClaim,
        reason_contains: "",
        why: "the policy requires iss and aud (jwt-compact requires only exp)",
    },
];

/// The rule that explains a refusal jwt-compact does not share, if any.
pub fn rule_for(e: &jwtgate::Error) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.code == e.code() && e.reason().contains(r.reason_contains))
}

/// Tokens jwtgate accepts and jwt-compact refuses, and why that is the oracle's
/// strictness, not jwtgate's laxity. Each is recognised from the token itself.
pub const ORACLE_STRICTER: &[(&str, &str)] = &[
    (
        "cty",
        "jwt-compact refuses a cty other than json or cbor; RFC 7515 §4.1.10 leaves cty to \
         the application and jwtgate refuses only cty JWT (a nested token)",
    ),
    (
        "timestamp-range",
        "jwt-compact refuses exp, nbf or iat outside chrono's range (about year 262143); \
         RFC 7519 §2 sets no upper bound and jwtgate compares them as numbers",
    ),
    (
        "ignored-header-members",
        "jwt-compact decodes x5t and x5t#S256 and checks their lengths (20 and 32 bytes); \
         jwtgate checks only that they are strings (RFC 7515 §4.1 types) and never reads them \
         (keys come only from the key set)",
    ),
];

/// Which [`ORACLE_STRICTER`] case a token jwtgate accepted and jwt-compact refused
/// (`why`) falls under, if any.
pub fn oracle_stricter(
    token: &str,
    accepted: &jwtgate::Verified,
    why: &str,
) -> Option<&'static str> {
    let header = accepted.header().as_map();
    if why.starts_with("unsupported content type") {
        return Some("cty");
    }
    let beyond_chrono = |name: &str| {
        accepted
            .claims()
            .as_map()
            .get(name)
            .and_then(Value::as_f64)
            .is_some_and(|t| t >= 8.2e12)
    };
    if ["exp", "nbf", "iat"].into_iter().any(beyond_chrono) {
        return Some("timestamp-range");
    }
    // Without the members jwtgate ignores, jwt-compact must parse the token; the
    // signature is not checked by parsing, so the stripped header need not be signed.
    let ignored = ["jku", "x5u", "x5t", "x5t#S256"];
    if why.starts_with("malformed token header") && ignored.iter().any(|m| header.contains_key(*m))
    {
        let mut stripped = header.clone();
        stripped.retain(|k, _| !ignored.contains(&k.as_str()));
        let (_, rest) = token.split_once('.').unwrap();
        let again = format!("{}.{rest}", b64(&serde_json::to_vec(&stripped).unwrap()));
        if UntrustedToken::new(&again).is_ok() {
            return Some("ignored-header-members");
        }
    }
    None
}

/// The outcome of one token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    BothAccept,
    BothRefuse,
    /// jwtgate refused by the named rule of [`RULES`]; jwt-compact accepted.
    Strict(&'static str),
    /// jwt-compact refused by the named case of [`ORACLE_STRICTER`]; jwtgate accepted.
    OracleStricter(&'static str),
}

/// Verifies `token` with both and checks the contract; panics on a breach.
pub fn judge(keys: &Keys, verifier: &Verifier, token: &str) -> Verdict {
    let ours = verifier.verify(token, NOW as u64);
    let theirs = compact_verdict(keys, token);
    match (ours, theirs) {
        (Ok(v), Ok(claims)) => {
            assert_eq!(
                normalized(v.claims().as_map()),
                claims,
                "the claims differ: {token}"
            );
            Verdict::BothAccept
        }
        (Ok(v), Err(why)) => match oracle_stricter(token, &v, &why) {
            Some(case) => Verdict::OracleStricter(case),
            None => panic!("jwtgate accepts what jwt-compact refuses ({why}): {token}"),
        },
        (Err(e), Ok(_)) => match rule_for(&e) {
            Some(rule) => Verdict::Strict(rule.name),
            None => panic!(
                "jwtgate refuses ({}: {}) what jwt-compact accepts, and no rule says why: {token}",
                e.code(),
                e.reason()
            ),
        },
        (Err(_), Err(_)) => Verdict::BothRefuse,
    }
}
