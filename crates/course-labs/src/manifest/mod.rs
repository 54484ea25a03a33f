//! `lab.yaml`: the raw serde shape, and the validated [`Lab`] built from it.

mod diagnostics;
mod lint;
mod model;
mod raw;
mod steps;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use serde_saphyr::Spanned;

use crate::diag::Diagnostic;
use crate::files::resolve_files;
use crate::version::Version;

pub use model::{Check, CheckSpec, HttpMethod, Lab, Need, Port, Requirement, Step};

use diagnostics::yaml_diagnostic;
use lint::lint_command;
use raw::{RawLab, module_number};
use steps::validate_check;

/// Longest manifest we read; a lab.yaml is a page of text, not a data set.
const MAX_MANIFEST_BYTES: usize = 256 * 1024;
/// Default time a check may take before it counts as failed.
pub(super) const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time a step may run before the sidecar stops it.
const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(600);
/// The longest a step may be given.
const MAX_STEP_TIMEOUT_SECS: u64 = 3600;

/// Whether `id` is a valid lab or step id: 1–64 of `a-z`, `0-9` and `-`,
/// starting with a letter or digit. Anything path- or URL-shaped fails.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
}

// ----------------------------------------------------------------- loading

/// Reads and validates `dir/lab.yaml`, resolving the lab's files on disk.
pub fn load_lab(dir: &Path) -> Result<Lab, Vec<Diagnostic>> {
    let manifest = dir.join(crate::LAB_FILE);
    let bytes = std::fs::read(&manifest).map_err(|e| {
        vec![Diagnostic::new(&manifest, 0, 0, format!("cannot read the lab manifest: {e}"))
            .with_help("every folder under labs/ needs a lab.yaml (see the README's lab manifest reference)")]
    })?;
    parse_lab(&manifest, dir, &bytes)
}

/// Validates manifest bytes as if read from `manifest` inside `dir`.
/// Any bytes give `Ok` or `Err`, never a panic.
pub fn parse_lab(manifest: &Path, dir: &Path, bytes: &[u8]) -> Result<Lab, Vec<Diagnostic>> {
    let at = |line: u64, col: u64, msg: String| Diagnostic::new(manifest, line, col, msg);
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(vec![at(
            0,
            0,
            format!(
                "lab.yaml is {} bytes; the limit is {MAX_MANIFEST_BYTES}",
                bytes.len()
            ),
        )]);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
            + 1;
        vec![at(line, 0, "lab.yaml is not valid UTF-8".into())]
    })?;
    let raw: RawLab =
        serde_saphyr::from_str(text).map_err(|e| vec![yaml_diagnostic(manifest, &e)])?;

    let files_spec = raw.files_spec();
    let mut problems = Vec::new();
    let folder = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    let module = module_number(&raw.module.value).unwrap_or_else(|| {
        let (line, col) = pos(&raw.module);
        problems.push(
            at(
                line,
                col,
                "`module` is not a module number from 0 to 99".into(),
            )
            .with_help("write the course module the lab belongs to, e.g. `module: 3` (or `03`)"),
        );
        0
    });
    let (id_line, id_col) = pos(&raw.id);
    if !is_valid_id(&raw.id.value) {
        problems.push(
            at(
                id_line,
                id_col,
                format!("`{}` is not a valid lab id", raw.id.value),
            )
            .with_help("use 1–64 lowercase letters, digits and dashes, e.g. `model-serving`"),
        );
    } else if raw.id.value != folder {
        problems.push(
            at(
                id_line,
                id_col,
                format!(
                    "the lab id `{}` differs from its folder name `{folder}`",
                    raw.id.value
                ),
            )
            .with_help(format!(
                "set `id: {folder}` or rename the folder to labs/{}",
                raw.id.value
            )),
        );
    }
    if raw.title.trim().is_empty() {
        problems.push(at(0, 0, "`title` is empty".into()).with_help("give the lab a short title"));
    }
    if raw.minutes == 0 {
        problems.push(
            at(0, 0, "`minutes` is 0".into()).with_help("say how long the lab takes, in minutes"),
        );
    }

    let mut requires = Vec::new();
    for r in raw.requires {
        let version = match r.version {
            None => None,
            Some(v) => match Version::parse(&v.value) {
                Some(parsed) => Some(parsed),
                None => {
                    let (l, c) = pos(&v);
                    problems.push(
                        at(l, c, format!("`{}` is not a version number", v.value)).with_help(
                            "write a minimum version such as \"3.11\" or \"1.30.0\" (quoted)",
                        ),
                    );
                    None
                }
            },
        };
        requires.push(Requirement {
            tool: r.tool,
            version,
            optional: r.optional,
        });
    }

    let mut ports = Vec::new();
    let mut seen_ports = HashSet::new();
    for p in raw.ports {
        let (l, c) = pos(&p);
        if p.value.port == 0 {
            problems.push(at(l, c, "port 0 is not a port a lab can declare".into()));
        } else if !seen_ports.insert(p.value.port) {
            problems.push(at(l, c, format!("port {} is declared twice", p.value.port)));
        }
        ports.push(Port {
            port: p.value.port,
            service: p.value.service,
            line: l,
        });
    }

    let mut runs_with = Vec::new();
    let mut runs_with_lines = Vec::new();
    for r in raw.runs_with {
        let (l, c) = pos(&r);
        if !is_valid_id(&r.value) {
            problems.push(at(
                l,
                c,
                format!("`{}` in runs_with is not a lab id", r.value),
            ));
        }
        runs_with.push(r.value);
        runs_with_lines.push(l);
    }

    let files = match resolve_files(manifest, dir, &files_spec, &raw.ignore) {
        Ok(files) => files,
        Err(mut errs) => {
            problems.append(&mut errs);
            Vec::new()
        }
    };

    let mut steps = Vec::new();
    let mut step_ids: Vec<(String, u64)> = Vec::new();
    for s in raw.steps {
        let (l, c) = pos(&s.id);
        if !is_valid_id(&s.id.value) {
            problems.push(
                at(l, c, format!("`{}` is not a valid step id", s.id.value))
                    .with_help("use lowercase letters, digits and dashes; progress is stored under this id, so keep it stable"),
            );
        } else if let Some((_, first)) = step_ids.iter().find(|(id, _)| *id == s.id.value) {
            problems.push(
                at(
                    l,
                    c,
                    format!(
                        "duplicate step id `{}` (first used on line {first})",
                        s.id.value
                    ),
                )
                .with_help("every step needs its own id"),
            );
        }
        step_ids.push((s.id.value.clone(), l));
        if s.run.is_none() && s.check.is_none() && s.text.trim().is_empty() {
            problems.push(at(
                l,
                c,
                format!("step `{}` has no text, run or check", s.id.value),
            ));
        }
        let timeout = match s.timeout {
            Some(0) => {
                problems.push(at(
                    l,
                    c,
                    format!("step `{}` has a timeout of 0 seconds", s.id.value),
                ));
                DEFAULT_STEP_TIMEOUT
            }
            Some(t) if t > MAX_STEP_TIMEOUT_SECS => {
                problems.push(at(
                    l,
                    c,
                    format!(
                        "step `{}` has a timeout of {t} s; the limit is {MAX_STEP_TIMEOUT_SECS} s",
                        s.id.value
                    ),
                ));
                DEFAULT_STEP_TIMEOUT
            }
            Some(t) => Duration::from_secs(t),
            None => DEFAULT_STEP_TIMEOUT,
        };
        let run = s.run.map(|r| {
            lint_command(manifest, &r, "run", &mut problems);
            r.value
        });
        let cleanup = s.cleanup.map(|r| {
            lint_command(manifest, &r, "cleanup", &mut problems);
            r.value
        });
        let mut needs = Vec::new();
        for n in &s.needs {
            match Need::parse(&n.value) {
                Some(need) if !needs.contains(&need) => needs.push(need),
                Some(_) => {}
                None => {
                    let (nl, nc) = pos(n);
                    let all: Vec<&str> = Need::ALL.iter().map(|n| n.as_str()).collect();
                    problems.push(at(nl, nc, format!("unknown need `{}`", n.value)).with_help(
                        format!("a step's `needs` lists some of: {}", all.join(", ")),
                    ));
                }
            }
        }
        let mut stops = Vec::new();
        for target in &s.stops {
            let (tl, tc) = pos(target);
            let earlier = steps.iter().find(|e: &&Step| e.id == target.value);
            match earlier {
                Some(e) if e.service => stops.push(target.value.clone()),
                Some(_) => problems.push(
                    at(tl, tc, format!("step `{}` stops `{}`, which is not a service", s.id.value, target.value))
                        .with_help("`stops` names earlier steps with `service: true` whose process this step replaces"),
                ),
                None => problems.push(
                    at(tl, tc, format!("step `{}` stops `{}`, which is no earlier step of this lab", s.id.value, target.value))
                        .with_help("`stops` names earlier service steps of the same lab"),
                ),
            }
        }
        if s.service && run.is_none() {
            problems.push(at(
                l,
                c,
                format!(
                    "step `{}` is a service but has no `run` command",
                    s.id.value
                ),
            ));
        }
        let check = match s.check {
            None => None,
            Some(raw_check) => match validate_check(manifest, raw_check, &mut problems) {
                Ok(check) => Some(check),
                Err(d) => {
                    problems.push(d);
                    None
                }
            },
        };
        steps.push(Step {
            id: s.id.value,
            title: s.title,
            text: s.text,
            run,
            service: s.service,
            timeout,
            check,
            cleanup,
            needs,
            rerunnable: s.rerunnable,
            stops,
        });
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Lab {
        id: raw.id.value,
        title: raw.title,
        module,
        summary: raw.summary,
        minutes: raw.minutes,
        requires,
        ports,
        runs_with,
        files,
        steps,
        dir: dir.to_path_buf(),
        manifest_path: manifest.to_path_buf(),
        runs_with_lines,
    })
}

pub(super) fn pos<T>(s: &Spanned<T>) -> (u64, u64) {
    (s.referenced.line(), s.referenced.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(is_valid_id("model-serving"));
        assert!(is_valid_id("03-serving"));
        for bad in [
            "",
            "..",
            "../x",
            "a/b",
            "A",
            "-x",
            "x y",
            "%2e%2e",
            &"a".repeat(65),
        ] {
            assert!(!is_valid_id(bad), "{bad:?} should be invalid");
        }
    }
}
