//! The verified claims: registered claims typed, everything else reachable by dotted path.

use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};

/// The claims of a verified token.
///
/// ```
/// # let claims = jwtgate::Claims::from_json_for_docs(br#"{"sub":"a","kubernetes.io":{"namespace":"payments"}}"#);
/// assert_eq!(claims.sub(), Some("a"));
/// assert_eq!(claims.get("kubernetes.io.namespace").and_then(|v| v.as_str()), Some("payments"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Claims {
    pub(crate) map: Map<String, Value>,
}

impl Claims {
    /// `iss`, when it is a string.
    pub fn iss(&self) -> Option<&str> {
        self.map.get("iss").and_then(Value::as_str)
    }

    /// `sub`, when it is a string.
    pub fn sub(&self) -> Option<&str> {
        self.map.get("sub").and_then(Value::as_str)
    }

    /// `jti`, when it is a string.
    pub fn jti(&self) -> Option<&str> {
        self.map.get("jti").and_then(Value::as_str)
    }

    /// `aud` as a list (a single string becomes one element).
    pub fn aud(&self) -> Vec<&str> {
        match self.map.get("aud") {
            Some(Value::String(s)) => alloc::vec![s.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// `exp` in seconds since the epoch (may be fractional).
    pub fn exp(&self) -> Option<f64> {
        self.map.get("exp").and_then(Value::as_f64)
    }

    /// `nbf` in seconds since the epoch.
    pub fn nbf(&self) -> Option<f64> {
        self.map.get("nbf").and_then(Value::as_f64)
    }

    /// `iat` in seconds since the epoch.
    pub fn iat(&self) -> Option<f64> {
        self.map.get("iat").and_then(Value::as_f64)
    }

    /// Any claim by dotted path. A member whose name itself contains dots
    /// (`kubernetes.io`) is found too; a path that two readings resolve to different
    /// values is ambiguous and gives `None`.
    pub fn get(&self, path: &str) -> Option<&Value> {
        lookup(&self.map, path)
    }

    /// All claims as a JSON object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }

    #[doc(hidden)]
    pub fn from_json_for_docs(bytes: &[u8]) -> Claims {
        Claims {
            map: crate::json::parse_object(bytes).unwrap_or_default(),
        }
    }
}

/// Resolves a dotted path where member names may themselves contain dots. Every way
/// of splitting the path is tried; when two of them reach different values (a top-level
/// `"a.b"` and a nested `a` → `b`), the path is ambiguous and resolves to nothing, so a
/// token cannot satisfy a rule through the reading the policy author did not mean.
pub(crate) fn lookup<'a>(map: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut found = None;
    // Bounds the search on adversarial member names; real paths need a handful of steps.
    let mut budget = 256usize;
    if resolve(map, path, &mut found, &mut budget) {
        found
    } else {
        None
    }
}

/// Returns false when the path is ambiguous or the search budget ran out.
fn resolve<'a>(
    map: &'a Map<String, Value>,
    path: &str,
    found: &mut Option<&'a Value>,
    budget: &mut usize,
) -> bool {
    if let Some(v) = map.get(path) {
        match found {
            Some(prev) if *prev != v => return false,
            _ => *found = Some(v),
        }
    }
    for (dot, _) in path.match_indices('.') {
        let Some(left) = budget.checked_sub(1) else {
            return false;
        };
        *budget = left;
        let (head, rest) = (
            path.get(..dot).unwrap_or_default(),
            path.get(dot + 1..).unwrap_or_default(),
        );
        if let Some(Value::Object(inner)) = map.get(head) {
            if !resolve(inner, rest, found, budget) {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_paths_with_dotted_names() {
        let c = Claims::from_json_for_docs(
            br#"{"kubernetes.io":{"namespace":"payments","serviceaccount":{"name":"api"}},
                 "a":{"b":{"c":1}},"a.b":{"d":2},"x.y":3}"#,
        );
        assert_eq!(
            c.get("kubernetes.io.namespace"),
            Some(&Value::from("payments"))
        );
        assert_eq!(
            c.get("kubernetes.io.serviceaccount.name"),
            Some(&Value::from("api"))
        );
        assert_eq!(c.get("a.b.c"), Some(&Value::from(1)));
        assert_eq!(c.get("a.b.d"), Some(&Value::from(2)));
        let ambiguous = Claims::from_json_for_docs(br#"{"k.ns":"evil","k":{"ns":"payments"}}"#);
        assert_eq!(ambiguous.get("k.ns"), None);
        let agreeing = Claims::from_json_for_docs(br#"{"k.ns":"p","k":{"ns":"p"}}"#);
        assert_eq!(agreeing.get("k.ns"), Some(&Value::from("p")));
        assert_eq!(c.get("x.y"), Some(&Value::from(3)));
        assert_eq!(c.get("x"), None);
        assert_eq!(c.get("a.b.e"), None);
        assert_eq!(c.get(""), None);
        assert_eq!(c.get("."), None);
    }
}
