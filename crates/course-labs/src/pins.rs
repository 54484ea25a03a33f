//! Pins: every version a lab fixes carries its reason and the day it was
//! last checked against upstream, on the line directly above it:
//!
//! ```text
//! # pin (checked 2026-12-06): Debian 13 stable; Python 3.13 (NumPy 2.5 needs >= 3.12)
//! FROM python:3.13-slim-trixie AS base
//! ```
//!
//! What counts as a pin, in a lab's exported files:
//! - `FROM <image>` in a Dockerfile (not a stage of the same file, not `scratch`);
//! - an `image:` value in a YAML file, except the course's own images (names
//!   starting `wine`) and template expressions;
//! - `uses: owner/repo@ref` in a YAML file (a GitHub workflow);
//! - in `pyproject.toml`: `requires-python`, and each dependency string of
//!   `[project] dependencies`, `[project.optional-dependencies]` and
//!   `[dependency-groups]`, one per line.
//!
//! The lab page shows the pins as its "Tested with" stamp, with the versions
//! `uv.lock` resolved for the Python dependencies.

use std::path::Path;

use crate::diag::Diagnostic;
use crate::manifest::Lab;

/// One pinned thing of a lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The file, relative to the lab folder, with `/` separators.
    pub file: String,
    /// 1-based line of the pinned thing.
    pub line: u64,
    /// What is pinned: an image repository, an action, a package, `python`.
    pub name: String,
    /// The version as written: a tag, a ref's release comment, a specifier.
    pub version: String,
    /// What kind of pin it is.
    pub kind: PinKind,
    /// The day it was last checked (`YYYY-MM-DD`), from its comment.
    pub checked: Option<String>,
    /// Why this version, from its comment.
    pub reason: Option<String>,
}

/// Kinds of pins, as the stamp groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PinKind {
    /// A container image (`FROM`, `image:`).
    Image,
    /// A GitHub Action (`uses:`).
    Action,
    /// The Python version a project requires.
    Python,
    /// A Python package dependency.
    Package,
}

/// The pins of `lab` and the problems with them: a pin without its comment,
/// a comment with a malformed or future date, dependencies sharing a line.
/// `today` is `YYYY-MM-DD`.
pub fn lab_pins(lab: &Lab, today: &str) -> (Vec<Pin>, Vec<Diagnostic>) {
    let mut pins = Vec::new();
    let mut problems = Vec::new();
    for f in &lab.files {
        let path = lab.dir.join(&f.rel);
        let name = f.rel.rsplit('/').next().unwrap_or(&f.rel);
        let kind = if crate::conventions::is_dockerfile(name) {
            FileKind::Dockerfile
        } else if name.ends_with(".yml") || name.ends_with(".yaml") {
            FileKind::Yaml
        } else if name == "pyproject.toml" {
            FileKind::Pyproject
        } else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let found = match kind {
            FileKind::Dockerfile => dockerfile_pins(&text),
            FileKind::Yaml => yaml_pins(&text),
            FileKind::Pyproject => pyproject_pins(&text, &path, &mut problems),
        };
        let lines: Vec<&str> = text.lines().collect();
        for (line, name, version, kind) in found {
            let above = (line >= 2)
                .then(|| lines.get(line as usize - 2))
                .flatten()
                .copied()
                .unwrap_or("");
            let mut pin = Pin {
                file: f.rel.clone(),
                line,
                name,
                version,
                kind,
                checked: None,
                reason: None,
            };
            match parse_comment(above) {
                Some((date, reason)) => {
                    if !is_date(date) {
                        problems.push(
                            Diagnostic::new(&path, line - 1, 0, format!("the pin comment of `{}` has the date `{date}`, which is not a day in YYYY-MM-DD", pin.name))
                                .with_help("write the day you checked it, e.g. `# pin (checked 2026-12-06): …`"),
                        );
                    } else if date > today {
                        problems.push(
                            Diagnostic::new(&path, line - 1, 0, format!("the pin comment of `{}` says it was checked on {date}, after today ({today})", pin.name))
                                .with_help("write the day you actually checked it"),
                        );
                    }
                    pin.checked = Some(date.to_owned());
                    pin.reason = Some(reason.to_owned());
                }
                None => problems.push(
                    Diagnostic::new(&path, line, 0, format!("`{} {}` is pinned without its reason", pin.name, pin.version))
                        .with_help("add on the line above: `# pin (checked YYYY-MM-DD): why this version` (the README's section on pins)"),
                ),
            }
            pins.push(pin);
        }
    }
    (pins, problems)
}

enum FileKind {
    Dockerfile,
    Yaml,
    Pyproject,
}

/// `# pin (checked DATE): REASON` → (DATE, REASON), REASON not empty.
fn parse_comment(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_start().strip_prefix('#')?.trim_start();
    let rest = rest.strip_prefix("pin (checked ")?;
    let (date, rest) = rest.split_once(')')?;
    let reason = rest.strip_prefix(':')?.trim();
    (!reason.is_empty()).then_some((date.trim(), reason))
}

/// Whether `s` is a calendar day written `YYYY-MM-DD`.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<u32>().ok());
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    if !s
        .chars()
        .enumerate()
        .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// Today's date in UTC as `YYYY-MM-DD`.
pub fn today_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    civil_date((secs / 86_400) as i64)
}

/// Days since 1970-01-01 → `YYYY-MM-DD` (proleptic Gregorian calendar).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

type Found = (u64, String, String, PinKind);

/// Splits `repo:tag`, `repo@digest` or `repo:tag@digest` into (repo, version).
fn split_image(image: &str) -> (String, String) {
    let (base, digest) = match image.split_once('@') {
        Some((b, d)) => (b, Some(d)),
        None => (image, None),
    };
    // A ':' after the last '/' is a tag; one before it is a registry's port.
    let slash = base.rfind('/').map_or(0, |i| i + 1);
    let (repo, tag) = match base[slash..].rfind(':') {
        Some(i) => (&base[..slash + i], Some(&base[slash + i + 1..])),
        None => (base, None),
    };
    let version = match (tag, digest) {
        (Some(t), _) => t.to_owned(),
        (None, Some(d)) => d.chars().take(19).collect(),
        (None, None) => "latest".to_owned(),
    };
    (repo.to_owned(), version)
}

fn is_course_image(repo: &str) -> bool {
    repo.rsplit('/')
        .next()
        .is_some_and(|n| n.starts_with("wine"))
}

fn dockerfile_pins(text: &str) -> Vec<Found> {
    let mut stages: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut words = line.split_whitespace();
        if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("FROM")) {
            continue;
        }
        let rest: Vec<&str> = words.filter(|w| !w.starts_with("--")).collect();
        let Some(image) = rest.first() else { continue };
        let lower = image.to_ascii_lowercase();
        let is_stage = stages.contains(&lower);
        if let [_, as_kw, name, ..] = rest.as_slice()
            && as_kw.eq_ignore_ascii_case("AS")
        {
            stages.push(name.to_ascii_lowercase());
        }
        if is_stage || lower == "scratch" || image.contains('$') {
            continue;
        }
        let (repo, version) = split_image(image);
        out.push(((i + 1) as u64, repo, version, PinKind::Image));
    }
    out
}

/// The value of `key:` on a YAML line (`key: v`, `- key: v`), unquoted.
fn yaml_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let t = line.trim_start();
    let t = t.strip_prefix("- ").map_or(t, str::trim_start);
    let v = t.strip_prefix(key)?.strip_prefix(':')?;
    let v = match v.find(" #") {
        Some(i) => &v[..i],
        None => v,
    };
    let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
    (!v.is_empty()).then_some(v)
}

fn yaml_pins(text: &str) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = (i + 1) as u64;
        if let Some(image) = yaml_value(line, "image") {
            if image.contains("{{") || image.contains("${") {
                continue;
            }
            let (repo, version) = split_image(image);
            if !is_course_image(&repo) {
                out.push((n, repo, version, PinKind::Image));
            }
        } else if let Some(action) = yaml_value(line, "uses") {
            if action.starts_with("./") || action.starts_with("docker://") {
                continue;
            }
            let (name, reference) = action.split_once('@').unwrap_or((action, ""));
            // The release a SHA stands for, from its trailing comment.
            let release = line
                .split_once(" #")
                .map(|(_, c)| c.split_whitespace().next().unwrap_or("").to_owned())
                .filter(|c| !c.is_empty());
            let version = release.unwrap_or_else(|| reference.to_owned());
            out.push((n, name.to_owned(), version, PinKind::Action));
        }
    }
    out
}

/// The dependency name of a PEP 508 string (`mlflow[extras]>=3 ; marker`).
fn package_name(dep: &str) -> &str {
    let end = dep
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .unwrap_or(dep.len());
    &dep[..end]
}

fn pyproject_pins(text: &str, path: &Path, problems: &mut Vec<Diagnostic>) -> Vec<Found> {
    let mut out = Vec::new();
    let mut table = String::new();
    let mut in_array = false;
    for (i, raw) in text.lines().enumerate() {
        let n = (i + 1) as u64;
        let line = raw.split(" #").next().unwrap_or(raw).trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if !in_array && line.starts_with('[') && !line.contains('=') {
            table = line
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_owned();
            continue;
        }
        let deps_table = matches!(
            table.as_str(),
            "project.optional-dependencies" | "dependency-groups"
        );
        let strings = quoted_strings(line);
        if !in_array {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let key = key.trim();
            if table == "project" && key == "requires-python" {
                if let Some(spec) = strings.first() {
                    out.push((n, "python".to_owned(), spec.clone(), PinKind::Python));
                }
                continue;
            }
            let is_deps = (table == "project" && key == "dependencies") || deps_table;
            if !is_deps || !value.trim_start().starts_with('[') {
                continue;
            }
            if !strings.is_empty() {
                problems.push(
                    Diagnostic::new(path, n, 0, format!("`{key}` lists dependencies on the line that opens its array"))
                        .with_help("put each dependency on a line of its own, with its `# pin (checked …): why` comment above it"),
                );
            }
            in_array = !value.contains(']');
            continue;
        }
        if line.starts_with('{') {
            // `{ include-group = "dev" }`
        } else if strings.len() > 1 {
            problems.push(
                Diagnostic::new(path, n, 0, "several dependencies on one line")
                    .with_help("put each dependency on a line of its own, with its `# pin (checked …): why` comment above it"),
            );
        } else if let Some(dep) = strings.first() {
            let name = package_name(dep);
            let spec = dep[name.len()..].trim().to_owned();
            out.push((n, name.to_owned(), spec, PinKind::Package));
        }
        if line.contains(']') && !line.contains('[') {
            in_array = false;
        }
    }
    out
}

/// The double- or single-quoted strings of a TOML line.
fn quoted_strings(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '"' || c == '\'' {
            let s: String = chars.by_ref().take_while(|&d| d != c).collect();
            out.push(s);
        }
    }
    out
}

/// The version each package has in `uv.lock` (`[[package]] name, version`).
pub fn locked_versions(lock: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut name: Option<String> = None;
    for line in lock.lines() {
        if line == "[[package]]" {
            name = None;
        } else if let Some(v) = line.strip_prefix("name = ") {
            name = Some(v.trim_matches('"').to_owned());
        } else if let Some(v) = line.strip_prefix("version = ")
            && let Some(n) = name.take()
        {
            out.push((n, v.trim_matches('"').to_owned()));
        }
    }
    out
}

/// PEP 503 normalisation, to match pyproject names with the lock's.
pub fn normalize_package(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_dates_and_days() {
        assert_eq!(
            parse_comment("  # pin (checked 2026-12-06): Debian 13"),
            Some(("2026-12-06", "Debian 13"))
        );
        assert_eq!(parse_comment("# pin (checked 2026-12-06):"), None);
        assert_eq!(parse_comment("# pinned to 3.13"), None);
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2026-02-29"));
        assert!(!is_date("2026-13-01"));
        assert!(!is_date("26-12-06"));
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(20_793), "2026-12-06");
    }

    #[test]
    fn images_split_into_repository_and_version() {
        assert_eq!(
            split_image("python:3.13-slim-trixie"),
            ("python".into(), "3.13-slim-trixie".into())
        );
        assert_eq!(
            split_image("localhost:5000/wine-api"),
            ("localhost:5000/wine-api".into(), "latest".into())
        );
        assert_eq!(
            split_image("kindest/node:v1.35.1@sha256:abc"),
            ("kindest/node".into(), "v1.35.1".into())
        );
    }

    #[test]
    fn dockerfile_stages_are_not_pins() {
        let text = "FROM ghcr.io/astral-sh/uv:0.13.9 AS uv\nFROM python:3.13-slim-trixie AS base\nFROM base AS builder\nCOPY --from=uv /uv /bin/uv\nFROM base\nFROM scratch\n";
        let found = dockerfile_pins(text);
        let names: Vec<_> = found
            .iter()
            .map(|f| (f.0, f.1.as_str(), f.2.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                (1, "ghcr.io/astral-sh/uv", "0.13.9"),
                (2, "python", "3.13-slim-trixie")
            ]
        );
    }

    #[test]
    fn yaml_images_and_actions() {
        let text = "services:\n  api:\n    image: wine-api:01\n  db:\n    image: \"ghcr.io/mlflow/mlflow:v3.17.2\"\nsteps:\n  - uses: actions/checkout@0123abcd # v6.0.1\n  - uses: ./local\n    image: {{ .Values.image }}\n";
        let found = yaml_pins(text);
        let names: Vec<_> = found
            .iter()
            .map(|f| (f.0, f.1.as_str(), f.2.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                (5, "ghcr.io/mlflow/mlflow", "v3.17.2"),
                (7, "actions/checkout", "v6.0.1")
            ]
        );
    }

    #[test]
    fn pyproject_dependencies_one_per_line() {
        let text = "[project]\nname = \"x\"\nrequires-python = \">=3.11\"\ndependencies = [\n    \"mlflow>=3.5,<4\",\n    \"pandas\",\n]\n\n[dependency-groups]\ndev = [\n    \"pytest>=8\",\n    { include-group = \"lint\" },\n]\nlint = [\"ruff==0.14.0\", \"mypy\"]\n";
        let mut problems = Vec::new();
        let found = pyproject_pins(text, Path::new("pyproject.toml"), &mut problems);
        let names: Vec<_> = found
            .iter()
            .map(|f| (f.0, f.1.as_str(), f.2.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                (3, "python", ">=3.11"),
                (5, "mlflow", ">=3.5,<4"),
                (6, "pandas", ""),
                (11, "pytest", ">=8")
            ]
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, 14);
    }

    #[test]
    fn lock_versions_and_names() {
        let lock =
            "version = 1\n[[package]]\nname = \"scikit-learn\"\nversion = \"1.7.2\"\nsource = {}\n";
        assert_eq!(
            locked_versions(lock),
            [("scikit-learn".to_owned(), "1.7.2".to_owned())]
        );
        assert_eq!(normalize_package("Scikit_Learn"), "scikit-learn");
    }
}
