//! Strict base64url (RFC 7515 §2): no padding, no whitespace, canonical trailing bits.

use alloc::vec::Vec;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

/// The only decoder jwtgate uses: `=` anywhere, `+`, `/`, whitespace and
/// non-zero unused trailing bits are all errors, so each value has exactly one encoding.
const STRICT: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Decodes strict base64url; `None` when the text is not in canonical form.
pub(crate) fn decode(text: &[u8]) -> Option<Vec<u8>> {
    // A length of 1 mod 4 can never be canonical; the engine rejects it too, this only skips work.
    if text.len() % 4 == 1 {
        return None;
    }
    STRICT.decode(text).ok()
}

/// Encodes without padding (used by tests and the cache key).
#[cfg(test)]
pub(crate) fn encode(bytes: &[u8]) -> alloc::string::String {
    STRICT.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for len in 0..40 {
            let data: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(37)).collect();
            assert_eq!(decode(encode(&data).as_bytes()).unwrap(), data);
        }
    }

    #[test]
    fn refuses_padding_whitespace_and_other_alphabets() {
        assert!(decode(b"YQ==").is_none());
        assert!(decode(b"YQ=").is_none());
        assert!(decode(b"Y Q").is_none());
        assert!(decode(b"YQ\n").is_none());
        assert!(decode(b"+/8").is_none());
        assert!(decode(b"-_8").is_some());
        assert!(decode(b"Y").is_none());
    }

    #[test]
    fn refuses_non_canonical_trailing_bits() {
        // "YQ" is the canonical encoding of "a"; "YR" decodes to the same byte with a stray bit.
        assert_eq!(decode(b"YQ").unwrap(), b"a");
        assert!(decode(b"YR").is_none());
        assert!(decode(b"YWJ").is_none());
        assert_eq!(decode(b"YWI").unwrap(), b"ab");
    }
}
