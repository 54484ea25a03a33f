//! Build-time syntax highlighting with syntect and bat's syntax definitions
//! (two-face), to class-based HTML: the page ships no highlighter, and each
//! of mdBook's five themes gets its own colours from one stylesheet.
//!
//! A token's class names its look in all five themes at once: the class
//! `lh-3fa2c1` stands for "this colour and weight in light, that one in rust,
//! …". A file's HTML then carries one short class per token run instead of
//! syntect's full scope names, which keeps lab pages light, and the
//! stylesheet holds only the looks that the book's files use.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use syntect::highlighting::{Color, FontStyle, Highlighter, Style, Theme};
use syntect::parsing::{ParseState, Scope, ScopeStack, ScopeStackOp, SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;
use two_face::theme::EmbeddedThemeName;

use crate::html::escape;

/// Files larger than this are listed and zipped but not printed on the page.
pub(crate) const MAX_HIGHLIGHT_BYTES: usize = 256 * 1024;

/// Loading the syntax set takes tens of milliseconds: do it once per process.
static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(two_face::syntax::extra_newlines);

/// mdBook theme class → the syntect theme whose colours it gets.
const THEMES: [(&str, EmbeddedThemeName); 5] = [
    ("light", EmbeddedThemeName::InspiredGithub),
    ("rust", EmbeddedThemeName::GruvboxLight),
    ("coal", EmbeddedThemeName::OneHalfDark),
    ("navy", EmbeddedThemeName::Nord),
    ("ayu", EmbeddedThemeName::MonokaiExtended),
];

static LOADED_THEMES: LazyLock<Vec<Theme>> = LazyLock::new(|| {
    let set = two_face::theme::extra();
    THEMES
        .iter()
        .map(|(_, name)| set.get(*name).clone())
        .collect()
});

/// How a token looks in one theme: colour and font style.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
struct Look {
    rgba: [u8; 4],
    font: u8,
}

/// How a token looks in each of the five themes.
type Looks = [Look; 5];

/// Highlighted HTML and the classes it uses.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Highlighted {
    /// The spans, ready to go inside a `<pre>`.
    pub(crate) html: String,
    /// Every class used, with the looks it stands for.
    pub(crate) classes: BTreeMap<String, LooksCss>,
}

/// The looks behind one class, kept so that the stylesheet can be written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct LooksCss(Looks);

/// Each scope stack's looks in the five themes, shared by every file and
/// thread: matching a stack against a theme's rules is a good part of
/// highlighting, and files in one language share most of their stacks.
static LOOKS: LazyLock<Mutex<HashMap<Vec<Scope>, Looks>>> = LazyLock::new(Default::default);

/// Highlighted files by content hash, kept across rebuilds of a `course serve`.
static CACHE: LazyLock<Mutex<HashMap<[u8; 32], Arc<Highlighted>>>> =
    LazyLock::new(Default::default);

/// The syntax for a file, from its name: extension, well-known names, then
/// its first line (shebangs).
fn syntax_for(rel: &str, content: &str) -> &'static SyntaxReference {
    let ss = &*SYNTAXES;
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let by_name = |n: &str| ss.find_syntax_by_name(n);
    let special = match name {
        n if n == "Dockerfile"
            || n.starts_with("Dockerfile.")
            || n.ends_with(".Dockerfile")
            || n == "Containerfile" =>
        {
            by_name("Dockerfile")
        }
        ".dockerignore" | ".gitignore" | ".helmignore" => by_name("Git Ignore"),
        "uv.lock" | "Cargo.lock" | "poetry.lock" => by_name("TOML"),
        "MLproject" => by_name("YAML"),
        "Makefile" | "makefile" => by_name("Makefile"),
        ".env" | ".env.example" => by_name("Bourne Again Shell (bash)"),
        _ => None,
    };
    if let Some(s) = special {
        return s;
    }
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let ext = match ext {
        "tpl" => "go",
        "yml" => "yaml",
        other => other,
    };
    ss.find_syntax_by_extension(ext)
        .or_else(|| ss.find_syntax_by_first_line(content))
        .unwrap_or_else(|| ss.find_syntax_plain_text())
}

/// The name of the syntax a file is highlighted with.
pub(crate) fn syntax_name(rel: &str, content: &str) -> &'static str {
    &syntax_for(rel, content).name
}

/// Bumped when the HTML or the looks change, so old cache entries are never read.
const CACHE_FORMAT: &str = "mdbook-labs highlight v1";

/// Highlights a file. Cached by syntax and content in memory and, when
/// `disk_cache` is given, in that folder (so a new process skips syntect
/// for files it has seen before).
pub(crate) fn highlight(rel: &str, content: &str, disk_cache: Option<&Path>) -> Arc<Highlighted> {
    let syntax = syntax_for(rel, content);
    let mut hasher = Sha256::new();
    hasher.update(CACHE_FORMAT.as_bytes());
    for (name, theme) in THEMES {
        hasher.update(name.as_bytes());
        hasher.update(theme.as_name().as_bytes());
    }
    hasher.update(syntax.name.as_bytes());
    hasher.update([0]);
    hasher.update(content.as_bytes());
    let key: [u8; 32] = hasher.finalize().into();
    if let Some(hit) = CACHE.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return hit;
    }
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let on_disk = disk_cache.map(|d| d.join(&hex[..2]).join(format!("{}.json", &hex[2..])));
    let cached = on_disk
        .as_ref()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|bytes| serde_json::from_slice::<Highlighted>(&bytes).ok());
    let result = Arc::new(match cached {
        Some(h) => h,
        None => {
            let h = highlight_uncached(syntax, content);
            if let Some(path) = &on_disk {
                store(path, &h);
            }
            h
        }
    });
    if let Ok(mut cache) = CACHE.lock() {
        cache.insert(key, result.clone());
    }
    result
}

/// Writes a cache entry atomically; a cache that cannot be written is only slower.
fn store(path: &Path, h: &Highlighted) {
    let Some(dir) = path.parent() else { return };
    let Ok(json) = serde_json::to_vec(h) else {
        return;
    };
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::create_dir_all(dir).is_ok()
        && std::fs::write(&tmp, json).is_ok()
        && std::fs::rename(&tmp, path).is_err()
    {
        let _ = std::fs::remove_file(&tmp);
    }
}

fn look(style: Style) -> Look {
    let Color { r, g, b, a } = style.foreground;
    Look {
        rgba: [r, g, b, a],
        font: style.font_style.bits(),
    }
}

fn class_name(looks: &Looks) -> String {
    let mut hasher = Sha256::new();
    for l in looks {
        hasher.update(l.rgba);
        hasher.update([l.font]);
    }
    let digest = hasher.finalize();
    format!("lh-{:02x}{:02x}{:02x}", digest[0], digest[1], digest[2])
}

fn highlight_uncached(syntax: &SyntaxReference, content: &str) -> Highlighted {
    let highlighters: Vec<Highlighter<'_>> = LOADED_THEMES.iter().map(Highlighter::new).collect();
    let mut classes = Classes {
        highlighters: &highlighters,
        plain: std::array::from_fn(|i| look(highlighters[i].get_default())),
        by_stack: HashMap::new(),
        names: Vec::new(),
        used: BTreeMap::new(),
    };
    let mut out = Runs {
        html: String::with_capacity(content.len() * 2),
        class: None,
        start: 0,
        end: 0,
    };
    let plain_file = || Highlighted {
        html: escape(content),
        classes: BTreeMap::new(),
    };

    let mut state = ParseState::new(syntax);
    let mut stack = ScopeStack::new();
    let mut line_start = 0;
    for line in LinesWithEndings::from(content) {
        // A grammar that fails on this input: show the file plain rather than not at all.
        let Some(ops) = parse_line(&mut state, line) else {
            return plain_file();
        };
        let mut pos = 0;
        for (at, op) in ops {
            if at > pos {
                let class = classes.of(&stack);
                out.push(
                    content,
                    line_start + pos,
                    line_start + at,
                    class,
                    &classes.names,
                );
                pos = at;
            }
            if stack.apply(&op).is_err() {
                return plain_file();
            }
        }
        if pos < line.len() {
            let class = classes.of(&stack);
            out.push(
                content,
                line_start + pos,
                line_start + line.len(),
                class,
                &classes.names,
            );
        }
        line_start += line.len();
    }
    out.flush(content, &classes.names);
    Highlighted {
        html: out.html,
        classes: classes.used,
    }
}

/// A line's parse: the state before it, its scope operations, the state after.
type LineParse = (ParseState, Vec<(usize, ScopeStackOp)>, ParseState);

thread_local! {
    /// Lines already parsed on this thread, by text, each with the states
    /// it was parsed from. (A parse state holds regex match regions, which
    /// cannot move between threads, so each thread keeps its own.)
    static LINES: std::cell::RefCell<HashMap<String, Vec<LineParse>>> = Default::default();
}

/// Past this many distinct lines a thread forgets the ones it has seen.
const MAX_REMEMBERED_LINES: usize = 30_000;

/// `state.parse_line(line)`, remembered: the same line from the same state
/// always parses the same way, and lab files share many lines (a first
/// build of the course parses about 15% fewer bytes).
///
/// States are compared with `==`, which for a state holding a regex match
/// (a backreference to an earlier line) compares the match's buffers by
/// address: two distinct live states never share them, so such a state only
/// misses the memory, it never matches a different one.
fn parse_line(state: &mut ParseState, line: &str) -> Option<Vec<(usize, ScopeStackOp)>> {
    LINES.with_borrow_mut(|lines| {
        if let Some((_, ops, after)) = lines
            .get(line)
            .and_then(|seen| seen.iter().find(|(before, _, _)| before == state))
        {
            *state = after.clone();
            return Some(ops.clone());
        }
        let before = state.clone();
        let ops = state.parse_line(line, &SYNTAXES).ok()?;
        if lines.len() >= MAX_REMEMBERED_LINES {
            lines.clear();
        }
        lines
            .entry(line.to_owned())
            .or_default()
            .push((before, ops.clone(), state.clone()));
        Some(ops)
    })
}

/// The HTML being written: finished spans, then the run being built, which
/// is a class (an index into [`Classes::names`], none for plain text) and
/// a byte range of the file.
struct Runs {
    html: String,
    class: Option<usize>,
    start: usize,
    end: usize,
}

impl Runs {
    /// Adds `content[start..end]`, a piece with one scope stack.
    fn push(
        &mut self,
        content: &str,
        start: usize,
        end: usize,
        class: Option<usize>,
        names: &[String],
    ) {
        // Whitespace takes no colour: fold it into the current run.
        let class = if content[start..end].trim().is_empty() {
            self.class
        } else {
            class
        };
        if class != self.class {
            self.flush(content, names);
            self.class = class;
            self.start = start;
        }
        self.end = end;
    }

    /// Writes the current run out and starts an empty one.
    fn flush(&mut self, content: &str, names: &[String]) {
        if self.start == self.end {
            return;
        }
        let text = &content[self.start..self.end];
        match self.class {
            Some(c) => {
                self.html.push_str("<span class=\"");
                self.html.push_str(&names[c]);
                self.html.push_str("\">");
                escape_into(&mut self.html, text);
                self.html.push_str("</span>");
            }
            None => escape_into(&mut self.html, text),
        }
        self.start = self.end;
    }
}

/// [`escape`], appended to `out` without a new string.
fn escape_into(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

/// The classes of one file: each scope stack's class, found once per file.
struct Classes<'a> {
    highlighters: &'a [Highlighter<'a>],
    /// The looks of unhighlighted text, which get no class.
    plain: Looks,
    /// Scope stack → index into `names`, or none for plain text.
    by_stack: HashMap<Vec<Scope>, Option<usize>>,
    names: Vec<String>,
    /// Every class used, with its looks.
    used: BTreeMap<String, LooksCss>,
}

impl Classes<'_> {
    fn of(&mut self, stack: &ScopeStack) -> Option<usize> {
        let scopes = stack.as_slice();
        if let Some(hit) = self.by_stack.get(scopes) {
            return *hit;
        }
        let known = LOOKS.lock().ok().and_then(|m| m.get(scopes).copied());
        let looks = known.unwrap_or_else(|| {
            let looks: Looks =
                std::array::from_fn(|i| look(self.highlighters[i].style_for_stack(scopes)));
            if let Ok(mut m) = LOOKS.lock() {
                m.insert(scopes.to_vec(), looks);
            }
            looks
        });
        let class = (looks != self.plain).then(|| {
            let name = class_name(&looks);
            let index = self.names.iter().position(|n| *n == name);
            index.unwrap_or_else(|| {
                self.used.insert(name.clone(), LooksCss(looks));
                self.names.push(name);
                self.names.len() - 1
            })
        });
        self.by_stack.insert(scopes.to_vec(), class);
        class
    }
}

/// Loads the syntax set and themes now (they are otherwise loaded on first use).
pub fn warm_up() {
    LazyLock::force(&SYNTAXES);
    LazyLock::force(&LOADED_THEMES);
}

/// The contrast every token colour must reach against its theme's code
/// background: WCAG 2.2 AA for normal text (1.4.3), comments included.
pub(crate) const MIN_CONTRAST: f64 = 4.5;

/// What [`readable`] aims at: a little above [`MIN_CONTRAST`], so that a
/// colour never sits on the line after rounding to whole RGB values.
const AIM_CONTRAST: f64 = MIN_CONTRAST + 0.1;

type Rgb = [u8; 3];

/// WCAG 2 relative luminance of an sRGB colour.
fn luminance(c: Rgb) -> f64 {
    let lin = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
}

/// WCAG 2 contrast ratio of two opaque colours (1 to 21).
pub(crate) fn contrast(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// `a` moved the fraction `t` of the way to `b`, per channel.
fn mix(a: Rgb, b: Rgb, t: f64) -> Rgb {
    std::array::from_fn(|i| {
        let v = f64::from(a[i]) + (f64::from(b[i]) - f64::from(a[i])) * t;
        v.round().clamp(0.0, 255.0) as u8
    })
}

/// A colour as the reader sees it on `bg`: a translucent one blended onto it.
fn on(c: Color, bg: Rgb) -> Rgb {
    mix(bg, [c.r, c.g, c.b], f64::from(c.a) / 255.0)
}

/// `c`, or the nearest colour on the way from `c` to `toward` that reaches
/// [`AIM_CONTRAST`] on `bg`. Moving towards the theme's own text colour keeps
/// the hue family of the palette while gaining lightness (dark themes) or
/// depth (light ones). `toward` must reach the aim itself.
fn readable(c: Rgb, toward: Rgb, bg: Rgb) -> Rgb {
    if contrast(c, bg) >= AIM_CONTRAST {
        return c;
    }
    (1..=64)
        .map(|step| mix(c, toward, f64::from(step) / 64.0))
        .find(|m| contrast(*m, bg) >= AIM_CONTRAST)
        .unwrap_or(toward)
}

/// A theme's code background and text colour, the text colour made readable
/// first (towards black or white, whichever the background is further from).
fn base_colors(theme: &Theme) -> (Rgb, Rgb) {
    let s = &theme.settings;
    let bg = s
        .background
        .map_or([255, 255, 255], |c| on(c, [255, 255, 255]));
    let fg = s.foreground.map_or([0, 0, 0], |c| on(c, bg));
    let extreme = if contrast([0, 0, 0], bg) >= contrast([255, 255, 255], bg) {
        [0, 0, 0]
    } else {
        [255, 255, 255]
    };
    (bg, readable(fg, extreme, bg))
}

fn hex(c: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// The stylesheet for highlighted lab files: each theme's text and
/// background for `.lh-code`, then every class used, in every theme.
///
/// The syntect themes' own palettes are not readable enough (comments at
/// 2.3-3.2:1, some tokens at 3-4.4:1), so every colour is blended onto the
/// background and, when it falls short of [`MIN_CONTRAST`], moved towards
/// the theme's text colour until it reaches it. The classes keep the
/// themes' original colours as keys, so cached highlighting stays valid.
pub(crate) fn theme_css<'a>(used: impl IntoIterator<Item = (&'a String, &'a LooksCss)>) -> String {
    let used: BTreeSet<(&String, &LooksCss)> = used.into_iter().collect();
    let mut out = String::from(
        "/* Lab file highlighting: one palette per mdBook theme, every colour at least \
         4.5:1 on its background. Generated by mdbook-labs. */\n",
    );
    for (i, (name, _)) in THEMES.iter().enumerate() {
        let scope = if *name == "light" {
            ".light, html:not(.js)".to_owned()
        } else {
            format!(".{name}")
        };
        let (bg, fg) = base_colors(&LOADED_THEMES[i]);
        let scoped = |sel: &str| {
            scope
                .split(", ")
                .map(|s| format!("{s} {sel}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "{} {{ color: {}; background-color: {}; }}",
            scoped(".lh-code"),
            hex(fg),
            hex(bg)
        );
        for (class, looks) in &used {
            let l = looks.0[i];
            let [r, g, b, a] = l.rgba;
            let color = readable(on(Color { r, g, b, a }, bg), fg, bg);
            let mut decl = format!("color: {};", hex(color));
            let font = FontStyle::from_bits_truncate(l.font);
            if font.contains(FontStyle::BOLD) {
                decl.push_str(" font-weight: bold;");
            }
            if font.contains(FontStyle::ITALIC) {
                decl.push_str(" font-style: italic;");
            }
            if font.contains(FontStyle::UNDERLINE) {
                decl.push_str(" text-decoration: underline;");
            }
            let _ = writeln!(out, "{} {{ {decl} }}", scoped(&format!(".{class}")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
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
}
