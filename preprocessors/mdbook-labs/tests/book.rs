//! The fixture book, built in process (as `course build` does) and by stock
//! `mdbook` running our binary: same lab HTML, deterministic zips, chapters
//! without directives untouched, links that resolve under a sub-path, step
//! output quoted from the book's transcripts.
//!
//! The lab page's `<main>` is an insta snapshot,
//! `tests/snapshots/book__lab_page.snap`; tests/README.md says how to review
//! a change.

use std::path::{Path, PathBuf};
use std::process::Command;

use mdbook_driver::MDBook;
use mdbook_labs::LabsPreprocessor;
use mdbook_preprocessor::PreprocessorContext;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/basic")
}

/// A throwaway copy of the fixture (book and labs), so builds never write
/// into the source tree.
fn copy_fixture() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixture(), tmp.path());
    tmp
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir(from) {
        let rel = entry.strip_prefix(from).expect("inside");
        if rel.starts_with("book/src/labs") || rel.starts_with("book/book") {
            continue;
        }
        let target = to.join(rel);
        if entry.is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else {
            std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
            std::fs::copy(&entry, &target).expect("copy");
        }
    }
}

/// Every path below `dir` (itself included), in a stable order.
fn walkdir(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.expect("entry").into_path())
        .collect()
}

fn build_in_process(book: &Path, dest: &Path) {
    let mut md = MDBook::load(book).expect("load");
    md.config.build.build_dir = dest.to_path_buf();
    let labs = LabsPreprocessor::new();
    md.with_preprocessor(labs.clone());
    md.build().expect("build");
    mdbook_labs::write_assets(dest, &labs.take_assets()).expect("assets");
}

fn main_of(page: &Path) -> String {
    let html = std::fs::read_to_string(page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
    let start = html.find("<main>").expect("<main>");
    let end = html.find("</main>").expect("</main>");
    html[start..end + 7].to_owned()
}

/// The page with the assets' cache-busting hashes and the inline copy of
/// the widget's stylesheet blanked, so that editing the widget's css/js does
/// not change the snapshot.
fn without_asset_hashes(html: &str) -> String {
    let mut html = html.to_owned();
    let mut from = 0;
    while let Some(start) = html[from..]
        .find("<style>")
        .map(|i| from + i + "<style>".len())
    {
        let end = start + html[start..].find("</style>").expect("</style>");
        html.replace_range(start..end, "LABS_CSS");
        from = start;
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html.as_str();
    while let Some(i) = rest.find("?v=") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        let hex = rest.chars().take_while(char::is_ascii_hexdigit).count();
        out.push_str("HASH");
        rest = &rest[hex..];
    }
    out.push_str(rest);
    out
}

/// In CI a snapshot is compared, never written. insta's default
/// (`INSTA_UPDATE` unset or `auto`) writes nothing when `CI` is set and fails
/// on a missing or changed snapshot; these variables would make it write or
/// pass, so CI refuses them.
fn snapshots_are_read_only_in_ci() {
    if std::env::var("CI").as_deref() != Ok("true") {
        return;
    }
    for (var, allowed) in [
        ("INSTA_UPDATE", &["", "auto", "no"][..]),
        ("INSTA_FORCE_PASS", &["", "0"][..]),
    ] {
        let value = std::env::var(var).unwrap_or_default();
        assert!(
            allowed.contains(&value.as_str()),
            "{var}={value} would let CI write or skip a snapshot: unset it"
        );
    }
}

#[test]
fn lab_page_matches_the_snapshot() {
    snapshots_are_read_only_in_ci();
    let tmp = copy_fixture();
    let site = tmp.path().join("site");
    build_in_process(&tmp.path().join("book"), &site);
    let actual = without_asset_hashes(&main_of(&site.join("part/lab.html")));
    insta::assert_snapshot!("lab_page", actual);
}

/// The widget's script is its parts in `theme/labs/`, joined in order and
/// run once however often a page loads it; a part in the book's theme folder
/// replaces the built-in one of that name, and only that one.
#[test]
fn the_widget_script_joins_its_parts_and_a_theme_part_overrides_one() {
    let tmp = copy_fixture();
    let builtin = |name: &str| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../theme/labs")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let site = tmp.path().join("site");
    build_in_process(&tmp.path().join("book"), &site);
    let js = std::fs::read_to_string(site.join("labs/labs.js")).expect("labs.js");
    assert!(
        js.contains("\nif (!window.courseLabs) {\n"),
        "no run-once guard:\n{js}"
    );
    assert!(js.ends_with("}\n"), "the guard is not closed");
    let order = [
        "base.js",
        "files.js",
        "sidecar.js",
        "help.js",
        "lab.js",
        "progress.js",
        "doctor.js",
        "start.js",
    ]
    .map(|name| {
        js.find(&builtin(name))
            .unwrap_or_else(|| panic!("{name} is not in labs.js"))
    });
    assert!(order.is_sorted(), "the parts are out of order: {order:?}");

    let theme = tmp.path().join("theme/labs");
    std::fs::create_dir_all(&theme).expect("theme");
    std::fs::write(
        theme.join("help.js"),
        "window.courseLabs.HelpBox = function () { /* mine */ };\n",
    )
    .expect("write");
    let site = tmp.path().join("site2");
    build_in_process(&tmp.path().join("book"), &site);
    let js = std::fs::read_to_string(site.join("labs/labs.js")).expect("labs.js");
    assert!(js.contains("/* mine */"), "the theme's help.js is not used");
    assert!(
        !js.contains(&builtin("help.js")),
        "the built-in help.js is still there"
    );
    assert!(
        js.contains(&builtin("lab.js")),
        "another part was replaced too"
    );

    // A script no part is named after would be left out: the build says so.
    std::fs::write(theme.join("Lab.js"), "/* a typo */\n").expect("write");
    std::fs::write(tmp.path().join("theme/labs.js"), "/* one file */\n").expect("write");
    let mut md = MDBook::load(tmp.path().join("book")).expect("load");
    md.config.build.build_dir = tmp.path().join("site3");
    md.with_preprocessor(LabsPreprocessor::new());
    let err = format!("{:#}", md.build().expect_err("a script would be left out"));
    for needle in ["Lab.js", "theme/labs.js", "base.js, files.js", "help:"] {
        assert!(err.contains(needle), "{needle:?} not in: {err}");
    }
}

#[test]
fn the_embed_has_every_part() {
    let tmp = copy_fixture();
    let site = tmp.path().join("site");
    build_in_process(&tmp.path().join("book"), &site);
    let main = main_of(&site.join("part/lab.html"));
    for needle in [
        "class=\"labs-title\" id=\"lab-demo-title\">A demo lab</h2>",
        "about 15 minutes",
        "<span class=\"labs-tool\">python</span> ≥ 3.11",
        "data-port=\"8000\"",
        "href=\"../labs/demo.zip\"",
        "<li class=\"labs-zip-only\"><span class=\"labs-path\">data.bin</span> <span class=\"labs-caption\">in the zip</span></li>",
        "<h4 class=\"labs-step-title\"><span class=\"labs-step-n\">Step 1.</span>",
        "<a href=\"#lab-demo-step-install\"><span class=\"labs-strip-icon\" aria-hidden=\"true\"></span><span class=\"labs-strip-n\">1</span><span class=\"labs-sr\"> Install<span class=\"labs-strip-state\"></span></span></a>",
        "data-lang=\"Terraform\"",
        "data-lang=\"Dockerfile\"",
        "data-lang=\"TOML\"",
        "class=\"labs-copy\" data-copy=\"lab-demo-file-1-code\"",
        "data-copy=\"lab-demo-step-install-cmd\"",
        "GET http://127.0.0.1:8000/ answers 200",
        "<div class=\"labs-status\" data-lab=\"demo\" data-step=\"serve\"",
        "<div class=\"labs-widget\" data-lab=\"demo\"",
        "data-sidecar=\"http://127.0.0.1:4243\"",
        "<p>A second paragraph, after a blank line.</p>",
        "<p class=\"labs-hint\"><span class=\"labs-check-label\">If it fails:</span> Start the server first (<code>python -m app.main</code>).</p>",
    ] {
        assert!(main.contains(needle), "missing {needle:?}");
    }
    // Each shown file is a <details> that links to the file's own page.
    assert!(
        main.contains("<details class=\"labs-file\" id=\"lab-demo-file-1\" data-src=\"labs/demo/files/01-main.py.html\">"),
        "{main}"
    );
    assert!(main.contains("<a class=\"labs-file-link\" href=\"../labs/demo/files/01-main.py.html\">Open app/main.py</a>"));
    assert!(
        main.contains("<span class=\"labs-lines\">(9 lines)</span>"),
        "{main}"
    );
    // The chapter carries no file text: mdBook has no highlighted code to
    // parse, print or index, and highlight.js none to colour.
    assert!(
        !main.contains("<span class=\"lh-"),
        "file text in the chapter"
    );
    // Steps come first, then the one list of files.
    let steps = main.find("labs-steps-title").expect("steps");
    let files = main.find("class=\"labs-files\"").expect("files");
    assert!(steps < files, "the steps come before the files");
    assert_eq!(
        main.matches("<span class=\"labs-path\">infra/main.tf</span>")
            .count(),
        1,
        "each file is listed once"
    );
    let files = &main[files..];
    assert!(
        !files.contains("<code"),
        "lab files must not be left to highlight.js"
    );
}

#[test]
fn every_shown_file_has_a_highlighted_page_of_its_own() {
    let tmp = copy_fixture();
    let site = tmp.path().join("site");
    build_in_process(&tmp.path().join("book"), &site);
    let pages: Vec<String> = walkdir(&site.join("labs/demo/files"))
        .iter()
        .filter(|p| p.is_file())
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    // data.bin is `show: false`: zipped, but no page.
    assert_eq!(
        pages,
        [
            "01-main.py.html",
            "02-Dockerfile.html",
            "03-settings.toml.html",
            "04-main.tf.html",
            "05-run.sh.html"
        ]
    );
    // Tera writes `/` in text as `&#x2F;`: the same to a browser.
    let page = std::fs::read_to_string(site.join("labs/demo/files/01-main.py.html"))
        .expect("page")
        .replace("&#x2F;", "/");
    for needle in [
        "<title>app/main.py · A demo lab</title>",
        "<h1 class=\"labs-path\">app/main.py</h1>",
        "<p class=\"labs-caption\">The application</p>",
        "data-lang=\"Python\"",
        "href=\"../../../part/lab.html#lab-demo-file-1\"",
        "href=\"../../../labs/demo.zip\"",
        "href=\"../../../labs/labs-highlight.css?v=",
    ] {
        assert!(page.contains(needle), "missing {needle:?} in\n{page}");
    }
    // Blank lines inside a file survive, and text from a lab file is never
    // expanded by mdBook's links preprocessor.
    assert!(
        page.contains("A tiny app.&quot;&quot;&quot;\n\n\n"),
        "blank lines lost"
    );
    assert!(
        page.contains("{{</span><span class=\"lh-") && page.contains(">#include nothing.md<"),
        "lab text was altered"
    );
    for (file, lang) in [
        ("04-main.tf.html", "Terraform"),
        ("02-Dockerfile.html", "Dockerfile"),
        ("03-settings.toml.html", "TOML"),
        ("05-run.sh.html", "Bourne Again Shell (bash)"),
    ] {
        let page = std::fs::read_to_string(site.join("labs/demo/files").join(file)).expect("page");
        assert!(page.contains(&format!("data-lang=\"{lang}\"")), "{file}");
        if file == "05-run.sh.html" {
            assert!(page.contains("&lt;ready&gt; &amp; done"), "escaped");
        }
        assert!(
            page.contains("<span class=\"lh-"),
            "{file} is not highlighted"
        );
    }
    // Every link of a file page resolves.
    for piece in page.split("href=\"").skip(1) {
        let url = &piece[..piece.find('"').expect("quote")];
        if url.starts_with("data:") {
            continue; // the empty icon: no request at all
        }
        let path = url.split(['?', '#']).next().unwrap_or(url);
        let target = site.join("labs/demo/files").join(path);
        assert!(target.exists(), "{url} does not resolve from a file page");
    }
}

#[test]
fn stale_file_pages_are_removed_from_the_source_folder() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let stale = tmp.path().join("labs/demo/files/09-gone.py.html");
    let kept = tmp.path().join("labs/demo/files/01-main.py.html");
    let other = tmp.path().join("labs/demo.zip");
    for p in [&stale, &kept, &other] {
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, "x").expect("write");
    }
    let assets = [
        mdbook_labs::Asset {
            path: "labs/demo/files/01-main.py.html".to_owned(),
            bytes: Vec::new(),
        },
        mdbook_labs::Asset {
            path: "labs/demo.zip".to_owned(),
            bytes: Vec::new(),
        },
    ];
    // A lab that went: its zip and its pages.
    let gone_zip = tmp.path().join("labs/gone.zip");
    let gone_page = tmp.path().join("labs/gone/files/01-a.py.html");
    let unrelated = tmp.path().join("labs/labs-highlight.css");
    for p in [&gone_zip, &gone_page, &unrelated] {
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, "x").expect("write");
    }
    mdbook_labs::prune_file_pages(tmp.path(), &assets).expect("prune");
    assert!(
        !stale.exists(),
        "a page of a file the lab no longer has is removed"
    );
    assert!(kept.exists() && other.exists());
    assert!(!gone_zip.exists(), "the zip of a lab that went is removed");
    assert!(
        !tmp.path().join("labs/gone").exists(),
        "and its pages, folders included"
    );
    assert!(unrelated.exists(), "other files are left alone");
}

#[test]
fn stock_mdbook_renders_the_same_lab_html() {
    let Some(mdbook) = find_mdbook() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "mdbook 0.5.4 is required in CI (the test command installs it)"
        );
        eprintln!(
            "skipped: mdbook not found; install it with `cargo install mdbook --version 0.5.4 --locked`"
        );
        return;
    };
    let tmp = copy_fixture();
    let ours = tmp.path().join("ours");
    build_in_process(&tmp.path().join("book"), &ours);
    let stock = tmp.path().join("stock");
    let output = Command::new(&mdbook)
        .arg("build")
        .arg(tmp.path().join("book"))
        .arg("-d")
        .arg(&stock)
        .env(
            "MDBOOK_PREPROCESSOR__LABS__COMMAND",
            env!("CARGO_BIN_EXE_mdbook-labs"),
        )
        .output()
        .expect("run mdbook");
    assert!(
        output.status.success(),
        "mdbook build failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for page in [
        "part/lab.html",
        "plain.html",
        "part/index.html",
        "progress.html",
        "output.html",
    ] {
        assert_eq!(
            main_of(&ours.join(page)),
            main_of(&stock.join(page)),
            "{page} differs"
        );
    }
    for asset in [
        "labs/demo.zip",
        "labs/labs.css",
        "labs/labs.js",
        "labs/labs-highlight.css",
        "labs/demo/files/01-main.py.html",
        "labs/demo/files/04-main.tf.html",
    ] {
        let a = std::fs::read(ours.join(asset)).expect("ours");
        let b = std::fs::read(stock.join(asset)).expect("stock");
        assert!(a == b, "{asset} differs");
    }
}

fn find_mdbook() -> Option<PathBuf> {
    let candidates = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("mdbook"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/mdbook"));
    candidates.into_iter().chain(home).find(|p| p.is_file())
}

#[test]
fn zips_are_deterministic() {
    let tmp = copy_fixture();
    build_in_process(&tmp.path().join("book"), &tmp.path().join("a"));
    // Touch every file: timestamps must not reach the zip.
    for f in walkdir(&tmp.path().join("labs")) {
        if f.is_file() {
            let bytes = std::fs::read(&f).expect("read");
            std::fs::write(&f, bytes).expect("rewrite");
        }
    }
    build_in_process(&tmp.path().join("book"), &tmp.path().join("b"));
    let a = std::fs::read(tmp.path().join("a/labs/demo.zip")).expect("a");
    let b = std::fs::read(tmp.path().join("b/labs/demo.zip")).expect("b");
    assert_eq!(a, b);
}

#[test]
fn chapters_without_directives_are_byte_identical() {
    let md = MDBook::load(fixture().join("book")).expect("load");
    let ctx = PreprocessorContext::new(md.root.clone(), md.config.clone(), "html".to_owned());
    let before: Vec<(String, String)> = md
        .book
        .chapters()
        .map(|c| (c.name.clone(), c.content.clone()))
        .collect();
    let expanded = mdbook_labs::expand(&ctx, md.book.clone()).expect("expand");
    let after: Vec<(String, String)> = expanded
        .book
        .chapters()
        .map(|c| (c.name.clone(), c.content.clone()))
        .collect();
    for ((name, a), (_, b)) in before.iter().zip(&after) {
        match name.as_str() {
            "Part" => assert_eq!(a.as_bytes(), b.as_bytes(), "{name} changed"),
            // Only the escape's backslash goes.
            "Plain chapter" => assert_eq!(a.replace("\\{{#lab", "{{#lab"), *b),
            "Lab chapter" => assert!(b.contains("<section class=\"labs-lab\"")),
            "Progress" => assert!(b.contains("<div class=\"labs-progress\"")),
            "Output chapter" => assert!(b.contains("```text\ninstalling\n```")),
            other => panic!("unexpected chapter {other}"),
        }
    }
    assert!(expanded.unembedded.is_empty());
}

#[test]
fn unknown_lab_names_the_place_and_the_nearest_id() {
    let tmp = copy_fixture();
    let chapter = tmp.path().join("book/src/part/lab.md");
    let text = std::fs::read_to_string(&chapter)
        .expect("read")
        .replace("{{#lab demo}}", "{{#lab dmeo}}");
    std::fs::write(&chapter, text).expect("write");
    let md = MDBook::load(tmp.path().join("book")).expect("load");
    let ctx = PreprocessorContext::new(md.root.clone(), md.config.clone(), "html".to_owned());
    let err = mdbook_labs::expand(&ctx, md.book.clone())
        .err()
        .expect("must fail")
        .to_string();
    assert!(
        err.contains("src/part/lab.md:7:1: error: unknown lab `dmeo`"),
        "{err}"
    );
    assert!(err.contains("did you mean `demo`?"), "{err}");
}

#[test]
fn a_directive_in_an_html_comment_is_text() {
    let tmp = copy_fixture();
    let chapter = tmp.path().join("book/src/plain.md");
    let comment = "<!-- Not yet: {{#lab nope}} and {{#lab demo}} -->\n\n\
                   Inline <!-- {{#lab-output demo install}} --> too.\n";
    let text = std::fs::read_to_string(&chapter).expect("read") + "\n" + comment;
    std::fs::write(&chapter, text).expect("write");
    // An unknown lab in a comment fails nothing, and nothing is expanded.
    let (before, after) =
        expanded_chapter(&tmp.path().join("book"), "Plain chapter").expect("expand");
    assert!(after.ends_with(comment), "{after}");
    assert_eq!(before.replace("\\{{#lab", "{{#lab"), after);
}

#[test]
fn links_and_assets_resolve_under_a_sub_path() {
    let tmp = copy_fixture();
    let site = tmp.path().join("site");
    build_in_process(&tmp.path().join("book"), &site);
    // A chapter, and print.html (at the root) that holds every chapter: mdBook
    // rebases the links of <a> and <img> there, and nothing else, so the
    // embed has no other URL relative to the chapter; data-src is from the
    // book root (labs.js puts mdBook's path_to_root before it).
    let mut checked = 0;
    for page in [site.join("part/lab.html"), site.join("print.html")] {
        let html = std::fs::read_to_string(&page).expect("page");
        let shown = page
            .strip_prefix(&site)
            .expect("in site")
            .display()
            .to_string();
        for attr in [" href=\"", " src=\"", " data-src=\""] {
            for piece in html.split(attr).skip(1) {
                let url = &piece[..piece.find('"').expect("closing quote")];
                if url.is_empty()
                    || url.starts_with('#')
                    || url.contains("://")
                    || url.starts_with("mailto:")
                {
                    continue;
                }
                assert!(
                    !url.starts_with('/'),
                    "absolute link {url} breaks under a sub-path"
                );
                let path = url.split(['?', '#']).next().unwrap_or(url);
                let base = if attr == " data-src=\"" {
                    site.as_path()
                } else {
                    page.parent().expect("dir")
                };
                // Lexically, as a browser does: `..` at the top leaves the site.
                let mut target = PathBuf::new();
                for part in base.join(path).components() {
                    match part {
                        std::path::Component::ParentDir => {
                            target.pop();
                        }
                        other => target.push(other),
                    }
                }
                assert!(
                    target.starts_with(&site) && target.exists(),
                    "{url} ({}) does not resolve inside the site from {shown}",
                    attr.trim()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "only {checked} links checked");
    let not_found = std::fs::read_to_string(site.join("404.html")).expect("404");
    assert!(
        not_found.contains("<base href=\"/fixture/\">"),
        "404 page must use site-url"
    );
}

#[test]
fn the_progress_page_lists_every_lab_with_a_link_to_it() {
    let tmp = copy_fixture();
    let site = tmp.path().join("site");
    build_in_process(&tmp.path().join("book"), &site);
    let main = main_of(&site.join("progress.html"));
    assert!(main.contains("class=\"labs-progress\""), "{main}");
    assert!(
        main.contains("&quot;id&quot;:&quot;demo&quot;"),
        "the lab list is in data-labs: {main}"
    );
    assert!(
        main.contains("&quot;href&quot;:&quot;part/lab.html#lab-demo&quot;"),
        "{main}"
    );
    assert!(
        main.contains("<a href=\"part/lab.html#lab-demo\">Module 03: A demo lab</a> (3 steps)"),
        "{main}"
    );
    assert!(site.join("part/lab.html").is_file());
}

/// The expanded text of the fixture's chapter named `name`, and its text before.
fn expanded_chapter(book: &Path, name: &str) -> Result<(String, String), String> {
    let md = MDBook::load(book).expect("load");
    let ctx = PreprocessorContext::new(md.root.clone(), md.config.clone(), "html".to_owned());
    let before = md
        .book
        .chapters()
        .find(|c| c.name == name)
        .expect("chapter")
        .content
        .clone();
    let expanded = mdbook_labs::expand(&ctx, md.book.clone()).map_err(|e| e.to_string())?;
    let after = expanded
        .book
        .chapters()
        .find(|c| c.name == name)
        .expect("chapter")
        .content
        .clone();
    Ok((before, after))
}

#[test]
fn lab_output_leaves_every_other_byte_as_it_was() {
    let (before, after) =
        expanded_chapter(&fixture().join("book"), "Output chapter").expect("expand");
    let directives = mdbook_labs::find_directives(&before);
    assert_eq!(directives.len(), 3, "two outputs and an escape");
    // The text between the directives, in order, byte for byte.
    let mut gaps = Vec::new();
    let mut from = 0;
    for d in &directives {
        gaps.push(&before[from..d.range.start]);
        from = d.range.end;
    }
    gaps.push(&before[from..]);
    assert!(after.starts_with(gaps[0]), "{after}");
    assert!(after.ends_with(gaps[gaps.len() - 1]), "{after}");
    let mut rest = &after[gaps[0].len()..];
    for gap in &gaps[1..] {
        let at = rest
            .find(gap)
            .unwrap_or_else(|| panic!("{gap:?} lost in {after}"));
        rest = &rest[at + gap.len()..];
    }
    assert_eq!(
        after,
        "# Output chapter\n\nRun the install step; it prints:\n\n```text\ninstalling\n```\n\n\
         1. In a list item, the output stays in the item:\n\n   ```text\n   installing\n   ```\n\n\
         2. Write `{{#lab-output demo install}}` to quote a step, or escape it: {{#lab-output demo install}}.\n"
    );
}

#[test]
fn lab_output_quotes_the_transcript_in_a_code_block() {
    let tmp = copy_fixture();
    let transcript = tmp.path().join("book/transcripts/demo/install.txt");
    let text = std::fs::read_to_string(&transcript).expect("read");
    std::fs::write(
        &transcript,
        format!("{text}uv ```sync``` <done> & {{{{#include x.md}}}}\n"),
    )
    .expect("write");
    let site = tmp.path().join("site");
    build_in_process(&tmp.path().join("book"), &site);
    let main = main_of(&site.join("output.html"));
    // Escaped by the renderer, untouched by mdBook's `links`.
    let quoted = "<code class=\"language-text\">installing\nuv ```sync``` &lt;done&gt; &amp; {{#include x.md}}\n</code>";
    assert!(main.contains(quoted), "{main}");
    // head=1 keeps one line and says that some were left out; in the list item.
    assert!(
        main.contains("<li>\n<p>In a list item, the output stays in the item:</p>\n<pre><code class=\"language-text\">installing\n…\n</code></pre>\n</li>"),
        "{main}"
    );
    assert!(
        main.contains("<code>{{#lab-output demo install}}</code>"),
        "{main}"
    );
    assert!(
        main.contains("escape it: {{#lab-output demo install}}."),
        "{main}"
    );
}

#[test]
fn lab_output_errors_name_their_place_all_at_once() {
    let tmp = copy_fixture();
    let chapter = tmp.path().join("book/src/output.md");
    let text = std::fs::read_to_string(&chapter).expect("read")
        + "\n{{#lab-output dmeo install}}\n{{#lab-output demo instal}}\n{{#lab-output demo serve}}\n\
           {{#lab-output demo version}}\n{{#lab-output demo install head=0}}\n";
    std::fs::write(&chapter, text).expect("write");
    let err = expanded_chapter(&tmp.path().join("book"), "Output chapter").expect_err("must fail");
    for needle in [
        "src/output.md:13:1: error: unknown lab `dmeo`\n  help: did you mean `demo`?",
        "src/output.md:14:1: error: unknown step `instal` of lab `demo`\n  help: did you mean `install`?",
        "src/output.md:15:1: error: no transcript of demo serve: ",
        "transcripts/demo/serve.txt does not exist\n  help: run `course lab follow demo --record`",
        "src/output.md:16:1: error: step `version` of lab `demo` runs no command",
        "src/output.md:17:1: error: `head=0`: head takes a number of lines, 1 or more",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in\n{err}");
    }
}

#[test]
fn a_transcript_that_is_not_one_fails_the_build() {
    let tmp = copy_fixture();
    std::fs::write(
        tmp.path().join("book/transcripts/demo/install.txt"),
        "installing\n",
    )
    .expect("write");
    let err = expanded_chapter(&tmp.path().join("book"), "Output chapter").expect_err("must fail");
    assert!(
        err.contains("src/output.md:5:1: error: ")
            && err.contains("install.txt:1: not a transcript"),
        "{err}"
    );
}

/// A book of its own with one chapter, `q.md`, and no labs folder.
fn quiz_book(chapter: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("book/src");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(
        tmp.path().join("book/book.toml"),
        "[book]\ntitle = \"Quiz\"\nsrc = \"src\"\n\n[preprocessor.labs]\nbefore = [\"links\"]\ncache-dir = \"\"\n",
    )
    .expect("write");
    std::fs::write(src.join("SUMMARY.md"), "# Summary\n\n- [Q](q.md)\n").expect("write");
    std::fs::write(src.join("q.md"), chapter).expect("write");
    tmp
}

const QUIZ: &str = "# Self-check\n\n{{#quiz}}\n**1. Serve models.** What does `/ready` answer without a model?\n\n\
    - [ ] 200.\n  Why not: traffic would reach a replica that cannot predict.\n- [x] 503.\n\n\
    <details><summary>Answer</summary>\n\n503, with **the reason**.\n\n</details>\n{{#endquiz}}\n";

#[test]
fn a_quiz_renders_as_a_fieldset_with_its_answer_without_a_labs_folder() {
    let tmp = quiz_book(QUIZ);
    let dest = tmp.path().join("site");
    build_in_process(&tmp.path().join("book"), &dest);
    let main = main_of(&dest.join("q.html"));
    for needle in [
        "<div class=\"quiz\" id=\"quiz-q-1\" data-quiz=\"q:1\" data-kind=\"single\">",
        "<legend class=\"quiz-question\"><strong>1. Serve models.</strong> What does <code>/ready</code> answer without a model?</legend>",
        "<input type=\"radio\" id=\"quiz-q-1-2\" name=\"quiz-q-1\" value=\"2\" disabled=\"\">",
        "<p class=\"quiz-status\" role=\"status\"></p>",
        // The explanation is markdown, rendered inside the <details>.
        "<p>503, with <strong>the reason</strong>.</p>",
        "</details>",
    ] {
        assert!(main.contains(needle), "missing {needle:?} in\n{main}");
    }
    assert!(
        !main.contains("{{#quiz}}") && !main.contains("- [x]"),
        "{main}"
    );
}

#[test]
fn a_malformed_quiz_fails_the_build_at_its_line() {
    let tmp = quiz_book(&QUIZ.replace("- [x] 503.", "- [ ] 503.\n  Why not: x"));
    let mut md = MDBook::load(tmp.path().join("book")).expect("load");
    md.config.build.build_dir = tmp.path().join("site");
    md.with_preprocessor(LabsPreprocessor::new());
    let err = format!("{:#}", md.build().expect_err("must fail"));
    assert!(
        err.contains("src/q.md:6:1: error: no choice is marked right"),
        "{err}"
    );
}
