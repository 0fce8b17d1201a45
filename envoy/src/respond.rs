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
    /// Refused with this code and answered 403 although the code alone is not a 403: a
    /// token without `aud` under an audience check (`jwt_authn` answers it as a wrong `aud`).
    Forbidden(ErrorCode),
    /// Refused with this code and answered 401 although the code alone is a 403: a subject
    /// that fails `jwt_authn`'s `subjects` matcher (which answers 401).
    Unauthorized(ErrorCode),
}

impl Denial {
    /// The code used in the body, the `error_description` and the metric name.
    pub fn code(self) -> &'static str {
        match self {
            Denial::Missing => ErrorCode::MissingToken.as_str(),
            Denial::Multiple => ErrorCode::MultipleTokens.as_str(),
            Denial::Invalid(c) | Denial::Forbidden(c) | Denial::Unauthorized(c) => c.as_str(),
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
        Denial::Forbidden(_) => (403, challenge(realm, "insufficient_scope", d.code())),
        Denial::Invalid(c) if c.is_forbidden() => {
            (403, challenge(realm, "insufficient_scope", d.code()))
        }
        Denial::Invalid(_) | Denial::Unauthorized(_) => {
            (401, challenge(realm, "invalid_token", d.code()))
        }
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

/// A claim as a header value, as `jwt_authn` writes it: strings as they are; booleans as
/// `true`/`false`; numbers as integers when integral and in 0..2^64, else as C's `%f`
/// (`3.500000`); arrays and objects as standard base64 (padded) of their JSON; `None` for
/// null or an empty string (no header), or a value a header cannot carry.
pub fn claim_header_value(v: &Value) -> Option<String> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(n.as_f64()?),
        Value::Array(_) | Value::Object(_) => {
            base64::engine::general_purpose::STANDARD.encode(v.to_string())
        }
        Value::Null => return None,
    };
    header_safe(text)
}

/// `jwt_authn`'s number format (a number is a double in its protobuf payload).
fn number_text(f: f64) -> String {
    if (0.0..18_446_744_073_709_551_616.0).contains(&f) && f.fract() == 0.0 {
        format!("{}", f as u64)
    } else {
        format!("{f:.6}")
    }
}

/// A claim as filter state text (for RBAC's `filter_state` string matcher): strings as they
/// are, numbers and booleans as JSON text, arrays of scalars comma-joined, objects as JSON.
pub fn claim_text(v: &Value) -> Option<String> {
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
    header_safe(text)
}

fn header_safe(text: String) -> Option<String> {
    let ok = !text.is_empty()
        && text.len() <= 8192
        && text.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f));
    ok.then_some(text)
}

/// The payload for filter state, with `normalize_payload_in_metadata`'s space-delimited
/// claims (top-level strings) turned into arrays of their words, as `jwt_authn` does.
pub fn payload_for_state(payload_json: &str, space_delimited: &[String]) -> String {
    if space_delimited.is_empty() {
        return payload_json.to_owned();
    }
    let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(payload_json) else {
        return payload_json.to_owned();
    };
    for name in space_delimited {
        if let Some(Value::String(s)) = map.get(name) {
            let words: Vec<Value> = s
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(|w| Value::String(w.to_owned()))
                .collect();
            map.insert(name.clone(), Value::Array(words));
        }
    }
    Value::Object(map).to_string()
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
    fn claim_headers_as_jwt_authn_writes_them() {
        // Values seen from Envoy 1.40's jwt_authn for the same claims.
        let h = |v: Value| claim_header_value(&v);
        assert_eq!(h(Value::from("a")), Some("a".into()));
        assert_eq!(h(Value::from(42)), Some("42".into()));
        assert_eq!(h(Value::from(3.5)), Some("3.500000".into()));
        assert_eq!(h(Value::from(-3)), Some("-3.000000".into()));
        assert_eq!(
            h(Value::from(1e20)),
            Some("100000000000000000000.000000".into())
        );
        assert_eq!(h(Value::from(true)), Some("true".into()));
        assert_eq!(
            h(serde_json::json!(["t1", "t2"])),
            Some("WyJ0MSIsInQyIl0=".into())
        );
        assert_eq!(
            h(serde_json::json!({"k": "v"})),
            Some("eyJrIjoidiJ9".into())
        );
        assert_eq!(h(Value::Null), None);
        assert_eq!(h(Value::from("")), None);
        assert_eq!(h(Value::from("a\r\nb")), None);
        assert_eq!(payload_header("{}", false), "e30");
    }

    #[test]
    fn filter_state_text_and_space_delimited_claims() {
        assert_eq!(
            claim_text(&serde_json::json!(["a", 1, true])),
            Some("a,1,true".into())
        );
        assert_eq!(
            payload_for_state(
                r#"{"scope":"read  write","n":1}"#,
                &["scope".into(), "x".into()]
            ),
            r#"{"n":1,"scope":["read","write"]}"#
        );
        assert_eq!(
            payload_for_state(r#"{"scope":"a b"}"#, &[]),
            r#"{"scope":"a b"}"#
        );
    }

    #[test]
    fn forbidden_missing_audience() {
        let r = deny(Denial::Forbidden(ErrorCode::MissingClaim), "api");
        assert_eq!(r.status, 403);
        assert_eq!(r.body, r#"{"error":"missing_claim"}"#);
    }
}
