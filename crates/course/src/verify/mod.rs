//! `course lab test`: every file a learner copies out of a lab is checked by
//! the tool its own ecosystem uses, and every lab's pytest suite runs.
//!
//! Which tools apply is read off the files themselves (names, folders and a
//! glance at the content), so a new lab is checked without registering
//! anything. The tools are rows of one table (`registry.rs`): how each is
//! run, its oldest usable version, its install hint. They are looked up in
//! `.tools/` (installed by `scripts/install-tools.sh`), then on `PATH`. A
//! missing or too old tool is a skip with the install hint on a learner's
//! machine, and a failure in CI (`CI=true`), where nothing may be skipped.
//!
//! The rest: `classify.rs` (what a file is), `folders.rs` (a Helm chart, a
//! uv project's tests) and `run.rs` (a tool run with a deadline).

mod classify;
mod folders;
mod registry;
mod run;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use classify::classify;
use course_labs::conventions::is_ignored_dir;

/// The Kubernetes version manifests are validated against.
pub const KUBERNETES_VERSION: &str = "1.37.0";

/// How one check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The tool accepted the file(s).
    Pass,
    /// The tool rejected them; its own output says why.
    Fail(String),
    /// The tool is not installed (outside CI); the text says how to install it.
    Skip(String),
}

/// One tool run over one file or folder of a lab.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The lab (or fixture folder) name.
    pub lab: String,
    /// The tool.
    pub tool: &'static str,
    /// What it looked at, relative to the lab.
    pub target: String,
    /// How it ended.
    pub verdict: Verdict,
    /// How long it took.
    pub elapsed: Duration,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (word, detail) = match &self.verdict {
            Verdict::Pass => ("pass", None),
            Verdict::Fail(out) => ("FAIL", Some(out)),
            Verdict::Skip(why) => ("skip", Some(why)),
        };
        write!(
            f,
            "{word}  {:<22} {:<18} {} ({:.1?})",
            self.lab, self.tool, self.target, self.elapsed
        )?;
        if let Some(detail) = detail {
            for line in detail.lines().take(80) {
                write!(f, "\n      {line}")?;
            }
        }
        Ok(())
    }
}

/// Where the tools are.
#[derive(Debug, Clone)]
pub struct Tools {
    /// The project root (holds `.tools/` and `scripts/`).
    pub root: PathBuf,
    /// `CI=true`: a missing tool is a failure.
    pub ci: bool,
}

impl Tools {
    /// Tools of the project at `root`, with CI read from the environment.
    pub fn new(root: &Path) -> Tools {
        Tools {
            root: root.to_path_buf(),
            ci: crate::ci(),
        }
    }

    /// A program: `.tools/venv/bin/NAME`, `.tools/bin/NAME`, then `PATH`.
    fn find(&self, name: &str) -> Option<PathBuf> {
        let local = [
            self.root.join(".tools/venv/bin").join(name),
            self.root.join(".tools/bin").join(name),
        ];
        if let Some(p) = local.into_iter().find(|p| p.is_file()) {
            return Some(p);
        }
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    }

    /// A tool that is not installed: a skip with `hint`, a failure in CI.
    fn missing(&self, tool: &str, hint: &str) -> Verdict {
        self.unusable(format!("`{tool}` is not installed; {hint}"))
    }

    /// A tool older than the checks need: as if missing.
    fn too_old(&self, why: &str, hint: &str) -> Verdict {
        self.unusable(format!("{why}; {hint}"))
    }

    fn unusable(&self, why: String) -> Verdict {
        if self.ci {
            Verdict::Fail(format!("{why}\nCI=true: no check may be skipped"))
        } else {
            Verdict::Skip(why)
        }
    }
}

/// Checks `files` (relative to `dir`) with every tool that applies, plus
/// the pytest suite when `dir` is a uv project. `label` names the lab in
/// the report.
pub fn verify(label: &str, dir: &Path, files: &[String], tools: &Tools) -> Vec<Outcome> {
    let mut out = Vec::new();
    let mut charts = BTreeSet::new();
    for rel in files {
        let path = dir.join(rel);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if rel.ends_with("Chart.yaml") {
            charts.insert(
                rel.trim_end_matches("Chart.yaml")
                    .trim_end_matches('/')
                    .to_owned(),
            );
        }
        let Some(kind) = classify(rel, &text) else {
            continue;
        };
        for tool in registry::tools_for(kind) {
            let (verdict, elapsed) = tool.run(tools, &path, dir);
            out.push(Outcome {
                lab: label.to_owned(),
                tool: tool.label,
                target: rel.clone(),
                verdict,
                elapsed,
            });
        }
    }
    for chart in charts {
        out.extend(folders::verify_chart(label, dir, &chart, tools));
    }
    if dir.join("pyproject.toml").is_file() && dir.join("uv.lock").is_file() {
        out.push(folders::pytest(label, dir, tools));
    }
    out
}

/// Counts of a run, and the closing line.
pub fn summary(outcomes: &[Outcome]) -> (usize, usize, usize, String) {
    let passed = outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Pass)
        .count();
    let failed = outcomes
        .iter()
        .filter(|o| matches!(o.verdict, Verdict::Fail(_)))
        .count();
    let skipped = outcomes
        .iter()
        .filter(|o| matches!(o.verdict, Verdict::Skip(_)))
        .count();
    let mut line = format!("{passed} passed, {failed} failed");
    if skipped > 0 {
        line.push_str(&format!(", {skipped} skipped"));
    }
    (passed, failed, skipped, line)
}

/// Every file under `dir` (for fixture folders that are not labs).
pub fn all_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !e.file_name().to_str().is_some_and(is_ignored_dir))
        .flatten()
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            e.path()
                .strip_prefix(dir)
                .ok()
                .and_then(|p| p.to_str())
                .map(|s| s.replace('\\', "/"))
        })
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line() {
        let o = |v| Outcome {
            lab: "l".into(),
            tool: "t",
            target: "f".into(),
            verdict: v,
            elapsed: Duration::ZERO,
        };
        let (_, _, _, line) = summary(&[o(Verdict::Pass), o(Verdict::Fail("x".into()))]);
        assert_eq!(line, "1 passed, 1 failed");
        let (_, _, _, line) = summary(&[o(Verdict::Pass), o(Verdict::Skip("x".into()))]);
        assert_eq!(line, "1 passed, 0 failed, 1 skipped");
    }
}
