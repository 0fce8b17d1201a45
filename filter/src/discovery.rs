//! OpenID Connect Discovery 1.0: the `jwks_uri` of an issuer's configuration document.

use crate::error::{err, excerpt, Error};
use crate::json;
use alloc::string::String;
use serde_json::Value;

/// Reads `jwks_uri` from an `/.well-known/openid-configuration` document.
///
/// When `issuer` is given, the document's `issuer` must equal it exactly
/// (OIDC Discovery §4.3), which stops a document for one issuer serving keys for another.
/// The URI must be absolute `https://` or `http://` (hosts decide which they allow).
///
/// ```
/// let doc = br#"{"issuer":"https://idp.example","jwks_uri":"https://idp.example/keys"}"#;
/// assert_eq!(jwtgate::discovery::jwks_uri(doc, Some("https://idp.example")).unwrap(), "https://idp.example/keys");
/// assert!(jwtgate::discovery::jwks_uri(doc, Some("https://other.example")).is_err());
/// ```
pub fn jwks_uri(doc: &[u8], issuer: Option<&str>) -> Result<String, Error> {
    let map = json::parse_object(doc).map_err(|e| err!(BadDiscovery, "discovery document: {e}"))?;
    if let Some(want) = issuer {
        match map.get("issuer") {
            Some(Value::String(have)) if have == want => {}
            Some(Value::String(have)) => {
                return Err(err!(
                    BadDiscovery,
                    "discovery issuer \"{}\" is not \"{}\"",
                    excerpt(have),
                    excerpt(want)
                ))
            }
            _ => {
                return Err(err!(
                    BadDiscovery,
                    "discovery document has no issuer string"
                ))
            }
        }
    }
    match map.get("jwks_uri") {
        Some(Value::String(uri)) if uri.starts_with("https://") || uri.starts_with("http://") => {
            Ok(uri.clone())
        }
        Some(Value::String(uri)) => Err(err!(
            BadDiscovery,
            "jwks_uri \"{}\" is not an http(s) URL",
            excerpt(uri)
        )),
        _ => Err(err!(
            BadDiscovery,
            "discovery document has no jwks_uri string"
        )),
    }
}
