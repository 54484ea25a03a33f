//! Build-time syntax highlighting with syntect and bat's syntax definitions
//! (two-face), to class-based HTML: the page ships no highlighter, and each
//! of mdBook's five themes gets its own colours from one stylesheet.
//!
//! A token's class names its look in all five themes at once: the class
//! `lh-3fa2c1` stands for "this colour and weight in light, that one in rust,
//! …". A file's HTML then carries one short class per token run instead of
//! syntect's full scope names, which keeps lab pages light, and the
//! stylesheet holds only the looks that the book's files use.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use syntect::highlighting::Theme;
use syntect::parsing::{Scope, SyntaxReference, SyntaxSet};
use two_face::theme::EmbeddedThemeName;

mod lines;
mod palette;
mod python;
mod spans;
#[cfg(test)]
mod tests;

pub(crate) use palette::theme_css;
use spans::highlight_uncached;

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
const CACHE_FORMAT: &str = "mdbook-labs highlight v2";

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
            let started = std::time::Instant::now();
            let h = highlight_uncached(syntax, content);
            tracing::trace!(
                "highlighted {rel} ({}, {} bytes) in {:.1?}",
                syntax.name,
                content.len(),
                started.elapsed()
            );
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

/// Loads the syntax set and themes now (they are otherwise loaded on first use).
pub fn warm_up() {
    LazyLock::force(&SYNTAXES);
    LazyLock::force(&LOADED_THEMES);
}
