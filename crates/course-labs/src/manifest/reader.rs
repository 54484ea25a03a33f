//! A [`Reader`] takes typed values out of a [`Node`] tree, collecting every
//! problem (unknown, repeated or missing fields, wrong types) with its place
//! and a help line, so that one pass reports them all.

use std::path::Path;

use crate::conventions::did_you_mean;
use crate::diag::Diagnostic;

use super::tree::{At, Key, Node, Value};

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
