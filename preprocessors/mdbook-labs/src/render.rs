//! One lab → the HTML that replaces its `{{#lab ID}}`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use course_labs::{Lab, LabFile};
use mdbook_markdown::pulldown_cmark::html::push_html;
use mdbook_markdown::{MarkdownOptions, new_cmark_parser};
use serde::Serialize;

use crate::highlight::{Highlighted, MAX_HIGHLIGHT_BYTES, highlight, syntax_name};
use crate::html::{as_markdown_block, escape};

/// The built-in template; `templates/lab.html` on disk overrides it.
pub const LAB_TEMPLATE: &str = include_str!("../../../templates/lab.html");

/// A lab file's content as read for the page.
#[derive(Clone)]
pub(crate) struct FileContent {
    /// Highlighted spans, for a printed text file.
    pub(crate) highlighted: Option<Arc<Highlighted>>,
    /// What the page says instead, for a file that is not printed.
    pub(crate) note: Option<String>,
    /// The syntax's name.
    pub(crate) syntax: &'static str,
    /// How many lines the file has (0 for a binary file).
    pub(crate) lines: usize,
}

impl FileContent {
    fn html(&self) -> &str {
        match (&self.highlighted, &self.note) {
            (Some(h), _) => &h.html,
            (None, Some(note)) => note,
            (None, None) => "",
        }
    }
}

/// Reads and highlights one file of a lab.
pub(crate) fn file_content(lab: &Lab, file: &LabFile, cache: Option<&Path>) -> Result<FileContent> {
    let path = lab.dir.join(&file.rel);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let plain = |note: String, syntax, lines| FileContent {
        highlighted: None,
        note: Some(escape(&note)),
        syntax,
        lines,
    };
    Ok(match String::from_utf8(bytes) {
        Ok(_) if !file.show => FileContent {
            highlighted: None,
            note: None,
            syntax: "",
            lines: 0,
        },
        Ok(text) if text.len() <= MAX_HIGHLIGHT_BYTES => FileContent {
            highlighted: Some(highlight(&file.rel, &text, cache)),
            note: None,
            syntax: syntax_name(&file.rel, &text),
            lines: text.lines().count(),
        },
        Ok(text) => plain(
            format!(
                "({} KiB: too large to print here; it is in the download)",
                text.len() / 1024
            ),
            "Plain Text",
            text.lines().count(),
        ),
        Err(_) => plain(
            "(a binary file: it is in the download)".to_owned(),
            "Binary",
            0,
        ),
    })
}

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

/// Where the page finds the lab assets (relative to the book root, or to a
/// page once [`Assets::under`] it).
#[derive(Serialize, Clone, Debug, Default)]
pub(crate) struct Assets {
    /// The widget's stylesheet.
    pub css: String,
    /// The highlighting palettes.
    pub highlight_css: String,
    /// The widget's script.
    pub js: String,
    /// The widget's stylesheet itself, which an embed carries inline.
    #[serde(skip)]
    pub css_text: String,
}

impl Assets {
    /// The same URLs as seen from a page `root` (`../` repeated) below the
    /// book root.
    fn under(&self, root: &str) -> Self {
        Self {
            css: format!("{root}{}", self.css),
            highlight_css: format!("{root}{}", self.highlight_css),
            js: format!("{root}{}", self.js),
            css_text: self.css_text.clone(),
        }
    }
}

/// What an embed (or the progress table) puts first: the widget's
/// stylesheet inline, and a script that adds the highlighting palettes and
/// the widget's script from the site root.
///
/// The same chapter HTML is a page in its folder (`part/lab.html`) and a
/// part of `print.html` at the root, and mdBook rebases only the links of
/// `<a>` and `<img>` when it builds the print page: a `<link>` or `<script>`
/// relative to the chapter would leave the site there (under a sub-path,
/// `../labs/labs.js` from `/mlops-course/print.html` is `/labs/labs.js`).
/// So nothing here is relative to the chapter: the styles need no request
/// (and work without JavaScript), and the script resolves the rest against
/// mdBook's `path_to_root`, which every page defines; `root` (the chapter's
/// own way to the root) is its fallback for a theme without it.
pub(crate) fn embed_assets(assets: &Assets, root: &str) -> String {
    let css = assets.css_text.replace("</", "<\\/");
    let urls = serde_json::to_string(&[
        ["link", assets.highlight_css.as_str()],
        ["script", assets.js.as_str()],
    ])
    .unwrap_or_else(|_| "[]".to_owned());
    let root = serde_json::to_string(root).unwrap_or_else(|_| "\"\"".to_owned());
    format!(
        "<style>{css}</style>\n<script>\n\
         (function (root) {{\n\
         if (typeof path_to_root === \"string\") {{ root = path_to_root; }}\n\
         {urls}.forEach(function (a) {{\n\
         if (document.querySelector(a[0] + \"[data-labs-asset='\" + a[1] + \"']\")) {{ return; }}\n\
         var el = document.createElement(a[0]);\n\
         el.setAttribute(\"data-labs-asset\", a[1]);\n\
         if (a[0] === \"link\") {{ el.rel = \"stylesheet\"; el.href = root + a[1]; }} else {{ el.src = root + a[1]; }}\n\
         document.head.appendChild(el);\n\
         }});\n\
         }})({root});\n\
         </script>"
    )
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

/// Renders the embed with the template (`template` is the template text).
pub(crate) fn render_embed(tera: &tera::Tera, input: &EmbedInput<'_>) -> Result<String> {
    let lab = input.lab;
    let root = input.path_to_root;
    let files = lab
        .files
        .iter()
        .zip(input.contents)
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
        .collect::<Vec<_>>();
    let steps = lab
        .steps
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
        .collect();
    let assets = input.assets.under(root);
    let ctx = Ctx {
        lab: LabCtx {
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
        },
        files,
        steps,
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

/// Where the page of a lab's `n`th file (from 1) is, relative to the book
/// root: `labs/ID/files/NN-NAME.html`. The number keeps names unique; the
/// leading dots of a name go, so that no part of the path is hidden (Pages
/// artifacts leave out `.github`, and some servers refuse dot-files); and
/// `.md` becomes `_md`, because mdBook turns `x.md` anywhere in a link into
/// `x.html` (`runbook.md.html` would become `runbook.html`, a 404).
pub fn file_page_path(id: &str, n: usize, rel: &str) -> String {
    let name = rel
        .rsplit('/')
        .next()
        .unwrap_or(rel)
        .trim_start_matches('.');
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = name.replace(".md", "_md");
    format!("labs/{id}/files/{n:02}-{name}.html")
}

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

/// Where a lab's zip is, relative to the book root.
pub fn zip_path(id: &str) -> String {
    format!("labs/{id}.zip")
}

fn tera_error(e: &tera::Error, name: &str) -> String {
    let mut msg = format!("rendering templates/{name}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    msg
}

/// Markdown of a step's text → HTML, parsed the way mdBook parses chapters.
fn markdown_to_html(text: &str) -> String {
    if text.trim().is_empty() {
        return String::new();
    }
    let mut html = String::new();
    push_html(
        &mut html,
        new_cmark_parser(text, &MarkdownOptions::default()),
    );
    html
}

/// One line of markdown → inline HTML (the paragraph around it removed).
fn inline_markdown(text: &str) -> String {
    let html = markdown_to_html(text);
    let html = html.trim();
    html.strip_prefix("<p>")
        .and_then(|h| h.strip_suffix("</p>"))
        .filter(|inner| !inner.contains("<p>"))
        .unwrap_or(html)
        .to_owned()
}

/// The built-in template of a file's own page; `templates/lab-file.html`
/// on disk overrides it.
pub const LAB_FILE_TEMPLATE: &str = include_str!("../../../templates/lab-file.html");

/// Loads the templates: each of `lab.html` and `lab-file.html` from `dir`
/// if it is there, else the built-in one.
pub(crate) fn load_templates(dir: Option<&Path>) -> Result<tera::Tera> {
    let mut tera = tera::Tera::default();
    for (file, builtin) in [
        ("lab.html", LAB_TEMPLATE),
        ("lab-file.html", LAB_FILE_TEMPLATE),
    ] {
        let on_disk = dir.map(|d| d.join(file)).filter(|p| p.is_file());
        let text = match &on_disk {
            Some(p) => {
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
            }
            None => builtin.to_owned(),
        };
        let name = on_disk.as_ref().map_or_else(
            || format!("the built-in template {file}"),
            |p| p.display().to_string(),
        );
        tera.add_raw_template(file, &text)
            .map_err(|e| anyhow::anyhow!("{name}: {}", tera_error(&e, file)))?;
    }
    Ok(tera)
}

#[derive(Serialize)]
struct ProgressLab<'a> {
    id: &'a str,
    title: &'a str,
    module: u8,
    href: String,
    steps: Vec<ProgressStep<'a>>,
}

#[derive(Serialize)]
struct ProgressStep<'a> {
    id: &'a str,
    title: &'a str,
}

/// The course-progress table: every lab, in module order, linked to the
/// chapter that embeds it. The widget fills in each lab's state.
pub(crate) fn render_progress(
    catalog: &course_labs::Catalog,
    embedded_at: &BTreeMap<String, String>,
    path_to_root: &str,
    assets: &Assets,
    sidecar_url: &str,
) -> String {
    let mut labs: Vec<&Lab> = catalog.labs.iter().collect();
    labs.sort_by(|a, b| (a.module, &a.id).cmp(&(b.module, &b.id)));
    let entries: Vec<ProgressLab<'_>> = labs
        .iter()
        .map(|lab| ProgressLab {
            id: &lab.id,
            title: &lab.title,
            module: lab.module,
            href: embedded_at
                .get(&lab.id)
                .map(|page| format!("{path_to_root}{page}#lab-{}", lab.id))
                .unwrap_or_default(),
            steps: lab
                .steps
                .iter()
                .map(|s| ProgressStep {
                    id: &s.id,
                    title: &s.title,
                })
                .collect(),
        })
        .collect();
    let json = serde_json::to_string(&entries).unwrap_or_else(|_| "[]".to_owned());
    // A plain list first, so the page says something without JavaScript.
    let mut list = String::from("<ul class=\"labs-progress-list\">");
    for (lab, entry) in labs.iter().zip(&entries) {
        list.push_str(&format!(
            "<li><a href=\"{}\">Module {:02}: {}</a> ({} steps)</li>",
            escape(&entry.href),
            lab.module,
            escape(&lab.title),
            lab.steps.len()
        ));
    }
    list.push_str("</ul>");
    let html = format!(
        "{assets}\n<div class=\"labs-progress\" data-sidecar=\"{sidecar}\" data-labs=\"{labs}\" aria-live=\"polite\">{list}</div>",
        assets = embed_assets(assets, path_to_root),
        sidecar = escape(sidecar_url),
        labs = escape(&json),
    );
    as_markdown_block(&html)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `rel` from a page in folder `dir` (`""` for the root) as a URL path
    /// from the site root, clamped at the root as a browser clamps at `/`.
    fn resolve(dir: &str, rel: &str) -> String {
        let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
        for part in rel.split('/') {
            match part {
                ".." => {
                    parts.pop();
                }
                "." | "" => {}
                p => parts.push(p),
            }
        }
        parts.join("/")
    }

    fn assets() -> Assets {
        Assets {
            css: "labs/labs.css?v=1".to_owned(),
            highlight_css: "labs/labs-highlight.css?v=2".to_owned(),
            js: "labs/labs.js?v=3".to_owned(),
            css_text: ".labs-lab { color: red; }\n".to_owned(),
        }
    }

    #[test]
    fn a_file_page_is_numbered_and_has_no_hidden_part() {
        assert_eq!(
            file_page_path("demo", 1, "app/main.py"),
            "labs/demo/files/01-main.py.html"
        );
        assert_eq!(
            file_page_path("ci", 12, ".github/workflows/.ci.yml"),
            "labs/ci/files/12-ci.yml.html"
        );
        assert_eq!(
            file_page_path("demo", 3, "a b/c&d.txt"),
            "labs/demo/files/03-c_d.txt.html"
        );
        // mdBook would rewrite a link to `17-runbook.md.html` to `17-runbook.html`.
        assert_eq!(
            file_page_path("final", 17, "docs/runbook.md"),
            "labs/final/files/17-runbook_md.html"
        );
        assert!(!file_page_path("x", 1, "a.mdx.md").contains(".md"));
    }

    #[test]
    fn data_src_reaches_the_file_from_a_chapter_and_from_print_html() {
        // A chapter one folder down has path_to_root "../"; print.html,
        // at the root, "". labs.js fetches path_to_root + data-src.
        let page = file_page_path("demo", 1, "app/main.py");
        assert!(!page.starts_with('/') && !page.starts_with(".."), "{page}");
        assert_eq!(resolve("part", &format!("../{page}")), page);
        assert_eq!(resolve("", &page), page);
        // A link relative to the chapter, by contrast, leaves the site from
        // print.html unless mdBook rebases it (it does only for <a>, <img>).
        assert_eq!(resolve("", "../labs/labs.js"), "labs/labs.js");
        assert_ne!(
            resolve("mlops-course", "../labs/labs.js"),
            "mlops-course/labs/labs.js"
        );
    }

    #[test]
    fn embed_assets_make_no_request_relative_to_the_chapter() {
        let html = embed_assets(&assets(), "../");
        assert!(
            html.starts_with("<style>.labs-lab { color: red; }\n</style>\n<script>\n"),
            "{html}"
        );
        assert!(
            !html.contains("href=\"") && !html.contains("src=\""),
            "{html}"
        );
        assert!(!html.contains("<link"), "{html}");
        // The script goes from mdBook's path_to_root, else from the chapter's root.
        assert!(
            html.contains("typeof path_to_root === \"string\""),
            "{html}"
        );
        assert!(html.contains("})(\"../\");\n</script>"), "{html}");
        assert!(
            html.contains(
                r#"[["link","labs/labs-highlight.css?v=2"],["script","labs/labs.js?v=3"]]"#
            ),
            "{html}"
        );
        // One HTML block for mdBook: no blank line.
        assert!(!html.contains("\n\n"), "{html}");
    }

    #[test]
    fn inline_styles_cannot_close_their_element() {
        let mut a = assets();
        a.css_text = "/* </style><script>alert(1)</script> */".to_owned();
        let html = embed_assets(&a, "");
        assert_eq!(html.matches("</style>").count(), 1, "{html}");
        assert!(html.contains("})(\"\");"), "{html}");
    }
}
