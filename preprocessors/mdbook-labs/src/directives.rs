//! Finding `{{#lab ID}}` in a chapter, the way mdBook's own `{{#include}}`
//! works: not inside code, and `\{{#lab …}}` is an escape.

use std::ops::Range;

use mdbook_markdown::pulldown_cmark::{Event, Tag};
use mdbook_markdown::{MarkdownOptions, new_cmark_parser};

const OPEN: &str = "{{#lab";
const PROGRESS: &str = "-progress";

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
    /// `\{{#lab …}}`: stays as text, without the backslash.
    Escaped,
    /// Looks like a directive but is malformed; the message says why.
    Invalid(String),
}

/// Byte ranges of code (inline code and code blocks), where directives stay literal.
fn code_ranges(text: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    for (event, range) in new_cmark_parser(text, &MarkdownOptions::default()).into_offset_iter() {
        match event {
            Event::Code(_) | Event::Start(Tag::CodeBlock(_)) => ranges.push(range),
            _ => {}
        }
    }
    ranges
}

/// Every lab directive of a chapter, in order. Cheap when there is none.
pub fn find_directives(text: &str) -> Vec<Directive> {
    if !text.contains(OPEN) {
        return Vec::new();
    }
    let code = code_ranges(text);
    let in_code = |pos: usize| code.iter().any(|r| r.contains(&pos));
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(rel) = text[from..].find(OPEN) {
        let start = from + rel;
        from = start + OPEN.len();
        // `{{#lab-progress}}` is ours too; `{{#labs-…}}` or `{{#label}}` are not.
        let progress = text[from..].starts_with(PROGRESS)
            && matches!(text[from + PROGRESS.len()..].chars().next(), Some(c) if c.is_whitespace() || c == '}');
        let after = text[from..].chars().next();
        if !progress && !matches!(after, Some(c) if c.is_whitespace() || c == '}') {
            continue;
        }
        if in_code(start) {
            continue;
        }
        let escaped = start > 0 && text.as_bytes()[start - 1] == b'\\';
        let Some(close_rel) = text[from..].find("}}") else {
            if !escaped {
                found.push(at(
                    text,
                    start..text.len(),
                    DirectiveKind::Invalid("`{{#lab` is never closed with `}}`".into()),
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
        let inner = &text[from..end - 2];
        if progress {
            let rest = inner[PROGRESS.len()..].trim();
            let kind = if rest.is_empty() {
                DirectiveKind::Progress
            } else {
                DirectiveKind::Invalid(format!(
                    "`{{{{#lab-progress}}}}` takes no arguments, found `{rest}`"
                ))
            };
            found.push(at(text, start..end, kind));
            from = end;
            continue;
        }
        let args: Vec<&str> = inner.split_whitespace().collect();
        let kind = match args.as_slice() {
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
        };
        found.push(at(text, start..end, kind));
        from = end;
    }
    found
}

fn at(text: &str, range: Range<usize>, kind: DirectiveKind) -> Directive {
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
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<DirectiveKind> {
        find_directives(text).into_iter().map(|d| d.kind).collect()
    }

    #[test]
    fn finds_a_directive_with_its_place() {
        let d = find_directives("# T\n\nText.\n\n{{#lab model-serving}}\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, DirectiveKind::Lab("model-serving".into()));
        assert_eq!((d[0].line, d[0].column), (5, 1));
    }

    #[test]
    fn code_stays_literal() {
        assert!(kinds("Write `{{#lab x}}` in a chapter.").is_empty());
        assert!(kinds("```md\n{{#lab x}}\n```\n").is_empty());
        assert!(kinds("    {{#lab x}}\n").is_empty());
    }

    #[test]
    fn the_progress_directive() {
        assert_eq!(kinds("{{#lab-progress}}"), vec![DirectiveKind::Progress]);
        assert_eq!(kinds("\\{{#lab-progress}}"), vec![DirectiveKind::Escaped]);
        assert!(matches!(
            kinds("{{#lab-progress x}}")[0],
            DirectiveKind::Invalid(_)
        ));
        assert!(kinds("{{#lab-progressive}}").is_empty());
    }

    #[test]
    fn escapes_and_other_directives() {
        assert_eq!(kinds("\\{{#lab x}}"), vec![DirectiveKind::Escaped]);
        assert!(kinds("{{#labels x}} {{#include a.md}}").is_empty());
        assert!(matches!(kinds("{{#lab}}")[0], DirectiveKind::Invalid(_)));
        assert!(matches!(
            kinds("{{#lab a b}}")[0],
            DirectiveKind::Invalid(_)
        ));
        assert!(matches!(kinds("{{#lab a")[0], DirectiveKind::Invalid(_)));
    }
}
