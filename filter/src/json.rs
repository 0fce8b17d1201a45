//! Strict JSON for headers, claims, JWKS and policies: UTF-8, one top-level object,
//! no duplicate member names at any depth (RFC 7515 §5.2 / RFC 8725 §3.9), bounded nesting.

use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;
use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

/// Deepest nesting accepted in any document (objects and arrays both count).
/// Real tokens nest three levels (Kubernetes); JWKS documents two.
pub(crate) const MAX_DEPTH: usize = 32;

/// Parses `bytes` as one JSON object under the strict rules; the error says why.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict { depth: MAX_DEPTH }
        .deserialize(&mut de)
        .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(format!("expected a JSON object, found {}", kind(&other))),
    }
}

/// A short name for a JSON value's type, for reasons.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Builds a `Value` like serde_json does, refusing duplicates and deep nesting on the way.
struct Strict {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.into()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let depth = self.nested::<A::Error>()?;
        let mut out = alloc::vec::Vec::new();
        while let Some(v) = seq.next_element_seed(Strict { depth })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let depth = self.nested::<A::Error>()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            // One lookup per member: parse the value, then claim the name.
            let value = map.next_value_seed(Strict { depth })?;
            match out.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                Entry::Occupied(taken) => {
                    return Err(A::Error::custom(format_args!(
                        "duplicate member name \"{}\"",
                        crate::error::excerpt(taken.key())
                    )));
                }
            }
        }
        Ok(Value::Object(out))
    }
}

impl Strict {
    fn nested<E: serde::de::Error>(&self) -> Result<usize, E> {
        self.depth
            .checked_sub(1)
            .ok_or_else(|| E::custom(format_args!("nesting deeper than {MAX_DEPTH} levels")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_objects() {
        let m = parse_object(br#"{"a":1,"b":{"c":[1,2,{"d":null}]},"e":"\u00e9"}"#).unwrap();
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn refuses_duplicates_at_any_depth() {
        assert!(parse_object(br#"{"a":1,"a":2}"#)
            .unwrap_err()
            .contains("duplicate member name \"a\""));
        assert!(parse_object(br#"{"x":{"a":1,"a":1}}"#).is_err());
        assert!(parse_object(br#"{"x":[{"a":1,"a":1}]}"#).is_err());
        // Escapes that spell the same name are the same name.
        assert!(parse_object(br#"{"a":1,"\u0061":2}"#).is_err());
    }

    #[test]
    fn refuses_non_objects_bom_trailing_data_and_bad_utf8() {
        assert!(parse_object(b"[]").is_err());
        assert!(parse_object(b"\"s\"").is_err());
        assert!(parse_object(b"\xEF\xBB\xBF{}").is_err());
        assert!(parse_object(b"{} {}").is_err());
        assert!(parse_object(b"{\"a\":\"\xff\"}").is_err());
        assert!(parse_object(br#"{"a":"\ud800"}"#).is_err());
        assert!(parse_object(b"{\"a\":1e400}").is_err());
    }

    #[test]
    fn bounds_nesting_without_recursing_deeply() {
        let ok = alloc::format!(
            "{}{}",
            "{\"a\":".repeat(31),
            "1".to_string() + &"}".repeat(31)
        );
        assert!(parse_object(ok.as_bytes()).is_ok());
        let deep = "[".repeat(10_000);
        let doc = alloc::format!("{{\"a\":{deep}");
        assert!(parse_object(doc.as_bytes())
            .unwrap_err()
            .contains("nesting"));
    }
}
