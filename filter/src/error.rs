//! One error type for every verdict: a stable code plus a human reason.

use alloc::string::String;
use core::fmt;

/// Stable, machine-readable verdict codes. Their `snake_case` strings (see
/// [`ErrorCode::as_str`]) are a public contract: the Envoy filter puts them in
/// `WWW-Authenticate` and metrics, the JS package exposes them as `err.code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The token is longer than the configured cap (checked before any decoding).
    TokenTooLarge,
    /// Not a well-formed compact JWS: segment count, base64url, JSON, member types.
    Malformed,
    /// Five segments: a JWE, which jwtgate does not decrypt.
    JweUnsupported,
    /// `cty: JWT`: a nested token, which jwtgate does not unwrap.
    NestedJwtUnsupported,
    /// `alg` is `none` or not on the policy's allow-list.
    AlgNotAllowed,
    /// The header has `crit`: no extension is understood, so the token is refused (RFC 7515 §4.1.11).
    CritUnsupported,
    /// No usable key has the token's `kid` (or, without `kid`, too many keys would have to be tried).
    UnknownKid,
    /// The key set holds no usable key.
    NoUsableKeys,
    /// The signature does not verify against any candidate key.
    BadSignature,
    /// A registered claim has the wrong type (`exp` as a string, `aud` as a number, ...).
    InvalidClaim,
    /// `exp` is in the past (beyond the clock skew).
    Expired,
    /// `nbf` (or `iat`, when a max age is set) is in the future (beyond the clock skew).
    NotYetValid,
    /// `iat` is older than the policy's max token age.
    TokenTooOld,
    /// `iss` is not one of the configured issuers.
    BadIssuer,
    /// No `aud` value is one of the configured audiences.
    BadAudience,
    /// A claim the policy requires is absent.
    MissingClaim,
    /// A subject or claim rule of the policy does not match.
    ClaimRuleFailed,
    /// The JWKS document is not valid JSON of the right shape.
    JwksMalformed,
    /// The JWKS document is larger than the configured cap.
    JwksTooLarge,
    /// The JWKS document has more keys than the configured cap.
    JwksTooManyKeys,
    /// A policy document is invalid (the reason names the field).
    BadPolicy,
    /// An OpenID Connect discovery document is unusable.
    BadDiscovery,
    /// Fetching the key set (or the discovery document) failed: the network, the
    /// status, or a document that did not load; no keys were fetched yet.
    JwksFetchFailed,
    /// The request carries no token (hosts report this; the core never sees such a request).
    MissingToken,
    /// The request carries more than one token (RFC 6750 §2: exactly one method).
    MultipleTokens,
}

impl ErrorCode {
    /// The stable `snake_case` name of the code.
    ///
    /// ```
    /// assert_eq!(jwtgate::ErrorCode::BadSignature.as_str(), "bad_signature");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::TokenTooLarge => "token_too_large",
            ErrorCode::Malformed => "malformed",
            ErrorCode::JweUnsupported => "jwe_unsupported",
            ErrorCode::NestedJwtUnsupported => "nested_jwt_unsupported",
            ErrorCode::AlgNotAllowed => "alg_not_allowed",
            ErrorCode::CritUnsupported => "crit_unsupported",
            ErrorCode::UnknownKid => "unknown_kid",
            ErrorCode::NoUsableKeys => "no_usable_keys",
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::InvalidClaim => "invalid_claim",
            ErrorCode::Expired => "expired",
            ErrorCode::NotYetValid => "not_yet_valid",
            ErrorCode::TokenTooOld => "token_too_old",
            ErrorCode::BadIssuer => "bad_issuer",
            ErrorCode::BadAudience => "bad_audience",
            ErrorCode::MissingClaim => "missing_claim",
            ErrorCode::ClaimRuleFailed => "claim_rule_failed",
            ErrorCode::JwksMalformed => "jwks_malformed",
            ErrorCode::JwksTooLarge => "jwks_too_large",
            ErrorCode::JwksTooManyKeys => "jwks_too_many_keys",
            ErrorCode::BadPolicy => "bad_policy",
            ErrorCode::BadDiscovery => "bad_discovery",
            ErrorCode::JwksFetchFailed => "jwks_fetch_failed",
            ErrorCode::MissingToken => "missing_token",
            ErrorCode::MultipleTokens => "multiple_tokens",
        }
    }

    /// Every code, for hosts that pre-register one metric per code.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::TokenTooLarge,
        ErrorCode::Malformed,
        ErrorCode::JweUnsupported,
        ErrorCode::NestedJwtUnsupported,
        ErrorCode::AlgNotAllowed,
        ErrorCode::CritUnsupported,
        ErrorCode::UnknownKid,
        ErrorCode::NoUsableKeys,
        ErrorCode::BadSignature,
        ErrorCode::InvalidClaim,
        ErrorCode::Expired,
        ErrorCode::NotYetValid,
        ErrorCode::TokenTooOld,
        ErrorCode::BadIssuer,
        ErrorCode::BadAudience,
        ErrorCode::MissingClaim,
        ErrorCode::ClaimRuleFailed,
        ErrorCode::JwksMalformed,
        ErrorCode::JwksTooLarge,
        ErrorCode::JwksTooManyKeys,
        ErrorCode::BadPolicy,
        ErrorCode::BadDiscovery,
        ErrorCode::JwksFetchFailed,
        ErrorCode::MissingToken,
        ErrorCode::MultipleTokens,
    ];

    /// True when the token itself is authentic and current but the policy refuses
    /// its audience or claims: HTTP hosts answer 403 rather than 401 for these.
    ///
    /// ```
    /// assert!(jwtgate::ErrorCode::ClaimRuleFailed.is_forbidden());
    /// assert!(!jwtgate::ErrorCode::Expired.is_forbidden());
    /// ```
    pub const fn is_forbidden(self) -> bool {
        matches!(self, ErrorCode::BadAudience | ErrorCode::ClaimRuleFailed)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejection: a stable [`ErrorCode`], a reason for humans, and as data the
/// configuration field or the claim it concerns.
///
/// The reason is printable ASCII (untrusted text is escaped and cut to 64 characters),
/// so hosts may log it or put it in a header as it is; [`Error::www_authenticate`]
/// builds a ready RFC 6750 challenge.
///
/// ```
/// let e = jwtgate::Policy::from_json(br#"{"audiences": []}"#).unwrap_err();
/// assert_eq!(e.code(), jwtgate::ErrorCode::BadPolicy);
/// assert_eq!(e.field(), Some("audiences"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    reason: String,
    field: Option<String>,
    claim: Option<String>,
}

impl Error {
    pub(crate) fn new(code: ErrorCode, reason: impl Into<String>) -> Error {
        Error {
            code,
            reason: reason.into(),
            field: None,
            claim: None,
        }
    }

    /// Names the policy or configuration field (a dotted path) this error is about.
    pub(crate) fn with_field(mut self, field: impl Into<String>) -> Error {
        self.field = Some(field.into());
        self
    }

    /// Names the claim (a dotted path) this error is about.
    pub(crate) fn with_claim(mut self, claim: impl Into<String>) -> Error {
        self.claim = Some(claim.into());
        self
    }

    /// An error of a host's own making (a configuration the host reads itself), with
    /// the field it concerns, so that every surface reports it in the same shape.
    ///
    /// ```
    /// use jwtgate::{Error, ErrorCode};
    /// let e = Error::for_field(ErrorCode::BadPolicy, "http_uri.timeout", "expected a duration");
    /// assert_eq!(e.field(), Some("http_uri.timeout"));
    /// assert_eq!(e.reason(), "http_uri.timeout: expected a duration");
    /// ```
    pub fn for_field(code: ErrorCode, field: &str, what: &str) -> Error {
        Error::new(
            code,
            alloc::format!("{}: {}", excerpt(field), excerpt_long(what)),
        )
        .with_field(field)
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// Why, in a sentence: printable ASCII, safe to log or to put in a header.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The policy or configuration field at fault (`audiences`, `claims.team`), for
    /// [`BadPolicy`](ErrorCode::BadPolicy) errors. Hosts that embed the policy in a larger
    /// document get the full path.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// The reason without the leading `field: ` that [`Error::reason`] carries when a
    /// field is named, for hosts that print the field in their own spelling.
    ///
    /// ```
    /// let e = jwtgate::Policy::from_json(br#"{"audiences": []}"#).unwrap_err();
    /// assert!(e.reason().starts_with("audiences: "));
    /// assert!(e.detail().starts_with("an empty list"));
    /// ```
    pub fn detail(&self) -> &str {
        self.field
            .as_deref()
            .and_then(|f| self.reason.strip_prefix(excerpt(f).as_str()))
            .and_then(|rest| rest.strip_prefix(": "))
            .unwrap_or(&self.reason)
    }

    /// The claim at fault (`exp`, `aud`, `kubernetes.io.namespace`), for claim errors.
    pub fn claim(&self) -> Option<&str> {
        self.claim.as_deref()
    }

    /// An RFC 6750 `WWW-Authenticate` value for this error: `error` is
    /// `insufficient_scope` for [`ErrorCode::is_forbidden`] codes, `invalid_request` for
    /// [`MultipleTokens`](ErrorCode::MultipleTokens), none for
    /// [`MissingToken`](ErrorCode::MissingToken) (RFC 6750 §3.1), `invalid_token`
    /// otherwise; `error_description` is the code and the reason, with the characters §3
    /// forbids there replaced. Characters a quoted `realm` cannot hold are dropped.
    ///
    /// ```
    /// let e = jwtgate::Policy::from_json(br#"{"issuers": []}"#).unwrap_err();
    /// assert!(e.www_authenticate("api").starts_with(r#"Bearer realm="api", error="invalid_token""#));
    /// ```
    pub fn www_authenticate(&self, realm: &str) -> String {
        let mut out = String::from("Bearer realm=\"");
        out.extend(realm.chars().filter(|c| description_char(*c)));
        out.push('"');
        if let Some(error) = self.code.bearer_error() {
            out.push_str(", error=\"");
            out.push_str(error);
            out.push_str("\", error_description=\"");
            out.push_str(self.code.as_str());
            out.push_str(": ");
            out.extend(self.reason.chars().map(|c| match c {
                '"' => '\'',
                '\\' => '/',
                c if description_char(c) => c,
                _ => '?',
            }));
            out.push('"');
        }
        out
    }
}

/// RFC 6750 §3: `error_description` holds %x20-21 / %x23-5B / %x5D-7E.
fn description_char(c: char) -> bool {
    matches!(c, ' '..='~') && c != '"' && c != '\\'
}

impl ErrorCode {
    /// The RFC 6750 §3.1 `error` attribute for this code, or `None` when the request
    /// carried no credentials.
    ///
    /// ```
    /// assert_eq!(jwtgate::ErrorCode::BadAudience.bearer_error(), Some("insufficient_scope"));
    /// ```
    pub const fn bearer_error(self) -> Option<&'static str> {
        match self {
            ErrorCode::MissingToken => None,
            ErrorCode::MultipleTokens => Some("invalid_request"),
            c if c.is_forbidden() => Some("insufficient_scope"),
            _ => Some("invalid_token"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.reason)
    }
}

impl core::error::Error for Error {}

/// Quotes untrusted text for a reason string: at most 64 characters, printable ASCII
/// only. Quotes and backslashes are escaped, anything else outside printable ASCII
/// becomes `\u{..}`, and a cut is marked `...`, so a reason is safe on one log line and
/// in an HTTP header (Node, `Headers` and Envoy refuse bytes outside ASCII there).
pub(crate) fn excerpt(s: &str) -> String {
    escape(s, 64)
}

/// [`excerpt`] for host-written text that may be longer (a hint naming what to write).
fn excerpt_long(s: &str) -> String {
    escape(s, 512)
}

fn escape(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push_str("...");
            break;
        }
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.extend(c.escape_unicode()),
        }
    }
    out
}

macro_rules! err {
    ($code:ident, $($arg:tt)*) => {
        $crate::error::Error::new($crate::error::ErrorCode::$code, alloc::format!($($arg)*))
    };
}
pub(crate) use err;

#[cfg(test)]
mod tests {
    use super::{excerpt, Error, ErrorCode};

    #[test]
    fn excerpts_are_bounded_ascii_and_escaped() {
        assert_eq!(excerpt("a\0b\r\n\"\\"), "a\\u{0}b\\u{d}\\u{a}\\\"\\\\");
        let long = excerpt(&"\u{e9}".repeat(100));
        assert!(long.ends_with("..."));
        assert!(long.bytes().all(|b| (0x20..0x7f).contains(&b)));
        assert_eq!(excerpt("\u{2026}\u{202e}"), "\\u{2026}\\u{202e}");
    }

    #[test]
    fn challenges_hold_only_what_rfc_6750_allows() {
        let e = Error::new(ErrorCode::BadIssuer, "issuer \"a\\\"b\" is not accepted");
        assert_eq!(
            e.www_authenticate("r\"e\u{e9}alm"),
            "Bearer realm=\"realm\", error=\"invalid_token\", \
             error_description=\"bad_issuer: issuer 'a/'b' is not accepted\""
        );
        let missing = Error::new(ErrorCode::MissingToken, "no token");
        assert_eq!(missing.www_authenticate("api"), "Bearer realm=\"api\"");
        let aud = Error::new(ErrorCode::BadAudience, "x");
        assert!(aud.www_authenticate("api").contains("insufficient_scope"));
    }
}
