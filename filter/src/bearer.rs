//! RFC 6750 §2.1: the token in an `Authorization: Bearer` header value.

use crate::error::{err, Error};

/// Extracts the token from an `Authorization` header value.
///
/// The scheme is case-insensitive and followed by one or more spaces; the token must
/// be an RFC 6750 `b64token`. `Ok(None)` means the header uses another scheme (for
/// example `Basic`), so the request simply carries no bearer token.
///
/// ```
/// assert_eq!(jwtgate::bearer_token("bearer abc.def.ghi"), Ok(Some("abc.def.ghi")));
/// assert_eq!(jwtgate::bearer_token("Basic dXNlcg=="), Ok(None));
/// assert!(jwtgate::bearer_token("Bearer a b").is_err());
/// ```
pub fn bearer_token(value: &str) -> Result<Option<&str>, Error> {
    let value = value.trim_matches([' ', '\t']);
    let (scheme, rest) = match value.find(' ') {
        Some(i) => value.split_at(i),
        None => (value, ""),
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err(err!(Malformed, "Authorization: Bearer has no token"));
    }
    let body = token.trim_end_matches('=');
    if body.is_empty()
        || !body
            .bytes()
            .all(|c| B64TOKEN.get(usize::from(c)) == Some(&true))
    {
        return Err(err!(
            Malformed,
            "Authorization: Bearer token has characters outside RFC 6750 b64token"
        ));
    }
    Ok(Some(token))
}

/// RFC 6750 `b64token` characters (before the trailing `=`s): a table, because every
/// request's token (~1 KB) is scanned and a lookup is several times cheaper than the tests.
/// Indexing in a const block is checked when the crate compiles, never at run time.
#[allow(clippy::indexing_slicing)]
const B64TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        c += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_spacing() {
        assert_eq!(bearer_token("Bearer a.b.c"), Ok(Some("a.b.c")));
        assert_eq!(bearer_token("BEARER   a.b.c "), Ok(Some("a.b.c")));
        assert_eq!(bearer_token("\tbEaReR a.b.c"), Ok(Some("a.b.c")));
        assert_eq!(bearer_token("Basic abc"), Ok(None));
        assert_eq!(bearer_token("Bearerx a.b.c"), Ok(None));
        assert_eq!(bearer_token(""), Ok(None));
        assert!(bearer_token("Bearer").is_err());
        assert!(bearer_token("Bearer ").is_err());
        assert!(bearer_token("Bearer a.b.c, Bearer d").is_err());
        assert!(bearer_token("Bearer a\tb").is_err());
        assert!(bearer_token("Bearer ===").is_err());
        assert_eq!(bearer_token("Bearer ab=="), Ok(Some("ab==")));
        assert!(bearer_token("Bearer a=b").is_err());
        assert!(bearer_token("Bearer é").is_err());
    }

    #[test]
    fn b64token_table_matches_rfc_6750() {
        for c in 0..=255u8 {
            let want = c.is_ascii_alphanumeric() || b"-._~+/".contains(&c);
            assert_eq!(B64TOKEN[c as usize], want, "byte {c:#04x}");
        }
    }
}
