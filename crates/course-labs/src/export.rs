//! `course lab export`: copy a lab's files into a learner's folder.

use std::path::{Path, PathBuf};

use crate::manifest::Lab;

/// What an export wrote.
#[derive(Debug, Clone, Default)]
pub struct ExportReport {
    /// Files written, relative to the destination.
    pub written: Vec<String>,
}

/// Why an export stopped. Nothing is written when it fails.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Files already exist and `force` was not given.
    #[error("{} file(s) already exist in {}: {}", .existing.len(), .dest.display(), .existing.join(", "))]
    WouldOverwrite {
        /// The destination folder.
        dest: PathBuf,
        /// The files that exist.
        existing: Vec<String>,
    },
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Copies every file of `lab` (shown and hidden) into `dest`, keeping the
/// lab's layout and executable bits. Refuses to replace an existing file
/// unless `force`; checks all files before writing any.
pub fn export_lab(lab: &Lab, dest: &Path, force: bool) -> Result<ExportReport, ExportError> {
    if !force {
        let existing: Vec<String> = lab
            .files
            .iter()
            .filter(|f| dest.join(&f.rel).symlink_metadata().is_ok())
            .map(|f| f.rel.clone())
            .collect();
        if !existing.is_empty() {
            return Err(ExportError::WouldOverwrite {
                dest: dest.to_path_buf(),
                existing,
            });
        }
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Io { path, source }
    };
    let mut report = ExportReport::default();
    for f in &lab.files {
        let from = lab.dir.join(&f.rel);
        let to = dest.join(&f.rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        // Write beside the target, then rename: a reader never sees half a file.
        let tmp = to.with_extension("course-export.tmp");
        std::fs::copy(&from, &tmp).map_err(io(&from))?;
        std::fs::rename(&tmp, &to).map_err(io(&to))?;
        report.written.push(f.rel.clone());
    }
    Ok(report)
}
