//! The builds of `course serve`: the whole site, or only the pages whose
//! text changed since the site served now (a *layer* over it).
//!
//! mdBook's HTML renderer is wrapped in [`ServeRenderer`], which sees the
//! whole render context, compares it with the [`Rendered`] state of the
//! site served now and renders either every page or only the changed ones.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use mdbook_driver::config::Config;
use mdbook_html::HtmlHandlebars;
use mdbook_labs::Asset;
use mdbook_renderer::{RenderContext, Renderer};

use crate::build::{chain, render};
use crate::project::Project;

/// What a build for `course serve` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServeBuild {
    /// Everything a reader sees, search index included.
    Full,
    /// Every page as [`ServeBuild::Full`] writes it, byte for byte, but a
    /// search index without documents: indexing is most of a rebuild, so
    /// `serve` shows an edit from this build and indexes it in a full one
    /// behind. Given the [`Rendered`] state of the site served now, and if
    /// nothing but chapters' text changed, it writes only the changed pages
    /// (see [`Served::Layer`]).
    Pages,
}

/// What a serve build wrote into its folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Served {
    /// A whole site.
    Whole,
    /// Only the pages whose chapter text changed since the [`Rendered`]
    /// state it was given, and the lab files that changed: a layer to serve
    /// over that site. Its print page and search index are the old ones
    /// until the full build behind it.
    Layer,
}

/// What a serve build rendered: everything a page depends on, to tell
/// which pages the next build must write again.
#[derive(Clone, Debug, Default)]
pub struct Rendered {
    /// The render context without the chapters' text (the book's outline,
    /// titles, numbering, the configuration), as JSON: a change there
    /// touches every page.
    frame: String,
    /// Each chapter's preprocessed text by its path (`.md`).
    pages: BTreeMap<PathBuf, String>,
    /// The first chapter, which `index.html` repeats.
    first: Option<PathBuf>,
    /// The chapters' source files, relative to the book's `src`.
    sources: BTreeSet<PathBuf>,
    /// The labs' files in the site (zips, file pages, widget css/js).
    assets: BTreeMap<String, Vec<u8>>,
}

impl Rendered {
    /// `config` is the book's configuration before a [`ServeBuild::Pages`]
    /// build turned search documents off, so both kinds of build compare.
    fn of(ctx: &RenderContext, config: &Config) -> Result<Rendered> {
        let mut frame = ctx.clone();
        frame.destination = PathBuf::new();
        frame.config = config.clone();
        let mut pages = BTreeMap::new();
        let mut first = None;
        let mut sources = BTreeSet::new();
        frame.book.for_each_chapter_mut(|ch| {
            if let Some(path) = &ch.path {
                first.get_or_insert_with(|| path.clone());
                pages.insert(path.clone(), std::mem::take(&mut ch.content));
            }
            if let Some(source) = &ch.source_path {
                sources.insert(source.clone());
            }
        });
        let titles: BTreeMap<_, _> = ctx.chapter_titles.iter().collect();
        let frame = serde_json::to_string(&(&frame, titles))
            .context("describing the book for an incremental rebuild")?;
        Ok(Rendered {
            frame,
            pages,
            first,
            sources,
            assets: BTreeMap::new(),
        })
    }

    /// Whether `source` (relative to the book's `src`) is a chapter's file.
    pub fn is_chapter(&self, source: &Path) -> bool {
        self.sources.contains(source)
    }

    /// The chapters to render again over the site `self` describes, or
    /// None if every page must be rendered.
    fn changed_since(&self, now: &Rendered) -> Option<BTreeSet<PathBuf>> {
        if self.frame != now.frame {
            return None;
        }
        Some(
            now.pages
                .iter()
                .filter(|(path, text)| self.pages.get(*path) != Some(*text))
                .map(|(path, _)| path.clone())
                .collect(),
        )
    }
}

/// Builds the site for `course serve` into `dir`. Unlike `course build`,
/// the site is for the root of a local server (`site-url = "/"`) and file
/// names carry no content hash, so a page does not change with the search
/// index. `previous` describes the site served now: with it a
/// [`ServeBuild::Pages`] build may write only what changed.
pub fn build_for_serve(
    project: &Project,
    dir: &Path,
    what: ServeBuild,
    previous: Option<&Rendered>,
) -> Result<(Rendered, Served)> {
    let mut md = project.load_book()?;
    // Served at the root, whatever sub-path the hosted book has (the 404
    // page's links and assets start from it), as `mdbook serve` does.
    md.config
        .set("output.html.site-url", "/")
        .and_then(|()| md.config.set("output.html.hash-files", false))
        .map_err(|e| anyhow::anyhow!(chain(&e)))?;
    let previous = previous.filter(|_| what == ServeBuild::Pages);
    let config = md.config.clone();
    if what == ServeBuild::Pages {
        skip_search_documents(&mut md)?;
    }
    let renderer = ServeRenderer {
        config,
        previous: previous.cloned(),
        result: Arc::default(),
    };
    md.with_renderer(renderer.clone());
    let (site, assets) = render(md, dir)?;
    let (mut rendered, served) = renderer
        .result
        .lock()
        .ok()
        .and_then(|mut r| r.take())
        .context("the HTML renderer did not run")?;
    // A layer gets only the lab files that changed.
    let old = previous
        .filter(|_| served == Served::Layer)
        .map(|p| &p.assets);
    let changed: Vec<Asset> = assets
        .iter()
        .filter(|a| old.is_none_or(|old| old.get(&a.path) != Some(&a.bytes)))
        .cloned()
        .collect();
    mdbook_labs::write_assets(&site, &changed)?;
    rendered.assets = assets.into_iter().map(|a| (a.path, a.bytes)).collect();
    Ok((rendered, served))
}

/// mdBook's HTML renderer, rendering only the changed chapters when it
/// can (see [`ServeBuild::Pages`]).
#[derive(Clone)]
struct ServeRenderer {
    config: Config,
    previous: Option<Rendered>,
    result: Arc<Mutex<Option<(Rendered, Served)>>>,
}

impl Renderer for ServeRenderer {
    fn name(&self) -> &str {
        "html"
    }

    fn render(&self, ctx: &RenderContext) -> Result<()> {
        let now = Rendered::of(ctx, &self.config)?;
        let changed = self.previous.as_ref().and_then(|p| p.changed_since(&now));
        let served = match changed {
            None => {
                HtmlHandlebars::new().render(ctx)?;
                Served::Whole
            }
            Some(changed) => {
                render_layer(ctx, &changed, now.first.as_deref())?;
                Served::Layer
            }
        };
        if let Ok(mut slot) = self.result.lock() {
            *slot = Some((now, served));
        }
        Ok(())
    }
}

/// Renders the book with the text of every unchanged chapter left out
/// (cheap) into a scratch folder, and keeps only the changed pages.
fn render_layer(
    ctx: &RenderContext,
    changed: &BTreeSet<PathBuf>,
    first: Option<&Path>,
) -> Result<()> {
    let scratch = ctx.destination.with_extension("scratch");
    let mut partial = ctx.clone();
    partial.destination = scratch.clone();
    partial.book.for_each_chapter_mut(|ch| {
        if ch.path.as_ref().is_none_or(|p| !changed.contains(p)) {
            ch.content.clear();
        }
    });
    let result = HtmlHandlebars::new().render(&partial).and_then(|()| {
        std::fs::create_dir_all(&ctx.destination)
            .with_context(|| format!("creating {}", ctx.destination.display()))?;
        let mut pages: Vec<PathBuf> = changed.iter().map(|p| p.with_extension("html")).collect();
        if first.is_some_and(|f| changed.contains(f)) {
            pages.push(PathBuf::from("index.html"));
        }
        for page in pages {
            let to = ctx.destination.join(&page);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::rename(scratch.join(&page), &to)
                .with_context(|| format!("moving the rendered {}", page.display()))?;
        }
        Ok(())
    });
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// Leaves every chapter out of the search index: the empty path is a prefix
/// of every chapter's, and more specific `[output.html.search.chapter]`
/// entries of the book still win (those chapters are indexed; only slower).
fn skip_search_documents(md: &mut mdbook_driver::MDBook) -> Result<()> {
    let Some(html) = md.config.html_config() else {
        return Ok(());
    };
    let mut search = html.search.unwrap_or_default();
    // mdBook refuses a key that matches no chapter.
    let has_chapter = md
        .book
        .chapters()
        .any(|ch| ch.path.is_some() || ch.source_path.is_some());
    if !search.enable || !has_chapter {
        return Ok(());
    }
    let mut off = mdbook_driver::config::SearchChapterSettings::default();
    off.enable = Some(false);
    search.chapter.insert(String::new(), off);
    md.config
        .set("output.html.search", search)
        .map_err(|e| anyhow::anyhow!(chain(&e)))
}
