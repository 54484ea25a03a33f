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

pub(crate) fn resolve_files(
    manifest: &Path,
    dir: &Path,
    specs: &[FileSpec],
    ignore: &[(String, (u64, u64))],
) -> Result<Vec<LabFile>, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let at = |l: u64, c: u64, m: String| Diagnostic::new(manifest, l, c, m);
    if specs.is_empty() {
        problems.push(
            at(0, 0, "`files` is empty".into())
                .with_help("list the files a learner sees and copies"),
        );
    }

    let mut ignore_set = GlobSetBuilder::new();
    for (pat, (l, c)) in ignore {
        let (l, c) = (*l, *c);
        if !is_contained(pat.trim_end_matches('/')) && !pat.starts_with("**") {
            problems.push(at(
                l,
                c,
                format!("the ignore pattern `{}` leaves the lab folder", pat),
            ));
            continue;
        }
        match glob(pat.trim_end_matches('/')) {
            Ok(g) => {
                ignore_set.add(g);
                // `dir` or `dir/` also ignores everything below it.
                if let Ok(g) = glob(&format!("{}/**", pat.trim_end_matches('/'))) {
                    ignore_set.add(g);
                }
            }
            Err(e) => problems.push(at(
                l,
                c,
                format!("bad ignore pattern `{}`: {}", pat, e.kind()),
            )),
        }
    }
    let ignore_set = ignore_set.build().unwrap_or_else(|_| GlobSet::empty());

    // Every file in the lab, relative, with symlinks that point out flagged.
    let canonical_dir = match dir.canonicalize() {
        Ok(d) => d,
        Err(e) => {
            problems.push(at(
                0,
                0,
                format!("cannot open the lab folder {}: {e}", dir.display()),
            ));
            return Err(problems);
        }
    };
    let mut all: Vec<String> = Vec::new();
    let mut escaping: BTreeMap<String, PathBuf> = BTreeMap::new();
    let walker = WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_str().is_some_and(is_ignored_dir));
    for entry in walker.flatten() {
        let Ok(rel) = entry.path().strip_prefix(dir) else {
            continue;
        };
        let Some(rel) = rel.to_str().map(|r| r.replace('\\', "/")) else {
            continue;
        };
        if rel.is_empty() {
            continue;
        }
        if entry.path_is_symlink() {
            match entry.path().canonicalize() {
                Ok(target) if target.starts_with(&canonical_dir) => {
                    if target.is_file() {
                        all.push(rel);
                    }
                }
                Ok(target) => {
                    escaping.insert(rel, target);
                }
                Err(_) => {
                    escaping.insert(rel, PathBuf::from("(a missing target)"));
                }
            }
        } else if entry.file_type().is_file() {
            all.push(rel);
        }
    }

    let mut out: Vec<LabFile> = Vec::new();
    for spec in specs {
        let (l, c) = (spec.line, spec.column);
        let pattern = spec.pattern.trim_end_matches('/');
        if !is_contained(pattern) {
            problems.push(
                at(l, c, format!("`{}` leaves the lab folder", spec.pattern)).with_help(
                    "list paths relative to the lab folder, without `..` or a leading `/`",
                ),
            );
            continue;
        }
        if let Some((link, target)) = escaping.iter().find(|(link, _)| {
            *link == pattern
                || link.starts_with(&format!("{pattern}/"))
                || (has_glob_meta(pattern)
                    && glob(pattern).is_ok_and(|g| g.compile_matcher().is_match(link.as_str())))
        }) {
            problems.push(
                at(
                    l,
                    c,
                    format!(
                        "`{link}` is a symlink that points outside the lab folder, to {}",
                        target.display()
                    ),
                )
                .with_help("copy the file into the lab instead of linking to it"),
            );
            continue;
        }
        let matched: Vec<&String> = if has_glob_meta(pattern) {
            match glob(pattern) {
                Ok(g) => {
                    let m = g.compile_matcher();
                    all.iter().filter(|f| m.is_match(f.as_str())).collect()
                }
                Err(e) => {
                    problems.push(at(
                        l,
                        c,
                        format!("bad glob `{}`: {}", spec.pattern, e.kind()),
                    ));
                    continue;
                }
            }
        } else {
            let prefix = format!("{pattern}/");
            all.iter()
                .filter(|f| *f == pattern || f.starts_with(&prefix))
                .collect()
        };
        let matched: Vec<&String> = matched
            .into_iter()
            .filter(|f| !ignore_set.is_match(f.as_str()))
            .collect();
        if matched.is_empty() {
            let what = if has_glob_meta(pattern) {
                "matches no file"
            } else {
                "does not exist"
            };
            problems.push(
                at(
                    l,
                    c,
                    format!("`{}` {what} in {}", spec.pattern, dir.display()),
                )
                .with_help("create the file, fix the path, or remove the entry"),
            );
            continue;
        }
        for rel in matched {
            if let Some(existing) = out.iter_mut().find(|f| f.rel == *rel) {
                // A later, more specific entry may add a caption.
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
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}
