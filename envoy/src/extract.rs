//! Finding a provider's token in the request: headers (with prefixes; `Authorization:
//! Bearer` by RFC 6750), query parameters and cookies. RFC 6750 §2 allows one method per
//! request, so a second token anywhere is an error rather than a guess.

use crate::config::Source;
use crate::wire::Header;
use jwtgate::Error;

/// Where a token was found, so that it can be stripped before the request goes upstream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Header(String),
    /// A header left as it is: `Authorization` with the scheme spelled other than `Bearer `
    /// (`jwt_authn` does not see a token there and forwards the header unchanged).
    KeptHeader(String),
    Param(String),
    /// Cookies are never cut out: `jwt_authn` forwards the `Cookie` header unchanged.
    Cookie(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub token: String,
    pub location: Location,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExtractError {
    /// More than one token (two headers, or a header and a parameter, ...).
    Multiple,
    /// A `Bearer` credential that is not a `b64token`.
    Malformed(Error),
}

/// The token for one provider, if any. `headers` are the request headers as the host
/// gives them (lower-case names, `:path` included).
pub fn extract(sources: &[Source], headers: &[impl Header]) -> Result<Option<Found>, ExtractError> {
    let mut found: Option<Found> = None;
    let mut put = |f: Found| {
        if found.is_some() {
            return Err(ExtractError::Multiple);
        }
        found = Some(f);
        Ok(())
    };
    for source in sources {
        match source {
            Source::Header {
                name,
                value_prefix,
                rfc6750,
            } => {
                for h in headers
                    .iter()
                    .filter(|h| h.name().eq_ignore_ascii_case(name))
                {
                    let found = if *rfc6750 {
                        from_authorization(h.value())?
                    } else {
                        from_header(value_prefix, h.value()).map(|t| (t, true))
                    };
                    if let Some((token, exact)) = found {
                        put(Found {
                            token,
                            location: if exact {
                                Location::Header(name.clone())
                            } else {
                                Location::KeptHeader(name.clone())
                            },
                        })?;
                    }
                }
            }
            Source::Param(param) => {
                let query = header(headers, ":path")
                    .and_then(|p| p.split_once('?'))
                    .map(|(_, q)| q);
                for (k, v) in query
                    .into_iter()
                    .flat_map(|q| q.split('&'))
                    .filter_map(|kv| kv.split_once('='))
                {
                    // An empty value is a present token that fails (`malformed`), as in
                    // `jwt_authn`; it is not "no token".
                    if percent_decode(k).as_deref() == Some(param.as_str()) {
                        put(Found {
                            token: percent_decode(v).unwrap_or_default(),
                            location: Location::Param(param.clone()),
                        })?;
                    }
                }
            }
            Source::Cookie(cookie) => {
                for h in headers.iter().filter(|h| h.name() == "cookie") {
                    for (k, v) in h.value().split(';').filter_map(|c| c.split_once('=')) {
                        if k.trim() == cookie {
                            let token = v.trim().trim_matches('"');
                            if !token.is_empty() {
                                put(Found {
                                    token: token.to_owned(),
                                    location: Location::Cookie(cookie.clone()),
                                })?;
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(found)
}

/// The default location, `Authorization: Bearer <token>`, by RFC 6750: the scheme is
/// case-insensitive and the token must be a `b64token`; another scheme is no token, and so is
/// `Bearer` with nothing after it (HTTP drops the trailing space of `Bearer `; `jwt_authn`
/// sees no token there either). The flag is false when the scheme is not spelled exactly
/// `Bearer`: the header is then left in the request, as `jwt_authn` leaves it.
fn from_authorization(value: &str) -> Result<Option<(String, bool)>, ExtractError> {
    let v = value.trim_matches([' ', '\t']);
    if v.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    match jwtgate::bearer_token(value) {
        Ok(Some(t)) => Ok(Some((t.to_owned(), value.starts_with("Bearer ")))),
        Ok(None) => Ok(None),
        Err(e) => Err(ExtractError::Malformed(e)),
    }
}

/// A configured header: the token follows `prefix`, matched case-sensitively (as
/// `jwt_authn` does); a value without the prefix is no token.
fn from_header(prefix: &str, value: &str) -> Option<String> {
    let rest = value.strip_prefix(prefix)?;
    let token = rest.trim_matches([' ', '\t']);
    (!token.is_empty()).then(|| token.to_owned())
}

/// The first value of a header.
pub fn header<'a, H: Header>(headers: &'a [H], name: &str) -> Option<&'a str> {
    headers.iter().find(|h| h.name() == name).map(Header::value)
}

/// `%XX` and `+` decoding; `None` when the result is not UTF-8 or an escape is broken.
fn percent_decode(s: &str) -> Option<String> {
    if !s.contains(['%', '+']) {
        return Some(s.to_owned());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// `path` without any `param=...` pair in its query string.
pub fn strip_param(path: &str, param: &str) -> String {
    let Some((base, query)) = path.split_once('?') else {
        return path.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| {
            let k = kv.split_once('=').map_or(*kv, |(k, _)| k);
            percent_decode(k).as_deref() != Some(param)
        })
        .collect();
    if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// A `Cookie` header value without cookie `name`; `None` when nothing is left.
pub fn strip_cookie(value: &str, name: &str) -> Option<String> {
    let kept: Vec<&str> = value
        .split(';')
        .map(str::trim)
        .filter(|c| !c.is_empty() && c.split_once('=').map_or(*c, |(k, _)| k.trim()) != name)
        .collect();
    (!kept.is_empty()).then(|| kept.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    fn defaults() -> Vec<Source> {
        vec![
            Source::Header {
                name: "authorization".into(),
                value_prefix: "Bearer ".into(),
                rfc6750: true,
            },
            Source::Param("access_token".into()),
        ]
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_kept_unless_spelled_bearer() {
        let got = extract(
            &defaults(),
            &h(&[(":path", "/"), ("authorization", "bEaReR a.b.c")]),
        )
        .unwrap();
        assert_eq!(
            got,
            Some(Found {
                token: "a.b.c".into(),
                location: Location::KeptHeader("authorization".into())
            })
        );
        let got = extract(
            &defaults(),
            &h(&[(":path", "/"), ("authorization", "Bearer a.b.c")]),
        )
        .unwrap();
        assert_eq!(
            got.map(|f| f.location),
            Some(Location::Header("authorization".into()))
        );
    }

    #[test]
    fn empty_bearer_is_missing_and_empty_param_is_a_token() {
        for v in ["Bearer", "Bearer ", "bearer  ", "Bearer\t"] {
            assert_eq!(
                extract(&defaults(), &h(&[(":path", "/"), ("authorization", v)])),
                Ok(None),
                "{v:?}"
            );
        }
        let got = extract(&defaults(), &h(&[(":path", "/x?access_token=")])).unwrap();
        assert_eq!(got.map(|f| f.token), Some(String::new()));
    }

    #[test]
    fn other_schemes_are_no_token_and_bad_bearer_is_malformed() {
        assert_eq!(
            extract(
                &defaults(),
                &h(&[(":path", "/"), ("authorization", "Basic dXNlcg==")])
            ),
            Ok(None)
        );
        assert!(matches!(
            extract(
                &defaults(),
                &h(&[(":path", "/"), ("authorization", "Bearer a b")])
            ),
            Err(ExtractError::Malformed(_))
        ));
    }

    #[test]
    fn two_tokens_are_an_error() {
        let two_headers = h(&[
            (":path", "/"),
            ("authorization", "Bearer a.b.c"),
            ("authorization", "Bearer d.e.f"),
        ]);
        assert_eq!(
            extract(&defaults(), &two_headers),
            Err(ExtractError::Multiple)
        );
        let header_and_param = h(&[
            (":path", "/x?access_token=a.b.c"),
            ("authorization", "Bearer a.b.c"),
        ]);
        assert_eq!(
            extract(&defaults(), &header_and_param),
            Err(ExtractError::Multiple)
        );
    }

    #[test]
    fn params_and_cookies_and_custom_prefixes() {
        let got = extract(&defaults(), &h(&[(":path", "/x?a=1&access_token=a.b%2Ec")])).unwrap();
        assert_eq!(
            got,
            Some(Found {
                token: "a.b.c".into(),
                location: Location::Param("access_token".into())
            })
        );
        let sources = vec![
            Source::Cookie("jwt".into()),
            Source::Header {
                name: "x-token".into(),
                value_prefix: "JWT ".into(),
                rfc6750: false,
            },
        ];
        let got = extract(&sources, &h(&[("cookie", "a=1; jwt=x.y.z")])).unwrap();
        assert_eq!(
            got.map(|f| f.location),
            Some(Location::Cookie("jwt".into()))
        );
        // An explicit prefix is matched case-sensitively, as jwt_authn does.
        let got = extract(&sources, &h(&[("x-token", "JWT x.y.z")])).unwrap();
        assert_eq!(got.map(|f| f.token), Some("x.y.z".into()));
        assert_eq!(extract(&sources, &h(&[("x-token", "jwt x.y.z")])), Ok(None));
        assert_eq!(
            extract(&sources, &h(&[("x-token", "Other x.y.z")])),
            Ok(None)
        );
    }

    #[test]
    fn stripping() {
        assert_eq!(
            strip_param("/a?access_token=t&b=2", "access_token"),
            "/a?b=2"
        );
        assert_eq!(strip_param("/a?access_token=t", "access_token"), "/a");
        assert_eq!(strip_param("/a", "access_token"), "/a");
        assert_eq!(strip_cookie("a=1; jwt=t", "jwt"), Some("a=1".into()));
        assert_eq!(strip_cookie("jwt=t", "jwt"), None);
    }
}
