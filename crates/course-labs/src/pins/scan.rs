//! Finding the pinned things of a file: images, actions, Python versions
//! and package specifiers, with their lines.

use std::path::Path;

use crate::diag::Diagnostic;

use super::PinKind;

pub(super) type Found = (u64, String, String, PinKind);

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

pub(super) fn dockerfile_pins(text: &str) -> Vec<Found> {
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

pub(super) fn yaml_pins(text: &str) -> Vec<Found> {
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

pub(super) fn pyproject_pins(
    text: &str,
    path: &Path,
    problems: &mut Vec<Diagnostic>,
) -> Vec<Found> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
