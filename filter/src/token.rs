//! Splitting and decoding a compact JWS, and the strict header rules (RFC 7515, RFC 8725).

use crate::b64;
use crate::error::{err, excerpt, Error};
use crate::json;
use crate::policy::{Algorithm, Policy};
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};

/// The protected header of a verified token.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
    pub(crate) typ: Option<String>,
    pub(crate) map: Map<String, Value>,
}

impl Header {
    /// The algorithm that verified the signature.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The `kid`, when present.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The `typ`, when present.
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }

    /// Every header member as JSON.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }
}

/// A compact JWS split into its parts, header checked, signature decoded.
pub(crate) struct Compact<'a> {
    pub(crate) header: Header,
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`: what the signature covers.
    pub(crate) signing_input: &'a [u8],
    pub(crate) payload_b64: &'a [u8],
    pub(crate) signature: Vec<u8>,
}

/// Splits and checks everything that can be checked before the signature.
pub(crate) fn parse<'a>(token: &'a str, policy: &Policy) -> Result<Compact<'a>, Error> {
    let bytes = token.as_bytes();
    if bytes.len() > policy.max_token_bytes {
        return Err(err!(
            TokenTooLarge,
            "token is {} bytes, the limit is {}",
            bytes.len(),
            policy.max_token_bytes
        ));
    }
    // Mistakes that would otherwise surface as a confusing segment or base64 error.
    if bytes.first() == Some(&b'{') {
        return Err(err!(
            Malformed,
            "JSON serialization is not supported, only compact"
        ));
    }
    if bytes
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"bearer "))
    {
        return Err(err!(
            Malformed,
            "token starts with \"Bearer \": pass the token alone (bearer_token() extracts it from the header value)"
        ));
    }
    // `str::find` searches a word at a time; a token is ~1 KB and scanned on every request.
    let d1 = token.find('.');
    let d2 = d1.and_then(|d| token.get(d + 1..)?.find('.').map(|e| d + 1 + e));
    let count = match (d1, d2) {
        (Some(_), Some(d)) => {
            2 + token
                .get(d + 1..)
                .map_or(0, |rest| rest.matches('.').count())
        }
        (Some(_), None) => 1,
        (None, _) => 0,
    };
    if count != 2 {
        return Err(match count {
            4 => err!(
                JweUnsupported,
                "five segments: a JWE, which is not supported"
            ),
            _ => err!(
                Malformed,
                "expected 3 dot-separated segments, found {}",
                count + 1
            ),
        });
    }
    let (Some(d1), Some(d2)) = (d1, d2) else {
        return Err(err!(Malformed, "expected 3 dot-separated segments"));
    };
    let (header_b64, rest) = bytes.split_at(d1);
    let payload_b64 = rest.get(1..d2 - d1).unwrap_or_default();
    let sig_b64 = bytes.get(d2 + 1..).unwrap_or_default();
    let signing_input = bytes.get(..d2).unwrap_or_default();

    let header_json = b64::decode(header_b64)
        .ok_or_else(|| err!(Malformed, "header is not canonical base64url"))?;
    let map = json::parse_object(&header_json).map_err(|e| err!(Malformed, "header: {e}"))?;
    let header = check_header(map, policy)?;
    let signature = b64::decode(sig_b64)
        .ok_or_else(|| err!(Malformed, "signature is not canonical base64url"))?;
    if payload_b64.len() % 4 == 1 {
        // Cheap early refusal; the full strict decode happens after the signature.
        return Err(err!(Malformed, "payload is not canonical base64url"));
    }
    Ok(Compact {
        header,
        signing_input,
        payload_b64,
        signature,
    })
}

fn check_header(map: Map<String, Value>, policy: &Policy) -> Result<Header, Error> {
    let alg = match map.get("alg") {
        Some(Value::String(name)) => {
            if name.eq_ignore_ascii_case("none") {
                return Err(err!(
                    AlgNotAllowed,
                    "alg \"{}\" is never accepted",
                    excerpt(name)
                ));
            }
            let alg = Algorithm::from_name(name)
                .ok_or_else(|| err!(AlgNotAllowed, "alg \"{}\" is not supported", excerpt(name)))?;
            if !policy.algorithms.contains(&alg) {
                return Err(err!(
                    AlgNotAllowed,
                    "alg {} is not allowed by the policy",
                    alg.name()
                ));
            }
            alg
        }
        Some(other) => {
            return Err(err!(
                Malformed,
                "alg is {}, not a string",
                json::kind(other)
            ))
        }
        None => return Err(err!(Malformed, "header has no alg")),
    };
    if let Some(crit) = map.get("crit") {
        check_crit(crit, &map, policy)?;
    }
    if let Some(b64) = map.get("b64") {
        // RFC 7797: b64 is only meaningful as a critical extension, which we refuse.
        if b64 != &Value::Bool(true) {
            return Err(err!(
                CritUnsupported,
                "header has b64 (RFC 7797), which is not supported"
            ));
        }
    }
    let kid = optional_string(&map, "kid")?;
    let typ = optional_string(&map, "typ")?;
    if !policy.typ_allowed(typ.as_deref()) {
        return Err(match &typ {
            Some(t) => err!(
                InvalidClaim,
                "typ \"{}\" is not an accepted type",
                excerpt(t)
            ),
            None => err!(InvalidClaim, "typ is required (explicit typing)"),
        }
        .with_claim("typ"));
    }
    if let Some(cty) = optional_string(&map, "cty")? {
        // RFC 7515 §4.1.10: a cty without "/" means "application/<cty>"; media types ignore case.
        let media = cty
            .get(..12)
            .filter(|p| p.eq_ignore_ascii_case("application/"));
        let subtype = media.map_or(cty.as_str(), |_| cty.get(12..).unwrap_or_default());
        if subtype.eq_ignore_ascii_case("JWT") {
            return Err(err!(
                NestedJwtUnsupported,
                "cty JWT: nested tokens are not supported"
            ));
        }
    }
    // jwk, jku, x5u, x5c and x5t are deliberately ignored: keys come only from the host's key
    // set. Their types are still RFC 7515's (4.1.2-4.1.8), as for kid, typ and cty: a header
    // that gets them wrong is malformed, whatever we do with the values.
    for name in ["jku", "x5u", "x5t", "x5t#S256"] {
        optional_string(&map, name)?;
    }
    match map.get("jwk") {
        None | Some(Value::Object(_)) => {}
        Some(other) => {
            return Err(err!(
                Malformed,
                "jwk is {}, not an object",
                json::kind(other)
            ))
        }
    }
    match map.get("x5c") {
        None => {}
        Some(Value::Array(certs)) if !certs.is_empty() && certs.iter().all(Value::is_string) => {}
        Some(_) => return Err(err!(Malformed, "x5c is not a non-empty array of strings")),
    }
    Ok(Header { alg, kid, typ, map })
}

/// RFC 7515 §4.1.11: `crit` is a non-empty array of distinct header names that are not
/// registered ones and are present; each must be an extension the policy handles. Every
/// failure is `crit_unsupported`, as before the allow-list existed.
fn check_crit(crit: &Value, map: &Map<String, Value>, policy: &Policy) -> Result<(), Error> {
    const REGISTERED: &[&str] = &[
        "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "enc",
        "zip",
    ];
    let names = match crit {
        Value::Array(items) if !items.is_empty() => items,
        _ => {
            return Err(err!(
                CritUnsupported,
                "crit must be a non-empty array of header names"
            ))
        }
    };
    for (i, name) in names.iter().enumerate() {
        let Some(name) = name.as_str() else {
            return Err(err!(CritUnsupported, "crit holds a non-string"));
        };
        if REGISTERED.contains(&name)
            || !map.contains_key(name)
            || names
                .get(..i)
                .is_some_and(|seen| seen.iter().any(|s| s.as_str() == Some(name)))
        {
            return Err(err!(
                CritUnsupported,
                "crit names \"{}\", which is registered, absent from the header or repeated",
                excerpt(name)
            ));
        }
        if !policy.crit.iter().any(|c| c == name) {
            return Err(err!(
                CritUnsupported,
                "crit extension \"{}\" is not one the policy handles",
                excerpt(name)
            ));
        }
    }
    Ok(())
}

fn optional_string(map: &Map<String, Value>, name: &str) -> Result<Option<String>, Error> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(err!(
            Malformed,
            "{name} is {}, not a string",
            json::kind(other)
        )),
    }
}
