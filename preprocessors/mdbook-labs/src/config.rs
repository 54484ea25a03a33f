//! `[preprocessor.labs]` in book.toml, and the folders it names.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use mdbook_preprocessor::PreprocessorContext;
use serde::Deserialize;

/// `[preprocessor.labs]` in book.toml. Paths are relative to the book root.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub struct LabsConfig {
    /// Folder of the labs (default `../labs`).
    pub labs_dir: Option<PathBuf>,
    /// Folder whose `lab.html` overrides the built-in template (default `../templates`).
    pub templates_dir: Option<PathBuf>,
    /// Folder whose `labs.css` and `labs/*.js` override the built-in ones (default `../theme`).
    pub theme_dir: Option<PathBuf>,
    /// URL of the learner's sidecar, for pages not served by `course serve`.
    pub sidecar_url: Option<String>,
    /// Folder of the highlighting cache (default `../target/labs-cache`);
    /// an empty string turns it off.
    pub cache_dir: Option<PathBuf>,
}

impl LabsConfig {
    /// Reads the table from a book's configuration.
    pub fn from_context(ctx: &PreprocessorContext) -> Result<Self> {
        Ok(ctx
            .config
            .get::<LabsConfig>("preprocessor.labs")
            .context("reading [preprocessor.labs] in book.toml")?
            .unwrap_or_default())
    }

    /// The labs folder for a book at `root`.
    pub fn labs_dir(&self, root: &Path) -> PathBuf {
        let dir = root.join(self.labs_dir.as_deref().unwrap_or(Path::new("../labs")));
        // `book/../labs` reads better as `labs` in every message.
        dir.canonicalize().unwrap_or(dir)
    }

    /// Folder whose `lab.html`/`lab-file.html` override the built-in
    /// templates (default `../templates`), from the book root `root`.
    pub fn templates_dir(&self, root: &Path) -> PathBuf {
        let dir = root.join(
            self.templates_dir
                .as_deref()
                .unwrap_or(Path::new("../templates")),
        );
        dir.canonicalize().unwrap_or(dir)
    }

    /// Folder of the highlighting cache for a book at `root`, or None when
    /// book.toml turns it off (`cache-dir = ""`).
    pub fn cache_dir(&self, root: &Path) -> Option<PathBuf> {
        match self.cache_dir.as_deref() {
            Some(p) if p.as_os_str().is_empty() => None,
            Some(p) => Some(root.join(p)),
            None => Some(root.join("../target/labs-cache")),
        }
    }

    /// Folder whose `labs.css` and `labs/*.js` override the built-in ones
    /// (default `../theme`), from the book root `root`.
    pub fn theme_dir(&self, root: &Path) -> PathBuf {
        let dir = root.join(self.theme_dir.as_deref().unwrap_or(Path::new("../theme")));
        dir.canonicalize().unwrap_or(dir)
    }
}
