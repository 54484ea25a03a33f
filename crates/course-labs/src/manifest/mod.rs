//! `lab.yaml`: read as a YAML tree, its shape checked field by field, and
//! the validated [`Lab`] built from it. Every problem is collected, so one
//! run reports them all.

mod diagnostics;
mod lint;
mod model;
mod raw;
mod reader;
mod steps;
mod tree;
mod validate;

use std::path::Path;
use std::time::Duration;

use crate::diag::Diagnostic;
use crate::files::resolve_files;

pub use model::{Check, CheckSpec, HttpMethod, Lab, Need, Port, Requirement, Step};

use diagnostics::yaml_diagnostic;
use raw::RawLab;
use reader::Reader;
use tree::Node;

/// Longest manifest we read; a lab.yaml is a page of text, not a data set.
const MAX_MANIFEST_BYTES: usize = 256 * 1024;
/// Default time a check may take before it counts as failed.
pub(super) const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time a step may run before the sidecar stops it.
pub(super) const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(600);
/// The longest a step may be given.
pub(super) const MAX_STEP_TIMEOUT_SECS: u64 = 3600;

/// Whether `id` is a valid lab or step id: 1–64 of `a-z`, `0-9` and `-`,
/// starting with a letter or digit. Anything path- or URL-shaped fails.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
}

// ----------------------------------------------------------------- loading

/// Reads and validates `dir/lab.yaml`, resolving the lab's files on disk.
pub fn load_lab(dir: &Path) -> Result<Lab, Vec<Diagnostic>> {
    let manifest = dir.join(crate::LAB_FILE);
    let bytes = std::fs::read(&manifest).map_err(|e| {
        vec![Diagnostic::new(&manifest, 0, 0, format!("cannot read the lab manifest: {e}"))
            .with_help("every folder under labs/ needs a lab.yaml (see the README's lab manifest reference)")]
    })?;
    parse_lab(&manifest, dir, &bytes)
}

/// Validates manifest bytes as if read from `manifest` inside `dir`.
/// Every problem found is in the `Err`, each with its place and a help
/// line; only a YAML syntax error stops reading at once. Any bytes give
/// `Ok` or `Err`, never a panic.
pub fn parse_lab(manifest: &Path, dir: &Path, bytes: &[u8]) -> Result<Lab, Vec<Diagnostic>> {
    let text = manifest_text(manifest, bytes)?;
    let root = Node::parse(text).map_err(|e| vec![yaml_diagnostic(manifest, &e)])?;
    let mut r = Reader::new(manifest);
    let lab = raw::read_lab(&mut r, &root).map(|raw| build(&mut r, raw, manifest, dir));
    let mut problems = r.problems;
    problems.sort_by_key(|d| (d.line, d.column));
    match lab {
        Some(lab) if problems.is_empty() => Ok(lab),
        _ => Err(problems),
    }
}

/// The manifest as text: not too long, and UTF-8.
fn manifest_text<'b>(manifest: &Path, bytes: &'b [u8]) -> Result<&'b str, Vec<Diagnostic>> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(vec![
            Diagnostic::new(
                manifest,
                0,
                0,
                format!(
                    "lab.yaml is {} bytes; the limit is {MAX_MANIFEST_BYTES}",
                    bytes.len()
                ),
            )
            .with_help("a manifest lists files and steps; keep long text in the lab's files"),
        ]);
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
            + 1;
        vec![
            Diagnostic::new(manifest, line, 0, "lab.yaml is not valid UTF-8")
                .with_help("save the file as UTF-8"),
        ]
    })
}

/// The validated lab from its raw shape; problems go to `r`.
fn build(r: &mut Reader<'_>, raw: RawLab, manifest: &Path, dir: &Path) -> Lab {
    let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let header = validate::header(r, &raw, folder);
    let ignore: Vec<(String, (u64, u64))> =
        raw.ignore.into_iter().map(|i| (i.value, i.at)).collect();
    if let Some(at) = raw.files_empty_at {
        r.problem(
            at,
            "`files` is empty".into(),
            "list the files a learner sees and copies",
        );
    }
    let files = match resolve_files(manifest, dir, &raw.files, &ignore) {
        Ok(files) => files,
        Err(errs) => {
            r.problems.extend(errs);
            Vec::new()
        }
    };
    let (runs_with, runs_with_lines) = validate::runs_with(r, raw.runs_with);
    let needs_disk = validate::size(r, raw.needs_disk, "needs_disk");
    let needs_memory = validate::size(r, raw.needs_memory, "needs_memory");
    Lab {
        id: header.id,
        title: header.title,
        module: header.module,
        summary: header.summary,
        minutes: header.minutes,
        requires: validate::requirements(r, raw.requires),
        ports: validate::ports(r, raw.ports),
        runs_with,
        files,
        steps: steps::steps(r, raw.steps),
        dir: dir.to_path_buf(),
        manifest_path: manifest.to_path_buf(),
        runs_with_lines,
        needs_disk,
        needs_memory,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(is_valid_id("model-serving"));
        assert!(is_valid_id("03-serving"));
        for bad in [
            "",
            "..",
            "../x",
            "a/b",
            "A",
            "-x",
            "x y",
            "%2e%2e",
            &"a".repeat(65),
        ] {
            assert!(!is_valid_id(bad), "{bad:?} should be invalid");
        }
    }
}
