//! Transcripts: what a step printed when `course lab follow --record` ran
//! it, normalised, so that chapters quote only output that really ran.
//!
//! A transcript lives at `<book>/transcripts/<lab>/<step>.txt`. Its first
//! line names what it records and a digest of the step's `run` command:
//!
//! ```text
//! # course lab follow: model-serving train run-sha256=3f9a0c1d2e4b5a69
//! Training on 133 wines, testing on 45
//! test accuracy 0.978
//! ```
//!
//! The rest is the output. When the step's command changes, the digest no
//! longer matches and `course check` says the transcript is stale.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::manifest::Step;

/// The folder of transcripts inside a book.
pub const TRANSCRIPTS_DIR: &str = "transcripts";

const HEADER: &str = "# course lab follow: ";

/// A recorded step output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// The lab's id.
    pub lab: String,
    /// The step's id.
    pub step: String,
    /// [`run_digest`] of the step's command when it was recorded.
    pub run_digest: String,
    /// The normalised output, lines ending in `\n`.
    pub output: String,
}

/// Why a transcript could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    /// There is no transcript file.
    #[error("no transcript at {0}")]
    Missing(PathBuf),
    /// It could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// Its first line is not a transcript header.
    #[error("{0}:1: not a transcript: the first line must be `{HEADER}LAB STEP run-sha256=…`")]
    BadHeader(PathBuf),
}

/// Where the transcript of `lab`'s `step` lives in the book at `book_root`.
pub fn transcript_path(book_root: &Path, lab: &str, step: &str) -> PathBuf {
    book_root
        .join(TRANSCRIPTS_DIR)
        .join(lab)
        .join(format!("{step}.txt"))
}

/// A short digest of a step's `run` command (16 hex digits of SHA-256).
pub fn run_digest(step: &Step) -> String {
    let digest = Sha256::digest(step.run.as_deref().unwrap_or("").as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

impl Transcript {
    /// A transcript of `step`'s run, as recorded now.
    pub fn new(lab: &str, step: &Step, output: String) -> Transcript {
        Transcript {
            lab: lab.to_owned(),
            step: step.id.clone(),
            run_digest: run_digest(step),
            output,
        }
    }

    /// The file's text.
    pub fn render(&self) -> String {
        let mut text = format!(
            "{HEADER}{} {} run-sha256={}\n",
            self.lab, self.step, self.run_digest
        );
        text.push_str(&self.output);
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
    }

    /// Parses a transcript file's text; `path` is for the error.
    pub fn parse(path: &Path, text: &str) -> Result<Transcript, TranscriptError> {
        let (first, output) = text.split_once('\n').unwrap_or((text, ""));
        let bad = || TranscriptError::BadHeader(path.to_path_buf());
        let fields: Vec<&str> = first
            .strip_prefix(HEADER)
            .ok_or_else(bad)?
            .split_whitespace()
            .collect();
        let [lab, step, digest] = fields[..] else {
            return Err(bad());
        };
        let run_digest = digest.strip_prefix("run-sha256=").ok_or_else(bad)?;
        Ok(Transcript {
            lab: lab.to_owned(),
            step: step.to_owned(),
            run_digest: run_digest.to_owned(),
            output: output.to_owned(),
        })
    }

    /// Reads the transcript of `lab`'s `step` from the book at `book_root`.
    pub fn load(book_root: &Path, lab: &str, step: &str) -> Result<Transcript, TranscriptError> {
        let path = transcript_path(book_root, lab, step);
        match std::fs::read_to_string(&path) {
            Ok(text) => Transcript::parse(&path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(TranscriptError::Missing(path))
            }
            Err(source) => Err(TranscriptError::Io { path, source }),
        }
    }

    /// Whether it was recorded from `step`'s current command.
    pub fn is_current(&self, step: &Step) -> bool {
        self.run_digest == run_digest(step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transcript_survives_render_and_parse() {
        let t = Transcript {
            lab: "model-serving".into(),
            step: "train".into(),
            run_digest: "0123456789abcdef".into(),
            output: "line one\nline two\n".into(),
        };
        let text = t.render();
        assert!(
            text.starts_with(
                "# course lab follow: model-serving train run-sha256=0123456789abcdef\n"
            )
        );
        assert_eq!(
            Transcript::parse(Path::new("t.txt"), &text).expect("parses"),
            t
        );
    }

    #[test]
    fn a_file_without_the_header_is_refused() {
        for text in [
            "",
            "hello\n",
            "# course lab follow: a b\n",
            "# course lab follow: a b sha=1\n",
        ] {
            assert!(matches!(
                Transcript::parse(Path::new("t.txt"), text),
                Err(TranscriptError::BadHeader(_))
            ));
        }
    }
}
