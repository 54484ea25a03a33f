//! `course check`'s proof of the symptoms: each one matches the failure it
//! was recorded from, and points at its own entry only.

use std::path::Path;

use super::{Entry, FAILURES_DIR, Failure, NO_HEADING, load_book};
use crate::diag::Diagnostic;

/// Every problem of the book's symptoms, for `course check`: each
/// directive parses, has a fix to show, its patterns compile, its `from` file exists under
/// [`FAILURES_DIR`] of the project at `root`, and that recorded failure
/// matches this symptom, so this entry, and no other entry of the same
/// module (an appendix entry: of the appendix). [`find_known`] prefers the
/// module's entries, so the failure then points at exactly this entry.
///
/// [`find_known`]: super::find_known
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
            if e.fix_for(s).is_empty() {
                diags.push(
                    at(format!("the entry \"{}\" has no text to show as this symptom's fix", e.title))
                        .with_help("write the fix as a paragraph under the heading, or, in a table of symptoms, a row whose first cell the `output` pattern matches, with the cause in its second cell"),
                );
            }
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
