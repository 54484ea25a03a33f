//! Which files a lab shows and exports: globs and paths from `files:`, minus
//! `ignore:`, all inside the lab folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use walkdir::WalkDir;

use crate::conventions::{is_contained, is_ignored_dir};
use crate::diag::Diagnostic;

/// A file of a lab, as shown on the page and put in the zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabFile {
    /// Path relative to the lab folder, with `/` separators.
    pub rel: String,
    /// Caption from the manifest.
    pub caption: Option<String>,
    /// Shown (highlighted) on the page; hidden files are only listed and exported.
    pub show: bool,
}

pub(crate) struct FileSpec {
    pub(crate) pattern: String,
    pub(crate) line: u64,
    pub(crate) column: u64,
    pub(crate) caption: Option<String>,
    pub(crate) show: bool,
}

fn has_glob_meta(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

fn glob(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern).literal_separator(true).build()
}

/// The files `specs` name inside `dir`, minus those `ignore` matches, in
/// manifest order; or every problem with them.
pub(crate) fn resolve_files(
    manifest: &Path,
    dir: &Path,
    specs: &[FileSpec],
    ignore: &[(String, (u64, u64))],
) -> Result<Vec<LabFile>, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let ignore_set = ignore_set(manifest, ignore, &mut problems);
    let tree = match LabTree::walk(dir) {
        Ok(tree) => tree,
        Err(e) => {
            problems.push(Diagnostic::new(
                manifest,
                0,
                0,
                format!("cannot open the lab folder {}: {e}", dir.display()),
            ));
            return Err(problems);
        }
    };
    let mut out: Vec<LabFile> = Vec::new();
    for spec in specs {
        match tree.matches(spec, &ignore_set) {
            Ok(matched) => add_files(&mut out, matched, spec),
            Err(message) => problems.push(message.diagnostic(manifest, spec, dir)),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The `ignore:` patterns as one set; `dir` or `dir/` also ignores
/// everything below it.
fn ignore_set(
    manifest: &Path,
    ignore: &[(String, (u64, u64))],
    problems: &mut Vec<Diagnostic>,
) -> GlobSet {
    let mut set = GlobSetBuilder::new();
    for (pat, (l, c)) in ignore {
        let at = |m: String, help: &str| Diagnostic::new(manifest, *l, *c, m).with_help(help);
        let trimmed = pat.trim_end_matches('/');
        if !is_contained(trimmed) && !pat.starts_with("**") {
            problems.push(at(
                format!("the ignore pattern `{pat}` leaves the lab folder"),
                "ignore paths relative to the lab folder, without `..` or a leading `/`",
            ));
            continue;
        }
        match glob(trimmed) {
            Ok(g) => {
                set.add(g);
                if let Ok(g) = glob(&format!("{trimmed}/**")) {
                    set.add(g);
                }
            }
            Err(e) => problems.push(at(
                format!("bad ignore pattern `{pat}`: {}", e.kind()),
                "write a glob such as `data/*.csv` or a folder such as `notebooks/`",
            )),
        }
    }
    set.build().unwrap_or_else(|_| GlobSet::empty())
}

/// Every file of a lab, relative, and the symlinks that point out of it.
struct LabTree {
    all: Vec<String>,
    escaping: BTreeMap<String, PathBuf>,
}

/// Why a `files:` entry gives no files.
enum NoFiles {
    Leaves,
    Symlink(String, PathBuf),
    BadGlob(String),
    Nothing,
}

impl LabTree {
    fn walk(dir: &Path) -> std::io::Result<LabTree> {
        let canonical_dir = dir.canonicalize()?;
        let mut tree = LabTree {
            all: Vec::new(),
            escaping: BTreeMap::new(),
        };
        let walker = WalkDir::new(dir)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0 || !e.file_name().to_str().is_some_and(is_ignored_dir)
            });
        for entry in walker.flatten() {
            let Some(rel) = entry
                .path()
                .strip_prefix(dir)
                .ok()
                .and_then(|r| r.to_str())
                .map(|r| r.replace('\\', "/"))
                .filter(|r| !r.is_empty())
            else {
                continue;
            };
            if !entry.path_is_symlink() {
                if entry.file_type().is_file() {
                    tree.all.push(rel);
                }
                continue;
            }
            match entry.path().canonicalize() {
                Ok(target) if target.starts_with(&canonical_dir) => {
                    if target.is_file() {
                        tree.all.push(rel);
                    }
                }
                Ok(target) => {
                    tree.escaping.insert(rel, target);
                }
                Err(_) => {
                    tree.escaping
                        .insert(rel, PathBuf::from("(a missing target)"));
                }
            }
        }
        Ok(tree)
    }

    /// The files one entry names: a path (a file, or a folder and all
    /// below it) or a glob, minus the ignored ones.
    fn matches(&self, spec: &FileSpec, ignore: &GlobSet) -> Result<Vec<&String>, NoFiles> {
        let pattern = spec.pattern.trim_end_matches('/');
        if !is_contained(pattern) {
            return Err(NoFiles::Leaves);
        }
        let globbed = |p: &str| {
            has_glob_meta(pattern) && glob(pattern).is_ok_and(|g| g.compile_matcher().is_match(p))
        };
        let prefix = format!("{pattern}/");
        if let Some((link, target)) = self
            .escaping
            .iter()
            .find(|(link, _)| *link == pattern || link.starts_with(&prefix) || globbed(link))
        {
            return Err(NoFiles::Symlink(link.clone(), target.clone()));
        }
        let matched: Vec<&String> = if has_glob_meta(pattern) {
            let m = glob(pattern)
                .map_err(|e| NoFiles::BadGlob(e.kind().to_string()))?
                .compile_matcher();
            self.all.iter().filter(|f| m.is_match(f.as_str())).collect()
        } else {
            let prefix = format!("{pattern}/");
            self.all
                .iter()
                .filter(|f| *f == pattern || f.starts_with(&prefix))
                .collect()
        };
        let matched: Vec<&String> = matched
            .into_iter()
            .filter(|f| !ignore.is_match(f.as_str()))
            .collect();
        if matched.is_empty() {
            return Err(NoFiles::Nothing);
        }
        Ok(matched)
    }
}

impl NoFiles {
    fn diagnostic(self, manifest: &Path, spec: &FileSpec, dir: &Path) -> Diagnostic {
        let p = &spec.pattern;
        let (message, help) = match self {
            NoFiles::Leaves => (
                format!("`{p}` leaves the lab folder"),
                "list paths relative to the lab folder, without `..` or a leading `/`".to_owned(),
            ),
            NoFiles::Symlink(link, target) => (
                format!(
                    "`{link}` is a symlink that points outside the lab folder, to {}",
                    target.display()
                ),
                "copy the file into the lab instead of linking to it".to_owned(),
            ),
            NoFiles::BadGlob(why) => (
                format!("bad glob `{p}`: {why}"),
                "write a glob such as `src/*.py` or `app/**/*.py`".to_owned(),
            ),
            NoFiles::Nothing => {
                let what = if has_glob_meta(p) {
                    "matches no file"
                } else {
                    "does not exist"
                };
                (
                    format!("`{p}` {what} in {}", dir.display()),
                    "create the file, fix the path, or remove the entry".to_owned(),
                )
            }
        };
        Diagnostic::new(manifest, spec.line, spec.column, message).with_help(help)
    }
}

/// Adds the files of one entry; a file listed before keeps its place, and
/// takes this entry's caption if it had none.
fn add_files(out: &mut Vec<LabFile>, matched: Vec<&String>, spec: &FileSpec) {
    for rel in matched {
        if let Some(existing) = out.iter_mut().find(|f| f.rel == *rel) {
            if existing.caption.is_none() {
                existing.caption.clone_from(&spec.caption);
            }
            continue;
        }
        out.push(LabFile {
            rel: rel.clone(),
            caption: spec.caption.clone(),
            show: spec.show,
        });
    }
}
