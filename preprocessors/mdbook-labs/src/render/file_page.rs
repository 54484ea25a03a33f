//! The page of each shown file of a lab: its highlighted text, with links
//! back to the chapter and to the download.

use anyhow::{Context as _, Result};
use course_labs::Lab;
use serde::Serialize;

use super::{Assets, FileContent, file_page_path, tera_error, zip_path};

/// Everything needed to render the pages of one lab's shown files.
pub(crate) struct FilePagesInput<'a> {
    /// The lab.
    pub lab: &'a Lab,
    /// Content of each of `lab.files`, in order.
    pub contents: &'a [FileContent],
    /// The page that embeds the lab, relative to the book root.
    pub chapter: &'a str,
    /// Asset URLs, relative to the book root (with cache-busting query).
    pub assets: &'a Assets,
}

#[derive(Serialize)]
struct FilePageCtx<'a> {
    lab: FilePageLab<'a>,
    file: FilePageFile<'a>,
    chapter_href: String,
    zip_href: String,
    assets: Assets,
}

#[derive(Serialize)]
struct FilePageLab<'a> {
    id: &'a str,
    title: &'a str,
}

#[derive(Serialize)]
struct FilePageFile<'a> {
    rel: &'a str,
    caption: Option<&'a str>,
    syntax: &'static str,
    html: &'a str,
}

/// The page of every shown file of a lab: (path from the book root, HTML).
pub(crate) fn render_file_pages(
    tera: &tera::Tera,
    input: &FilePagesInput<'_>,
) -> Result<Vec<(String, String)>> {
    let lab = input.lab;
    let mut pages = Vec::new();
    for (i, (f, c)) in lab.files.iter().zip(input.contents).enumerate() {
        if !f.show {
            continue;
        }
        let path = file_page_path(&lab.id, i + 1, &f.rel);
        let root = "../".repeat(path.matches('/').count());
        let ctx = FilePageCtx {
            lab: FilePageLab {
                id: &lab.id,
                title: &lab.title,
            },
            file: FilePageFile {
                rel: &f.rel,
                caption: f.caption.as_deref(),
                syntax: c.syntax,
                html: c.html(),
            },
            chapter_href: format!("{root}{}#lab-{}-file-{}", input.chapter, lab.id, i + 1),
            zip_href: format!("{root}{}", zip_path(&lab.id)),
            assets: input.assets.under(&root),
        };
        let context =
            tera::Context::from_serialize(&ctx).context("building the template context")?;
        let html = tera
            .render("lab-file.html", &context)
            .map_err(|e| anyhow::anyhow!(tera_error(&e, "lab-file.html")))?;
        pages.push((path, html));
    }
    Ok(pages)
}
