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

/// A rejection: a stable [`ErrorCode`] and a reason for humans.
///
/// The reason never echoes token contents beyond short, bounded excerpts
/// (a claim name, a `kid` cut to 64 bytes), so hosts may log it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    reason: String,
}

impl Error {
    pub(crate) fn new(code: ErrorCode, reason: impl Into<String>) -> Error {
        Error {
            code,
            reason: reason.into(),
        }
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// Why, in a sentence.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.reason)
    }
}

impl core::error::Error for Error {}

/// Quotes untrusted text for a reason string: at most 64 characters, with control
/// characters, quotes and backslashes escaped so a reason is safe to log on one line.
pub(crate) fn excerpt(s: &str) -> String {
    const MAX: usize = 64;
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        if c.is_control() || c == '"' || c == '\\' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
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
    use super::excerpt;

    #[test]
    fn excerpts_are_bounded_and_escaped() {
        assert_eq!(excerpt("a\0b\r\n\"\\"), "a\\u{0}b\\r\\n\\\"\\\\");
        assert_eq!(excerpt(&"é".repeat(100)).chars().count(), 65);
    }
}
