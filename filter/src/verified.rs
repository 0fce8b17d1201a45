//! What a successful verification returns. Its own module so that the cache (which
//! stores it) and the verifier (which makes it) do not import each other.

use crate::claims::Claims;
use crate::token::Header;
use alloc::string::String;
use alloc::sync::Arc;

/// A token that passed every check. Cheap to clone.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    inner: Arc<Inner>,
}

#[derive(Debug, PartialEq)]
struct Inner {
    header: Header,
    claims: Claims,
    payload: String,
}

impl Verified {
    pub(crate) fn new(header: Header, claims: Claims, payload: String) -> Verified {
        Verified {
            inner: Arc::new(Inner {
                header,
                claims,
                payload,
            }),
        }
    }

    /// The protected header.
    pub fn header(&self) -> &Header {
        &self.inner.header
    }

    /// The claims.
    pub fn claims(&self) -> &Claims {
        &self.inner.claims
    }

    /// The payload exactly as signed (UTF-8 JSON), for forwarding.
    pub fn payload_json(&self) -> &str {
        &self.inner.payload
    }
}
