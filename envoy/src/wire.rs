//! The proxy-wasm header-map serialization, decoded without trusting it: bounds are
//! checked, and bytes that are not UTF-8 (obs-text is legal in HTTP header values) are
//! replaced rather than unwrapped, so a client cannot trap the VM with one odd byte.
//!
//! Layout (little endian): `count: u32`, then `count` pairs of `(key_len: u32, value_len: u32)`,
//! then each key and value followed by a NUL.

use std::borrow::Cow;

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    let bytes: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    usize::try_from(u32::from_le_bytes(bytes)).ok()
}

/// Borrowed when UTF-8. (`from_utf8` checks ASCII a word at a time; `from_utf8_lossy`
/// walks byte by byte, so it only handles the rare value that is not UTF-8.)
fn text(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// A request header as `(name, value)`, owned or borrowed from the host's buffer.
pub trait Header {
    fn name(&self) -> &str;
    fn value(&self) -> &str;
}

impl<K: AsRef<str>, V: AsRef<str>> Header for (K, V) {
    fn name(&self) -> &str {
        self.0.as_ref()
    }
    fn value(&self) -> &str {
        self.1.as_ref()
    }
}

/// Decodes a serialized header map, borrowing from it: no copy of any name or value that
/// is UTF-8 (a request's token is ~1 KB, and this runs on every request). A malformed map
/// yields the pairs read so far.
pub fn decode_pairs(b: &[u8]) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    let Some(count) = u32_at(b, 0) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(count.min(256));
    let Some(mut p) = count.checked_mul(8).and_then(|n| n.checked_add(4)) else {
        return out;
    };
    for i in 0..count {
        let (Some(klen), Some(vlen)) = (u32_at(b, 4 + i * 8), u32_at(b, 8 + i * 8)) else {
            break;
        };
        let Some(key) = p.checked_add(klen).and_then(|end| b.get(p..end)) else {
            break;
        };
        p += klen + 1;
        let Some(value) = p.checked_add(vlen).and_then(|end| b.get(p..end)) else {
            break;
        };
        p += vlen + 1;
        out.push((text(key), text(value)));
    }
    out
}

/// Encodes pairs in the same layout (for local replies).
pub fn encode_pairs(pairs: &[(&str, &str)]) -> Vec<u8> {
    let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    let mut out = len(pairs.len()).to_vec();
    for (k, v) in pairs {
        out.extend(len(k.len()));
        out.extend(len(v.len()));
    }
    for (k, v) in pairs {
        out.extend(k.as_bytes());
        out.push(0);
        out.extend(v.as_bytes());
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode() {
        let pairs = [("a", "1"), ("www-authenticate", "Bearer realm=\"x\"")];
        let bytes = encode_pairs(&pairs);
        let got = decode_pairs(&bytes);
        assert_eq!(
            got.iter()
                .map(|(k, v)| (k.as_ref(), v.as_ref()))
                .collect::<Vec<_>>(),
            pairs
        );
        assert!(got
            .iter()
            .all(|(k, v)| matches!((k, v), (Cow::Borrowed(_), Cow::Borrowed(_)))));
    }

    fn encode(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut out = (pairs.len() as u32).to_le_bytes().to_vec();
        for (k, v) in pairs {
            out.extend((k.len() as u32).to_le_bytes());
            out.extend((v.len() as u32).to_le_bytes());
        }
        for (k, v) in pairs {
            out.extend(*k);
            out.push(0);
            out.extend(*v);
            out.push(0);
        }
        out
    }

    #[test]
    fn round_trip_and_non_utf8() {
        let b = encode(&[(b":path", b"/x"), (b"x-junk", b"caf\xe9")]);
        let got = decode_pairs(&b);
        assert_eq!((got[0].name(), got[0].value()), (":path", "/x"));
        assert_eq!(got[1].1, "caf\u{fffd}");
    }

    #[test]
    fn truncated_and_hostile_inputs_do_not_panic() {
        let b = encode(&[(b"a", b"b"), (b"c", b"d")]);
        for cut in 0..b.len() {
            let _ = decode_pairs(&b[..cut]);
        }
        assert!(decode_pairs(&[0xff, 0xff, 0xff, 0xff]).is_empty());
        assert!(decode_pairs(&[]).is_empty());
    }
}
