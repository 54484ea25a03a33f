//! One file's highlighting: its token runs as `<span>`s, each with the
//! short class that names a scope stack's looks in all five themes.

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};
use syntect::highlighting::{Color, Highlighter, Style};
use syntect::parsing::{ParseState, Scope, ScopeStack, SyntaxReference};
use syntect::util::LinesWithEndings;

use super::lines::parse_line;
use super::python::{self, PLAIN as PYTHON_PLAIN};
use super::{Highlighted, LOADED_THEMES, LOOKS, Look, Looks, LooksCss};
use crate::html::escape;

fn look(style: Style) -> Look {
    let Color { r, g, b, a } = style.foreground;
    Look {
        rgba: [r, g, b, a],
        font: style.font_style.bits(),
    }
}

fn class_name(looks: &Looks) -> String {
    let mut hasher = Sha256::new();
    for l in looks {
        hasher.update(l.rgba);
        hasher.update([l.font]);
    }
    let digest = hasher.finalize();
    format!("lh-{:02x}{:02x}{:02x}", digest[0], digest[1], digest[2])
}

pub(super) fn highlight_uncached(syntax: &SyntaxReference, content: &str) -> Highlighted {
    let highlighters: Vec<Highlighter<'_>> = LOADED_THEMES.iter().map(Highlighter::new).collect();
    let mut classes = Classes {
        highlighters: &highlighters,
        plain: std::array::from_fn(|i| look(highlighters[i].get_default())),
        by_stack: HashMap::new(),
        names: Vec::new(),
        used: BTreeMap::new(),
    };
    let mut out = Runs {
        html: String::with_capacity(content.len() * 2),
        class: None,
        start: 0,
        end: 0,
    };
    let plain_file = || Highlighted {
        html: escape(content),
        classes: BTreeMap::new(),
    };

    if syntax.name == "Python" {
        return highlight_python(content, classes, out);
    }
    let mut state = ParseState::new(syntax);
    let mut stack = ScopeStack::new();
    let mut line_start = 0;
    for line in LinesWithEndings::from(content) {
        // A grammar that fails on this input: show the file plain rather than not at all.
        let Some(ops) = parse_line(&mut state, line) else {
            return plain_file();
        };
        let mut pos = 0;
        for (at, op) in ops {
            if at > pos {
                let class = classes.of(stack.as_slice());
                out.push(
                    content,
                    line_start + pos,
                    line_start + at,
                    class,
                    &classes.names,
                );
                pos = at;
            }
            if stack.apply(&op).is_err() {
                return plain_file();
            }
        }
        if pos < line.len() {
            let class = classes.of(stack.as_slice());
            out.push(
                content,
                line_start + pos,
                line_start + line.len(),
                class,
                &classes.names,
            );
        }
        line_start += line.len();
    }
    out.flush(content, &classes.names);
    Highlighted {
        html: out.html,
        classes: classes.used,
    }
}

/// A Python file, through [`python::tokenize`] (see there why not syntect).
fn highlight_python(content: &str, mut classes: Classes<'_>, mut out: Runs) -> Highlighted {
    let plain = classes.of(&PYTHON_PLAIN);
    let mut pos = 0;
    for (start, end, kind) in python::tokenize(content) {
        if start > pos {
            out.push(content, pos, start, plain, &classes.names);
        }
        let class = classes.of(kind.stack());
        out.push(content, start, end, class, &classes.names);
        pos = end;
    }
    if pos < content.len() {
        out.push(content, pos, content.len(), plain, &classes.names);
    }
    out.flush(content, &classes.names);
    Highlighted {
        html: out.html,
        classes: classes.used,
    }
}

/// The HTML being written: finished spans, then the run being built, which
/// is a class (an index into [`Classes::names`], none for plain text) and
/// a byte range of the file.
struct Runs {
    html: String,
    class: Option<usize>,
    start: usize,
    end: usize,
}

impl Runs {
    /// Adds `content[start..end]`, a piece with one scope stack.
    fn push(
        &mut self,
        content: &str,
        start: usize,
        end: usize,
        class: Option<usize>,
        names: &[String],
    ) {
        // Whitespace takes no colour: fold it into the current run.
        let class = if content[start..end].trim().is_empty() {
            self.class
        } else {
            class
        };
        if class != self.class {
            self.flush(content, names);
            self.class = class;
            self.start = start;
        }
        self.end = end;
    }

    /// Writes the current run out and starts an empty one.
    fn flush(&mut self, content: &str, names: &[String]) {
        if self.start == self.end {
            return;
        }
        let text = &content[self.start..self.end];
        match self.class {
            Some(c) => {
                self.html.push_str("<span class=\"");
                self.html.push_str(&names[c]);
                self.html.push_str("\">");
                escape_into(&mut self.html, text);
                self.html.push_str("</span>");
            }
            None => escape_into(&mut self.html, text),
        }
        self.start = self.end;
    }
}

/// [`escape`], appended to `out` without a new string.
fn escape_into(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

/// The classes of one file: each scope stack's class, found once per file.
struct Classes<'a> {
    highlighters: &'a [Highlighter<'a>],
    /// The looks of unhighlighted text, which get no class.
    plain: Looks,
    /// Scope stack → index into `names`, or none for plain text.
    by_stack: HashMap<Vec<Scope>, Option<usize>>,
    names: Vec<String>,
    /// Every class used, with its looks.
    used: BTreeMap<String, LooksCss>,
}

impl Classes<'_> {
    fn of(&mut self, scopes: &[Scope]) -> Option<usize> {
        if let Some(hit) = self.by_stack.get(scopes) {
            return *hit;
        }
        let known = LOOKS.lock().ok().and_then(|m| m.get(scopes).copied());
        let looks = known.unwrap_or_else(|| {
            let looks: Looks =
                std::array::from_fn(|i| look(self.highlighters[i].style_for_stack(scopes)));
            if let Ok(mut m) = LOOKS.lock() {
                m.insert(scopes.to_vec(), looks);
            }
            looks
        });
        let class = (looks != self.plain).then(|| {
            let name = class_name(&looks);
            let index = self.names.iter().position(|n| *n == name);
            index.unwrap_or_else(|| {
                self.used.insert(name.clone(), LooksCss(looks));
                self.names.push(name);
                self.names.len() - 1
            })
        });
        self.by_stack.insert(scopes.to_vec(), class);
        class
    }
}
