//! What a verified token must also satisfy: issuers, audiences, algorithms, time
//! windows, required claims, subject patterns and nested-claim rules.

use crate::claims::lookup;
use crate::error::{err, Error, ErrorCode};
use crate::json;
use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use serde_json::{Map, Value};

/// Signature algorithms jwtgate can verify: every asymmetric JWS algorithm IdPs use
/// (RFC 7518 §3.3, §3.4, §3.5; RFC 8037). `HS*` (shared secrets) and `none` never.
///
/// `PS*` need the crate feature `pss`, `ES256` the feature `es256`, `ES384` the feature
/// `es384` (`ecdsa` is both) and `EdDSA`/`Ed25519` the feature `eddsa`, all on by
/// default; a build without them refuses those names in a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256, MGF1 with SHA-256, 32-byte salt.
    PS256,
    /// RSASSA-PSS with SHA-384, MGF1 with SHA-384, 48-byte salt.
    PS384,
    /// RSASSA-PSS with SHA-512, MGF1 with SHA-512, 64-byte salt.
    PS512,
    /// ECDSA on P-256 with SHA-256, signature `r || s` (64 bytes).
    ES256,
    /// ECDSA on P-384 with SHA-384, signature `r || s` (96 bytes).
    ES384,
    /// EdDSA (RFC 8037); jwtgate verifies it with Ed25519 keys only.
    EdDSA,
    /// Ed25519 by its fully-specified name (the newer JOSE registration); the same
    /// verification as `EdDSA` with an Ed25519 key.
    Ed25519,
}

/// The family of an algorithm: which key type verifies it, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    /// RSASSA-PKCS1-v1_5.
    Pkcs1,
    /// RSASSA-PSS.
    Pss,
    /// ECDSA on P-256.
    P256,
    /// ECDSA on P-384.
    P384,
    /// Ed25519.
    Ed25519,
}

impl Algorithm {
    /// Every algorithm, in the order the documentation lists them.
    pub const ALL: [Algorithm; 10] = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
        Algorithm::Ed25519,
    ];

    /// The JOSE name, compared exactly (case-sensitive) when read from a token.
    ///
    /// ```
    /// assert_eq!(jwtgate::Algorithm::from_name("RS256"), Some(jwtgate::Algorithm::RS256));
    /// assert_eq!(jwtgate::Algorithm::from_name("ES256"), Some(jwtgate::Algorithm::ES256));
    /// assert_eq!(jwtgate::Algorithm::from_name("rs256"), None);
    /// assert_eq!(jwtgate::Algorithm::from_name("HS256"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The JOSE name.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::EdDSA => "EdDSA",
            Algorithm::Ed25519 => "Ed25519",
        }
    }

    /// Whether this build of the core verifies it (the curves are cargo features).
    pub const fn is_supported(self) -> bool {
        match self.family() {
            Family::Pkcs1 => true,
            Family::Pss => cfg!(feature = "pss"),
            Family::P256 => cfg!(feature = "es256"),
            Family::P384 => cfg!(feature = "es384"),
            Family::Ed25519 => cfg!(feature = "eddsa"),
        }
    }

    /// The SHA-2 size the algorithm hashes with: 256, 384 or 512 (Ed25519 hashes with
    /// SHA-512 inside the signature scheme). Hosts with native crypto map it to their
    /// own digest names.
    ///
    /// ```
    /// assert_eq!(jwtgate::Algorithm::PS384.hash_bits(), 384);
    /// ```
    pub const fn hash_bits(self) -> u16 {
        match self {
            Algorithm::RS256 | Algorithm::PS256 | Algorithm::ES256 => 256,
            Algorithm::RS384 | Algorithm::PS384 | Algorithm::ES384 => 384,
            Algorithm::RS512 | Algorithm::PS512 | Algorithm::EdDSA | Algorithm::Ed25519 => 512,
        }
    }

    pub(crate) const fn family(self) -> Family {
        match self {
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => Family::Pkcs1,
            Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512 => Family::Pss,
            Algorithm::ES256 => Family::P256,
            Algorithm::ES384 => Family::P384,
            Algorithm::EdDSA | Algorithm::Ed25519 => Family::Ed25519,
        }
    }
}

/// The names a policy accepts in this build, for error messages.
fn supported_names() -> String {
    let mut out = String::new();
    for a in Algorithm::ALL.iter().filter(|a| a.is_supported()) {
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(a.name());
    }
    out
}

/// A subject pattern: exact, or a prefix when it ends in `*`
/// (`system:serviceaccount:payments:*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pattern {
    text: String,
    prefix: bool,
}

impl Pattern {
    fn new(p: &str) -> Pattern {
        match p.strip_suffix('*') {
            Some(prefix) => Pattern {
                text: prefix.to_owned(),
                prefix: true,
            },
            None => Pattern {
                text: p.to_owned(),
                prefix: false,
            },
        }
    }

    fn matches(&self, s: &str) -> bool {
        if self.prefix {
            s.starts_with(self.text.as_str())
        } else {
            s == self.text
        }
    }
}

/// A claim, found by dotted path, must equal one of `allowed` (or, when the claim
/// is an array, contain one of them).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ClaimRule {
    pub(crate) path: String,
    pub(crate) allowed: Vec<Value>,
}

/// The policy a [`Verifier`](crate::Verifier) applies after the signature holds.
///
/// Defaults: RS256 only, 60 s clock skew, `exp` required, 16 KiB token cap, no
/// issuer/audience/subject/claim constraints. Build it in code or from JSON.
///
/// ```
/// use jwtgate::Policy;
/// let p = Policy::new()
///     .issuer("https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE")
///     .audience("sts.amazonaws.com")
///     .subject("system:serviceaccount:payments:*")
///     .claim("kubernetes.io.namespace", ["payments", "billing"]);
/// let same = Policy::from_json(br#"{
///     "issuers": "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE",
///     "audiences": ["sts.amazonaws.com"],
///     "subjects": ["system:serviceaccount:payments:*"],
///     "claims": {"kubernetes.io.namespace": ["payments", "billing"]}
/// }"#).unwrap();
/// assert_eq!(p, same);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub(crate) issuers: Vec<String>,
    pub(crate) audiences: Vec<String>,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) clock_skew: u64,
    pub(crate) require_exp: bool,
    pub(crate) max_token_age: Option<u64>,
    pub(crate) required_claims: Vec<String>,
    pub(crate) subjects: Vec<Pattern>,
    pub(crate) claim_rules: Vec<ClaimRule>,
    pub(crate) max_token_bytes: usize,
    pub(crate) types: Vec<String>,
    pub(crate) crit: Vec<String>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy::new()
    }
}

/// Default cap on the compact token, applied before any decoding.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Default clock skew in seconds.
pub const DEFAULT_CLOCK_SKEW: u64 = 60;

impl Policy {
    /// The defaults: RS256, 60 s skew, `exp` required, 16 KiB cap.
    pub fn new() -> Policy {
        Policy {
            issuers: Vec::new(),
            audiences: Vec::new(),
            algorithms: vec![Algorithm::RS256],
            clock_skew: DEFAULT_CLOCK_SKEW,
            require_exp: true,
            max_token_age: None,
            required_claims: Vec::new(),
            subjects: Vec::new(),
            claim_rules: Vec::new(),
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            types: Vec::new(),
            crit: Vec::new(),
        }
    }

    /// Adds an accepted issuer (exact match). With none, `iss` is not checked.
    pub fn issuer(mut self, iss: &str) -> Policy {
        self.issuers.push(iss.to_owned());
        self
    }

    /// Adds an accepted audience (exact, case-sensitive; any one match suffices).
    /// With none, `aud` is only type-checked.
    pub fn audience(mut self, aud: &str) -> Policy {
        self.audiences.push(aud.to_owned());
        self
    }

    /// Replaces the algorithm allow-list (default `[RS256]`).
    pub fn algorithms(mut self, algs: &[Algorithm]) -> Policy {
        self.algorithms = algs.to_vec();
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    pub fn clock_skew(mut self, seconds: u64) -> Policy {
        self.clock_skew = seconds;
        self
    }

    /// Whether a token without `exp` is refused (default true).
    pub fn require_exp(mut self, required: bool) -> Policy {
        self.require_exp = required;
        self
    }

    /// Refuse tokens whose `iat` is older than this (then `iat` is required).
    pub fn max_token_age(mut self, seconds: u64) -> Policy {
        self.max_token_age = Some(seconds);
        self
    }

    /// A claim (dotted path) that must be present.
    pub fn require_claim(mut self, path: &str) -> Policy {
        self.required_claims.push(path.to_owned());
        self
    }

    /// An accepted subject: exact, or a prefix when it ends in `*`. Any one match suffices.
    pub fn subject(mut self, pattern: &str) -> Policy {
        self.subjects.push(Pattern::new(pattern));
        self
    }

    /// A nested-claim rule: the claim at `path` must be one of `allowed`.
    pub fn claim<'a>(mut self, path: &str, allowed: impl IntoIterator<Item = &'a str>) -> Policy {
        self.claim_rules.push(ClaimRule {
            path: path.to_owned(),
            allowed: allowed
                .into_iter()
                .map(|s| Value::String(s.into()))
                .collect(),
        });
        self
    }

    /// An accepted `typ` header value (RFC 8725 §3.11 explicit typing; `at+jwt` for OAuth
    /// access tokens, RFC 9068). Compared case-insensitively, with or without the
    /// `application/` prefix. With any configured, a token without `typ` is refused.
    pub fn typ(mut self, typ: &str) -> Policy {
        self.types.push(typ.to_owned());
        self
    }

    /// A `crit` header extension the host handles itself (RFC 7515 §4.1.11). A token
    /// whose `crit` names anything not allowed here is refused (`crit_unsupported`).
    pub fn crit(mut self, extension: &str) -> Policy {
        self.crit.push(extension.to_owned());
        self
    }

    /// Cap on the compact token length in bytes.
    pub fn max_token_bytes(mut self, bytes: usize) -> Policy {
        self.max_token_bytes = bytes;
        self
    }

    /// Reads a policy from a JSON object. Unknown fields and wrong types are
    /// refused with a [`BadPolicy`](crate::ErrorCode::BadPolicy) error naming the field.
    ///
    /// Fields: `issuers` (string or array), `audiences` (string or array),
    /// `algorithms` (array of `RS256`, `RS384`, `RS512`, `PS256`, `PS384`, `PS512`,
    /// `ES256`, `ES384`, `EdDSA`, `Ed25519`), `clock_skew_seconds`,
    /// `require_exp`, `max_token_age_seconds`, `required_claims` (array of paths),
    /// `subjects` (array of patterns), `claims` (object: path → array of allowed
    /// values), `max_token_bytes`.
    pub fn from_json(bytes: &[u8]) -> Result<Policy, Error> {
        let map = json::parse_object(bytes).map_err(|e| {
            let hint = match bytes.first() {
                Some(b'-') => " (a PEM? the policy is a JSON object)",
                _ => "",
            };
            err!(BadPolicy, "policy: {e}{hint}")
        })?;
        Policy::from_map(&map, "")
    }

    /// Reads the policy fields from an already-parsed object; `prefix` is prepended
    /// to field names in errors (hosts embed the policy in larger configurations).
    /// Fields it does not know are left to the caller when `prefix` is not empty.
    #[doc(hidden)]
    pub fn from_map(map: &Map<String, Value>, prefix: &str) -> Result<Policy, Error> {
        let mut p = Policy::new();
        for (name, v) in map {
            let path = alloc::format!("{prefix}{name}");
            let field = |what: &str| Error::for_field(ErrorCode::BadPolicy, &path, what);
            match name.as_str() {
                // An empty allow-list would accept anything: refused, never "no check".
                "issuers" => {
                    p.issuers = strings(v)
                        .ok_or_else(|| field("expected a string or an array of strings"))?;
                    if p.issuers.is_empty() {
                        return Err(field(EMPTY));
                    }
                }
                "audiences" => {
                    p.audiences = strings(v)
                        .ok_or_else(|| field("expected a string or an array of strings"))?;
                    if p.audiences.is_empty() {
                        return Err(field(EMPTY));
                    }
                }
                "algorithms" => {
                    let names =
                        strings(v).ok_or_else(|| field("expected an array of algorithm names"))?;
                    let mut algs = Vec::new();
                    for n in &names {
                        match Algorithm::from_name(n) {
                            Some(a) if !a.is_supported() => {
                                return Err(field(&alloc::format!(
                                    "\"{}\" is not built into this jwtgate (cargo feature {}); supported: {}",
                                    a.name(),
                                    match a.family() {
                                        Family::Ed25519 => "eddsa",
                                        Family::Pss => "pss",
                                        Family::P384 => "es384",
                                        _ => "es256",
                                    },
                                    supported_names()
                                )))
                            }
                            Some(a) if !algs.contains(&a) => algs.push(a),
                            Some(_) => {}
                            None => {
                                return Err(field(&alloc::format!(
                                    "\"{}\" is not supported ({})",
                                    crate::error::excerpt(n),
                                    supported_names()
                                )))
                            }
                        }
                    }
                    if algs.is_empty() {
                        return Err(field("must name at least one algorithm"));
                    }
                    p.algorithms = algs;
                }
                "clock_skew_seconds" => {
                    p.clock_skew =
                        seconds(v).ok_or_else(|| field("expected a non-negative integer"))?
                }
                "require_exp" => {
                    p.require_exp = v.as_bool().ok_or_else(|| field("expected a boolean"))?
                }
                "max_token_age_seconds" => {
                    p.max_token_age = match v {
                        Value::Null => None,
                        _ => Some(
                            seconds(v)
                                .ok_or_else(|| field("expected a non-negative integer or null"))?,
                        ),
                    }
                }
                "required_claims" => {
                    p.required_claims =
                        strings(v).ok_or_else(|| field("expected an array of claim paths"))?
                }
                "subjects" => {
                    let pats =
                        strings(v).ok_or_else(|| field("expected an array of subject patterns"))?;
                    if pats.is_empty() {
                        return Err(field(EMPTY));
                    }
                    p.subjects = pats.iter().map(|s| Pattern::new(s)).collect();
                }
                "claims" => {
                    let rules = v.as_object().ok_or_else(|| {
                        field("expected an object of claim path to allowed values")
                    })?;
                    for (path, allowed) in rules {
                        let allowed = match allowed {
                            Value::Array(a) if !a.is_empty() => a.clone(),
                            Value::Array(_) | Value::Object(_) | Value::Null => {
                                return Err(Error::for_field(
                                    ErrorCode::BadPolicy,
                                    &alloc::format!("{prefix}claims.{path}"),
                                    "expected a non-empty array of allowed values",
                                ))
                            }
                            scalar => vec![scalar.clone()],
                        };
                        p.claim_rules.push(ClaimRule {
                            path: path.clone(),
                            allowed,
                        });
                    }
                }
                "types" => {
                    p.types = strings(v)
                        .ok_or_else(|| field("expected a string or an array of strings"))?;
                    if p.types.is_empty() {
                        return Err(field(EMPTY));
                    }
                    if p.types
                        .iter()
                        .any(|t| t.is_empty() || t.eq_ignore_ascii_case("application/"))
                    {
                        return Err(field("expected media types such as at+jwt or JWT"));
                    }
                }
                // Empty is the default (no extension understood), so it is no wider than absent.
                "crit" => {
                    p.crit = strings(v).ok_or_else(|| field("expected an array of header names"))?
                }
                "max_token_bytes" => {
                    let n = seconds(v).ok_or_else(|| field("expected a positive integer"))?;
                    p.max_token_bytes = usize::try_from(n)
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| field("expected a positive integer"))?;
                }
                _ if prefix.is_empty() => return Err(field(&unknown_field_hint(name))),
                _ => {}
            }
        }
        Ok(p)
    }

    /// The field names [`Policy::from_map`] understands.
    #[doc(hidden)]
    pub const FIELDS: &'static [&'static str] = &[
        "issuers",
        "audiences",
        "algorithms",
        "clock_skew_seconds",
        "require_exp",
        "max_token_age_seconds",
        "required_claims",
        "subjects",
        "claims",
        "max_token_bytes",
        "types",
        "crit",
    ];

    /// Explicit typing: the header's `typ` must be one of the configured types, compared
    /// as media types (case-insensitive, `application/` optional).
    pub(crate) fn typ_allowed(&self, typ: Option<&str>) -> bool {
        fn bare(t: &str) -> &str {
            match t.get(..12) {
                Some(p) if p.eq_ignore_ascii_case("application/") => t.get(12..).unwrap_or(""),
                _ => t,
            }
        }
        self.types.is_empty()
            || typ.is_some_and(|t| {
                self.types
                    .iter()
                    .any(|w| bare(w).eq_ignore_ascii_case(bare(t)))
            })
    }

    /// Subject check: `sub` must match one pattern when any are configured.
    pub(crate) fn subject_allowed(&self, sub: &str) -> bool {
        self.subjects.is_empty() || self.subjects.iter().any(|p| p.matches(sub))
    }

    /// Finds the first failing claim rule, for the reason text.
    pub(crate) fn failing_rule<'a>(
        &'a self,
        claims: &Map<String, Value>,
    ) -> Option<(&'a ClaimRule, bool)> {
        self.claim_rules
            .iter()
            .find_map(|rule| match lookup(claims, &rule.path) {
                None => Some((rule, false)),
                Some(Value::Array(items)) if items.iter().any(|i| rule.allowed.contains(i)) => None,
                Some(v) if rule.allowed.contains(v) => None,
                Some(_) => Some((rule, true)),
            })
    }
}

/// Why an empty allow-list is refused, and what to write instead.
const EMPTY: &str = "an empty list would accept any value; list at least one, or leave the field out to not check it";

/// "unknown field", naming the field a user of jose or `jwt_authn` probably meant.
fn unknown_field_hint(name: &str) -> String {
    let meant = match name {
        "issuer" | "iss" => Some("issuers"),
        "audience" | "aud" => Some("audiences"),
        "subject" | "sub" => Some("subjects"),
        "algs" | "alg" | "algorithm" => Some("algorithms"),
        "clock_skew" | "clockTolerance" | "clock_skew_secs" => Some("clock_skew_seconds"),
        "max_token_age" | "maxTokenAge" => Some("max_token_age_seconds"),
        "requiredClaims" => Some("required_claims"),
        "typ" | "type" | "typ_header" => Some("types"),
        "maxTokenBytes" => Some("max_token_bytes"),
        _ => None,
    };
    match meant {
        Some(m) => alloc::format!("unknown field (did you mean \"{m}\"?)"),
        None => alloc::format!("unknown field (known: {})", Policy::FIELDS.join(", ")),
    }
}

fn strings(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

fn seconds(v: &Value) -> Option<u64> {
    v.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn bad_policies_name_the_field() {
        for (doc, field) in [
            (r#"{"issuers": 3}"#, "issuers"),
            (r#"{"algorithms": ["HS256"]}"#, "algorithms"),
            (r#"{"algorithms": []}"#, "algorithms"),
            (r#"{"clock_skew_seconds": -1}"#, "clock_skew_seconds"),
            (r#"{"claims": {"a.b": []}}"#, "claims.a.b"),
            (r#"{"max_token_bytes": 0}"#, "max_token_bytes"),
            (r#"{"audience": "x"}"#, "audience"),
            (r#"{"issuers": []}"#, "issuers"),
            (r#"{"audiences": []}"#, "audiences"),
            (r#"{"subjects": []}"#, "subjects"),
        ] {
            let e = Policy::from_json(doc.as_bytes()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::BadPolicy);
            assert_eq!(e.field(), Some(field), "{doc}: {}", e.reason());
            assert!(e.reason().starts_with(field), "{doc}: {}", e.reason());
        }
    }

    #[test]
    #[cfg(all(feature = "pss", feature = "ecdsa", feature = "eddsa"))]
    fn algorithm_names() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(a.name()), Some(a));
        }
        let p = Policy::from_json(
            br#"{"algorithms": ["ES256", "ES384", "PS256", "PS384", "PS512", "EdDSA", "Ed25519", "RS512"]}"#,
        )
        .unwrap();
        assert_eq!(p.algorithms.len(), 8);
        for refused in ["ES512", "HS256", "none", "es256", "ES256K", "Ed448"] {
            let doc = alloc::format!(r#"{{"algorithms": ["{refused}"]}}"#);
            let e = Policy::from_json(doc.as_bytes()).unwrap_err();
            assert_eq!(e.field(), Some("algorithms"), "{refused}");
        }
        assert_eq!(Policy::new().algorithms, [Algorithm::RS256]);
    }

    #[test]
    fn subject_patterns() {
        let p = Policy::new()
            .subject("system:serviceaccount:payments:*")
            .subject("alice");
        assert!(p.subject_allowed("system:serviceaccount:payments:api"));
        assert!(p.subject_allowed("alice"));
        assert!(!p.subject_allowed("alice2"));
        assert!(!p.subject_allowed("system:serviceaccount:payment:api"));
    }
}
