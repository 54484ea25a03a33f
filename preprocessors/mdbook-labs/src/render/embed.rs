//! The embed of one lab: header, steps with their checks, the list of its
//! files, the download, and the widget's mount points.

use anyhow::{Context as _, Result};
use course_labs::Lab;
use serde::Serialize;

use super::{
    Assets, FileContent, embed_assets, file_page_path, inline_markdown, markdown_to_html,
    tera_error, zip_path,
};
use crate::html::as_markdown_block;

#[derive(Serialize)]
struct Ctx<'a> {
    lab: LabCtx<'a>,
    files: Vec<FileCtx<'a>>,
    steps: Vec<StepCtx<'a>>,
    zip: ZipCtx,
    assets: &'a Assets,
    /// The widget's styles inline and a loader of its script and
    /// highlighting (see [`embed_assets`]).
    assets_html: String,
    sidecar_url: &'a str,
}

#[derive(Serialize)]
struct LabCtx<'a> {
    id: &'a str,
    title: &'a str,
    module_label: String,
    summary: &'a str,
    minutes: u32,
    requires: Vec<ReqCtx<'a>>,
    ports: Vec<PortCtx<'a>>,
    tested: TestedCtx,
}

/// The "Tested with" stamp: the lab's pins, with the versions its `uv.lock`
/// resolved for Python packages.
#[derive(Serialize, Default)]
struct TestedCtx {
    pins: Vec<PinCtx>,
    /// The oldest day a pin was checked, or empty.
    checked: String,
}

#[derive(Serialize)]
struct PinCtx {
    name: String,
    /// Between name and version on the summary line: `:` for an image.
    sep: &'static str,
    /// What was tested: a tag, a locked version, a range for Python.
    version: String,
    why: String,
    checked: String,
    file: String,
}

fn tested_with(lab: &Lab) -> TestedCtx {
    // Problems are `course check`'s to report; the stamp shows what there is.
    let (pins, _) = course_labs::lab_pins(lab, "9999-12-31");
    // A lock resolved for several Pythons may hold a package at two versions
    // (one for 3.11, one for 3.12 and later): the stamp names both.
    let mut locks: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    let lock = std::fs::read_to_string(lab.dir.join("uv.lock")).unwrap_or_default();
    for (name, version) in course_labs::locked_versions(&lock) {
        let versions = locks
            .entry(course_labs::normalize_package(&name))
            .or_default();
        if !versions.contains(&version) {
            versions.push(version);
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<(course_labs::PinKind, PinCtx)> = pins
        .into_iter()
        .filter(|p| seen.insert((p.name.clone(), p.version.clone())))
        .map(|p| {
            let version = match p.kind {
                course_labs::PinKind::Package => locks
                    .get(&course_labs::normalize_package(&p.name))
                    .map(|v| v.join(" / "))
                    .unwrap_or_else(|| p.version.clone()),
                _ => p.version.clone(),
            };
            let name = match p.kind {
                course_labs::PinKind::Python => "requires-python".to_owned(),
                _ => p.name,
            };
            (
                p.kind,
                PinCtx {
                    name,
                    sep: if p.kind == course_labs::PinKind::Image {
                        ":"
                    } else {
                        " "
                    },
                    version,
                    why: p.reason.unwrap_or_default(),
                    checked: p.checked.unwrap_or_default(),
                    file: format!("{}:{}", p.file, p.line),
                },
            )
        })
        .collect();
    out.sort_by_key(|(kind, _)| *kind);
    let checked = out
        .iter()
        .map(|(_, p)| p.checked.as_str())
        .filter(|c| !c.is_empty())
        .min()
        .unwrap_or("")
        .to_owned();
    TestedCtx {
        pins: out.into_iter().map(|(_, p)| p).collect(),
        checked,
    }
}

#[derive(Serialize)]
struct ReqCtx<'a> {
    tool: &'a str,
    version: Option<String>,
    optional: bool,
}

#[derive(Serialize)]
struct PortCtx<'a> {
    port: u16,
    service: &'a str,
}

#[derive(Serialize)]
struct FileCtx<'a> {
    rel: &'a str,
    caption: Option<&'a str>,
    show: bool,
    anchor: String,
    syntax: &'static str,
    /// The file's own page, relative to the chapter: a link, which mdBook
    /// rebases when it copies the chapter into print.html.
    src: String,
    /// The file's own page, from the book root: `data-src`, which labs.js
    /// resolves against mdBook's `path_to_root` (mdBook rebases no data
    /// attribute).
    page: String,
    /// "12 lines", or empty for a binary file.
    lines: String,
}

#[derive(Serialize)]
struct StepCtx<'a> {
    id: &'a str,
    title: &'a str,
    text_html: String,
    run: Option<&'a str>,
    service: bool,
    check: Option<CheckCtx>,
    cleanup: Option<&'a str>,
}

#[derive(Serialize)]
struct CheckCtx {
    kind: &'static str,
    describe: String,
    /// The hint as inline HTML (its markdown rendered: `code` reads as code).
    hint_html: Option<String>,
}

#[derive(Serialize)]
struct ZipCtx {
    href: String,
    files: usize,
    kib: String,
}

/// Everything needed to render one embed.
pub(crate) struct EmbedInput<'a> {
    /// The lab.
    pub lab: &'a Lab,
    /// Content of each of `lab.files`, in order.
    pub contents: &'a [FileContent],
    /// `../` repeated to reach the book root from the chapter.
    pub path_to_root: &'a str,
    /// Size of the lab's zip in bytes.
    pub zip_bytes: usize,
    /// Asset URLs, relative to the book root (with cache-busting query).
    pub assets: &'a Assets,
    /// Sidecar URL from book.toml, or empty.
    pub sidecar_url: &'a str,
}

/// Renders the embed with the `lab.html` template.
pub(crate) fn render_embed(tera: &tera::Tera, input: &EmbedInput<'_>) -> Result<String> {
    let lab = input.lab;
    let root = input.path_to_root;
    let assets = input.assets.under(root);
    let ctx = Ctx {
        lab: lab_ctx(lab),
        files: files_ctx(lab, input.contents, root),
        steps: steps_ctx(lab),
        zip: ZipCtx {
            href: format!("{root}{}", zip_path(&lab.id)),
            // The lab's files and the README of its steps.
            files: lab.files.len() + 1,
            kib: format!("{:.1}", input.zip_bytes as f64 / 1024.0),
        },
        assets: &assets,
        assets_html: embed_assets(input.assets, root),
        sidecar_url: input.sidecar_url,
    };
    let context = tera::Context::from_serialize(&ctx).context("building the template context")?;
    let html = tera
        .render("lab.html", &context)
        .map_err(|e| anyhow::anyhow!(tera_error(&e, "lab.html")))?;
    Ok(as_markdown_block(&html))
}

fn lab_ctx(lab: &Lab) -> LabCtx<'_> {
    LabCtx {
        id: &lab.id,
        title: &lab.title,
        module_label: format!("{:02}", lab.module),
        summary: &lab.summary,
        minutes: lab.minutes,
        requires: lab
            .requires
            .iter()
            .map(|r| ReqCtx {
                tool: &r.tool,
                version: r.version.as_ref().map(ToString::to_string),
                optional: r.optional,
            })
            .collect(),
        ports: lab
            .ports
            .iter()
            .map(|p| PortCtx {
                port: p.port,
                service: &p.service,
            })
            .collect(),
        tested: tested_with(lab),
    }
}

/// The list of files, from a chapter `root` below the book root.
fn files_ctx<'a>(lab: &'a Lab, contents: &[FileContent], root: &str) -> Vec<FileCtx<'a>> {
    lab.files
        .iter()
        .zip(contents)
        .enumerate()
        .map(|(i, (f, c))| FileCtx {
            rel: &f.rel,
            caption: f.caption.as_deref(),
            show: f.show,
            anchor: format!("lab-{}-file-{}", lab.id, i + 1),
            syntax: c.syntax,
            src: format!("{root}{}", file_page_path(&lab.id, i + 1, &f.rel)),
            page: file_page_path(&lab.id, i + 1, &f.rel),
            lines: match c.lines {
                0 => String::new(),
                1 => "1 line".to_owned(),
                n => format!("{n} lines"),
            },
        })
        .collect()
}

fn steps_ctx(lab: &Lab) -> Vec<StepCtx<'_>> {
    lab.steps
        .iter()
        .map(|s| StepCtx {
            id: &s.id,
            title: &s.title,
            text_html: markdown_to_html(&s.text),
            run: s.run.as_deref(),
            service: s.service,
            check: s.check.as_ref().map(|c| CheckCtx {
                kind: c.spec.kind(),
                describe: c.spec.describe(),
                hint_html: c.hint.as_deref().map(inline_markdown),
            }),
            cleanup: s.cleanup.as_deref(),
        })
        .collect()
}
