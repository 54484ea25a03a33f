//! Where the parts of the course are on disk: every folder is resolved once
//! from book.toml here, and the rest of the crate asks [`Project`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use mdbook_driver::MDBook;
use mdbook_labs::LabsConfig;

/// The course's folders, found from the book folder.
#[derive(Debug, Clone)]
pub struct Project {
    /// The book root (holds book.toml).
    pub book: PathBuf,
    /// The chapters' folder, as book.toml's `[book] src` says.
    pub src: PathBuf,
    /// Where `course build` writes the site, as `[build] build-dir` says.
    pub build: PathBuf,
    /// mdBook's own theme overrides, as `[output.html] theme` says.
    pub html_theme: PathBuf,
    /// The recorded outputs of lab steps that `{{#lab-output}}` quotes.
    pub transcripts: PathBuf,
    /// The highlighting cache, as `[preprocessor.labs] cache-dir` says
    /// (None: turned off).
    pub cache: Option<PathBuf>,
    /// The labs folder, as book.toml's `[preprocessor.labs]` says.
    pub labs: PathBuf,
    /// The project root (the book's parent).
    pub root: PathBuf,
    /// The labs' templates, as book.toml's `templates-dir` says.
    pub templates: PathBuf,
    /// The labs' stylesheet and script, as book.toml's `theme-dir` says.
    pub theme: PathBuf,
}

impl Project {
    /// Uses `book` if given, else finds `book/book.toml` here or in a parent.
    pub fn locate(book: Option<&Path>) -> Result<Project> {
        let book = match book {
            Some(b) => b.to_path_buf(),
            None => {
                let cwd = std::env::current_dir().context("reading the current folder")?;
                let found = cwd
                    .ancestors()
                    .map(|d| d.join("book"))
                    .find(|b| b.join("book.toml").is_file());
                match found {
                    Some(b) => b,
                    None if cwd.join("book.toml").is_file() => cwd,
                    None => bail!(
                        "no book found: neither {0}/book/book.toml nor a parent's exists\n  help: run from the course folder, or pass --book DIR",
                        cwd.display()
                    ),
                }
            }
        };
        if !book.join("book.toml").is_file() {
            bail!(
                "{} has no book.toml\n  help: --book takes the folder that holds book.toml",
                book.display()
            );
        }
        let book = book
            .canonicalize()
            .with_context(|| format!("opening {}", book.display()))?;
        let root = book
            .parent()
            .map_or_else(|| book.clone(), Path::to_path_buf);
        let config = mdbook_driver::config::Config::from_disk(book.join("book.toml"))
            .with_context(|| format!("reading {}", book.join("book.toml").display()))?;
        let labs_cfg: LabsConfig = config
            .get("preprocessor.labs")
            .ok()
            .flatten()
            .unwrap_or_default();
        let labs = labs_cfg.labs_dir(&book);
        let templates = labs_cfg.templates_dir(&book);
        let theme = labs_cfg.theme_dir(&book);
        let html_theme = config.html_config().unwrap_or_default().theme_dir(&book);
        Ok(Project {
            src: book.join(&config.book.src),
            build: book.join(&config.build.build_dir),
            html_theme,
            transcripts: book.join(course_labs::TRANSCRIPTS_DIR),
            cache: labs_cfg.cache_dir(&book),
            book,
            labs,
            root,
            templates,
            theme,
        })
    }

    /// Loads the book as mdBook does (book.toml, SUMMARY.md, chapters).
    pub fn load_book(&self) -> Result<MDBook> {
        MDBook::load(&self.book)
            .with_context(|| format!("loading the book at {}", self.book.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_folder_is_where_book_toml_puts_it() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let book = tmp.path().join("book");
        std::fs::create_dir_all(&book).expect("mkdir");
        std::fs::write(
            book.join("book.toml"),
            "[book]\nsrc = \"chapters\"\n[build]\nbuild-dir = \"out\"\n\
             [output.html]\ntheme = \"look\"\n\
             [preprocessor.labs]\nlabs-dir = \"../work\"\ntemplates-dir = \"t\"\n\
             theme-dir = \"w\"\ncache-dir = \"\"\n",
        )
        .expect("write");
        let p = Project::locate(Some(&book)).expect("project");
        let book = book.canonicalize().expect("canonical");
        assert_eq!(p.src, book.join("chapters"));
        assert_eq!(p.build, book.join("out"));
        assert_eq!(p.html_theme, book.join("look"));
        assert_eq!(p.labs, book.join("../work"));
        assert_eq!(p.templates, book.join("t"));
        assert_eq!(p.theme, book.join("w"));
        assert_eq!(p.transcripts, book.join("transcripts"));
        assert_eq!(p.cache, None, "an empty cache-dir turns the cache off");
    }
}
