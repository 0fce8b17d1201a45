//! Finding a provider's token in the request: headers (with prefixes; `Authorization:
//! Bearer` by RFC 6750), query parameters and cookies. RFC 6750 §2 allows one method per
//! request, so a second token anywhere is an error rather than a guess.

use crate::config::Source;
use crate::wire::Header;
use jwtgate::Error;
use std::borrow::Cow;

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

/// A token and where it was, borrowed from the request headers when it appears there as is
/// (a bearer token is ~1 KB, and this runs on every request).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found<'h> {
    pub token: Cow<'h, str>,
    pub location: Location,
    /// The `Authorization` value whose RFC 6750 `b64token` scan [`extract`] left to
    /// [`Found::scan`] (`defer_scan`).
    unscanned: Option<&'h str>,
}

impl Found<'_> {
    /// Whether the token's `b64token` scan is still to be done ([`Found::scan`]).
    pub fn unscanned(&self) -> bool {
        self.unscanned.is_some()
    }

    /// The `b64token` scan [`extract`] left for later: the error it would have returned.
    pub fn scan(&self) -> Result<(), ExtractError> {
        match self.unscanned.map(jwtgate::bearer_token) {
            Some(Err(e)) => Err(ExtractError::Malformed(e)),
            _ => Ok(()),
        }
    }
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
///
/// `defer_scan`: a lone `Authorization: Bearer` token is returned without its `b64token`
/// scan (the largest part of a cache hit: a byte loop over ~1 KB), for the caller to ask
/// the verifier's cache first and run [`Found::scan`] on a miss. A cached token has
/// passed the scan, so the verdict is the same. With a second token, the scans run in
/// the order the eager path runs them, so that `Malformed` and `Multiple` come out as
/// they would.
pub fn extract<'h>(
    sources: &[Source],
    headers: &'h [impl Header],
    defer_scan: bool,
) -> Result<Option<Found<'h>>, ExtractError> {
    let mut found: Option<Found<'h>> = None;
    let mut put = |f: Found<'h>| {
        if let Some(first) = &found {
            first.scan()?;
            f.scan()?;
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
                    let value = h.value();
                    let found = if *rfc6750 {
                        from_authorization(value, defer_scan)?
                    } else {
                        from_header(value_prefix, value).map(|t| (t, true))
                    };
                    if let Some((token, exact)) = found {
                        put(Found {
                            token: Cow::Borrowed(token),
                            location: if exact {
                                Location::Header(name.clone())
                            } else {
                                Location::KeptHeader(name.clone())
                            },
                            unscanned: (*rfc6750 && defer_scan).then_some(value),
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
                            unscanned: None,
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
                                    token: Cow::Borrowed(token),
                                    location: Location::Cookie(cookie.clone()),
                                    unscanned: None,
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
/// `Bearer`: the header is then left in the request, as `jwt_authn` leaves it. With
/// `defer_scan`, the token is cut out as `jwtgate::bearer_token` cuts it, without the scan.
fn from_authorization(value: &str, defer_scan: bool) -> Result<Option<(&str, bool)>, ExtractError> {
    let v = value.trim_matches([' ', '\t']);
    if v.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = if defer_scan {
        bearer_unscanned(v)
    } else {
        jwtgate::bearer_token(value)
    };
    match token {
        Ok(Some(t)) => Ok(Some((t, value.starts_with("Bearer ")))),
        Ok(None) => Ok(None),
        Err(e) => Err(ExtractError::Malformed(e)),
    }
}

/// `jwtgate::bearer_token` on a value already trimmed of spaces and tabs, but for the
/// `b64token` scan; `Found::scan` runs the whole function later. The tests hold the two
/// to the same answers.
fn bearer_unscanned(v: &str) -> Result<Option<&str>, Error> {
    let (scheme, rest) = match v.find(' ') {
        Some(i) => v.split_at(i),
        None => (v, ""),
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    match rest.trim_start_matches(' ') {
        // The core's own error for it.
        "" => jwtgate::bearer_token(v),
        token => Ok(Some(token)),
    }
}

/// A configured header: the token follows `prefix`, matched case-sensitively (as
/// `jwt_authn` does); a value without the prefix is no token.
fn from_header<'v>(prefix: &str, value: &'v str) -> Option<&'v str> {
    let rest = value.strip_prefix(prefix)?;
    let token = rest.trim_matches([' ', '\t']);
    (!token.is_empty()).then_some(token)
}

/// The first value of a header.
pub fn header<'a, H: Header>(headers: &'a [H], name: &str) -> Option<&'a str> {
    headers.iter().find(|h| h.name() == name).map(Header::value)
}

/// `%XX` and `+` decoding; `None` when the result is not UTF-8 or an escape is broken.
fn percent_decode(s: &str) -> Option<Cow<'_, str>> {
    if !s.contains(['%', '+']) {
        return Some(Cow::Borrowed(s));
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
    String::from_utf8(out).ok().map(Cow::Owned)
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

    /// `extract` with the scan done eagerly (`deferred_scan_agrees_with_the_eager_path`
    /// covers the other mode), owning its answer.
    fn extract(
        sources: &[Source],
        headers: &[(String, String)],
    ) -> Result<Option<Found<'static>>, ExtractError> {
        super::extract(sources, headers, false).map(|f| {
            f.map(|f| Found {
                token: Cow::Owned(f.token.into_owned()),
                location: f.location,
                unscanned: None,
            })
        })
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
                location: Location::KeptHeader("authorization".into()),
                unscanned: None,
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
        assert_eq!(got.map(|f| f.token), Some("".into()));
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
                location: Location::Param("access_token".into()),
                unscanned: None,
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

    /// The scan left for later gives what the eager path gives: the same token, location and
    /// error (`Malformed` or `Multiple`, in the same order), once `Found::scan` has run.
    #[test]
    fn deferred_scan_agrees_with_the_eager_path() {
        let values = [
            "Bearer a.b.c",
            "bearer a.b.c",
            "BEARER   a.b.c ",
            "\tBearer a.b.c\t",
            "Bearer a.b.c==",
            "Bearer ===",
            "Bearer =",
            "Bearer a=b",
            "Bearer a b",
            "Bearer a\tb",
            "Bearer \t a",
            "Bearer  \t",
            "Bearer é",
            "Bearer a.b.c, Bearer d",
            "Bearer",
            "Bearer ",
            "Bearerx a.b.c",
            "Basic dXNlcg==",
            "",
            " ",
            "\t",
            "Bearer\ta.b.c",
        ];
        let mut sets: Vec<Vec<(String, String)>> = Vec::new();
        for a in values {
            sets.push(h(&[(":path", "/"), ("authorization", a)]));
            sets.push(h(&[
                (":path", "/?access_token=x.y.z"),
                ("authorization", a),
            ]));
            for b in ["Bearer d.e.f", "Bearer d e", "Basic x"] {
                sets.push(h(&[
                    (":path", "/"),
                    ("authorization", a),
                    ("authorization", b),
                ]));
                sets.push(h(&[
                    (":path", "/"),
                    ("authorization", b),
                    ("authorization", a),
                ]));
            }
        }
        for headers in &sets {
            let eager = super::extract(&defaults(), headers, false);
            let deferred = super::extract(&defaults(), headers, true).and_then(|f| match f {
                Some(f) => f.scan().map(|()| Some(f)),
                None => Ok(None),
            });
            let strip = |r: Result<Option<Found>, ExtractError>| {
                r.map(|f| f.map(|f| (f.token.into_owned(), f.location)))
                    .map_err(|e| match e {
                        ExtractError::Multiple => "multiple".to_owned(),
                        ExtractError::Malformed(e) => e.code().as_str().to_owned(),
                    })
            };
            assert_eq!(strip(eager), strip(deferred), "{headers:?}");
        }
        // Only a lone bearer token waits for its scan.
        let lone = h(&[(":path", "/"), ("authorization", "Bearer a b")]);
        let got = super::extract(&defaults(), &lone, true).unwrap().unwrap();
        assert!(got.unscanned() && got.scan().is_err());
        let param = h(&[(":path", "/?access_token=a.b.c")]);
        let got = super::extract(&defaults(), &param, true).unwrap().unwrap();
        assert!(!got.unscanned());
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
