use syntect::highlighting::Color;

use super::palette::{MIN_CONTRAST, Rgb, contrast, on, readable};
use super::spans::highlight_uncached;
use super::*;

#[test]
fn picks_syntaxes_for_lab_files() {
    assert_eq!(syntax_name("Dockerfile", "FROM x"), "Dockerfile");
    assert_eq!(syntax_name("app/main.py", ""), "Python");
    assert_eq!(syntax_name("pyproject.toml", ""), "TOML");
    assert_eq!(syntax_name("uv.lock", ""), "TOML");
    assert_eq!(syntax_name("infra/main.tf", ""), "Terraform");
    // bat's HCL grammar is named after Terraform and covers .hcl too.
    assert_eq!(syntax_name("config.hcl", ""), "Terraform");
    assert_eq!(syntax_name("compose.yaml", ""), "YAML");
    assert_eq!(
        syntax_name("run", "#!/bin/sh\necho"),
        "Bourne Again Shell (bash)"
    );
    assert_eq!(syntax_name("notes", "just text"), "Plain Text");
}

#[test]
fn highlights_with_short_classes_and_caches() {
    let code = "def f():\n    return \"<1>\"\n";
    let a = highlight("x.py", code, None);
    assert!(a.html.contains("<span class=\"lh-"), "{}", a.html);
    assert!(!a.html.contains("style="), "{}", a.html);
    assert!(
        a.html.contains("&quot;&lt;1&gt;&quot;") || a.html.contains("&lt;1&gt;"),
        "{}",
        a.html
    );
    assert!(!a.classes.is_empty());
    // The text survives: strip the tags and unescape.
    let mut text = String::new();
    let mut in_tag = false;
    for c in a.html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    assert_eq!(text, code);
    let b = highlight("x.py", code, None);
    assert!(Arc::ptr_eq(&a, &b));
}

/// A file highlighted after others that share its lines (so most of
/// its lines come from the remembered parses) gives the same HTML as
/// the file highlighted first on a fresh thread. The shell heredoc
/// keeps a regex match in the parse state, the case `==` cannot see into.
#[test]
fn remembered_lines_give_the_same_html() {
    let files = [
        (
            "a.py",
            "import os\n\n\ndef f(x):\n    return \"\"\"\n    doc\n\"\"\"\n",
        ),
        (
            "b.py",
            "def f(x):\n    return \"\"\"\n    doc\n\"\"\"\nimport os\n\n",
        ),
        (
            "a.sh",
            "cat <<EOF\nimport os\nEOF\necho \"$x\"\ncat <<END\nEOF\nEND\n",
        ),
        (
            "b.sh",
            "echo \"$x\"\ncat <<EOF\nimport os\nEOF\ncat <<END\nEOF\nEND\n",
        ),
    ];
    let alone = |rel: &'static str, code: &'static str| {
        std::thread::spawn(move || highlight_uncached(syntax_for(rel, code), code).html)
            .join()
            .expect("thread")
    };
    let after_all = std::thread::spawn(move || {
        for _ in 0..2 {
            for (rel, code) in files {
                highlight_uncached(syntax_for(rel, code), code);
            }
        }
        files.map(|(rel, code)| highlight_uncached(syntax_for(rel, code), code).html)
    })
    .join()
    .expect("thread");
    for ((rel, code), html) in files.into_iter().zip(after_all) {
        assert_eq!(html, alone(rel, code), "{rel}");
    }
}

#[test]
fn the_disk_cache_gives_the_same_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    let code = "[tool]\nname = \"disk cache\"\n";
    let first = highlight("cached.toml", code, Some(dir.path()));
    let entries = walk(dir.path());
    assert_eq!(entries.len(), 1, "one entry written");
    // A new process has an empty memory cache: read the entry back.
    let bytes = std::fs::read(&entries[0]).expect("read");
    let back: Highlighted = serde_json::from_slice(&bytes).expect("parse");
    assert_eq!(back.html, first.html);
    assert_eq!(back.classes, first.classes);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()))
        } else {
            out.push(e.path())
        }
    }
    out
}

#[test]
fn css_covers_all_five_themes_and_every_class() {
    let h = highlight("x.toml", "[a]\nb = 1\n", None);
    let css = theme_css(&h.classes);
    for t in [".light", ".rust", ".coal", ".navy", ".ayu", "html:not(.js)"] {
        assert!(css.contains(&format!("{t} .lh-code")), "missing {t}");
    }
    for class in h.classes.keys() {
        assert_eq!(
            css.matches(&format!(".{class}")).count(),
            6,
            "{class} must have a rule per theme"
        );
    }
}

/// `#rrggbb` → RGB.
fn parse_hex(h: &str) -> Rgb {
    let v = |i: usize| u8::from_str_radix(&h[1 + 2 * i..3 + 2 * i], 16).expect("hex");
    assert_eq!(h.len(), 7, "{h} is not #rrggbb");
    [v(0), v(1), v(2)]
}

/// The value of `prop` in a one-line rule `sel { a: x; prop: y; }`.
fn prop<'a>(rule: &'a str, prop: &str) -> Option<&'a str> {
    rule.split(['{', ';'])
        .filter_map(|d| d.trim().strip_prefix(prop)?.strip_prefix(':'))
        .map(str::trim)
        .next()
}

#[test]
fn contrast_matches_wcag_examples() {
    assert!((contrast([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 1e-9);
    assert!((contrast([0x76, 0x76, 0x76], [255, 255, 255]) - 4.54).abs() < 0.01);
    assert!((contrast([0x77, 0x77, 0x77], [255, 255, 255]) - 4.48).abs() < 0.01);
}

/// Every colour any token can get, in every theme: each rule of each
/// syntect theme, plus its text colour, through `theme_css`; then the
/// generated CSS is read back and every `color` checked against the
/// `background-color` of its theme's `.lh-code`.
#[test]
fn every_colour_in_the_css_reaches_4_5_to_1_in_every_theme() {
    let plain = |i: usize| Look {
        rgba: LOADED_THEMES[i]
            .settings
            .foreground
            .map_or([0, 0, 0, 255], |c| [c.r, c.g, c.b, c.a]),
        font: 0,
    };
    let mut classes = BTreeMap::new();
    for (i, theme) in LOADED_THEMES.iter().enumerate() {
        for (n, item) in theme.scopes.iter().enumerate() {
            let Some(c) = item.style.foreground else {
                continue;
            };
            let mut looks: Looks = std::array::from_fn(plain);
            looks[i] = Look {
                rgba: [c.r, c.g, c.b, c.a],
                font: 0,
            };
            classes.insert(format!("lh-t{i}r{n}"), LooksCss(looks));
        }
    }
    // The book's real files too, as the preprocessor would see them.
    for (rel, code) in [
        (
            "app.py",
            "# a comment\ndef f(x: int) -> str:\n    return f\"{x!r}\"  # why\n",
        ),
        (
            "Dockerfile",
            "# syntax note\nFROM python:3.12-slim AS base\nRUN pip install uv\n",
        ),
        (
            "compose.yaml",
            "# c\nservices:\n  api:\n    ports: [\"8000:8000\"]\n",
        ),
        (
            "ci.sh",
            "#!/bin/sh\n# c\nset -eu\necho \"$HOME\" | grep -q x && exit 1\n",
        ),
        (
            "pyproject.toml",
            "# c\n[project]\nname = \"lab\"\nversion = \"0.1.0\"\n",
        ),
    ] {
        classes.extend(highlight(rel, code, None).classes.clone());
    }
    let css = theme_css(&classes);
    let mut backgrounds = HashMap::new();
    let mut checked = 0;
    let mut failures = Vec::new();
    for rule in css.lines().filter(|l| l.contains('{')) {
        let theme = rule[1..].split([' ', ',']).next().expect("theme class");
        if let Some(bg) = prop(rule, "background-color") {
            backgrounds.insert(theme.to_owned(), parse_hex(bg));
        }
        let bg = *backgrounds
            .get(theme)
            .unwrap_or_else(|| panic!("{theme}: a class before its .lh-code rule: {rule}"));
        let fg = parse_hex(prop(rule, "color").expect("every rule sets a colour"));
        let ratio = contrast(fg, bg);
        checked += 1;
        if ratio < MIN_CONTRAST {
            failures.push(format!("{ratio:.2}:1 {rule}"));
        }
    }
    assert_eq!(backgrounds.len(), 5, "one background per theme:\n{css}");
    assert!(checked > 5 * 20, "only {checked} colours checked");
    assert!(
        failures.is_empty(),
        "colours below {MIN_CONTRAST}:1 on their theme's background:\n{}",
        failures.join("\n")
    );
}

#[test]
fn readable_keeps_good_colours_and_lifts_faint_ones() {
    let bg = [0x28, 0x2c, 0x34];
    let fg = [0xdc, 0xdf, 0xe4];
    let good = [0x98, 0xc3, 0x79];
    assert_eq!(readable(good, fg, bg), good);
    let faint = [0x5c, 0x63, 0x70];
    let lifted = readable(faint, fg, bg);
    assert!(contrast(lifted, bg) >= MIN_CONTRAST);
    assert!(
        contrast(lifted, bg) < 5.0,
        "moved no further than needed: {lifted:?}"
    );
    // A translucent colour is judged as it shows on the background.
    let half = on(
        Color {
            r: 255,
            g: 255,
            b: 255,
            a: 128,
        },
        [0, 0, 0],
    );
    assert_eq!(half, [128, 128, 128]);
}
