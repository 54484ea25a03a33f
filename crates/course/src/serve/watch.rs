//! Watching the sources, and what a change means: only chapters' text
//! (a layer of the changed pages will do) or anything else (every page).

use std::path::{Component, Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};
use course_labs::conventions::in_ignored_dir;
use notify::{RecursiveMode, Watcher};

use super::{ServeState, rebuild};
use crate::project::Project;

/// How long the sources must be quiet before a rebuild starts (editors
/// write a file in several steps).
const DEBOUNCE: Duration = Duration::from_millis(20);

/// Watches the book, the labs and the labs' templates and theme; a thread
/// rebuilds after each burst of changes, and another builds the whole site
/// behind each rebuild.
pub(super) fn watch(project: Project, state: ServeState) -> Result<notify::RecommendedWatcher> {
    let (tx, rx) = mpsc::channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res {
            if matches!(event.kind, notify::EventKind::Access(_)) {
                return;
            }
            for p in event.paths {
                let _ = tx.send(p);
            }
        }
    })
    .context("starting the file watcher")?;
    let mut watched: Vec<PathBuf> = Vec::new();
    for dir in [
        &project.book,
        &project.src,
        &project.html_theme,
        &project.labs,
        &project.theme,
        &project.templates,
    ] {
        // (A folder inside one watched already is watched with it.)
        if dir.is_dir() && !watched.iter().any(|w| dir.starts_with(w)) {
            watcher
                .watch(dir, RecursiveMode::Recursive)
                .with_context(|| format!("watching {}", dir.display()))?;
            watched.push(dir.clone());
        }
    }
    // What builds write: the stock path's lab files, the site, the cache.
    let generated: Vec<PathBuf> = [project.src.join("labs"), project.build.clone()]
        .into_iter()
        .chain(project.cache.clone())
        .collect();
    let indexer = rebuild::spawn_indexer(project.clone(), state.clone())?;
    std::thread::Builder::new()
        .name("course-rebuild".into())
        .spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut changed = vec![first];
                // Collect the burst of events an editor's save makes.
                while let Ok(p) = rx.recv_timeout(DEBOUNCE) {
                    changed.push(p);
                }
                changed.retain(|p| !ignored(p, &generated));
                if changed.is_empty() {
                    continue;
                }
                tracing::debug!("changed: {changed:?}");
                let built = rebuild::rebuild(&project, &state, &changed);
                if state.tidy_if_stopped() {
                    return;
                }
                if let Some(n) = built {
                    let _ = indexer.send(n);
                }
            }
        })
        .context("starting the rebuild thread")?;
    tracing::debug!("watching {watched:?}");
    Ok(watcher)
}

/// Where the sources of the pages' text are: a change anywhere else (the
/// book's config, its mdBook theme, an image) may touch every page.
pub(super) struct Sources {
    chapters: PathBuf,
    mdbook_theme: PathBuf,
    text: [PathBuf; 4],
}

impl Sources {
    pub(super) fn of(project: &Project) -> Sources {
        Sources {
            chapters: project.src.clone(),
            mdbook_theme: project.html_theme.clone(),
            text: [
                project.labs.clone(),
                project.theme.clone(),
                project.templates.clone(),
                // What `{{#lab-output}}` quotes: it changes only the text
                // of the chapters that quote it.
                project.transcripts.clone(),
            ],
        }
    }

    /// Whether a change of `path` can change only chapters' text (and the
    /// labs' files): a chapter's Markdown (`is_chapter` tells, given the
    /// path inside `src`), a lab, the labs' templates and theme, a step's
    /// transcript. Chapters whose text did not change keep their pages then.
    pub(super) fn only_text(&self, path: &Path, is_chapter: impl Fn(&Path) -> bool) -> bool {
        if path.starts_with(&self.mdbook_theme) {
            return false;
        }
        match path.strip_prefix(&self.chapters) {
            Ok(source) => is_chapter(source),
            Err(_) => self.text.iter().any(|dir| path.starts_with(dir)),
        }
    }
}

/// Whether a change of `path` is no source's: what builds write
/// (`generated`), the folders no lab holds (environments, caches, VCS
/// data), cargo's `target`, an editor's backup or swap file.
pub(super) fn ignored(path: &Path, generated: &[PathBuf]) -> bool {
    if generated.iter().any(|g| path.starts_with(g)) {
        return true;
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with('~')
        || name.ends_with(".swp")
        || name.starts_with(".#")
        || name.ends_with(".tmp-labs")
        || in_ignored_dir(path)
        || path
            .components()
            .any(|c| c == Component::Normal("target".as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_chapters_labs_and_lab_templates_are_text_sources() {
        let project = Project {
            book: PathBuf::from("/c/book"),
            labs: PathBuf::from("/c/labs"),
            root: PathBuf::from("/c"),
            src: PathBuf::from("/c/book/src"),
            build: PathBuf::from("/c/book/build"),
            html_theme: PathBuf::from("/c/book/theme"),
            transcripts: PathBuf::from("/c/book/transcripts"),
            cache: None,
            // As book.toml's `templates-dir` and `theme-dir` may put them.
            templates: PathBuf::from("/c/site/templates"),
            theme: PathBuf::from("/c/site/widget"),
        };
        let sources = Sources::of(&project);
        let is_chapter = |p: &Path| p == Path::new("a.md") || p == Path::new("part/b.md");
        for text in [
            "/c/book/src/a.md",
            "/c/book/src/part/b.md",
            "/c/labs/demo/app/main.py",
            "/c/labs/demo/lab.yaml",
            "/c/site/templates/lab.html",
            "/c/site/widget/labs.css",
            "/c/book/transcripts/demo/install.txt",
        ] {
            assert!(sources.only_text(Path::new(text), is_chapter), "{text}");
        }
        for other in [
            "/c/book/book.toml",
            "/c/book/src/SUMMARY.md",
            "/c/book/src/404.md",
            "/c/book/src/snippet.md",
            "/c/book/src/img/diagram.svg",
            "/c/book/theme/index.hbs",
            "/c/book/theme/notes.md",
            "/c/elsewhere.md",
            // Not where book.toml puts them: not the labs' templates or theme.
            "/c/templates/lab.html",
            "/c/theme/labs.css",
        ] {
            assert!(!sources.only_text(Path::new(other), is_chapter), "{other}");
        }
    }

    #[test]
    fn ignores_generated_and_editor_files() {
        let generated = vec![PathBuf::from("/c/book/src/labs")];
        assert!(ignored(Path::new("/c/book/src/labs/x.zip"), &generated));
        assert!(ignored(Path::new("/c/labs/a/.venv/lib/x.py"), &generated));
        assert!(ignored(Path::new("/c/book/src/a.md~"), &generated));
        assert!(ignored(
            Path::new("/c/labs/a/.mypy_cache/x.json"),
            &generated
        ));
        assert!(ignored(Path::new("/c/labs/a/target/debug/x"), &generated));
        assert!(!ignored(Path::new("/c/book/src/a.md"), &generated));
    }
}
