//! What the filter says: RFC 6750 denials (status, `WWW-Authenticate`, a small JSON
//! body carrying the core's stable code), and how verified claims are rendered for
//! upstream headers.

use base64::Engine as _;
use jwtgate::ErrorCode;
use serde_json::Value;

/// Why a request is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denial {
    /// A token was required and none was found.
    Missing,
    /// More than one token (RFC 6750 §2: one method per request).
    Multiple,
    /// The token was refused with this core code.
    Invalid(ErrorCode),
}

impl Denial {
    /// The code used in the body, the `error_description` and the metric name.
    pub fn code(self) -> &'static str {
        match self {
            Denial::Missing => ErrorCode::MissingToken.as_str(),
            Denial::Multiple => ErrorCode::MultipleTokens.as_str(),
            Denial::Invalid(c) => c.as_str(),
        }
    }
}

/// A local reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u32,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

/// The reply for a denial. Codes are fixed ASCII identifiers, so nothing needs escaping;
/// the realm was validated at configuration time.
pub fn deny(d: Denial, realm: &str) -> Reply {
    let (status, challenge) = match d {
        // RFC 6750 §3.1: a request without credentials gets no error attributes.
        Denial::Missing => (401, format!("Bearer realm=\"{realm}\"")),
        Denial::Multiple => (400, challenge(realm, "invalid_request", d.code())),
        Denial::Invalid(c) if c.is_forbidden() => {
            (403, challenge(realm, "insufficient_scope", d.code()))
        }
        Denial::Invalid(_) => (401, challenge(realm, "invalid_token", d.code())),
    };
    Reply {
        status,
        headers: vec![
            ("www-authenticate", challenge),
            ("content-type", "application/json".to_owned()),
            ("cache-control", "no-store".to_owned()),
        ],
        body: format!("{{\"error\":\"{}\"}}", d.code()),
    }
}

fn challenge(realm: &str, error: &str, description: &str) -> String {
    format!("Bearer realm=\"{realm}\", error=\"{error}\", error_description=\"{description}\"")
}

/// The `forward_payload_header` value: the signed payload, base64url like `jwt_authn`.
pub fn payload_header(payload_json: &str, pad: bool) -> String {
    if pad {
        base64::engine::general_purpose::URL_SAFE.encode(payload_json)
    } else {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload_json)
    }
}

/// A claim as a header value: strings as they are, numbers and booleans as JSON text,
/// arrays of scalars joined by commas, objects as compact JSON. `None` when the result
/// cannot be a header value (control characters) or is too long to be sensible.
pub fn claim_header_value(v: &Value) -> Option<String> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(_) | Value::Bool(_) => v.to_string(),
        Value::Array(items)
            if items
                .iter()
                .all(|i| !i.is_array() && !i.is_object() && !i.is_null()) =>
        {
            items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(",")
        }
        Value::Null => return None,
        other => other.to_string(),
    };
    let ok = text.len() <= 8192 && text.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f));
    ok.then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_token_has_no_error_attributes() {
        let r = deny(Denial::Missing, "api");
        assert_eq!(r.status, 401);
        assert_eq!(r.headers[0].1, "Bearer realm=\"api\"");
        assert_eq!(r.body, r#"{"error":"missing_token"}"#);
    }

    #[test]
    fn invalid_and_forbidden() {
        let r = deny(Denial::Invalid(ErrorCode::Expired), "api");
        assert_eq!(r.status, 401);
        assert_eq!(
            r.headers[0].1,
            r#"Bearer realm="api", error="invalid_token", error_description="expired""#
        );
        let r = deny(Denial::Invalid(ErrorCode::ClaimRuleFailed), "api");
        assert_eq!(r.status, 403);
        assert!(r.headers[0].1.contains(r#"error="insufficient_scope""#));
        let r = deny(Denial::Multiple, "api");
        assert_eq!(r.status, 400);
        assert_eq!(r.body, r#"{"error":"multiple_tokens"}"#);
    }

    #[test]
    fn claim_values() {
        assert_eq!(claim_header_value(&Value::from("a")), Some("a".into()));
        assert_eq!(claim_header_value(&Value::from(3)), Some("3".into()));
        assert_eq!(
            claim_header_value(&serde_json::json!(["a", 1, true])),
            Some("a,1,true".into())
        );
        assert_eq!(
            claim_header_value(&serde_json::json!({"a": 1})),
            Some(r#"{"a":1}"#.into())
        );
        assert_eq!(claim_header_value(&Value::from("a\r\nb")), None);
        assert_eq!(payload_header("{}", false), "e30");
    }
}
