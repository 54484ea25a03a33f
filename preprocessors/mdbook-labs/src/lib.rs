//! `mdbook-labs`: the mdBook preprocessor of the MLOps course.
//!
//! It replaces each `{{#lab ID}}` in a chapter with the lab's embed: header,
//! file tree, every shown file highlighted at build time, copy buttons, the
//! zip download, the steps with their checks, and the mount points of the
//! live-status widget. `{{#lab-output LAB STEP}}` becomes a code block of
//! what the step printed when `course lab follow LAB --record` ran it (its
//! transcript, `book/transcripts/LAB/STEP.txt`). Chapters without a directive
//! are left byte for byte as they were: edits are splices of byte ranges,
//! markdown is never re-written.
//!
//! Use it in process with [`LabsPreprocessor`] (the `course` CLI does, through
//! `mdbook-driver`), or as the `mdbook-labs` command that stock `mdbook` runs.
//! Besides the book it produces [`Asset`]s — the zips and the widget's css/js —
//! that the caller writes into the site.

mod config;
mod directives;
mod expand;
mod highlight;
mod html;
pub mod logging;
mod output;
pub mod quiz;
mod render;
mod site;
mod validate;

use std::sync::{Arc, Mutex};

use mdbook_preprocessor::book::Book;
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

pub use config::LabsConfig;
pub use directives::{Cut, Directive, DirectiveKind, find_directives};
pub use expand::expand;
pub use highlight::warm_up;
pub use render::{LAB_FILE_TEMPLATE, LAB_TEMPLATE, file_page_path, zip_path};
pub use site::{prune_file_pages, write_assets};
pub use validate::{Stale, Transcripts, Validator};

/// The preprocessor's name: its table in book.toml is `[preprocessor.labs]`.
pub const NAME: &str = "labs";

/// A file the site needs beside the pages (a zip, the widget's css/js).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Path relative to the site root, with `/` separators.
    pub path: String,
    /// Content.
    pub bytes: Vec<u8>,
}

/// Result of expanding a book.
pub struct Expanded {
    /// The book with every directive expanded.
    pub book: Book,
    /// Files to write into the site.
    pub assets: Vec<Asset>,
    /// Labs no chapter embeds (a warning in a build, an error in `course check`).
    pub unembedded: Vec<String>,
}

/// The preprocessor, for `MDBook::with_preprocessor`. The assets of the last
/// run are kept for the caller to write after rendering.
#[derive(Clone, Default)]
pub struct LabsPreprocessor {
    assets: Arc<Mutex<Vec<Asset>>>,
}

impl LabsPreprocessor {
    /// A new preprocessor.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the assets produced by the last run.
    pub fn take_assets(&self) -> Vec<Asset> {
        self.assets
            .lock()
            .map(|mut a| std::mem::take(&mut *a))
            .unwrap_or_default()
    }
}

impl Preprocessor for LabsPreprocessor {
    fn name(&self) -> &str {
        NAME
    }

    fn run(
        &self,
        ctx: &PreprocessorContext,
        book: Book,
    ) -> mdbook_preprocessor::errors::Result<Book> {
        let expanded = expand(ctx, book)?;
        for id in &expanded.unembedded {
            tracing::warn!(
                "lab `{id}` is not embedded by any chapter; add {{{{#lab {id}}}}} to one"
            );
        }
        if let Ok(mut assets) = self.assets.lock() {
            *assets = expanded.assets;
        }
        Ok(expanded.book)
    }
}
