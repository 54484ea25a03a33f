//! The book's diagrams (`book/src/diagrams/*.svg`) are inlined into pages by
//! mdBook's `{{#include}}`, so each file must be raw HTML that Markdown leaves
//! alone, accessible on its own, coloured only by `book/theme/diagrams.css`
//! (so it follows all five themes), and included exactly once (its ids must be
//! unique in `print.html`). The rules are explained in
//! `book/src/diagrams/README.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn book_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../book/src")
}

/// Every diagram: its name (file stem) and its text.
fn diagrams() -> Vec<(String, String)> {
    let dir = book_src().join("diagrams");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "svg"))
        .map(|p| {
            let name = p
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("a UTF-8 file name")
                .to_owned();
            let text =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (name, text)
        })
        .collect();
    out.sort();
    out
}

/// The value of attribute `name` in the tag text `tag`, if any.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// The text between `<tag id="id">` and `</tag>`, if that element exists.
fn element_text<'a>(svg: &'a str, tag: &str, id: &str) -> Option<&'a str> {
    let open = format!("<{tag} id=\"{id}\">");
    let start = svg.find(&open)? + open.len();
    let len = svg[start..].find(&format!("</{tag}>"))?;
    Some(&svg[start..start + len])
}

/// Every problem with one diagram, each naming the file, the line and the fix.
fn problems(name: &str, svg: &str) -> Vec<String> {
    let file = format!("book/src/diagrams/{name}.svg");
    let mut out = Vec::new();
    let first = svg.lines().next().unwrap_or("");
    if !(first.starts_with("<svg ") && first.trim_end().ends_with('>')) {
        out.push(format!(
            "{file}:1: the first line must be the whole opening <svg ...> tag \
             (Markdown treats the file as raw HTML only if it starts that way)"
        ));
    }
    for (i, line) in svg.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            out.push(format!(
                "{file}:{n}: blank line; a blank line ends the raw-HTML block and \
                 Markdown would mangle the rest: delete it"
            ));
        }
        let lower = line.to_ascii_lowercase();
        for bad in ["rgb(", "rgba(", "hsl(", "hsla(", "style=", "<style"] {
            if lower.contains(bad) {
                out.push(format!(
                    "{file}:{n}: `{bad}`: colours and styles belong in \
                     book/theme/diagrams.css; give the element a class"
                ));
            }
        }
        for (pos, _) in line.match_indices('#') {
            let hex = line[pos + 1..]
                .chars()
                .take_while(char::is_ascii_hexdigit)
                .count();
            let in_ref = line[..pos].ends_with("url(")
                || line[..pos].ends_with("href=\"")
                || line[..pos].ends_with('&');
            if !in_ref && matches!(hex, 3 | 4 | 6 | 8) {
                out.push(format!(
                    "{file}:{n}: a colour literal `#{}`: use a class styled in \
                     book/theme/diagrams.css",
                    &line[pos + 1..pos + 1 + hex]
                ));
            }
        }
        for paint in ["fill", "stroke", "color", "stop-color"] {
            for (pos, _) in lower.match_indices(&format!(" {paint}=\"")) {
                let value = attr(&lower[pos..], paint).unwrap_or("");
                if value != "none" && value != "currentcolor" {
                    out.push(format!(
                        "{file}:{n}: {paint}=\"{value}\": only none or currentColor \
                         may be written here; colour it with a class in \
                         book/theme/diagrams.css"
                    ));
                }
            }
        }
    }
    // References live in tags (attributes), not in the text a diagram shows,
    // which may well name a URL such as http://mlflow:5000.
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let Some(len) = rest[start..].find('>') else {
            break;
        };
        let tag = rest[start..start + len + 1].to_ascii_lowercase();
        let n = svg[..svg.len() - rest.len() + start].lines().count().max(1);
        // The SVG namespace is a name, not a reference: the one URL allowed.
        let tag_refs = tag.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        for bad in [
            "<image",
            "<foreignobject",
            "<script",
            "<style",
            "<a ",
            "@import",
            "http:",
            "https:",
            "src=",
            "//",
        ] {
            if tag_refs.contains(bad) {
                out.push(format!(
                    "{file}:{n}: `{bad}` in a tag: a diagram references nothing \
                     outside itself (no images, fonts, scripts, styles or links)"
                ));
            }
        }
        for (pos, _) in tag_refs
            .match_indices("href=\"")
            .chain(tag_refs.match_indices("url("))
        {
            let value = &tag_refs[pos..];
            let value = value
                .trim_start_matches("href=\"")
                .trim_start_matches("url(");
            if !value.starts_with('#') {
                out.push(format!(
                    "{file}:{n}: a reference that leaves the file: only #dg-{name}-... \
                     ids of this diagram may be referenced"
                ));
            }
        }
        rest = &rest[start + len + 1..];
    }
    let role = attr(first, "role");
    if role != Some("img") {
        out.push(format!("{file}:1: the <svg> needs role=\"img\""));
    }
    let (title_id, desc_id) = (format!("dg-{name}-title"), format!("dg-{name}-desc"));
    let wanted = format!("{title_id} {desc_id}");
    if attr(first, "aria-labelledby") != Some(wanted.as_str()) {
        out.push(format!(
            "{file}:1: the <svg> needs aria-labelledby=\"{wanted}\" (its own title and desc)"
        ));
    }
    if attr(first, "viewBox").is_none() {
        out.push(format!(
            "{file}:1: the <svg> needs a viewBox, so it scales with the page"
        ));
    }
    for fixed in ["width", "height"] {
        if attr(first, fixed).is_some() {
            out.push(format!(
                "{file}:1: no fixed {fixed} on the <svg>: book/theme/diagrams.css sizes it"
            ));
        }
    }
    if element_text(svg, "title", &title_id).is_none_or(|t| t.trim().is_empty()) {
        out.push(format!("{file}: needs <title id=\"{title_id}\"> with text"));
    }
    match element_text(svg, "desc", &desc_id) {
        Some(d) if d.split_whitespace().count() >= 8 => {}
        _ => out.push(format!(
            "{file}: needs <desc id=\"{desc_id}\"> with a real text alternative \
             (what the picture shows, in sentences)"
        )),
    }
    // Every id is prefixed, so ids stay unique in print.html, which holds every page.
    for (pos, _) in svg.match_indices(" id=\"") {
        let id = attr(&svg[pos..], "id").unwrap_or("");
        if !id.starts_with(&format!("dg-{name}-")) {
            let n = svg[..pos].lines().count();
            out.push(format!(
                "{file}:{n}: id \"{id}\" must start with \"dg-{name}-\""
            ));
        }
    }
    out
}

#[test]
fn every_diagram_is_accessible_raw_html_coloured_by_the_theme() {
    let all = diagrams();
    assert!(!all.is_empty(), "no diagrams in book/src/diagrams");
    let problems: Vec<String> = all.iter().flat_map(|(n, s)| problems(n, s)).collect();
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

/// Every `{{#include ../diagrams/NAME.svg}}` in the book's chapters.
fn includes() -> BTreeMap<String, Vec<String>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("book/src").flatten() {
            let p = e.path();
            if p.is_dir() {
                // The diagrams' own README shows the include syntax; it is no chapter.
                if p.file_name().is_some_and(|n| n != "diagrams") {
                    walk(&p, out);
                }
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    let src = book_src();
    let mut pages = Vec::new();
    walk(&src, &mut pages);
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for page in pages {
        let text = std::fs::read_to_string(&page).expect("a chapter");
        let rel = page
            .strip_prefix(&src)
            .expect("under src")
            .display()
            .to_string();
        for (i, line) in text.lines().enumerate() {
            let Some(start) = line.find("{{#include ") else {
                continue;
            };
            // `\{{#include` is mdBook's escape: shown, not included.
            if line[..start].ends_with('\\') {
                continue;
            }
            let target = line[start + 11..].split("}}").next().unwrap_or("").trim();
            let Some(at) = target.find("diagrams/") else {
                continue;
            };
            let resolved = page.parent().expect("a folder").join(target);
            let name = target[at + 9..].trim_end_matches(".svg").to_owned();
            assert!(
                resolved.is_file(),
                "book/src/{rel}:{}: includes {target}, which does not exist",
                i + 1
            );
            let lines: Vec<&str> = text.lines().collect();
            let blank = |j: Option<usize>| {
                j.and_then(|j| lines.get(j))
                    .is_none_or(|l| l.trim().is_empty())
            };
            assert!(
                line.trim() == format!("{{{{#include {target}}}}}")
                    && blank(i.checked_sub(1))
                    && blank(Some(i + 1)),
                "book/src/{rel}:{}: put the include alone on its line, with a blank \
                 line before and after it, so the SVG is a block of its own",
                i + 1
            );
            out.entry(name)
                .or_default()
                .push(format!("book/src/{rel}:{}", i + 1));
        }
    }
    out
}

#[test]
fn every_diagram_is_included_by_exactly_one_chapter() {
    let included = includes();
    let mut problems = Vec::new();
    for (name, _) in diagrams() {
        match included.get(&name).map(Vec::as_slice) {
            Some([_]) => {}
            None | Some([]) => problems.push(format!(
                "book/src/diagrams/{name}.svg is included by no chapter: add \
                 {{{{#include ../diagrams/{name}.svg}}}} where it belongs, or delete it"
            )),
            Some(many) => problems.push(format!(
                "book/src/diagrams/{name}.svg is included {} times ({}): its ids would \
                 repeat in print.html; include it once",
                many.len(),
                many.join(", ")
            )),
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}
