//! `lab.yaml` as a tree of YAML nodes with their places.
//!
//! serde stops at the first field it cannot read, so a manifest with three
//! mistakes would take three runs of `course check`. Reading this tree by
//! hand (see [`super::reader`]) lets one pass report all of them.

use serde::Deserialize;
use serde_saphyr::Spanned;

/// A YAML node and where it is (1-based line and column).
pub(super) struct Node {
    pub(super) value: Value,
    pub(super) at: (u64, u64),
    /// The node's text in the source, for a scalar: how the author wrote it.
    source: Option<String>,
}

/// What a node holds.
pub(super) enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A mapping's key and where it is.
pub(super) struct Key {
    pub(super) name: String,
    pub(super) at: (u64, u64),
}

/// A value taken from the tree, with the place of the node it came from.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct At<T> {
    pub(super) value: T,
    pub(super) at: (u64, u64),
}

impl Node {
    /// Parses `text` into a tree; a YAML syntax error stops here.
    pub(super) fn parse(text: &str) -> Result<Node, serde_saphyr::Error> {
        // Repeated keys reach the reader, which reports them with the rest.
        let mut options = serde_saphyr::Options::default();
        options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::PassThrough;
        let parsed: Spanned<Parsed> = serde_saphyr::from_str_with_options(text, options)?;
        Ok(Node::from_parsed(parsed, text))
    }

    fn from_parsed(p: Spanned<Parsed>, text: &str) -> Node {
        let at = (p.referenced.line(), p.referenced.column());
        let span = p.defined.span();
        let source = match (span.byte_offset(), span.byte_len()) {
            (Some(start), Some(len)) => usize::try_from(start)
                .ok()
                .zip(usize::try_from(start + len).ok())
                .and_then(|(s, e)| text.get(s..e))
                .map(|s| s.trim().to_owned()),
            _ => None,
        };
        let value = match p.value {
            Parsed::Null => Value::Null,
            Parsed::Bool(b) => Value::Bool(b),
            Parsed::Int(i) => Value::Int(i),
            Parsed::Float(f) => Value::Float(f),
            Parsed::Str(s) => Value::Str(s),
            Parsed::Seq(items) => Value::Seq(
                items
                    .into_iter()
                    .map(|n| Node::from_parsed(n, text))
                    .collect(),
            ),
            Parsed::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        let key = Key {
                            at: (k.referenced.line(), k.referenced.column()),
                            name: k.value,
                        };
                        (key, Node::from_parsed(v, text))
                    })
                    .collect(),
            ),
        };
        Node { value, at, source }
    }

    /// What the node is, for a message: "a list", "the number 3"…
    pub(super) fn describe(&self) -> String {
        match &self.value {
            Value::Null => "nothing".into(),
            Value::Bool(b) => format!("`{b}`"),
            Value::Int(_) | Value::Float(_) => {
                format!("the number {}", self.source.as_deref().unwrap_or("?"))
            }
            Value::Str(s) => format!("the text \"{s}\""),
            Value::Seq(_) => "a list".into(),
            Value::Map(_) => "a mapping".into(),
        }
    }

    /// A scalar as text: a string as it is, a number or a boolean as the
    /// author wrote it (`3.10` stays `3.10`, `03` stays `03`).
    pub(super) fn as_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Bool(_) | Value::Int(_) | Value::Float(_) => self.source.clone(),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// The node as JSON (a check's expected body).
    pub(super) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => i64::try_from(*i)
                .map(J::from)
                .or_else(|_| u64::try_from(*i).map(J::from))
                .unwrap_or_else(|_| J::from(*i as f64)),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// What serde-saphyr hands over for any node, before places are attached.
enum Parsed {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Parsed>>),
    Map(Vec<(Spanned<String>, Spanned<Parsed>)>),
}

impl<'de> Deserialize<'de> for Parsed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Any;
        impl<'de> serde::de::Visitor<'de> for Any {
            type Value = Parsed;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a YAML value")
            }
            fn visit_unit<E>(self) -> Result<Parsed, E> {
                Ok(Parsed::Null)
            }
            fn visit_none<E>(self) -> Result<Parsed, E> {
                Ok(Parsed::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Parsed, E> {
                Ok(Parsed::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> Result<Parsed, E> {
                Ok(Parsed::Int(i.into()))
            }
            fn visit_u64<E>(self, i: u64) -> Result<Parsed, E> {
                Ok(Parsed::Int(i.into()))
            }
            fn visit_i128<E>(self, i: i128) -> Result<Parsed, E> {
                Ok(Parsed::Int(i))
            }
            fn visit_f64<E>(self, f: f64) -> Result<Parsed, E> {
                Ok(Parsed::Float(f))
            }
            fn visit_str<E>(self, s: &str) -> Result<Parsed, E> {
                Ok(Parsed::Str(s.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Parsed, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = a.next_element()? {
                    items.push(item);
                }
                Ok(Parsed::Seq(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Parsed, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = a.next_key()? {
                    entries.push((key, a.next_value()?));
                }
                Ok(Parsed::Map(entries))
            }
        }
        d.deserialize_any(Any)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_keep_how_they_were_written() {
        let node = Node::parse("a: 3.10\nb: 03\nc: \"x\"\nd: [1, {e: true}]\n").expect("yaml");
        let Value::Map(entries) = &node.value else {
            panic!("not a map")
        };
        let text: Vec<Option<String>> = entries.iter().map(|(_, v)| v.as_text()).collect();
        assert_eq!(
            text[..3],
            [Some("3.10".into()), Some("03".into()), Some("x".into())]
        );
        assert_eq!(entries[3].1.to_json(), serde_json::json!([1, {"e": true}]));
        assert_eq!(entries[1].0.at, (2, 1));
        assert_eq!(entries[1].1.at, (2, 4));
    }
}
