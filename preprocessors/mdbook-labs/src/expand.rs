//! A book's expansion, in three passes: find and validate the directives;
//! build what the embedded labs need (highlighted files, zips, the widget's
//! files, a page per shown file); splice each chapter.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

use anyhow::{Result, bail};
use course_labs::{Catalog, Lab, load_catalog};
use mdbook_preprocessor::PreprocessorContext;
use mdbook_preprocessor::book::{Book, Chapter};

use crate::directives::{Directive, DirectiveKind, find_directives};
use crate::render::{self, FileContent};
use crate::site::{self, Site};
use crate::validate::{Stale, Transcripts, Validator};
use crate::{Expanded, LabsConfig, output};

/// Expands every `{{#lab ID}}` of `book`, reading labs as configured in `ctx`.
pub fn expand(ctx: &PreprocessorContext, mut book: Book) -> Result<Expanded> {
    let cfg = LabsConfig::from_context(ctx)?;
    let found = Found::in_book(&book);
    let labs_dir = cfg.labs_dir(&ctx.root);
    // A book of quizzes alone needs no labs folder.
    let wants_labs = found
        .chapters
        .values()
        .flatten()
        .any(|d| !matches!(d.kind, DirectiveKind::Quiz(_)));
    let (catalog, problems) = if labs_dir.is_dir() || wants_labs {
        load_catalog(&labs_dir)
    } else {
        (Catalog::default(), Vec::new())
    };
    let src_dir = ctx.root.join(&ctx.config.book.src);
    let mut errors = problems;
    let mut validator = Validator::new(&catalog, &labs_dir, &ctx.root, Stale::Warn);
    for (path, ds) in &found.chapters {
        errors.extend(validator.directives(&src_dir.join(path), ds));
    }
    if !errors.is_empty() {
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        bail!("{}", errors.join("\n"));
    }
    let labs = found.embedded_labs(&catalog);
    let unembedded = catalog
        .ids()
        .filter(|id| !labs.iter().any(|lab| lab.id == *id))
        .map(str::to_owned)
        .collect();
    if found.chapters.is_empty() {
        return Ok(Expanded {
            book,
            assets: Vec::new(),
            unembedded,
        });
    }
    let site = site::build(&cfg, &ctx.root, &labs, &found.embedded_at)?;
    let criteria = render::success_criteria(book.chapters().map(|c| c.content.as_str()), &catalog);
    let splicer = Splicer {
        catalog: &catalog,
        criteria: &criteria,
        site: &site,
        transcripts: &validator.into_transcripts(),
        embedded_at: &found.embedded_at,
        quiz_pages: &found.quiz_pages,
        sidecar_url: cfg.sidecar_url.as_deref().unwrap_or_default(),
    };
    splicer.splice_book(&mut book, &found.chapters)?;
    Ok(Expanded {
        book,
        assets: site.assets,
        unembedded,
    })
}

/// Pass 1: where the directives are.
struct Found {
    /// The directives of each chapter that has any, keyed by [`chapter_key`],
    /// so that pass 3 splices without parsing the chapters again.
    chapters: BTreeMap<PathBuf, Vec<Directive>>,
    /// Where each lab is embedded: the chapter's page, as a URL path from
    /// the book root (`/` separators on every platform).
    embedded_at: BTreeMap<String, String>,
    /// The pages with self-check quizzes (the chapter's path without its
    /// extension, as quiz.js keys them) and how many each has.
    quiz_pages: BTreeMap<String, usize>,
}

impl Found {
    fn in_book(book: &Book) -> Self {
        let mut found = Found {
            chapters: BTreeMap::new(),
            embedded_at: BTreeMap::new(),
            quiz_pages: BTreeMap::new(),
        };
        for ch in book.chapters() {
            let ds = find_directives(&ch.content);
            if ds.is_empty() {
                continue;
            }
            let quizzes = ds
                .iter()
                .filter(|d| matches!(d.kind, DirectiveKind::Quiz(_)))
                .count();
            if let (true, Some(p)) = (quizzes > 0, &ch.path) {
                let page = p.with_extension("").to_string_lossy().replace('\\', "/");
                found.quiz_pages.insert(page, quizzes);
            }
            for d in &ds {
                if let (DirectiveKind::Lab(id), Some(p)) = (&d.kind, &ch.path) {
                    found.embedded_at.entry(id.clone()).or_insert_with(|| {
                        p.with_extension("html")
                            .to_string_lossy()
                            .replace('\\', "/")
                    });
                }
            }
            found.chapters.insert(chapter_key(ch), ds);
        }
        found
    }

    /// The labs that some chapter embeds, by id.
    fn embedded_labs<'c>(&self, catalog: &'c Catalog) -> Vec<&'c Lab> {
        let mut labs: BTreeMap<&str, &Lab> = BTreeMap::new();
        for d in self.chapters.values().flatten() {
            if let DirectiveKind::Lab(id) = &d.kind
                && let Some(lab) = catalog.get(id)
            {
                labs.insert(&lab.id, lab);
            }
        }
        labs.into_values().collect()
    }
}

/// A chapter's identity across passes: its source path (its rendered
/// path for a chapter mdBook made up).
fn chapter_key(ch: &Chapter) -> PathBuf {
    ch.source_path
        .clone()
        .or_else(|| ch.path.clone())
        .unwrap_or_default()
}

/// Pass 3: what replaces each directive.
struct Splicer<'a> {
    catalog: &'a Catalog,
    /// The outline's success criteria, for the progress page.
    criteria: &'a [render::Criterion],
    site: &'a Site,
    transcripts: &'a Transcripts,
    embedded_at: &'a BTreeMap<String, String>,
    quiz_pages: &'a BTreeMap<String, usize>,
    sidecar_url: &'a str,
}

impl Splicer<'_> {
    /// Splices every chapter that has directives.
    fn splice_book(
        &self,
        book: &mut Book,
        chapters: &BTreeMap<PathBuf, Vec<Directive>>,
    ) -> Result<()> {
        let mut failure: Option<anyhow::Error> = None;
        book.for_each_chapter_mut(|ch| {
            if failure.is_some() {
                return;
            }
            if let Some(ds) = chapters.get(&chapter_key(ch)) {
                match self.splice(ch, ds) {
                    Ok(content) => ch.content = content,
                    Err(e) => failure = Some(e),
                }
            }
        });
        failure.map_or(Ok(()), Err)
    }

    /// The chapter's text with its directives replaced, last first so that
    /// the ranges of the others stay valid.
    fn splice(&self, ch: &Chapter, ds: &[Directive]) -> Result<String> {
        let depth = ch
            .path
            .as_ref()
            .map_or(0, |p| p.components().count().saturating_sub(1));
        let path_to_root = "../".repeat(depth);
        let page = ch.path.as_ref().map_or(String::new(), |p| {
            p.with_extension("").to_string_lossy().replace('\\', "/")
        });
        let mut content = ch.content.clone();
        for d in ds.iter().rev() {
            if let Some(replacement) = self.replacement(&ch.content, d, &path_to_root, &page)? {
                content.replace_range(d.range.clone(), &replacement);
            }
        }
        Ok(content)
    }

    /// What replaces `d` in `text` (None: it stays).
    fn replacement(
        &self,
        text: &str,
        d: &Directive,
        path_to_root: &str,
        page: &str,
    ) -> Result<Option<String>> {
        let range = d.range.clone();
        Ok(Some(match &d.kind {
            DirectiveKind::Escaped => text[range.start + 1..range.end].to_owned(),
            DirectiveKind::Lab(id) => {
                let Some(lab) = self.catalog.get(id) else {
                    return Ok(None);
                };
                block_at(text, range, &self.embed(lab, path_to_root)?)
            }
            DirectiveKind::Progress => {
                let html = render::render_progress(
                    self.catalog,
                    self.criteria,
                    self.embedded_at,
                    self.quiz_pages,
                    path_to_root,
                    &self.site.asset_urls,
                    self.sidecar_url,
                );
                block_at(text, range, &html)
            }
            DirectiveKind::Output { lab, step, cut } => {
                let Some(t) = self.transcripts.get(&(lab.clone(), step.clone())) else {
                    return Ok(None);
                };
                output::in_place(text, range, &output::code_block(&t.output, *cut))
            }
            DirectiveKind::Quiz(quiz) => block_at(text, range, &crate::quiz::render(quiz, page)),
            DirectiveKind::Symptom => String::new(),
            DirectiveKind::Invalid(_) => return Ok(None),
        }))
    }

    /// The embed of `lab` in a chapter `path_to_root` below the book root.
    fn embed(&self, lab: &Lab, path_to_root: &str) -> Result<String> {
        let contents: &[FileContent] = &self.site.contents[lab.id.as_str()];
        let input = render::EmbedInput {
            lab,
            contents,
            path_to_root,
            zip_bytes: self.site.zip_sizes.get(&lab.id).copied().unwrap_or(0),
            assets: &self.site.asset_urls,
            sidecar_url: self.sidecar_url,
        };
        render::render_embed(&self.site.tera, &input)
    }
}

/// HTML placed where a directive was, on lines of its own so that markdown
/// reads it as an HTML block.
fn block_at(text: &str, range: Range<usize>, html: &str) -> String {
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
