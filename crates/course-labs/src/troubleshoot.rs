//! Known failures: what a troubleshooting entry looks like when a learner
//! hits it, so that the sidecar can point at the entry's fix.
//!
//! An entry of a troubleshooting page declares its symptoms on the lines
//! after its heading, as `{{#symptom …}}` directives:
//!
//! ```text
//! ### Prometheus will not start: `address already in use`
//! {{#symptom output="bind: address already in use" port=9090 from="verify/failures/07/port-9090.txt"}}
//! ```
//!
//! The keys of one directive must all match (`output` and `check` are
//! regular expressions over a step's output and a failed check's message,
//! `exit` is the exit code, `port` a port that a process not of the lab
//! holds); several directives of one entry are alternatives. `from` names
//! the recorded failure the symptom was written from: `course check` feeds
//! it and expects this entry and no other.
//!
//! The module of a page is the number of its folder (`07-monitoring/…`);
//! pages outside a module's folder (the appendix) count for every lab.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use regex::Regex;

use crate::conventions::{heading_id, unique_heading_id};
use crate::diag::Diagnostic;

/// The markdown extensions mdBook turns on.
const MD_OPTIONS: Options = Options::ENABLE_TABLES
    .union(Options::ENABLE_FOOTNOTES)
    .union(Options::ENABLE_STRIKETHROUGH)
    .union(Options::ENABLE_TASKLISTS)
    .union(Options::ENABLE_HEADING_ATTRIBUTES);
/// How a symptom directive starts.
pub const DIRECTIVE: &str = "{{#symptom";
/// Where recorded failures live, from the project's root.
pub const FAILURES_DIR: &str = "verify/failures";
/// How much of a step's output is matched: its last 64 KiB.
pub const TAIL_BYTES: usize = 64 * 1024;
/// The longest fix shown, in characters.
const FIX_CHARS: usize = 360;
/// The one problem of a symptom that its directive alone does not show.
const NO_HEADING: &str = "a symptom belongs to the entry whose heading is above it; there is none";
/// The most sentences of a fix shown.
const FIX_SENTENCES: usize = 3;

/// What one `{{#symptom …}}` declares.
#[derive(Debug, Clone)]
pub struct Symptom {
    /// A pattern over the step's output (its last [`TAIL_BYTES`]).
    pub output: Option<Regex>,
    /// A pattern over a failed check's message.
    pub check: Option<Regex>,
    /// The exit code of the failed step.
    pub exit: Option<i32>,
    /// A port held by a process that is not the lab's.
    pub port: Option<u16>,
    /// The recorded failure it was written from, relative to the project root.
    pub from: String,
    /// 1-based line of the directive.
    pub line: usize,
    /// 1-based column of the directive.
    pub column: usize,
}

/// A failure to match: what a step or a check left behind.
pub struct Failure<'a> {
    /// The output of the failed step (empty for a check).
    pub output: &'a str,
    /// The message of the failed check, if a check failed.
    pub check: Option<&'a str>,
    /// The exit code of the failed step.
    pub exit: Option<i32>,
    /// Whether a process that is not the lab's holds a port.
    pub held: &'a dyn Fn(u16) -> bool,
}

impl Symptom {
    /// Whether every key of the symptom matches `f`.
    pub fn matches(&self, f: &Failure<'_>) -> bool {
        self.output
            .as_ref()
            .is_none_or(|re| re.is_match(tail(f.output)))
            && self
                .check
                .as_ref()
                .is_none_or(|re| f.check.is_some_and(|m| re.is_match(tail(m))))
            && self.exit.is_none_or(|code| f.exit == Some(code))
            && self.port.is_none_or(|port| (f.held)(port))
    }
}

/// The last [`TAIL_BYTES`] of `text`, on a character boundary.
pub fn tail(text: &str) -> &str {
    let mut start = text.len().saturating_sub(TAIL_BYTES);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// A troubleshooting entry with declared symptoms.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The heading's text.
    pub title: String,
    /// The heading's id on its page.
    pub anchor: String,
    /// The page, relative to the book's `src`, with `/`.
    pub page: String,
    /// The module of the page (None: the appendix, for every module).
    pub module: Option<u8>,
    /// 1-based line of the heading.
    pub line: usize,
    /// The entry's text up to the next heading, as plain text, cut to a few sentences.
    pub fix: String,
    /// Its symptoms: any of them matches.
    pub symptoms: Vec<Symptom>,
}

impl Entry {
    /// The entry's address relative to the book root, e.g.
    /// `07-monitoring/troubleshooting.html#port-9090-is-taken`.
    pub fn href(&self) -> String {
        let page = self.page.strip_suffix(".md").unwrap_or(&self.page);
        format!("{page}.html#{}", self.anchor)
    }

    /// Whether one of its symptoms matches `f`.
    pub fn matches(&self, f: &Failure<'_>) -> bool {
        self.symptoms.iter().any(|s| s.matches(f))
    }
}

/// The module of a page: the number its first folder starts with (`07-…`).
pub fn module_of_page(page: &str) -> Option<u8> {
    let (folder, _) = page.split_once('/')?;
    let (number, _) = folder.split_once('-')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse().ok()
}

/// The entry that `f`, a failure in a lab of `module`, is known as: the
/// first of the module's entries that matches, else the first of the
/// appendix's. None when nothing matches: never a guess.
pub fn find_known<'e>(entries: &'e [Entry], module: u8, f: &Failure<'_>) -> Option<&'e Entry> {
    let of = |m: Option<u8>| entries.iter().filter(move |e| e.module == m);
    of(Some(module)).chain(of(None)).find(|e| e.matches(f))
}

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
        let symptom = match d.parsed {
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
                    });
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

/// Every problem of the book's symptoms, for `course check`: each
/// directive parses, its patterns compile, its `from` file exists under
/// [`FAILURES_DIR`] of the project at `root`, and that recorded failure
/// matches this symptom, so this entry, and no other entry of the same
/// module (an appendix entry: of the appendix). [`find_known`] prefers the
/// module's entries, so the failure then points at exactly this entry.
pub fn check_book(root: &Path, src: &Path) -> Vec<Diagnostic> {
    let (entries, diags) = load_book(src);
    // A malformed directive is the preprocessor's validator's to report
    // (`course check` runs it too): only the missing heading is ours.
    let mut diags: Vec<Diagnostic> = diags
        .into_iter()
        .filter(|d| d.message == NO_HEADING)
        .collect();
    for e in &entries {
        let page = src.join(&e.page);
        for s in &e.symptoms {
            let at =
                |message: String| Diagnostic::new(&page, s.line as u64, s.column as u64, message);
            let record_help = format!(
                "record it: run the failing command for real and save its output (with `# exit: N`, `# held: PORT` or `# check: MESSAGE` lines first) under {FAILURES_DIR}/"
            );
            let Some(rel) = crate::conventions::contained_relative(&s.from)
                .filter(|r| r.starts_with(FAILURES_DIR))
            else {
                diags.push(
                    at(format!(
                        "`from=\"{}\"` is not a file under {FAILURES_DIR}/",
                        s.from
                    ))
                    .with_help(record_help),
                );
                continue;
            };
            let Ok(text) = std::fs::read_to_string(root.join(&rel)) else {
                diags.push(at(format!("no recorded failure at {}", s.from)).with_help(record_help));
                continue;
            };
            let recorded = parse_recorded(&text);
            let held = |p: u16| recorded.held.contains(&p);
            let f = Failure {
                output: &recorded.output,
                check: recorded.check.as_deref(),
                exit: recorded.exit,
                held: &held,
            };
            if !s.matches(&f) {
                diags.push(
                    at(format!("this symptom does not match {}, the failure it was written from", s.from))
                        .with_help("loosen the pattern, or fix the `# exit:`/`# held:`/`# check:` lines of the recorded failure"),
                );
                continue;
            }
            // A module's entries come before the appendix's, so a module's
            // failure may also fit a general entry of the appendix; within
            // the module, or within the appendix, it must fit one entry.
            let others: Vec<String> = recorded
                .known_in(&entries, e.module)
                .into_iter()
                .filter(|o| o.module == e.module)
                .filter(|o| !(o.page == e.page && o.line == e.line))
                .map(|o| format!("{}:{} ({})", o.page, o.line, o.title))
                .collect();
            if !others.is_empty() {
                diags.push(
                    at(format!("{} also matches {}", s.from, others.join(", "))).with_help(
                        "make one of the patterns narrower: a failure must point at one entry",
                    ),
                );
            }
        }
    }
    diags
}

// -------------------------------------------------------- recorded failures

/// A failure recorded by running the failing command for real, stored under
/// [`FAILURES_DIR`]. Its first lines may say what the output alone does not:
///
/// ```text
/// # run: uv run mlflow server --port 5000   (what was run, for people)
/// # exit: 1                                  (its exit code)
/// # held: 5000                               (a port another process held)
/// # check: MESSAGE                           (a failed check's message)
/// ```
///
/// The rest is the output, normalised like a transcript.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// The exit code.
    pub exit: Option<i32>,
    /// Ports another process held.
    pub held: Vec<u16>,
    /// A failed check's message.
    pub check: Option<String>,
    /// The output.
    pub output: String,
}

/// Reads a recorded failure's text.
pub fn parse_recorded(text: &str) -> Recorded {
    let mut r = Recorded::default();
    let mut rest = text;
    while let Some(line) = rest.lines().next() {
        let Some((key, value)) = line.strip_prefix("# ").and_then(|l| l.split_once(": ")) else {
            break;
        };
        match key {
            "run" | "note" => {}
            "exit" => r.exit = value.trim().parse().ok(),
            "held" => r.held.extend(value.trim().parse::<u16>().ok()),
            "check" => r.check = Some(value.to_owned()),
            _ => break,
        }
        rest = rest.get(line.len() + 1..).unwrap_or("");
    }
    r.output = rest.to_owned();
    r
}

impl Recorded {
    /// Matches `f` against the entries as the sidecar would, with this
    /// failure's ports held.
    pub fn known_in<'e>(&self, entries: &'e [Entry], module: Option<u8>) -> Vec<&'e Entry> {
        let held = |p: u16| self.held.contains(&p);
        let f = Failure {
            output: &self.output,
            check: self.check.as_deref(),
            exit: self.exit,
            held: &held,
        };
        entries
            .iter()
            .filter(|e| e.module.is_none() || e.module == module)
            .filter(|e| e.matches(&f))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "# Troubleshooting\n\n## Ports\n\n### Port 5000 is taken\n{{#symptom output=\"address already in use\" port=5000 from=\"verify/failures/02/port.txt\"}}\n{{#symptom exit=98 from=\"verify/failures/02/port2.txt\"}}\n\nAnother program holds it:\n\n```text\nOSError: [Errno 98] Address already in use\n```\n\nOn macOS that is AirPlay Receiver. Run the lab on 5001 or turn it off. A third sentence. A fourth one.\n\n### `uv: command not found`\n{{#symptom output=\"uv: (command )?not found\" exit=127 from=\"verify/failures/02/uv.txt\"}}\n\nInstall uv.\n\n| a | b |\n|---|---|\n| c | d |\n\n### Port 5000 is taken\n\nNo symptom here.\n\n```md\n{{#symptom output=\"x\" from=\"y\"}}\n```\n";

    #[test]
    fn parses_entries_with_their_symptoms_and_fix() {
        let (entries, problems) = parse_page("02-experiment-tracking/troubleshooting.md", PAGE);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(entries.len(), 2);
        let e = &entries[0];
        assert_eq!(e.title, "Port 5000 is taken");
        assert_eq!(e.anchor, "port-5000-is-taken");
        assert_eq!(e.module, Some(2));
        assert_eq!(e.line, 5);
        assert_eq!(e.symptoms.len(), 2);
        assert_eq!(e.symptoms[0].port, Some(5000));
        assert_eq!((e.symptoms[1].line, e.symptoms[1].column), (7, 1));
        assert_eq!(
            e.fix,
            "On macOS that is AirPlay Receiver. Run the lab on 5001 or turn it off. A third sentence."
        );
        assert_eq!(
            e.href(),
            "02-experiment-tracking/troubleshooting.html#port-5000-is-taken"
        );
        assert_eq!(entries[1].title, "uv: command not found");
        assert_eq!(entries[1].anchor, "uv-command-not-found");
        assert_eq!(entries[1].fix, "Install uv.");
    }

    #[test]
    fn repeated_headings_get_numbered_anchors_and_the_appendix_has_no_module() {
        let text = "# A\n\n## Same\n\nx\n\n## Same\n{{#symptom exit=1 from=\"f\"}}\n\nFix it.\n";
        let (entries, _) = parse_page("appendix/troubleshooting-index.md", text);
        assert_eq!(entries[0].anchor, "same-1");
        assert_eq!(entries[0].module, None);
        assert_eq!(module_of_page("07-monitoring/troubleshooting.md"), Some(7));
        assert_eq!(module_of_page("appendix/x.md"), None);
        assert_eq!(module_of_page("x.md"), None);
    }

    #[test]
    fn malformed_symptoms_say_why_with_their_place() {
        let cases = [
            (
                "{{#symptom output=\"(\" from=\"f\"}}",
                "not a valid regular expression",
            ),
            (
                "{{#symptom exit=x from=\"f\"}}",
                "an exit code is a whole number",
            ),
            (
                "{{#symptom port=0 from=\"f\"}}",
                "a port is a number from 1 to 65535",
            ),
            (
                "{{#symptom port=70000 from=\"f\"}}",
                "a port is a number from 1 to 65535",
            ),
            ("{{#symptom exit=1}}", "a symptom needs from="),
            ("{{#symptom from=\"f\"}}", "at least one of output="),
            ("{{#symptom colour=red from=\"f\"}}", "unknown key `colour`"),
            (
                "{{#symptom exit=1 exit=2 from=\"f\"}}",
                "`exit` is given twice",
            ),
            ("{{#symptom output=\"abc from=\"f\"}}", "expected key=value"),
            ("{{#symptom output=\"abc}}", "has no closing"),
            ("{{#symptom exit=1 from=\"f\"", "never closed"),
            ("{{#symptomx}}", "must be followed by a space"),
        ];
        for (directive, expected) in cases {
            let text = format!("# T\n\n### E\n{directive}\n\nFix.\n");
            let (_, problems) = parse_page("01-docker/troubleshooting.md", &text);
            assert_eq!(problems.len(), 1, "{directive}: {problems:?}");
            assert!(
                problems[0].message.contains(expected),
                "{directive}: {}",
                problems[0].message
            );
            assert_eq!((problems[0].line, problems[0].column), (4, 1));
        }
        let (_, problems) = parse_page("p.md", "{{#symptom exit=1 from=\"f\"}}\n");
        assert!(problems[0].message.contains("heading"));
    }

    #[test]
    fn quotes_escape_and_code_stays_literal() {
        let d = find_symptoms("### E\n{{#symptom output=\"say \\\"hi\\\" }}\" from=\"f\"}} after");
        assert_eq!(d.len(), 1);
        let output = d[0].parsed.as_ref().ok().and_then(|s| s.output.as_ref());
        assert!(output.is_some_and(|re| re.is_match("say \"hi\" }}")));
        assert!(find_symptoms("`{{#symptom exit=1 from=\"f\"}}`").is_empty());
        assert!(find_symptoms("<!-- {{#symptom exit=1 from=\"f\"}} -->\n").is_empty());
        assert!(find_symptoms("\\{{#symptom exit=1 from=\"f\"}}").is_empty());
    }

    #[test]
    fn matching_needs_every_key_and_prefers_the_module() {
        let (mut entries, _) = parse_page("02-x/troubleshooting.md", PAGE);
        let (appendix, _) = parse_page(
            "appendix/t.md",
            "### Any 127\n{{#symptom exit=127 from=\"f\"}}\n\nGeneric.\n",
        );
        entries.extend(appendix);
        fn free(_: u16) -> bool {
            false
        }
        fn held(p: u16) -> bool {
            p == 5000
        }
        let f = |output, exit, held: &'static dyn Fn(u16) -> bool| Failure {
            output,
            check: None,
            exit,
            held,
        };
        let in_use = "OSError: [Errno 98] Address already in use\naddress already in use\n";
        assert_eq!(
            find_known(&entries, 2, &f(in_use, Some(1), &held)).map(|e| e.title.as_str()),
            Some("Port 5000 is taken")
        );
        assert!(
            find_known(&entries, 2, &f(in_use, Some(1), &free)).is_none(),
            "the port must be held"
        );
        assert_eq!(
            find_known(&entries, 2, &f("", Some(98), &free)).map(|e| e.line),
            Some(5)
        );
        let uv = "bash: line 1: uv: command not found\n";
        assert_eq!(
            find_known(&entries, 2, &f(uv, Some(127), &free)).map(|e| e.title.as_str()),
            Some("uv: command not found")
        );
        // Another module's entries do not count; the appendix does.
        assert_eq!(
            find_known(&entries, 3, &f(uv, Some(127), &free)).map(|e| e.title.as_str()),
            Some("Any 127")
        );
        assert!(find_known(&entries, 3, &f(uv, Some(1), &free)).is_none());
    }

    #[test]
    fn only_the_tail_of_the_output_is_matched() {
        let (entries, _) = parse_page(
            "02-x/t.md",
            "### E\n{{#symptom output=\"^START\" from=\"f\"}}\n\nFix.\n",
        );
        let long = format!("START{}", "é".repeat(TAIL_BYTES));
        let free = |_: u16| false;
        let f = Failure {
            output: &long,
            check: None,
            exit: Some(1),
            held: &free,
        };
        assert!(!entries[0].matches(&f));
        assert!(tail(&long).len() <= TAIL_BYTES);
    }

    #[test]
    fn check_book_feeds_each_symptom_its_recorded_failure() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        let src = root.join("book/src");
        let write = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        };
        write(
            "book/src/02-x/troubleshooting.md",
            "# T\n\n### Port taken\n{{#symptom output=\"in use\" port=5000 from=\"verify/failures/02/port.txt\"}}\n\nFree it.\n\n### Anything in use\n{{#symptom output=\"use\" from=\"verify/failures/02/use.txt\"}}\n\nHm.\n\n### Missing\n{{#symptom exit=127 from=\"verify/failures/02/none.txt\"}}\n\nx\n\n### Outside\n{{#symptom exit=9 from=\"../etc/passwd\"}}\n\nx\n\n### Wrong\n{{#symptom exit=2 from=\"verify/failures/02/use.txt\"}}\n\nx\n",
        );
        write(
            "verify/failures/02/port.txt",
            "# held: 5000\nOSError: address in use\n",
        );
        write("verify/failures/02/use.txt", "# exit: 1\nno one uses it\n");
        // Another module's entry that would match does not count.
        write(
            "book/src/03-y/troubleshooting.md",
            "### Y\n{{#symptom output=\"in use\" from=\"verify/failures/03/y.txt\"}}\n\ny\n",
        );
        write("verify/failures/03/y.txt", "in use\n");
        let diags = check_book(root, &src);
        let messages: Vec<String> = diags
            .iter()
            .map(|d| format!("{}:{}: {}", d.file.display(), d.line, d.message))
            .collect();
        assert_eq!(diags.len(), 4, "{messages:#?}");
        assert!(messages[0].ends_with("02-x/troubleshooting.md:4: verify/failures/02/port.txt also matches 02-x/troubleshooting.md:8 (Anything in use)"), "{messages:#?}");
        assert!(messages[1].contains("no recorded failure at verify/failures/02/none.txt"));
        assert!(messages[2].contains("is not a file under verify/failures/"));
        assert!(
            messages[3].contains(":24: this symptom does not match verify/failures/02/use.txt")
        );
    }

    #[test]
    fn recorded_failures_keep_their_header_apart() {
        let r = parse_recorded(
            "# run: uv run x\n# exit: 127\n# held: 5000\n# check: GET / failed\n# not a header line\nout\n",
        );
        assert_eq!(r.exit, Some(127));
        assert_eq!(r.held, vec![5000]);
        assert_eq!(r.check.as_deref(), Some("GET / failed"));
        assert_eq!(r.output, "# not a header line\nout\n");
        assert_eq!(parse_recorded("plain\n").output, "plain\n");
    }
}
