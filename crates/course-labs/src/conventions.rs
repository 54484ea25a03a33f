//! Rules the whole workspace shares, written once: which folders are never
//! part of a lab, which hosts count as the learner's own machine, which
//! relative paths stay inside their folder, how headings, labs, steps and
//! file pages are named in the built book, what a Dockerfile is, and how a
//! typo is answered.
//!
//! The preprocessor, the CLI and the sidecar all depend on this crate, so a
//! rule kept here cannot drift between them.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Component, Path, PathBuf};

// ------------------------------------------------------------ ignored folders

/// Folders that are never part of a lab and never worth watching:
/// environments, caches, VCS data, MLflow's local runs.
pub const IGNORED_DIRS: &[&str] = &[
    ".venv",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    "node_modules",
    ".git",
    "mlruns",
];

/// Whether a folder of this name is one of [`IGNORED_DIRS`].
pub fn is_ignored_dir(name: &str) -> bool {
    IGNORED_DIRS.contains(&name)
}

/// Whether any folder on `path` is one of [`IGNORED_DIRS`].
pub fn in_ignored_dir(path: &Path) -> bool {
    path.components()
        .any(|c| matches!(c, Component::Normal(n) if n.to_str().is_some_and(is_ignored_dir)))
}

// ------------------------------------------------------------------ loopback

/// The loopback hosts as written in a URL or an origin: what a check or a
/// page on the learner's machine may name.
pub const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

const V4: [IpAddr; 1] = [IpAddr::V4(Ipv4Addr::LOCALHOST)];
const V6: [IpAddr; 1] = [IpAddr::V6(Ipv6Addr::LOCALHOST)];
const BOTH: [IpAddr; 2] = [
    IpAddr::V4(Ipv4Addr::LOCALHOST),
    IpAddr::V6(Ipv6Addr::LOCALHOST),
];

/// The addresses a loopback host stands for, or `None` if `host` is not one:
/// `127.0.0.1`, `::1` (bare or bracketed) and `localhost` (any case, both
/// families). Nothing is resolved, so no DNS answer can point a check away
/// from the learner's machine.
pub fn loopback_addrs(host: &str) -> Option<&'static [IpAddr]> {
    match host {
        "127.0.0.1" => Some(&V4),
        "::1" | "[::1]" => Some(&V6),
        h if h.eq_ignore_ascii_case("localhost") => Some(&BOTH),
        _ => None,
    }
}

/// Whether `host` names the learner's own machine (see [`loopback_addrs`]).
pub fn is_loopback_host(host: &str) -> bool {
    loopback_addrs(host).is_some()
}

/// An authority (`host[:port]`) split into its host and port: an IPv6 host
/// keeps its brackets (`[::1]:80` → `[::1]`, 80). `None` when the port is
/// not a number, or an IPv6 address is not bracketed.
pub fn split_authority(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')? + 1;
        let (host, after) = authority.split_at(end);
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':')?)),
        }
    } else {
        match authority.split_once(':') {
            Some((_, p)) if p.contains(':') => return None,
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse().ok()?),
        Some(_) => return None,
    };
    (!host.is_empty()).then_some((host, port))
}

/// `http://HOST[:PORT]/…` with a loopback host → (host, port); the port is
/// 80 when the URL gives none.
pub fn loopback_http_url(url: &str) -> Option<(String, u16)> {
    let rest = url.strip_prefix("http://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (host, port) = split_authority(authority)?;
    is_loopback_host(host).then(|| (host.to_owned(), port.unwrap_or(80)))
}

// ---------------------------------------------------------------- containment

/// Whether `path` is relative and stays inside its folder: no root, no `..`,
/// no backslash, NUL or drive letter. (`.` parts are fine.)
pub fn is_contained(path: &str) -> bool {
    if path.is_empty() || path.contains(['\\', '\0']) {
        return false;
    }
    Path::new(path)
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        && !path
            .split('/')
            .next()
            .is_some_and(|first| first.len() == 2 && first.ends_with(':'))
}

/// A `/`-separated path (a URL path, say) as a relative path inside a root:
/// empty and `.` parts and a leading `/` go; `None` for `..`, a backslash,
/// NUL or `:` in any part.
pub fn contained_relative(path: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p if p.contains(['\\', '\0', ':']) => return None,
            p => out.push(p),
        }
    }
    Some(out)
}

/// `path` with `.` and `..` resolved lexically, or `None` if a `..` climbs
/// above its start or the path is absolute (a link's target inside a book).
pub fn resolve_contained(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

// -------------------------------------------------------------- anchors, pages

/// The id mdBook gives a heading: its text lowercased, alphanumerics, `_`
/// and `-` kept, white space made `-`, the rest dropped.
pub fn heading_id(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c)
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// `id`, or `id-1`, `id-2`… if a heading of the same page already has it,
/// as mdBook numbers repeated headings. Records the id it returns in `used`.
pub fn unique_heading_id(id: String, used: &mut HashSet<String>) -> String {
    if used.insert(id.clone()) {
        return id;
    }
    (1..)
        .map(|n| format!("{id}-{n}"))
        .find(|c| used.insert(c.clone()))
        .unwrap_or(id)
}

/// The id of a lab's embed on its chapter's page.
pub fn lab_anchor(lab: &str) -> String {
    format!("lab-{lab}")
}

/// The id of a step inside a lab's embed.
pub fn step_anchor(lab: &str, step: &str) -> String {
    format!("lab-{lab}-step-{step}")
}

/// The id of the `n`th file (from 1) in a lab's file list.
pub fn file_anchor(lab: &str, n: usize) -> String {
    format!("lab-{lab}-file-{n}")
}

/// Where the page of a lab's `n`th file (from 1) is, relative to the book
/// root: `labs/ID/files/NN-NAME.html`. The number keeps names unique; the
/// leading dots of a name go, so that no part of the path is hidden (Pages
/// artifacts leave out `.github`, and some servers refuse dot-files); and
/// `.md` becomes `_md`, because mdBook turns `x.md` anywhere in a link into
/// `x.html` (`runbook.md.html` would become `runbook.html`, a 404).
pub fn file_page_path(lab: &str, n: usize, rel: &str) -> String {
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
    format!("labs/{lab}/files/{n:02}-{name}.html")
}

/// Where a lab's zip is, relative to the book root.
pub fn zip_path(lab: &str) -> String {
    format!("labs/{lab}.zip")
}

// ------------------------------------------------------------------ file kinds

/// Whether the file at `path` (a name or a `/`-separated path) is a
/// Dockerfile: `Dockerfile`, `Containerfile`, `Dockerfile.gpu`,
/// `api.Dockerfile`, `api.dockerfile`.
pub fn is_dockerfile(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(name, "Dockerfile" | "Containerfile")
        || name.starts_with("Dockerfile.")
        || name.starts_with("Containerfile.")
        || name.ends_with(".Dockerfile")
        || name.ends_with(".dockerfile")
}

// --------------------------------------------------------------- did you mean

/// The candidate nearest to `wanted`, if one is close enough to be a typo
/// of it (or one contains the other).
pub fn nearest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(wanted, c), c))
        .filter(|(d, c)| {
            *d <= (wanted.len().max(c.len()) / 2).max(2) || c.contains(wanted) || wanted.contains(c)
        })
        .min()
        .map(|(_, c)| c)
}

/// `did you mean `x`?` for the candidate nearest to `wanted`, if any: the
/// help line of an unknown name.
pub fn did_you_mean<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    nearest(wanted, candidates).map(|n| format!("did you mean `{n}`?"))
}

/// [`did_you_mean`] for a link's fragment: `did you mean `#x`?`.
pub fn did_you_mean_anchor<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    nearest(wanted, candidates).map(|n| format!("did you mean `#{n}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignored_folders() {
        assert!(is_ignored_dir(".venv") && is_ignored_dir("node_modules"));
        assert!(!is_ignored_dir("src") && !is_ignored_dir("venv"));
        assert!(in_ignored_dir(Path::new("labs/x/.venv/lib/a.py")));
        assert!(in_ignored_dir(Path::new("a/__pycache__/b.pyc")));
        assert!(!in_ignored_dir(Path::new("labs/x/app/main.py")));
    }

    #[test]
    fn loopback_hosts() {
        for host in ["127.0.0.1", "localhost", "LocalHost", "::1", "[::1]"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "127.0.0.2",
            "0.0.0.0",
            "example.com",
            "localhost.",
            "",
            "[::2]",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
        assert_eq!(loopback_addrs("localhost").map(<[_]>::len), Some(2));
        assert_eq!(loopback_addrs("[::1]"), Some(&V6[..]));
        for h in LOOPBACK_HOSTS {
            assert!(is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn authorities() {
        assert_eq!(split_authority("[::1]:80"), Some(("[::1]", Some(80))));
        assert_eq!(split_authority("[::1]"), Some(("[::1]", None)));
        assert_eq!(
            split_authority("localhost:8000"),
            Some(("localhost", Some(8000)))
        );
        assert_eq!(split_authority("localhost"), Some(("localhost", None)));
        for bad in ["::1:80", "a:b", "a:", "[::1]x", "a:99999", ":80", "a:+1"] {
            assert_eq!(split_authority(bad), None, "{bad}");
        }
    }

    #[test]
    fn loopback_urls() {
        assert_eq!(
            loopback_http_url("http://127.0.0.1:8000/health"),
            Some(("127.0.0.1".into(), 8000))
        );
        assert_eq!(
            loopback_http_url("http://localhost"),
            Some(("localhost".into(), 80))
        );
        assert!(loopback_http_url("http://[::1]:8000/x").is_some());
        assert!(loopback_http_url("http://example.com/").is_none());
        assert!(loopback_http_url("http://127.0.0.1.example.com/").is_none());
        assert!(loopback_http_url("https://127.0.0.1/").is_none());
        assert!(loopback_http_url("http://127.0.0.1:notaport/").is_none());
    }

    #[test]
    fn containment() {
        for ok in ["a", "a/b.py", "./a", "src/**/*.py"] {
            assert!(is_contained(ok), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../b",
            "a\\b",
            "C:/x",
            "a/..",
        ] {
            assert!(!is_contained(bad), "{bad}");
        }
        assert_eq!(contained_relative("/a/./b.html"), Some("a/b.html".into()));
        assert_eq!(contained_relative("/"), Some(PathBuf::new()));
        for bad in ["/a/../b", "/a\\b", "/c:/x"] {
            assert_eq!(contained_relative(bad), None, "{bad}");
        }
        assert_eq!(
            resolve_contained(Path::new("a/b/../c.md")),
            Some("a/c.md".into())
        );
        assert_eq!(resolve_contained(Path::new("a/../../c.md")), None);
        assert_eq!(resolve_contained(Path::new("/etc")), None);
    }

    #[test]
    fn headings() {
        assert_eq!(heading_id("  Run the `api` — fast! "), "run-the-api--fast");
        assert_eq!(heading_id("Ünïcode_ok-1"), "ünïcode_ok-1");
        let mut used = HashSet::new();
        assert_eq!(unique_heading_id("a".into(), &mut used), "a");
        assert_eq!(unique_heading_id("a".into(), &mut used), "a-1");
        assert_eq!(unique_heading_id("a".into(), &mut used), "a-2");
        assert_eq!(lab_anchor("demo"), "lab-demo");
        assert_eq!(step_anchor("demo", "install"), "lab-demo-step-install");
        assert_eq!(file_anchor("demo", 3), "lab-demo-file-3");
    }

    #[test]
    fn file_pages_are_numbered_and_have_no_hidden_part() {
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
        assert_eq!(
            file_page_path("final", 17, "docs/runbook.md"),
            "labs/final/files/17-runbook_md.html"
        );
        assert!(!file_page_path("x", 1, "a.mdx.md").contains(".md"));
        assert_eq!(zip_path("demo"), "labs/demo.zip");
    }

    #[test]
    fn dockerfiles() {
        for yes in [
            "Dockerfile",
            "Dockerfile.gpu",
            "docker/api.Dockerfile",
            "api.dockerfile",
            "Containerfile",
        ] {
            assert!(is_dockerfile(yes), "{yes}");
        }
        for no in [
            "Dockerfile/x.py",
            "dockerfile.py",
            "tests/test_dockerfiles.py",
            "x.yaml",
        ] {
            assert!(!is_dockerfile(no), "{no}");
        }
    }

    #[test]
    fn suggestions() {
        let ids = ["model-serving", "docker", "tracking"];
        assert_eq!(nearest("model-servng", ids), Some("model-serving"));
        assert_eq!(nearest("dokcer", ids), Some("docker"));
        assert_eq!(nearest("kubernetes", ids), None);
        assert_eq!(
            did_you_mean("trakcing", ids).as_deref(),
            Some("did you mean `tracking`?")
        );
        assert_eq!(
            did_you_mean_anchor("dokcer", ids).as_deref(),
            Some("did you mean `#docker`?")
        );
        assert_eq!(did_you_mean("zzzzzzzzzzzz", ids), None);
    }
}
