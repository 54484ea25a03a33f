//! `lab.yaml` as a tree of YAML nodes with their places, and a [`Reader`]
//! that takes typed values out of it while collecting every problem.
//!
//! serde stops at the first field it cannot read, so a manifest with three
//! mistakes would take three runs of `course check`. Reading the tree by hand
//! lets one pass report all of them, each with a help line.

use std::path::Path;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::conventions::did_you_mean;
use crate::diag::Diagnostic;

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

/// The fields of one mapping, once their names were checked.
pub(super) struct Fields<'n> {
    entries: Vec<(&'n Key, &'n Node)>,
    /// Where the mapping is, for a missing field.
    pub(super) at: (u64, u64),
}

impl<'n> Fields<'n> {
    /// The value of field `name`, if given (and not null).
    pub(super) fn get(&self, name: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == name)
            .map(|(_, v)| *v)
            .filter(|v| !matches!(v.value, Value::Null))
    }
}

/// The fields a mapping takes: name, and for a required one an example
/// that shows how to write it.
pub(super) struct Shape {
    /// What the mapping is, in a message: "the lab", "a step".
    pub(super) what: &'static str,
    pub(super) fields: &'static [&'static str],
    pub(super) required: &'static [(&'static str, &'static str)],
}

/// Reads typed values out of a [`Node`] tree, collecting every problem.
pub(super) struct Reader<'a> {
    file: &'a Path,
    pub(super) problems: Vec<Diagnostic>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(file: &'a Path) -> Self {
        Reader {
            file,
            problems: Vec::new(),
        }
    }

    /// Records a problem at `at`, with how to fix it.
    pub(super) fn problem(&mut self, at: (u64, u64), message: String, help: impl Into<String>) {
        self.problems
            .push(Diagnostic::new(self.file, at.0, at.1, message).with_help(help));
    }

    /// `node` as a mapping of `shape`'s fields: unknown, repeated and
    /// missing fields are reported, and the known ones returned.
    pub(super) fn fields<'n>(&mut self, node: &'n Node, shape: &Shape) -> Option<Fields<'n>> {
        let Value::Map(entries) = &node.value else {
            self.problem(
                node.at,
                format!(
                    "{} must be a mapping of fields, found {}",
                    shape.what,
                    node.describe()
                ),
                format!(
                    "write it as `field: value` lines; {} takes: {}",
                    shape.what,
                    shape.fields.join(", ")
                ),
            );
            return None;
        };
        let mut fields = Fields {
            entries: Vec::new(),
            at: node.at,
        };
        let mut misspelled: Vec<&str> = Vec::new();
        for (key, value) in entries {
            if let Some((first, _)) = fields.entries.iter().find(|(k, _)| k.name == key.name) {
                let first_line = first.at.0;
                self.problem(
                    key.at,
                    format!(
                        "field `{}` is given twice (first on line {first_line})",
                        key.name
                    ),
                    "keep one of them",
                );
            } else if shape.fields.contains(&key.name.as_str()) {
                fields.entries.push((key, value));
            } else {
                misspelled.extend(self.unknown_field(key, shape));
            }
        }
        for (name, example) in shape.required {
            // A misspelt field was reported already, with its right name.
            if fields.get(name).is_none() && !misspelled.contains(name) {
                self.problem(
                    fields.at,
                    format!("missing field `{name}` in {}", shape.what),
                    format!("add `{example}`"),
                );
            }
        }
        Some(fields)
    }

    /// Reports a field `shape` does not take; the field it likely meant.
    fn unknown_field(&mut self, key: &Key, shape: &Shape) -> Option<&'static str> {
        let known = shape.fields.iter().copied();
        self.problem(
            key.at,
            format!(
                "unknown field `{}`, expected one of {}",
                key.name,
                shape.fields.join(", ")
            ),
            did_you_mean(&key.name, known.clone()).unwrap_or_else(|| {
                "check the spelling against the lab manifest reference in the README".into()
            }),
        );
        crate::conventions::nearest(&key.name, known)
    }

    /// A text field (numbers and booleans as the author wrote them).
    pub(super) fn text(&mut self, fields: &Fields<'_>, name: &str) -> Option<At<String>> {
        let node = fields.get(name)?;
        match node.as_text() {
            Some(value) => Some(At { value, at: node.at }),
            None => {
                self.problem(
                    node.at,
                    format!("`{name}` must be text, found {}", node.describe()),
                    format!("write `{name}: …` on one line, or as a block with `{name}: |`"),
                );
                None
            }
        }
    }

    /// A whole number in `min..=max`.
    pub(super) fn number<T: TryFrom<i128>>(
        &mut self,
        fields: &Fields<'_>,
        name: &str,
        min: i128,
        max: i128,
    ) -> Option<At<T>> {
        let node = fields.get(name)?;
        let value = match &node.value {
            Value::Int(i) if (min..=max).contains(i) => T::try_from(*i).ok(),
            _ => None,
        };
        if value.is_none() {
            // A range up to the type's limit says nothing a person needs.
            let range = if max < i128::from(u32::MAX) {
                format!("from {min} to {max}")
            } else {
                format!("of {min} or more")
            };
            let help = match &node.value {
                Value::Str(s) if s.trim().parse::<i128>().is_ok() => {
                    format!("write the number without quotes: `{name}: {}`", s.trim())
                }
                _ => format!("write a whole number {range}, without quotes or units"),
            };
            self.problem(
                node.at,
                format!(
                    "`{name}` must be a whole number {range}, found {}",
                    node.describe()
                ),
                help,
            );
        }
        value.map(|value| At { value, at: node.at })
    }

    /// A number of seconds, whole or not.
    pub(super) fn seconds(&mut self, fields: &Fields<'_>, name: &str) -> Option<f64> {
        let node = fields.get(name)?;
        match node.value {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => {
                self.problem(
                    node.at,
                    format!(
                        "`{name}` must be a number of seconds, found {}",
                        node.describe()
                    ),
                    format!("write it without quotes, e.g. `{name}: 5`"),
                );
                None
            }
        }
    }

    /// `true` or `false`; `default` when the field is not given.
    pub(super) fn flag(&mut self, fields: &Fields<'_>, name: &str, default: bool) -> bool {
        let Some(node) = fields.get(name) else {
            return default;
        };
        match node.value {
            Value::Bool(b) => b,
            _ => {
                self.problem(
                    node.at,
                    format!("`{name}` must be true or false, found {}", node.describe()),
                    format!("write `{name}: true` or `{name}: false`"),
                );
                default
            }
        }
    }

    /// The items of a list field (none when the field is not given).
    pub(super) fn list<'n>(&mut self, fields: &Fields<'n>, name: &str) -> &'n [Node] {
        let Some(node) = fields.get(name) else {
            return &[];
        };
        match &node.value {
            Value::Seq(items) => items,
            _ => {
                let example = match node.as_text() {
                    Some(t) => format!("`{name}: [{t}]`, or one `- {t}` line per item"),
                    None => format!("one `- …` line per item under `{name}:`"),
                };
                self.problem(
                    node.at,
                    format!("`{name}` must be a list, found {}", node.describe()),
                    format!("write it as a list: {example}"),
                );
                &[]
            }
        }
    }

    /// A list of texts.
    pub(super) fn texts(&mut self, fields: &Fields<'_>, name: &str) -> Vec<At<String>> {
        let mut out = Vec::new();
        for item in self.list(fields, name) {
            match item.as_text() {
                Some(value) => out.push(At { value, at: item.at }),
                None => self.problem(
                    item.at,
                    format!(
                        "an entry of `{name}` must be text, found {}",
                        item.describe()
                    ),
                    format!("write one name per `- ` line under `{name}:`"),
                ),
            }
        }
        out
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

    #[test]
    fn a_mapping_reports_unknown_repeated_and_missing_fields_together() {
        let node = Node::parse("titel: x\nid: a\nid: b\n").expect("yaml");
        let shape = Shape {
            what: "the lab",
            fields: &["id", "title", "minutes"],
            required: &[("title", "title: …"), ("minutes", "minutes: 30")],
        };
        let mut r = Reader::new(Path::new("lab.yaml"));
        let fields = r.fields(&node, &shape).expect("a mapping");
        assert_eq!(r.text(&fields, "id").map(|t| t.value).as_deref(), Some("a"));
        let text: Vec<String> = r.problems.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 3, "{text:#?}");
        assert!(text[0].starts_with("lab.yaml:1:1: error: unknown field `titel`"));
        assert!(text[0].contains("help: did you mean `title`?"));
        assert!(
            text[1].starts_with("lab.yaml:3:1: error: field `id` is given twice (first on line 2)")
        );
        assert!(text[2].contains("missing field `minutes` in the lab"));
        assert!(text[2].contains("help: add `minutes: 30`"));
    }
}
