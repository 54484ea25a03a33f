//! The checks of whole folders rather than files: a Helm chart (linted,
//! rendered offline, the render validated as manifests) and a uv project's
//! pytest suite.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::registry::{self, INSTALL};
use super::run::{Finished, HELM_TEMPLATE_LIMIT, run_program, run_timed, run_timed_split};
use super::{Outcome, Tools, Verdict};

pub(super) fn verify_chart(label: &str, dir: &Path, chart: &str, tools: &Tools) -> Vec<Outcome> {
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
        Some(tools.missing("helm", INSTALL))
    };
    match render {
        Some(v) => out.push(outcome("helm template", (v, started.elapsed()))),
        None => {
            out.push(outcome("helm template", (Verdict::Pass, started.elapsed())));
            let validate = registry::tool("kubernetes-validate");
            out.push(outcome(validate.label, validate.run(tools, &rendered, dir)));
        }
    }
    let _ = std::fs::remove_file(&rendered);
    out
}

pub(super) fn pytest(label: &str, dir: &Path, tools: &Tools) -> Outcome {
    let started = Instant::now();
    let Some(uv) = tools.find("uv") else {
        return Outcome {
            lab: label.to_owned(),
            tool: "pytest",
            target: "tests/".into(),
            verdict: tools.missing("uv", INSTALL),
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
