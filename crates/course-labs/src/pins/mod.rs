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

mod lock;
mod scan;

pub use lock::{locked_versions, normalize_package};
use scan::{dockerfile_pins, pyproject_pins, yaml_pins};

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
            annotate(&mut pin, above, &path, today, &mut problems);
            pins.push(pin);
        }
    }
    (pins, problems)
}

/// Takes the pin's date and reason from the comment line `above` it, or
/// reports that it has none (or a bad date).
fn annotate(pin: &mut Pin, above: &str, path: &Path, today: &str, problems: &mut Vec<Diagnostic>) {
    let line = pin.line;
    let Some((date, reason)) = parse_comment(above) else {
        problems.push(
            Diagnostic::new(path, line, 0, format!("`{} {}` is pinned without its reason", pin.name, pin.version))
                .with_help("add on the line above: `# pin (checked YYYY-MM-DD): why this version` (the README's section on pins)"),
        );
        return;
    };
    if !is_date(date) {
        problems.push(
            Diagnostic::new(path, line - 1, 0, format!("the pin comment of `{}` has the date `{date}`, which is not a day in YYYY-MM-DD", pin.name))
                .with_help("write the day you checked it, e.g. `# pin (checked 2026-12-06): …`"),
        );
    } else if date > today {
        problems.push(
            Diagnostic::new(
                path,
                line - 1,
                0,
                format!(
                    "the pin comment of `{}` says it was checked on {date}, after today ({today})",
                    pin.name
                ),
            )
            .with_help("write the day you actually checked it"),
        );
    }
    pin.checked = Some(date.to_owned());
    pin.reason = Some(reason.to_owned());
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
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
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
}
