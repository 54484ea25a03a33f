//! All labs of the course: `labs/*/lab.yaml`.

use std::path::{Path, PathBuf};

use crate::diag::Diagnostic;
use crate::manifest::{Lab, load_lab};

/// The manifest's file name inside a lab folder.
pub const LAB_FILE: &str = "lab.yaml";

/// Every lab that loaded, sorted by id.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// The labs folder.
    pub root: PathBuf,
    /// Valid labs, sorted by id.
    pub labs: Vec<Lab>,
}

impl Catalog {
    /// The lab with this id.
    pub fn get(&self, id: &str) -> Option<&Lab> {
        self.labs.iter().find(|l| l.id == id)
    }

    /// All lab ids.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.labs.iter().map(|l| l.id.as_str())
    }
}

/// Loads every lab under `root`. Problems in one lab do not stop the others:
/// the catalog holds the labs that are valid, the list every problem found.
pub fn load_catalog(root: &Path) -> (Catalog, Vec<Diagnostic>) {
    let mut catalog = Catalog {
        root: root.to_path_buf(),
        labs: Vec::new(),
    };
    let mut problems = Vec::new();
    let entries = match std::fs::read_dir(root) {
        Ok(e) => e,
        Err(e) => {
            problems.push(Diagnostic::new(
                root,
                0,
                0,
                format!("cannot read the labs folder: {e}"),
            ));
            return (catalog, problems);
        }
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        match load_lab(&dir) {
            Ok(lab) => catalog.labs.push(lab),
            Err(mut errs) => problems.append(&mut errs),
        }
    }
    (catalog, problems)
}

/// The id in `ids` nearest to `wanted`, if any is close enough to be a typo
/// (the same rule as [`crate::conventions::nearest`]).
pub fn nearest_id<'a>(wanted: &str, ids: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    crate::conventions::nearest(wanted, ids)
}
