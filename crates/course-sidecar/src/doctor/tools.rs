//! The tools a lab `requires`: how each is asked its version, how its
//! answer is judged against the lab's minimum, and how it is installed on
//! each system.

use std::path::Path;
use std::time::Duration;

use course_labs::Version;

use super::run::{Ran, clip, first_line, run_bounded};
use super::{Fix, Item, State};

/// How a tool is asked its version, and how it is installed.
struct ToolSpec {
    name: &'static str,
    program: &'static str,
    args: &'static [&'static str],
    linux: &'static str,
    macos: &'static str,
    windows: &'static str,
}

const WSL: &str = "in your WSL terminal, as on Linux: ";

const TOOLS: &[ToolSpec] = &[
    ToolSpec {
        name: "python",
        program: "python3",
        args: &["--version"],
        linux: "`sudo apt install python3` (Debian, Ubuntu), or let uv install one: `uv python install 3.12`",
        macos: "`brew install python@3.12`, or let uv install one: `uv python install 3.12`",
        windows: "in your WSL terminal: `sudo apt install python3`, or `uv python install 3.12`",
    },
    ToolSpec {
        name: "uv",
        program: "uv",
        args: &["--version"],
        linux: "`curl -LsSf https://astral.sh/uv/install.sh | sh`, then open a new terminal; to update, `uv self update`",
        macos: "`brew install uv` (to update, `brew upgrade uv`)",
        windows: "in your WSL terminal: `curl -LsSf https://astral.sh/uv/install.sh | sh`, then open a new terminal",
    },
    ToolSpec {
        name: "git",
        program: "git",
        args: &["--version"],
        linux: "`sudo apt install git`",
        macos: "`xcode-select --install`, or `brew install git`",
        windows: "in your WSL terminal: `sudo apt install git`",
    },
    ToolSpec {
        name: "curl",
        program: "curl",
        args: &["--version"],
        linux: "`sudo apt install curl`",
        macos: "curl comes with macOS; `brew install curl` for a newer one",
        windows: "in your WSL terminal: `sudo apt install curl`",
    },
    ToolSpec {
        name: "docker",
        program: "docker",
        args: &["--version"],
        linux: "install Docker Engine from docs.docker.com/engine/install (the distribution's `docker.io` may be too old), then `sudo usermod -aG docker $USER` and log in again",
        macos: "install Docker Desktop, or Colima: `brew install colima docker docker-buildx docker-compose`, then `colima start`",
        windows: "install Docker Desktop with the WSL 2 backend, and turn on Settings › Resources › WSL integration for your distribution",
    },
    ToolSpec {
        name: "kubectl",
        program: "kubectl",
        args: &["version", "--client"],
        linux: "the binary from kubernetes.io/docs/tasks/tools/install-kubectl-linux, into a folder on your PATH",
        macos: "`brew install kubectl`",
        windows: "in your WSL terminal, the Linux binary from kubernetes.io/docs/tasks/tools/install-kubectl-linux",
    },
    ToolSpec {
        name: "kind",
        program: "kind",
        args: &["version"],
        linux: "the release binary from kind.sigs.k8s.io/docs/user/quick-start, into a folder on your PATH",
        macos: "`brew install kind`",
        windows: "in your WSL terminal, the Linux release binary from kind.sigs.k8s.io/docs/user/quick-start",
    },
    ToolSpec {
        name: "helm",
        program: "helm",
        args: &["version", "--short"],
        linux: "the script of helm.sh/docs/intro/install (`get-helm-4`)",
        macos: "`brew install helm`",
        windows: "in your WSL terminal, the script of helm.sh/docs/intro/install",
    },
    ToolSpec {
        name: "prometheus",
        program: "prometheus",
        args: &["--version"],
        linux: "the release tarball from prometheus.io/download; put `prometheus` and `promtool` on your PATH",
        macos: "`brew install prometheus`",
        windows: "in your WSL terminal, the Linux tarball from prometheus.io/download",
    },
    ToolSpec {
        name: "promtool",
        program: "promtool",
        args: &["--version"],
        linux: "it comes in Prometheus's release tarball (prometheus.io/download); put it on your PATH",
        macos: "`brew install prometheus` (promtool comes with it)",
        windows: "in your WSL terminal, from the Linux tarball of prometheus.io/download",
    },
    ToolSpec {
        name: "amtool",
        program: "amtool",
        args: &["--version"],
        linux: "it comes in Alertmanager's release tarball (prometheus.io/download); put it on your PATH",
        macos: "`brew install alertmanager` (amtool comes with it)",
        windows: "in your WSL terminal, from Alertmanager's Linux tarball of prometheus.io/download",
    },
];

/// The program and arguments that print `tool`'s version: from the table,
/// else `TOOL --version` when the name is a plain program name. Anything
/// with a path separator, a space or a shell character is never run.
pub(crate) fn version_command(tool: &str) -> Option<(&str, &'static [&'static str])> {
    if let Some(spec) = TOOLS.iter().find(|t| t.name == tool) {
        return Some((spec.program, spec.args));
    }
    let plain = !tool.is_empty()
        && tool.len() <= 64
        && !tool.starts_with(['-', '.'])
        && tool
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    plain.then_some((tool, &["--version"][..]))
}

fn tool_fix(tool: &str) -> Fix {
    match TOOLS.iter().find(|t| t.name == tool) {
        Some(t) => Fix::new(t.linux, t.macos, t.windows),
        None => Fix::new(
            &format!("install {tool} with your package manager (`sudo apt install {tool}`, say)"),
            &format!("install {tool} with Homebrew (`brew install {tool}`, say)"),
            &format!("{WSL}install {tool} with `sudo apt install {tool}`"),
        ),
    }
}

/// The tool's version against `min`.
pub(crate) async fn tool_item(tool: &str, min: Option<&Version>, limit: Duration) -> Item {
    let title = match min {
        Some(v) => format!("{tool} {v} or newer"),
        None => tool.to_owned(),
    };
    let item =
        |state, detail| Item::new(format!("tool-{tool}"), "tool", title.clone(), state, detail);
    let Some((program, args)) = version_command(tool) else {
        return item(
            State::Unknown,
            format!("“{tool}” is not a program name the doctor runs; check it yourself"),
        );
    };
    let shown = format!("{program} {}", args.join(" "));
    let state_detail = match run_bounded(Path::new(program), args, limit).await {
        Ran::Missing => (
            State::Problem,
            format!("{program} is not installed (not found on the PATH)"),
        ),
        Ran::TimedOut => (
            State::Unknown,
            format!("`{shown}` did not answer within {} s", limit.as_secs()),
        ),
        Ran::Failed(e) => (
            State::Unknown,
            format!("`{shown}` could not run: {}", clip(&e)),
        ),
        Ran::Exited { ok, output } => judge_version(&shown, ok, &output, min),
    };
    item(state_detail.0, state_detail.1).fix(tool_fix(tool))
}

/// A tool's answer to its version command, against the minimum.
pub(crate) fn judge_version(
    shown: &str,
    ok: bool,
    output: &str,
    min: Option<&Version>,
) -> (State, String) {
    let found = Version::find_in(output);
    match (ok, found, min) {
        (false, _, _) => (
            State::Unknown,
            format!("`{shown}` failed: {}", clip(first_line(output))),
        ),
        (true, None, None) => (
            State::Ok,
            format!("installed ({})", clip(first_line(output))),
        ),
        (true, None, Some(_)) => (
            State::Unknown,
            format!("`{shown}` names no version: {}", clip(first_line(output))),
        ),
        (true, Some(v), Some(min)) if v < *min => (
            State::Problem,
            format!("found {v}; this lab needs {min} or newer"),
        ),
        (true, Some(v), _) => (State::Ok, format!("found {v}")),
    }
}
