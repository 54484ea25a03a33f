//! Reading the book's pages: the `{{#symptom …}}` directives, and the
//! entries they belong to, each with its heading and a short fix.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
use regex::Regex;

use super::{
    DIRECTIVE, Entry, FAILURES_DIR, FIX_CHARS, FIX_SENTENCES, MD_OPTIONS, NO_HEADING, Symptom,
    module_of_page,
};
use crate::conventions::{heading_id, unique_heading_id};
use crate::diag::Diagnostic;

// ------------------------------------------------------------- directives

/// A `{{#symptom …}}` found in a page.
#[derive(Debug)]
pub struct SymptomDirective {
    /// Byte range of the directive.
    pub range: Range<usize>,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// The symptom, or why it is malformed.
    pub parsed: Result<Symptom, String>,
}

/// Every `{{#symptom …}}` of a page, in order, except those in code or in
/// HTML comments. Cheap when there is none.
pub fn find_symptoms(text: &str) -> Vec<SymptomDirective> {
    if !text.contains(DIRECTIVE) {
        return Vec::new();
    }
    let literal = literal_ranges(text);
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(rel) = text[from..].find(DIRECTIVE) {
        let start = from + rel;
        from = start + DIRECTIVE.len();
        if literal.iter().any(|r| r.contains(&start))
            || (start > 0 && text.as_bytes()[start - 1] == b'\\')
        {
            continue;
        }
        let (end, parsed) = match parse_args(&text[from..]) {
            Ok((len, args)) => (from + len, symptom(args)),
            Err((len, why)) => (from + len, Err(why)),
        };
        let (line, column) = place(text, start);
        found.push(SymptomDirective {
            range: start..end,
            line,
            column,
            parsed: parsed.map(|mut s| {
                s.line = line;
                s.column = column;
                s
            }),
        });
        from = end.max(from);
    }
    found
}

/// The `key=value` pairs of a directive, in order.
type Args = Vec<(String, String)>;

/// The `key=value` pairs after `{{#symptom`, and the length up to and with
/// the closing `}}`. A value is a word or a double-quoted string; in a
/// quoted one, `\"` is a quote that does not end it (and stays as `\"`,
/// which a regular expression reads as a quote).
fn parse_args(rest: &str) -> Result<(usize, Args), (usize, String)> {
    let line_end = rest.find('\n').unwrap_or(rest.len());
    let fail = |why: String| Err((line_end, why));
    let mut args = Vec::new();
    let mut at = 0;
    let bytes = rest.as_bytes();
    if !rest.starts_with([' ', '\t']) {
        return fail("`{{#symptom` must be followed by a space and key=value pairs".into());
    }
    loop {
        while at < line_end && (bytes[at] == b' ' || bytes[at] == b'\t') {
            at += 1;
        }
        if rest[at..line_end].starts_with("}}") {
            return Ok((at + 2, args));
        }
        if at >= line_end {
            return fail("`{{#symptom` is never closed with `}}` on its line".into());
        }
        let Some(eq) = rest[at..line_end].find('=') else {
            return fail(format!(
                "expected key=value, found `{}`",
                rest[at..line_end].trim_end_matches('}')
            ));
        };
        let key = &rest[at..at + eq];
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_lowercase()) {
            return fail(format!(
                "`{key}` is not a key: expected output, check, exit, port or from"
            ));
        }
        at += eq + 1;
        let value = if rest[at..].starts_with('"') {
            let open = at + 1;
            let mut close = None;
            let mut i = open;
            while i < line_end {
                match bytes[i] {
                    b'\\' => i += 2,
                    b'"' => {
                        close = Some(i);
                        break;
                    }
                    _ => i += 1,
                }
            }
            let Some(close) = close else {
                return fail(format!("the value of `{key}` has no closing `\"`"));
            };
            at = close + 1;
            &rest[open..close]
        } else {
            let len = rest[at..line_end]
                .find(|c: char| c.is_whitespace() || c == '}')
                .unwrap_or(line_end - at);
            let value = &rest[at..at + len];
            at += len;
            value
        };
        args.push((key.to_owned(), value.to_owned()));
    }
}

fn symptom(args: Args) -> Result<Symptom, String> {
    let mut s = Symptom {
        output: None,
        check: None,
        exit: None,
        port: None,
        from: String::new(),
        fix: None,
        line: 0,
        column: 0,
    };
    let mut seen = HashSet::new();
    for (key, value) in args {
        if !seen.insert(key.clone()) {
            return Err(format!("`{key}` is given twice"));
        }
        let regex = |v: &str| {
            Regex::new(v).map_err(|e| {
                let why = e.to_string();
                let last = why.lines().last().unwrap_or_default().trim().to_owned();
                format!("`{key}` is not a valid regular expression: {last}")
            })
        };
        match key.as_str() {
            "output" => s.output = Some(regex(&value)?),
            "check" => s.check = Some(regex(&value)?),
            "exit" => {
                s.exit = Some(value.parse().map_err(|_| {
                    format!("`exit={value}`: an exit code is a whole number, e.g. exit=127")
                })?);
            }
            "port" => {
                s.port = Some(value.parse().ok().filter(|p| *p > 0).ok_or_else(|| {
                    format!("`port={value}`: a port is a number from 1 to 65535")
                })?);
            }
            "from" => s.from = value,
            _ => {
                return Err(format!(
                    "unknown key `{key}`: expected output, check, exit, port or from"
                ));
            }
        }
    }
    if s.output.is_none() && s.check.is_none() && s.exit.is_none() && s.port.is_none() {
        return Err("a symptom needs at least one of output=, check=, exit= or port=".into());
    }
    if s.from.is_empty() {
        return Err(format!(
            "a symptom needs from=\"{FAILURES_DIR}/…\": the recorded failure it was written from"
        ));
    }
    Ok(s)
}

/// Ranges where a directive is text: code, and raw HTML (comments).
fn literal_ranges(text: &str) -> Vec<Range<usize>> {
    Parser::new_ext(text, MD_OPTIONS)
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Code(_)
            | Event::Start(Tag::CodeBlock(_))
            | Event::Html(_)
            | Event::InlineHtml(_) => Some(range),
            _ => None,
        })
        .collect()
}

fn place(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..at].chars().count() + 1)
}

// ------------------------------------------------------------------ pages

/// A problem of a page's symptoms, at a line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// The entries of the page `page` (relative to the book's `src`, with `/`)
/// that declare symptoms, and the problems of its directives.
pub fn parse_page(page: &str, text: &str) -> (Vec<Entry>, Vec<Problem>) {
    let directives = find_symptoms(text);
    if directives.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let headings = headings(text, &directives);
    let mut problems = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    for d in directives {
        let mut symptom = match d.parsed {
            Ok(s) => s,
            Err(message) => {
                problems.push(Problem {
                    line: d.line,
                    column: d.column,
                    message,
                });
                continue;
            }
        };
        let Some(h) = headings.iter().rev().find(|h| h.start < d.range.start) else {
            problems.push(Problem {
                line: d.line,
                column: d.column,
                message: NO_HEADING.into(),
            });
            continue;
        };
        if h.fix.is_empty() {
            symptom.fix = cause_in_rows(&h.rows, &symptom);
        }
        match entries.iter_mut().find(|e| e.line == h.line) {
            Some(e) => e.symptoms.push(symptom),
            None => entries.push(Entry {
                title: h.title.clone(),
                anchor: h.anchor.clone(),
                page: page.to_owned(),
                module: module_of_page(page),
                line: h.line,
                fix: h.fix.clone(),
                symptoms: vec![symptom],
            }),
        }
    }
    (entries, problems)
}

struct Heading {
    start: usize,
    line: usize,
    title: String,
    anchor: String,
    fix: String,
    /// The body rows of the tables below it: (what you see, usual cause).
    rows: Vec<(String, String)>,
}

/// For an entry that is a table (the appendix's index, "what you see |
/// usual cause | …"), the fix of one symptom: the cause in the first row
/// whose first cell its `output` pattern matches.
fn cause_in_rows(rows: &[(String, String)], symptom: &Symptom) -> Option<String> {
    let re = symptom.output.as_ref()?;
    let (_, cause) = rows.iter().find(|(seen, _)| re.is_match(seen))?;
    let mut chars = cause.chars();
    let first = chars.next()?;
    let mut fix: String = first.to_uppercase().chain(chars).collect();
    if !fix.ends_with(['.', '!', '?']) {
        fix.push('.');
    }
    Some(fix)
}

/// The headings of a page with their text up to the next heading as a fix.
fn headings(text: &str, directives: &[SymptomDirective]) -> Vec<Heading> {
    let skip = |r: &Range<usize>| {
        directives
            .iter()
            .any(|d| d.range.start < r.end && r.start < d.range.end)
    };
    let mut used = HashSet::new();
    let mut out: Vec<Heading> = Vec::new();
    let mut title: Option<(usize, String, Option<String>)> = None;
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut in_code = false;
    // The table cell being read, the row so far, and whether in its head.
    let mut cell: Option<String> = None;
    let mut row: Vec<String> = Vec::new();
    let mut in_head = false;
    let finish = |out: &mut Vec<Heading>, paragraphs: &mut Vec<String>, current: &mut String| {
        flush(paragraphs, current);
        if let Some(h) = out.last_mut() {
            h.fix = fix_text(paragraphs);
        }
        paragraphs.clear();
    };
    for (event, range) in Parser::new_ext(text, MD_OPTIONS).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { id, level, .. }) => {
                let _: HeadingLevel = level;
                finish(&mut out, &mut paragraphs, &mut current);
                title = Some((range.start, String::new(), id.map(|i| i.to_string())));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((start, t, id)) = title.take() {
                    let t = t.trim().to_owned();
                    let anchor = match id {
                        Some(id) => {
                            used.insert(id.clone());
                            id
                        }
                        None => unique_heading_id(heading_id(&t), &mut used),
                    };
                    out.push(Heading {
                        start,
                        line: place(text, start).0,
                        title: t,
                        anchor,
                        fix: String::new(),
                        rows: Vec::new(),
                    });
                }
            }
            Event::Text(t) | Event::Code(t) if cell.is_some() => {
                if let Some(c) = cell.as_mut() {
                    c.push_str(&t);
                }
            }
            Event::Start(Tag::TableHead) => in_head = true,
            Event::End(TagEnd::TableHead) => {
                in_head = false;
                row.clear();
            }
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => {
                let text = cell.take().unwrap_or_default();
                row.push(text.split_whitespace().collect::<Vec<_>>().join(" "));
            }
            Event::End(TagEnd::TableRow) => {
                let cells = std::mem::take(&mut row);
                if let (false, Some(h), [seen, cause, ..]) = (in_head, out.last_mut(), &cells[..]) {
                    h.rows.push((seen.clone(), cause.clone()));
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, title, _)) = title.as_mut() {
                    title.push_str(&t);
                } else if !in_code && !skip(&range) {
                    current.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => current.push(' '),
            // Code shows the error, which the learner has seen; a table
            // (the appendix's index) is not sentences.
            Event::Start(Tag::CodeBlock(_) | Tag::Table(_)) => {
                in_code = true;
                flush(&mut paragraphs, &mut current);
            }
            Event::End(TagEnd::CodeBlock | TagEnd::Table) => in_code = false,
            Event::End(TagEnd::Paragraph | TagEnd::Item) => flush(&mut paragraphs, &mut current),
            _ => {}
        }
    }
    finish(&mut out, &mut paragraphs, &mut current);
    out
}

fn flush(paragraphs: &mut Vec<String>, current: &mut String) {
    let p = current.split_whitespace().collect::<Vec<_>>().join(" ");
    if !p.is_empty() {
        paragraphs.push(p);
    }
    current.clear();
}

/// A few sentences of an entry's paragraphs. A paragraph that ends with `:`
/// introduces the error shown below it, which the learner has already
/// seen: it is left out.
fn fix_text(paragraphs: &[String]) -> String {
    let text = paragraphs
        .iter()
        .filter(|p| !p.ends_with(':'))
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = String::new();
    let mut sentences = 0;
    let mut rest = text.as_str();
    while !rest.is_empty() && sentences < FIX_SENTENCES {
        let end = sentence_end(rest);
        let sentence = &rest[..end];
        if !out.is_empty() && out.chars().count() + sentence.chars().count() > FIX_CHARS {
            break;
        }
        out.push_str(sentence);
        sentences += 1;
        rest = &rest[end..];
    }
    let out = out.trim();
    if out.chars().count() > FIX_CHARS {
        let cut: String = out.chars().take(FIX_CHARS).collect();
        let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a);
        return format!("{cut}…");
    }
    out.to_owned()
}

/// Where the first sentence of `text` ends (after its `. `, `! ` or `? `).
fn sentence_end(text: &str) -> usize {
    let b = text.as_bytes();
    for i in 0..b.len() {
        if matches!(b[i], b'.' | b'!' | b'?')
            && b.get(i + 1) == Some(&b' ')
            && b.get(i + 2)
                .is_some_and(|c| c.is_ascii_uppercase() || *c == b'`' || *c == b'(')
        {
            return i + 2;
        }
    }
    text.len()
}

/// Every entry with symptoms of the book whose `src` folder is `src`, and
/// every problem of their directives (with `src`-joined paths).
pub fn load_book(src: &Path) -> (Vec<Entry>, Vec<Diagnostic>) {
    let mut entries = Vec::new();
    let mut diags = Vec::new();
    let mut pages: Vec<_> = walkdir::WalkDir::new(src)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| e.into_path())
        .collect();
    pages.sort();
    for path in pages {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if !text.contains(DIRECTIVE) {
            continue;
        }
        let rel = path.strip_prefix(src).unwrap_or(&path);
        let page = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let (found, problems) = parse_page(&page, &text);
        entries.extend(found);
        diags.extend(problems.into_iter().map(|p| {
            Diagnostic::new(&path, p.line as u64, p.column as u64, p.message)
                .with_help("write it as {{#symptom output=\"REGEX\" from=\"verify/failures/<module>/<name>.txt\"}}")
        }));
    }
    (entries, diags)
}
