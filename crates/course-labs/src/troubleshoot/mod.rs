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

use pulldown_cmark::Options;
use regex::Regex;

mod check;
mod matching;
mod parse;
#[cfg(test)]
mod tests;

pub use check::{Recorded, check_book, parse_recorded};
pub use matching::{find_known, tail};
pub use parse::{Problem, SymptomDirective, find_symptoms, load_book, parse_page};

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
    /// Its own fix, when the entry's text has none: in a table of
    /// symptoms (the appendix), the cause in the row it matches.
    pub fix: Option<String>,
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
