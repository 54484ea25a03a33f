//! One lab → the HTML that replaces its `{{#lab ID}}` ([`render_embed`]),
//! the page of each of its shown files ([`render_file_pages`]) and the
//! course-progress table ([`render_progress`]); what they share is here.

mod embed;
mod file_page;
mod progress;

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use course_labs::{Lab, LabFile};
use mdbook_markdown::pulldown_cmark::html::push_html;
use mdbook_markdown::{MarkdownOptions, new_cmark_parser};
use serde::Serialize;

use crate::highlight::{Highlighted, MAX_HIGHLIGHT_BYTES, highlight, syntax_name};
use crate::html::escape;

pub(crate) use embed::{EmbedInput, render_embed};
pub(crate) use file_page::{FilePagesInput, render_file_pages};
pub(crate) use progress::{Criterion, render_progress, success_criteria};

/// The built-in template; `templates/lab.html` on disk overrides it.
pub const LAB_TEMPLATE: &str = include_str!("../../../../templates/lab.html");

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
    pub(super) fn html(&self) -> &str {
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
    pub(super) fn under(&self, root: &str) -> Self {
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

/// Where a lab's file pages and zip are: one rule, in course-labs.
pub use course_labs::conventions::{file_page_path, zip_path};

pub(super) fn tera_error(e: &tera::Error, name: &str) -> String {
    let mut msg = format!("rendering templates/{name}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    msg
}

/// Markdown of a step's text → HTML, parsed the way mdBook parses chapters.
pub(super) fn markdown_to_html(text: &str) -> String {
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
pub(super) fn inline_markdown(text: &str) -> String {
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
pub const LAB_FILE_TEMPLATE: &str = include_str!("../../../../templates/lab-file.html");

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
