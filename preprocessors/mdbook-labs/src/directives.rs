//! Finding `{{#lab ID}}`, `{{#lab-progress}}`, `{{#lab-output LAB STEP}}`,
//! `{{#symptom …}}` and `{{#quiz}}` … `{{#endquiz}}` (see [`crate::quiz`]) in a chapter, the way mdBook's own `{{#include}}` works: not inside code
//! (nor inside an HTML comment), and `\{{#lab …}}` is an escape.

use std::ops::Range;

use course_labs::troubleshoot as symptom;

use mdbook_markdown::pulldown_cmark::{Event, Tag};
use mdbook_markdown::{MarkdownOptions, new_cmark_parser};

const OPEN: &str = "{{#lab";

/// A directive or an escape found in a chapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Byte range of the whole directive in the chapter (with the backslash of an escape).
    pub range: Range<usize>,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What it is.
    pub kind: DirectiveKind,
}

/// The kinds of directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectiveKind {
    /// `{{#lab ID}}`: embed the lab.
    Lab(String),
    /// `{{#lab-progress}}`: the course-progress table of every lab.
    Progress,
    /// `{{#lab-output LAB STEP [head=N|tail=N]}}`: what the step printed
    /// when it was recorded, as a code block.
    Output {
        /// The lab's id.
        lab: String,
        /// The step's id.
        step: String,
        /// Which lines to keep (all when None).
        cut: Option<Cut>,
    },
    /// `{{#quiz}}` … `{{#endquiz}}`: a self-check question answered on the page.
    Quiz(Box<crate::quiz::Quiz>),
    /// `{{#symptom …}}`: what a troubleshooting entry looks like when a
    /// learner hits it (see `course_labs::troubleshoot`); the page shows
    /// nothing of it.
    Symptom,
    /// `\{{#lab …}}`: stays as text, without the backslash.
    Escaped,
    /// Looks like a directive but is malformed; the message says why.
    Invalid(String),
}

/// The lines of a transcript that a `{{#lab-output}}` keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// `head=N`: the first N lines.
    Head(usize),
    /// `tail=N`: the last N lines.
    Tail(usize),
}

/// Our directives, by what follows `{{#lab`.
#[derive(Clone, Copy)]
enum Name {
    Lab,
    Progress,
    Output,
}

/// Byte ranges where directives stay literal: inline code, code blocks,
/// HTML comments, and raw HTML `<code>` and `<pre>` elements (as a browser
/// shows them: from the opening tag to the matching closing one, or to the end).
fn code_ranges(text: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut raw = RawHtml::default();
    for (event, range) in new_cmark_parser(text, &MarkdownOptions::default()).into_offset_iter() {
        match event {
            Event::Code(_) | Event::Start(Tag::CodeBlock(_)) => ranges.push(range),
            Event::Html(_) | Event::InlineHtml(_) => raw.scan(text, range, &mut ranges),
            _ => {}
        }
    }
    if let Some(start) = raw.start {
        ranges.push(start..text.len());
    }
    ranges
}

/// Comments and open `<code>`/`<pre>` elements, across the raw-HTML events
/// of a chapter.
#[derive(Default)]
struct RawHtml {
    /// How many `<code>`/`<pre>` are open.
    depth: usize,
    /// Where the outermost open one starts.
    start: Option<usize>,
    /// The end of the last comment: an HTML block's comment runs over
    /// several events, and its text is not markup.
    comment_end: usize,
}

impl RawHtml {
    /// Follows the markup of the raw HTML at `range` of `text`, adding each
    /// comment and each element that closes to `ranges`.
    fn scan(&mut self, text: &str, range: Range<usize>, ranges: &mut Vec<Range<usize>>) {
        let mut at = range.start.max(self.comment_end);
        while let Some(rel) = text.get(at..range.end).and_then(|t| t.find('<')) {
            let tag = at + rel;
            at = tag + 1;
            let rest = &text[at..];
            if rest.starts_with("!--") {
                // `<!-->` and `<!--->` are whole comments too; an unclosed
                // one (an HTML block) runs to the end of the chapter.
                let end = text[tag + 2..]
                    .find("-->")
                    .map_or(text.len(), |i| tag + 2 + i + 3);
                ranges.push(tag..end);
                self.comment_end = end;
                at = end;
                continue;
            }
            let (closing, rest) = match rest.strip_prefix('/') {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let is_code = ["code", "pre"].iter().any(|name| {
                rest.get(..name.len())
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
                    && rest[name.len()..]
                        .starts_with(|c: char| c == '>' || c == '/' || c.is_whitespace())
            });
            if !is_code {
                continue;
            }
            if !closing {
                self.depth += 1;
                self.start.get_or_insert(tag);
            } else if self.depth > 0 {
                self.depth -= 1;
                if self.depth == 0
                    && let Some(start) = self.start.take()
                {
                    ranges.push(start..tag);
                }
            }
        }
    }
}

/// Every lab directive of a chapter, in order. Cheap when there is none.
pub fn find_directives(text: &str) -> Vec<Directive> {
    let has_quiz = text.contains(crate::quiz::OPEN) || text.contains(crate::quiz::CLOSE);
    let has_symptom = text.contains(symptom::DIRECTIVE);
    if !text.contains(OPEN) && !has_quiz && !has_symptom {
        return Vec::new();
    }
    let code = code_ranges(text);
    let in_code = |pos: usize| code.iter().any(|r| r.contains(&pos));
    let mut found = labs(text, &in_code);
    if has_symptom {
        found.extend(symptoms(text, &in_code));
        found.sort_by_key(|d| d.range.start);
    }
    if has_quiz {
        let quizzes = crate::quiz::find(text, &in_code);
        // A quiz is spliced whole: nothing inside it is a directive of its own.
        found.retain(|d| !quizzes.iter().any(|q| q.range.contains(&d.range.start)));
        found.extend(quizzes);
        found.sort_by_key(|d| d.range.start);
    }
    found
}

/// The `{{#symptom …}}` directives of a chapter: their syntax and patterns
/// are checked by the course's one parser of them.
fn symptoms(text: &str, in_code: &dyn Fn(usize) -> bool) -> Vec<Directive> {
    symptom::find_symptoms(text)
        .into_iter()
        .filter(|d| !in_code(d.range.start))
        .map(|d| {
            let kind = match d.parsed {
                Ok(_) => DirectiveKind::Symptom,
                Err(why) => DirectiveKind::Invalid(why),
            };
            at(text, d.range, kind)
        })
        .collect()
}

/// The `{{#lab…}}` directives of a chapter.
fn labs(text: &str, in_code: &dyn Fn(usize) -> bool) -> Vec<Directive> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(rel) = text[from..].find(OPEN) {
        let start = from + rel;
        from = start + OPEN.len();
        // The name runs to the first space or `}`: `{{#labels}}` and
        // `{{#lab-progressive}}` are someone else's.
        let Some(name_len) = text[from..].find(|c: char| c.is_whitespace() || c == '}') else {
            continue;
        };
        let name = match &text[from..from + name_len] {
            "" => Name::Lab,
            "-progress" => Name::Progress,
            "-output" => Name::Output,
            _ => continue,
        };
        if in_code(start) {
            continue;
        }
        let escaped = start > 0 && text.as_bytes()[start - 1] == b'\\';
        let Some(close_rel) = text[from..].find("}}") else {
            if !escaped {
                let open = &text[start..from + name_len];
                found.push(at(
                    text,
                    start..text.len(),
                    DirectiveKind::Invalid(format!("`{open}` is never closed with `}}}}`")),
                ));
            }
            break;
        };
        let end = from + close_rel + 2;
        if escaped {
            found.push(at(text, start - 1..end, DirectiveKind::Escaped));
            from = end;
            continue;
        }
        let args = &text[from + name_len..end - 2];
        let kind = match name {
            Name::Lab => lab_kind(args),
            Name::Progress => progress_kind(args),
            Name::Output => output_kind(args),
        };
        found.push(at(text, start..end, kind));
        from = end;
    }
    found
}

fn lab_kind(inner: &str) -> DirectiveKind {
    let args: Vec<&str> = inner.split_whitespace().collect();
    match args.as_slice() {
        [id] if !inner.contains('\n') => DirectiveKind::Lab((*id).to_owned()),
        [] => DirectiveKind::Invalid(
            "`{{#lab}}` needs a lab id, e.g. `{{#lab model-serving}}`".into(),
        ),
        _ if inner.contains('\n') => {
            DirectiveKind::Invalid("a lab directive must fit on one line".into())
        }
        _ => DirectiveKind::Invalid(format!(
            "`{{{{#lab{inner}}}}}` takes exactly one lab id, found {}",
            args.len()
        )),
    }
}

fn progress_kind(inner: &str) -> DirectiveKind {
    let rest = inner.trim();
    if rest.is_empty() {
        DirectiveKind::Progress
    } else {
        DirectiveKind::Invalid(format!(
            "`{{{{#lab-progress}}}}` takes no arguments, found `{rest}`"
        ))
    }
}

fn output_kind(inner: &str) -> DirectiveKind {
    if inner.contains('\n') {
        return DirectiveKind::Invalid("a lab directive must fit on one line".into());
    }
    let args: Vec<&str> = inner.split_whitespace().collect();
    let (lab, step, options) = match args.as_slice() {
        [lab, step, options @ ..] => (lab, step, options),
        _ => {
            return DirectiveKind::Invalid(
                "`{{#lab-output}}` needs a lab id and a step id, e.g. `{{#lab-output model-serving train}}`"
                    .into(),
            );
        }
    };
    let cut = match options {
        [] => None,
        [option] => match parse_cut(option) {
            Ok(cut) => Some(cut),
            Err(why) => return DirectiveKind::Invalid(why),
        },
        _ => {
            return DirectiveKind::Invalid(format!(
                "`{{{{#lab-output{inner}}}}}` takes one of head=N or tail=N after the step id, found `{}`",
                options.join(" ")
            ));
        }
    };
    DirectiveKind::Output {
        lab: (*lab).to_owned(),
        step: (*step).to_owned(),
        cut,
    }
}

fn parse_cut(option: &str) -> Result<Cut, String> {
    let unknown =
        || format!("unknown option `{option}` of `{{{{#lab-output}}}}`: expected head=N or tail=N");
    let (key, value) = option.split_once('=').ok_or_else(unknown)?;
    let make: fn(usize) -> Cut = match key {
        "head" => Cut::Head,
        "tail" => Cut::Tail,
        _ => return Err(unknown()),
    };
    // Digits only: `head=+3` or `head=-1` are typos, not numbers to guess at.
    match value.parse::<usize>() {
        Ok(n) if n > 0 && value.bytes().all(|b| b.is_ascii_digit()) => Ok(make(n)),
        _ => Err(format!(
            "`{option}`: {key} takes a number of lines, 1 or more"
        )),
    }
}

pub(crate) fn at(text: &str, range: Range<usize>, kind: DirectiveKind) -> Directive {
    let before = &text[..range.start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..range.start].chars().count() + 1;
    Directive {
        range,
        line,
        column,
        kind,
    }
}

#[cfg(test)]
mod tests;
