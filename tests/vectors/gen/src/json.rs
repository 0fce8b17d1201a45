//! A tiny ordered JSON tree, so that the corpus keeps a readable, stable field order
//! without turning on serde_json's `preserve_order` (which would leak into the core's
//! build through feature unification).

/// A JSON value whose objects keep insertion order.
#[derive(Clone, Debug)]
pub enum J {
    Null,
    Bool(bool),
    /// A number, written exactly as given.
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

/// A string value.
pub fn s(text: impl Into<String>) -> J {
    J::Str(text.into())
}

/// An integer value.
pub fn n(v: impl Into<i128>) -> J {
    J::Num(v.into().to_string())
}

/// An object from (name, value) pairs.
pub fn obj<const N: usize>(members: [(&str, J); N]) -> J {
    J::Obj(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// An array of strings.
pub fn strs(items: &[&str]) -> J {
    J::Arr(items.iter().map(|i| s(*i)).collect())
}

fn escape(text: &str) -> String {
    serde_json::to_string(text).expect("a str always serialises")
}

impl J {
    /// Appends a member to an object (no-op on other values).
    pub fn push(&mut self, name: &str, value: J) {
        if let J::Obj(members) = self {
            members.push((name.to_owned(), value));
        }
    }

    /// Removes a member from an object (no-op when absent or not an object).
    pub fn remove(&mut self, name: &str) {
        if let J::Obj(members) = self {
            members.retain(|(k, _)| k != name);
        }
    }

    /// Compact text, no whitespace.
    pub fn compact(&self) -> String {
        let mut out = String::new();
        self.write_compact(&mut out);
        out
    }

    fn write_compact(&self, out: &mut String) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Num(text) => out.push_str(text),
            J::Str(text) => out.push_str(&escape(text)),
            J::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_compact(out);
                }
                out.push(']');
            }
            J::Obj(members) => {
                out.push('{');
                for (i, (name, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&escape(name));
                    out.push(':');
                    value.write_compact(out);
                }
                out.push('}');
            }
        }
    }

    /// Indented text: containers whose compact form is short stay on one line.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write_pretty(&mut out, 0);
        out.push('\n');
        out
    }

    fn write_pretty(&self, out: &mut String, depth: usize) {
        const SHORT: usize = 100;
        let (open, close, len) = match self {
            J::Arr(items) => ('[', ']', items.len()),
            J::Obj(members) => ('{', '}', members.len()),
            _ => return self.write_compact(out),
        };
        let flat = self.compact();
        if len == 0 || flat.len() + depth * 2 <= SHORT {
            out.push_str(&flat);
            return;
        }
        let pad = "  ".repeat(depth + 1);
        out.push(open);
        out.push('\n');
        let mut first = true;
        let mut item = |out: &mut String, name: Option<&str>, value: &J| {
            if !first {
                out.push_str(",\n");
            }
            first = false;
            out.push_str(&pad);
            if let Some(name) = name {
                out.push_str(&escape(name));
                out.push_str(": ");
            }
            value.write_pretty(out, depth + 1);
        };
        match self {
            J::Arr(items) => items.iter().for_each(|v| item(out, None, v)),
            J::Obj(members) => members.iter().for_each(|(k, v)| item(out, Some(k), v)),
            _ => {}
        }
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
        out.push(close);
    }
}
