//! The one validator of the course's directives. The preprocessor (so
//! `course build` and stock `mdbook`) and `course check` both call it, so a
//! problem reads the same wherever it is found, and every problem of a
//! chapter is reported at once.

use std::collections::BTreeMap;
use std::path::Path;

use course_labs::conventions::did_you_mean;
use course_labs::{Catalog, Diagnostic, Step, Transcript, TranscriptError};

use crate::directives::{Directive, DirectiveKind, find_directives};

/// How a transcript recorded from an older `run` of its step counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stale {
    /// A warning on stderr: the page still builds, only out of date (a build).
    Warn,
    /// A diagnostic like any other (`course check`).
    Error,
}

/// Checks the directives of a book's chapters against its labs and its
/// transcripts. Each transcript is read once; the expansion takes them
/// afterwards with [`Validator::into_transcripts`].
pub struct Validator<'a> {
    catalog: &'a Catalog,
    labs_dir: &'a Path,
    book_root: &'a Path,
    stale: Stale,
    transcripts: Transcripts,
}

/// Transcripts read by a [`Validator`], by (lab, step).
pub type Transcripts = BTreeMap<(String, String), Transcript>;

impl<'a> Validator<'a> {
    /// A validator for the book at `book_root`, whose labs, loaded from
    /// `labs_dir`, are `catalog`.
    pub fn new(
        catalog: &'a Catalog,
        labs_dir: &'a Path,
        book_root: &'a Path,
        stale: Stale,
    ) -> Self {
        Validator {
            catalog,
            labs_dir,
            book_root,
            stale,
            transcripts: BTreeMap::new(),
        }
    }

    /// Every problem of the directives in `text`, the chapter at `path`
    /// (the path messages show), in the order of the text.
    pub fn chapter(&mut self, path: &Path, text: &str) -> Vec<Diagnostic> {
        let found = find_directives(text);
        self.directives(path, &found)
    }

    /// Like [`Validator::chapter`], for directives already found in it.
    pub fn directives(&mut self, path: &Path, found: &[Directive]) -> Vec<Diagnostic> {
        found
            .iter()
            .filter_map(|d| self.directive(path, d))
            .collect()
    }

    /// The transcripts that the `{{#lab-output}}`s seen so far quote.
    pub fn into_transcripts(self) -> Transcripts {
        self.transcripts
    }

    fn directive(&mut self, path: &Path, d: &Directive) -> Option<Diagnostic> {
        let at = |message: String| Diagnostic::new(path, d.line as u64, d.column as u64, message);
        match &d.kind {
            DirectiveKind::Lab(id) if self.catalog.get(id).is_none() => self.unknown_lab(at, id),
            DirectiveKind::Output { lab, step, .. } => match self.quote(lab, step) {
                Ok(true) => None,
                Ok(false) if self.stale == Stale::Error => Some(at(stale_message(lab, step))),
                Ok(false) => {
                    let (line, column) = (d.line, d.column);
                    let message = stale_message(lab, step);
                    tracing::warn!("{}:{line}:{column}: {message}", path.display());
                    None
                }
                Err(OutputProblem::UnknownLab) => self.unknown_lab(at, lab),
                Err(OutputProblem::Other { message, help }) => Some(at(message).with_help(help)),
            },
            DirectiveKind::Invalid(why) => Some(at(why.clone())),
            DirectiveKind::Lab(_)
            | DirectiveKind::Escaped
            | DirectiveKind::Progress
            | DirectiveKind::Quiz(_)
            | DirectiveKind::Symptom => None,
        }
    }

    /// A lab that the catalog lacks. One whose folder holds a lab.yaml has
    /// errors in it, reported with the manifest's own place: nothing more.
    fn unknown_lab(&self, at: impl Fn(String) -> Diagnostic, id: &str) -> Option<Diagnostic> {
        let has_manifest = course_labs::is_valid_id(id)
            && self.labs_dir.join(id).join(course_labs::LAB_FILE).is_file();
        if has_manifest {
            return None;
        }
        let diag = at(format!("unknown lab `{id}`"));
        Some(match did_you_mean(id, self.catalog.ids()) {
            Some(help) => diag.with_help(help),
            None => diag.with_help(format!(
                "labs are the folders of {} that hold a lab.yaml",
                self.labs_dir.display()
            )),
        })
    }

    /// Whether the transcript that `{{#lab-output lab step}}` quotes is
    /// current, reading it on first use.
    fn quote(&mut self, lab: &str, step: &str) -> Result<bool, OutputProblem> {
        let key = (lab.to_owned(), step.to_owned());
        if let Some(t) = self.transcripts.get(&key) {
            let quoted = self
                .catalog
                .get(lab)
                .and_then(|l| l.steps.iter().find(|s| s.id == step));
            return Ok(quoted.is_some_and(|s| t.is_current(s)));
        }
        let (quoted, transcript) = quoted_output(self.catalog, self.book_root, lab, step)?;
        let current = transcript.is_current(quoted);
        self.transcripts.insert(key, transcript);
        Ok(current)
    }
}

/// Why a `{{#lab-output LAB STEP}}` cannot quote its step's output.
enum OutputProblem {
    /// No lab has this id.
    UnknownLab,
    /// Anything else: what is wrong, and how to fix it.
    Other { message: String, help: String },
}

/// The step a `{{#lab-output LAB STEP}}` quotes, and its transcript read
/// from the book at `book_root`.
fn quoted_output<'c>(
    catalog: &'c Catalog,
    book_root: &Path,
    lab: &str,
    step: &str,
) -> Result<(&'c Step, Transcript), OutputProblem> {
    let the_lab = catalog.get(lab).ok_or(OutputProblem::UnknownLab)?;
    let Some(quoted) = the_lab.steps.iter().find(|s| s.id == step) else {
        let ids = the_lab.steps.iter().map(|s| s.id.as_str());
        let help = match did_you_mean(step, ids.clone()) {
            Some(help) => help,
            None => format!(
                "the steps of lab `{lab}` are: {}",
                ids.collect::<Vec<_>>().join(", ")
            ),
        };
        return Err(OutputProblem::Other {
            message: format!("unknown step `{step}` of lab `{lab}`"),
            help,
        });
    };
    if quoted.run.is_none() {
        return Err(OutputProblem::Other {
            message: format!("step `{step}` of lab `{lab}` runs no command: it has no output"),
            help: "quote a step that has a `run`".to_owned(),
        });
    }
    let record = format!("run `course lab follow {lab} --record`");
    match Transcript::load(book_root, lab, step) {
        Ok(t) => Ok((quoted, t)),
        Err(TranscriptError::Missing(path)) => Err(OutputProblem::Other {
            message: format!(
                "no transcript of {lab} {step}: {} does not exist",
                path.display()
            ),
            help: format!("{record}; it records the output of every step that passes"),
        }),
        Err(e @ TranscriptError::BadHeader(_)) => Err(OutputProblem::Other {
            message: e.to_string(),
            help: record,
        }),
        Err(e) => Err(OutputProblem::Other {
            message: format!("cannot read the transcript of {lab} {step}: {e}"),
            help: record,
        }),
    }
}

/// What is said of a transcript recorded from an older `run` of its step.
fn stale_message(lab: &str, step: &str) -> String {
    format!(
        "the transcript of {lab} {step} was recorded from an older `run` of the step; run `course lab follow {lab} --record`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_directive_of_a_chapter_at_its_line() {
        let labs = tempfile::tempdir().expect("tempdir");
        let catalog = Catalog::default();
        let mut v = Validator::new(&catalog, labs.path(), labs.path(), Stale::Error);
        let text = "# Chapter\n\n{{#lab}}\n\nText `{{#lab code}}` text.\n\n\
                    <!-- {{#lab comment}} -->\n\n{{#lab nope}}\n\n\
                    <pre>{{#lab pre}}</pre>\n\n  {{#lab-output a b head=0}}\n";
        let found = v.chapter(Path::new("src/ch.md"), text);
        let places: Vec<(u64, u64)> = found.iter().map(|d| (d.line, d.column)).collect();
        assert_eq!(places, [(3, 1), (9, 1), (13, 3)], "{found:#?}");
        assert!(found.iter().all(|d| d.file == Path::new("src/ch.md")));
        assert!(found[0].message.contains("needs a lab id"), "{found:#?}");
        assert_eq!(found[1].message, "unknown lab `nope`");
        let help = found[1].help.as_deref().unwrap_or_default();
        assert!(help.starts_with("labs are the folders of "), "{help}");
        assert!(found[2].message.contains("head takes a number of lines"));
        assert_eq!(
            found[1].to_string(),
            format!("src/ch.md:9:1: error: unknown lab `nope`\n  help: {help}")
        );
    }

    #[test]
    fn a_lab_with_a_broken_manifest_is_not_called_unknown() {
        let labs = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(labs.path().join("broken")).expect("mkdir");
        std::fs::write(labs.path().join("broken/lab.yaml"), "id: [").expect("write");
        let catalog = Catalog::default();
        let mut v = Validator::new(&catalog, labs.path(), labs.path(), Stale::Error);
        let found = v.chapter(Path::new("ch.md"), "{{#lab broken}}\n");
        assert!(found.is_empty(), "{found:#?}");
    }
}
