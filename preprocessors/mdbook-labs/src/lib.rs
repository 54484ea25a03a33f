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

mod directives;
mod highlight;
mod html;
mod output;
mod render;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result, bail};
use course_labs::{Catalog, Lab, load_catalog};
use mdbook_preprocessor::book::Book;
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};
use serde::Deserialize;
use sha2::{Digest, Sha256};

pub use directives::{Cut, Directive, DirectiveKind, find_directives};
pub use highlight::warm_up;
pub use render::{LAB_FILE_TEMPLATE, LAB_TEMPLATE, file_page_path, zip_path};
pub use validate::{Stale, Transcripts, Validator};

/// The preprocessor's name: its table in book.toml is `[preprocessor.labs]`.
pub const NAME: &str = "labs";

/// The widget's stylesheet, built in; `theme/labs.css` on disk overrides it.
const LABS_CSS: &str = include_str!("../../../theme/labs.css");
/// The widget's script, built in; `theme/labs.js` on disk overrides it.
const LABS_JS: &str = include_str!("../../../theme/labs.js");

/// `[preprocessor.labs]` in book.toml. Paths are relative to the book root.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub struct LabsConfig {
    /// Folder of the labs (default `../labs`).
    pub labs_dir: Option<PathBuf>,
    /// Folder whose `lab.html` overrides the built-in template (default `../templates`).
    pub templates_dir: Option<PathBuf>,
    /// Folder whose `labs.css`/`labs.js` override the built-in ones (default `../theme`).
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

    /// Folder whose `labs.css`/`labs.js` override the built-in ones
    /// (default `../theme`), from the book root `root`.
    pub fn theme_dir(&self, root: &Path) -> PathBuf {
        let dir = root.join(self.theme_dir.as_deref().unwrap_or(Path::new("../theme")));
        dir.canonicalize().unwrap_or(dir)
    }
}

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

/// Expands every `{{#lab ID}}` of `book`, reading labs as configured in `ctx`.
pub fn expand(ctx: &PreprocessorContext, mut book: Book) -> Result<Expanded> {
    let cfg = LabsConfig::from_context(ctx)?;
    let src_dir = ctx.root.join(&ctx.config.book.src);

    // Pass 1: where are the directives? Keyed by the chapter's path, so
    // that pass 3 splices without parsing the chapters again.
    let mut found: BTreeMap<PathBuf, Vec<Directive>> = BTreeMap::new();
    // Where each lab is embedded: the chapter's page, as a URL path from
    // the book root (`/` separators on every platform).
    let mut embedded_at: BTreeMap<String, String> = BTreeMap::new();
    for ch in book.chapters() {
        let ds = find_directives(&ch.content);
        if !ds.is_empty() {
            for d in &ds {
                if let (DirectiveKind::Lab(id), Some(p)) = (&d.kind, &ch.path) {
                    embedded_at.entry(id.clone()).or_insert_with(|| {
                        p.with_extension("html")
                            .to_string_lossy()
                            .replace('\\', "/")
                    });
                }
            }
            found.insert(chapter_key(ch), ds);
        }
    }

    let labs_dir = cfg.labs_dir(&ctx.root);
    let (catalog, problems) = if labs_dir.is_dir() || !found.is_empty() {
        load_catalog(&labs_dir)
    } else {
        (Catalog::default(), Vec::new())
    };
    let mut errors = problems;
    let mut validator = Validator::new(&catalog, &labs_dir, &ctx.root, Stale::Warn);
    for (path, ds) in &found {
        errors.extend(validator.directives(&src_dir.join(path), ds));
    }
    let transcripts = validator.into_transcripts();
    let mut embedded: BTreeMap<&str, usize> = BTreeMap::new();
    for d in found.values().flatten() {
        if let DirectiveKind::Lab(id) = &d.kind
            && let Some(lab) = catalog.get(id)
        {
            *embedded.entry(&lab.id).or_default() += 1;
        }
    }
    if !errors.is_empty() {
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        bail!("{}", errors.join("\n"));
    }
    let unembedded = catalog
        .ids()
        .filter(|id| !embedded.contains_key(id))
        .map(str::to_owned)
        .collect();
    if found.is_empty() {
        return Ok(Expanded {
            book,
            assets: Vec::new(),
            unembedded,
        });
    }

    // Pass 2: highlight the files of every embedded lab, in parallel.
    let started = std::time::Instant::now();
    let labs: Vec<&Lab> = embedded.keys().filter_map(|id| catalog.get(id)).collect();
    let contents = highlight_all(&labs, cfg.cache_dir(&ctx.root).as_deref())?;
    tracing::debug!(
        "highlighted {} labs in {:.1?}",
        labs.len(),
        started.elapsed()
    );
    let mut assets = Vec::new();
    let mut zip_sizes = BTreeMap::new();
    // One thread per lab: compressing is the slow part of a first build.
    let zips: Vec<std::io::Result<Vec<u8>>> = std::thread::scope(|s| {
        let handles: Vec<_> = labs
            .iter()
            .map(|lab| s.spawn(move || course_labs::lab_zip(lab)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("a zipping thread panicked")))
            })
            .collect()
    });
    for (lab, zip) in labs.iter().zip(zips) {
        let bytes = zip.with_context(|| format!("building the zip of lab `{}`", lab.id))?;
        zip_sizes.insert(lab.id.as_str(), bytes.len());
        assets.push(Asset {
            path: zip_path(&lab.id),
            bytes,
        });
    }
    let used_classes = contents
        .values()
        .flatten()
        .filter_map(|c| c.highlighted.as_ref())
        .flat_map(|h| h.classes.iter());
    let highlight_css = highlight::theme_css(used_classes);
    let (asset_urls, mut static_assets) = static_assets(&cfg.theme_dir(&ctx.root), highlight_css)?;
    assets.append(&mut static_assets);
    tracing::debug!("highlighted and zipped after {:.1?}", started.elapsed());
    let tera = render::load_templates(Some(&cfg.templates_dir(&ctx.root)))?;
    let sidecar_url = cfg.sidecar_url.clone().unwrap_or_default();
    for lab in &labs {
        let input = render::FilePagesInput {
            lab,
            contents: &contents[lab.id.as_str()],
            chapter: embedded_at.get(&lab.id).map_or("", String::as_str),
            assets: &asset_urls,
        };
        for (path, html) in render::render_file_pages(&tera, &input)? {
            assets.push(Asset {
                path,
                bytes: html.into_bytes(),
            });
        }
    }

    // Pass 3: splice each chapter, last directive first so ranges stay valid.
    let mut failure: Option<anyhow::Error> = None;
    book.for_each_chapter_mut(|ch| {
        if failure.is_some() {
            return;
        }
        let Some(ds) = found.get(&chapter_key(ch)) else {
            return;
        };
        let depth = ch
            .path
            .as_ref()
            .map_or(0, |p| p.components().count().saturating_sub(1));
        let path_to_root = "../".repeat(depth);
        let mut content = ch.content.clone();
        for d in ds.iter().rev() {
            let replacement = match &d.kind {
                DirectiveKind::Escaped => ch.content[d.range.start + 1..d.range.end].to_owned(),
                DirectiveKind::Lab(id) => {
                    let Some(lab) = catalog.get(id) else { continue };
                    let input = render::EmbedInput {
                        lab,
                        contents: &contents[id.as_str()],
                        path_to_root: &path_to_root,
                        zip_bytes: zip_sizes.get(id.as_str()).copied().unwrap_or(0),
                        assets: &asset_urls,
                        sidecar_url: &sidecar_url,
                    };
                    match render::render_embed(&tera, &input) {
                        Ok(html) => block_at(&ch.content, d.range.clone(), &html),
                        Err(e) => {
                            failure = Some(e);
                            return;
                        }
                    }
                }
                DirectiveKind::Progress => {
                    let html = render::render_progress(
                        &catalog,
                        &embedded_at,
                        &path_to_root,
                        &asset_urls,
                        &sidecar_url,
                    );
                    block_at(&ch.content, d.range.clone(), &html)
                }
                DirectiveKind::Output { lab, step, cut } => {
                    let Some(t) = transcripts.get(&(lab.clone(), step.clone())) else {
                        continue;
                    };
                    output::in_place(
                        &ch.content,
                        d.range.clone(),
                        &output::code_block(&t.output, *cut),
                    )
                }
                DirectiveKind::Invalid(_) => continue,
            };
            content.replace_range(d.range.clone(), &replacement);
        }
        ch.content = content;
    });
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(Expanded {
        book,
        assets,
        unembedded,
    })
}

/// A chapter's identity across passes: its source path (its rendered
/// path for a chapter mdBook made up).
fn chapter_key(ch: &mdbook_preprocessor::book::Chapter) -> PathBuf {
    ch.source_path
        .clone()
        .or_else(|| ch.path.clone())
        .unwrap_or_default()
}

/// HTML placed where a directive was, on lines of its own so that markdown
/// reads it as an HTML block.
fn block_at(text: &str, range: std::ops::Range<usize>, html: &str) -> String {
    let before = &text[..range.start];
    let after = &text[range.end..];
    let mut out = String::with_capacity(html.len() + 4);
    if !(before.is_empty() || before.ends_with("\n\n") || before == "\n") {
        out.push_str(if before.ends_with('\n') { "\n" } else { "\n\n" });
    }
    out.push_str(html);
    out.push('\n');
    if !after.starts_with('\n') && !after.is_empty() {
        out.push('\n');
    }
    out
}

/// A file's place (lab, file) and its rendered content.
type Highlighted = ((usize, usize), render::FileContent);

fn highlight_all(
    labs: &[&Lab],
    cache: Option<&Path>,
) -> Result<BTreeMap<String, Vec<render::FileContent>>> {
    let jobs: Vec<(usize, usize)> = labs
        .iter()
        .enumerate()
        .flat_map(|(l, lab)| (0..lab.files.len()).map(move |f| (l, f)))
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(jobs.len().max(1));
    // Each thread takes the next file until none is left, so one large
    // file does not hold up a fixed share of the others.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Result<Vec<Highlighted>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&(l, f)) = jobs.get(i) else {
                            return Ok(done);
                        };
                        done.push((
                            (l, f),
                            render::file_content(labs[l], &labs[l].files[f], cache)?,
                        ));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a highlighting thread panicked")))
            })
            .collect()
    });
    let mut out: BTreeMap<String, Vec<Option<render::FileContent>>> = labs
        .iter()
        .map(|lab| (lab.id.clone(), vec![None; lab.files.len()]))
        .collect();
    for part in results {
        for ((l, f), c) in part? {
            if let Some(slot) = out.get_mut(&labs[l].id) {
                slot[f] = Some(c);
            }
        }
    }
    Ok(out
        .into_iter()
        .map(|(id, v)| (id, v.into_iter().flatten().collect()))
        .collect())
}

fn static_assets(theme_dir: &Path, highlight_css: String) -> Result<(render::Assets, Vec<Asset>)> {
    let read = |name: &str, builtin: &str| -> Result<Vec<u8>> {
        let p = theme_dir.join(name);
        if p.is_file() {
            std::fs::read(&p).with_context(|| format!("reading {}", p.display()))
        } else {
            Ok(builtin.as_bytes().to_vec())
        }
    };
    let files = [
        ("labs/labs.css", read("labs.css", LABS_CSS)?),
        ("labs/labs-highlight.css", highlight_css.into_bytes()),
        ("labs/labs.js", read("labs.js", LABS_JS)?),
    ];
    let url = |path: &str, bytes: &[u8]| {
        let hash = Sha256::digest(bytes);
        let hex: String = hash.iter().take(5).map(|b| format!("{b:02x}")).collect();
        format!("{path}?v={hex}")
    };
    let urls = render::Assets {
        css: url(files[0].0, &files[0].1),
        highlight_css: url(files[1].0, &files[1].1),
        js: url(files[2].0, &files[2].1),
        css_text: String::from_utf8_lossy(&files[0].1).into_owned(),
    };
    Ok((
        urls,
        files
            .into_iter()
            .map(|(path, bytes)| Asset {
                path: path.to_owned(),
                bytes,
            })
            .collect(),
    ))
}

/// Writes assets under `dir`, each atomically and only when its bytes
/// changed (so a file watcher sees no change when nothing changed).
pub fn write_assets(dir: &Path, assets: &[Asset]) -> Result<()> {
    for a in assets {
        let target = dir.join(&a.path);
        if std::fs::read(&target).is_ok_and(|old| old == a.bytes) {
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let tmp = target.with_extension("tmp-labs");
        std::fs::write(&tmp, &a.bytes).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &target).with_context(|| format!("writing {}", target.display()))?;
    }
    Ok(())
}

/// Removes the file pages under `dir/labs/*/files/` and the zips
/// `dir/labs/*.zip` that `assets` no longer has (a file left a lab, or a lab
/// went), and a gone lab's emptied folders, so that a site built from a
/// folder that keeps assets between builds (stock mdBook's `src/labs/`)
/// never serves a stale page or zip. Other files are left alone.
pub fn prune_file_pages(dir: &Path, assets: &[Asset]) -> Result<()> {
    let keep: std::collections::BTreeSet<&str> = assets.iter().map(|a| a.path.as_str()).collect();
    let Ok(labs) = std::fs::read_dir(dir.join("labs")) else {
        return Ok(());
    };
    for lab in labs.flatten() {
        let name = lab.file_name().to_string_lossy().into_owned();
        if name.ends_with(".zip") && lab.path().is_file() {
            if !keep.contains(format!("labs/{name}").as_str()) {
                std::fs::remove_file(lab.path())
                    .with_context(|| format!("removing {}", lab.path().display()))?;
            }
            continue;
        }
        let files = lab.path().join("files");
        let Ok(entries) = std::fs::read_dir(&files) else {
            continue;
        };
        for entry in entries.flatten() {
            let rel = format!(
                "labs/{}/files/{}",
                lab.file_name().to_string_lossy(),
                entry.file_name().to_string_lossy()
            );
            if entry.path().is_file() && !keep.contains(rel.as_str()) {
                std::fs::remove_file(entry.path())
                    .with_context(|| format!("removing {}", entry.path().display()))?;
            }
        }
        // A lab that went leaves empty folders: remove them (only if empty).
        let _ = std::fs::remove_dir(&files);
        let _ = std::fs::remove_dir(lab.path());
    }
    Ok(())
}

/// Logs to stderr only (stdout carries the book), filtered by `COURSE_LOG`.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("COURSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}
