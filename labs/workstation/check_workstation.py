#!/usr/bin/env python3
"""Check that this machine has the tools the MLOps course uses, module by module.

    python3 check_workstation.py                      # ready for module 00? the rest is listed
    python3 check_workstation.py --module 1           # ready for modules 00-01?
    python3 check_workstation.py --module 5           # ... for the Kubernetes module?
    python3 check_workstation.py --module 9           # the whole course
    python3 check_workstation.py --serve              # also the Rust toolchain of `course serve`
    python3 check_workstation.py --os macos           # another system's install hints
    python3 check_workstation.py --save report.txt    # also write the report to a file

For each tool it runs the tool's own version command, takes the first version
number in what the command prints, and compares it with the course's minimum:
the same rule the checks on the course pages use. It prints one table row per
tool with a hint for your system (how to install, start or upgrade it), then
whether you are ready for each stage of the course.

It exits with 1 when a tool that the chosen modules need is missing, too old
or not working, 0 otherwise. Tools of later modules, optional tools and the
Rust toolchain (unless you pass --serve) are checked and reported the same
way, but they never make the exit code 1: install them when you get there.

It only observes: it runs version commands, nothing else, and writes no file
unless you pass --save. Standard library only, so it runs before anything
else is installed. It also starts on a Python older than the course's 3.11
(3.8 or later), so an old `python3` can report itself as too old instead of
failing with a syntax error.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass

# Seconds one version command may take. `docker version` asks the Docker
# engine, and an engine that hangs must not hang the whole check.
TIMEOUT_SECONDS = 20

# The statuses a row can have.
OK = "OK"
MISSING = "MISSING"  # not on PATH
TOO_OLD = "TOO OLD"  # runs, but reports a version below the minimum
NO_VERSION = "NO VERSION"  # runs, but prints no version number we can read
FAILED = "FAILED"  # on PATH, but the command exits with an error or hangs

SYSTEMS = ("linux", "macos", "wsl", "windows")

# The course's modules are 00 to 09.
LAST_MODULE = 9

DIGITS = "0123456789"

WINDOWS_HINT = (
    "the course runs in WSL 2: in PowerShell run `wsl --install`, restart, "
    "then run this script inside Ubuntu"
)


@dataclass(frozen=True)
class Tool:
    """One tool the course uses, and how to ask it for its version."""

    name: str
    # Tried in order; the first one found on PATH is run with `args`.
    executables: tuple[str, ...]
    args: tuple[str, ...]
    minimum: str
    # The first module of the course whose lab uses this tool.
    module: int
    # Install hints for "linux", "macos" and "wsl": shown when the tool is
    # missing, and for any other problem that has no hint of its own below.
    hints: dict[str, str]
    # Shown instead when the tool runs but reports a version below the minimum.
    upgrade_hints: dict[str, str] | None = None
    # Shown instead when the tool is there but its version command fails.
    failed_hints: dict[str, str] | None = None
    # Useful from `module` on, but no lab step depends on it: never fails.
    optional: bool = False
    # Needed by `course serve` (the book on your machine, with live checks),
    # not by any lab: fails only with --serve.
    serve: bool = False

    @property
    def command(self) -> str:
        return " ".join((self.executables[0], *self.args))

    @property
    def needed_from(self) -> str:
        if self.serve:
            return "course serve"
        if self.optional:
            return f"module {self.module:02d}, optional"
        return f"module {self.module:02d}"


DOCKER_INSTALL = {
    "linux": "install Docker Engine from Docker's apt repository: "
    "https://docs.docker.com/engine/install/",
    "macos": "install Docker Desktop: https://docs.docker.com/desktop/",
    "wsl": "install Docker Desktop for Windows and turn on "
    "Settings > Resources > WSL integration for your distribution",
}

# rustup installs the current stable Rust; distributions' rustc packages are
# often older than the course needs (Debian 13: 1.85).
RUSTUP = "curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh, then open a new terminal"
RUST_INSTALL = dict.fromkeys(("linux", "macos", "wsl"), f"install Rust with rustup: {RUSTUP}")
RUST_UPGRADE = {
    "linux": "rustup update stable (a distribution's rustc: remove it, install rustup)",
    "macos": "rustup update stable",
    "wsl": "rustup update stable (a distribution's rustc: remove it, install rustup)",
}

# Distribution packages of Prometheus are 2.x on Debian 12/13 and Ubuntu 24.04:
# too old for the labs' rule tests (Prometheus 3.5 or later).
PROMETHEUS_INSTALL = {
    "linux": "the release archive from https://prometheus.io/download/ "
    "(unpack it, put prometheus and promtool on your PATH)",
    "macos": "brew install prometheus",
    "wsl": "the release archive from https://prometheus.io/download/ "
    "(unpack it, put prometheus and promtool on your PATH)",
}

# In the order of the course: the table lists them so.
TOOLS = (
    Tool(
        name="python",
        executables=("python3", "python"),
        args=("--version",),
        minimum="3.11",
        module=0,
        hints={
            "linux": "sudo apt install python3 (Debian 13: 3.13, Ubuntu 24.04: 3.12); "
            "on older systems: uv python install 3.12 --default",
            "macos": "brew install python, or: uv python install 3.12 --default",
            "wsl": "sudo apt install python3 (Ubuntu 24.04: 3.12), "
            "or: uv python install 3.12 --default",
        },
    ),
    Tool(
        name="uv",
        executables=("uv",),
        args=("--version",),
        minimum="0.13",
        module=0,
        hints={
            "linux": "curl -LsSf https://astral.sh/uv/install.sh | sh, then open a new terminal",
            "macos": "brew install uv, or: curl -LsSf https://astral.sh/uv/install.sh | sh",
            "wsl": "curl -LsSf https://astral.sh/uv/install.sh | sh, then open a new terminal",
        },
        upgrade_hints={
            "linux": "uv self update (installed with Homebrew or pipx: upgrade it there)",
            "macos": "brew upgrade uv, or: uv self update if you used the installer",
            "wsl": "uv self update (installed with pipx: pipx upgrade uv)",
        },
    ),
    Tool(
        name="git",
        executables=("git",),
        args=("--version",),
        minimum="2.30",
        module=0,
        hints={
            "linux": "sudo apt install git",
            "macos": "xcode-select --install, or: brew install git",
            "wsl": "sudo apt install git",
        },
    ),
    Tool(
        name="curl",
        executables=("curl",),
        args=("--version",),
        minimum="7.76",
        module=1,
        hints={
            "linux": "sudo apt install curl",
            "macos": "comes with macOS; for a newer one: brew install curl",
            "wsl": "sudo apt install curl",
        },
    ),
    Tool(
        name="docker",
        executables=("docker",),
        args=("--version",),
        minimum="25.0",
        module=1,
        hints=DOCKER_INSTALL,
    ),
    Tool(
        # The client can talk to the engine: `docker --version` alone passes
        # while the daemon is stopped. Each way this row can fail has its own
        # fix: no docker command (install Docker), no answer (start the
        # engine), an answer from an engine older than 25 (upgrade it).
        name="docker engine",
        executables=("docker",),
        args=("version", "--format", "{{.Server.Version}}"),
        minimum="25.0",
        module=1,
        hints=DOCKER_INSTALL,
        failed_hints={
            "linux": "start it: sudo systemctl start docker; without sudo: "
            "sudo usermod -aG docker $USER, then log out and in",
            "macos": "start Docker Desktop (open -a Docker) and wait until it is running",
            "wsl": "start Docker Desktop on Windows; check its WSL integration "
            "is on for this distribution",
        },
        upgrade_hints={
            "linux": "the engine is too old: upgrade Docker Engine from Docker's apt repository "
            "(sudo apt update && sudo apt install docker-ce docker-ce-cli, see "
            "https://docs.docker.com/engine/install/); a distribution's docker.io is often older",
            "macos": "the engine is too old: update Docker Desktop "
            "(its menu: Check for updates), then restart it",
            "wsl": "the engine is too old: update Docker Desktop on Windows "
            "(its menu: Check for updates), then restart it",
        },
    ),
    Tool(
        # BuildKit's client. `docker build` goes through it, and Compose
        # refuses to build without buildx 0.17 or later.
        name="docker buildx",
        executables=("docker",),
        args=("buildx", "version"),
        minimum="0.17",
        module=1,
        hints={
            "linux": "sudo apt install docker-buildx-plugin (from Docker's apt repository)",
            "macos": "comes with Docker Desktop: update Docker Desktop",
            "wsl": "comes with Docker Desktop: update Docker Desktop on Windows",
        },
    ),
    Tool(
        name="docker compose",
        executables=("docker",),
        args=("compose", "version"),
        minimum="2.24",
        module=1,
        hints={
            "linux": "sudo apt install docker-compose-plugin (from Docker's apt repository)",
            "macos": "comes with Docker Desktop: update Docker Desktop",
            "wsl": "comes with Docker Desktop: update Docker Desktop on Windows",
        },
    ),
    Tool(
        # Within one minor version of module 05's cluster, Kubernetes 1.37.
        name="kubectl",
        executables=("kubectl",),
        args=("version", "--client"),
        minimum="1.36",
        module=5,
        hints={
            "linux": "https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/ "
            "(or: sudo snap install kubectl --classic)",
            "macos": "brew install kubectl",
            "wsl": "https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/",
        },
    ),
    Tool(
        # The release whose notes list module 05's node image.
        name="kind",
        executables=("kind",),
        args=("version",),
        minimum="0.33",
        module=5,
        hints={
            "linux": "release binary: https://kind.sigs.k8s.io/docs/user/quick-start/ "
            "(or: go install sigs.k8s.io/kind@v0.33.0)",
            "macos": "brew install kind",
            "wsl": "release binary: https://kind.sigs.k8s.io/docs/user/quick-start/ "
            "(or: go install sigs.k8s.io/kind@v0.33.0)",
        },
    ),
    Tool(
        name="helm",
        executables=("helm",),
        args=("version", "--short"),
        minimum="4.0",
        module=5,
        hints={
            "linux": "curl -fsSL https://raw.githubusercontent.com/helm/helm/main/scripts/get-helm-4"
            " | bash",
            "macos": "brew install helm",
            "wsl": "curl -fsSL https://raw.githubusercontent.com/helm/helm/main/scripts/get-helm-4"
            " | bash",
        },
    ),
    Tool(
        # Module 06 runs on GitHub; gh is the convenient way to start a
        # workflow and to verify an image's attestations (gh 2.49 or later).
        name="gh",
        executables=("gh",),
        args=("--version",),
        minimum="2.49",
        module=6,
        optional=True,
        hints={
            "linux": "GitHub's apt repository: "
            "https://github.com/cli/cli/blob/trunk/docs/install_linux.md",
            "macos": "brew install gh",
            "wsl": "GitHub's apt repository: "
            "https://github.com/cli/cli/blob/trunk/docs/install_linux.md",
        },
    ),
    Tool(
        name="prometheus",
        executables=("prometheus",),
        args=("--version",),
        minimum="3.5",
        module=7,
        hints=PROMETHEUS_INSTALL,
    ),
    Tool(
        name="promtool",
        executables=("promtool",),
        args=("--version",),
        minimum="3.5",
        module=7,
        hints={
            "linux": "comes with prometheus, in the same release archive",
            "macos": "comes with prometheus: brew install prometheus",
            "wsl": "comes with prometheus, in the same release archive",
        },
    ),
    Tool(
        # Module 07's Alertmanager steps are optional; amtool checks its config.
        name="amtool",
        executables=("amtool",),
        args=("--version",),
        minimum="0.33",
        module=7,
        optional=True,
        hints={
            "linux": "the alertmanager release archive from https://prometheus.io/download/",
            "macos": "brew install alertmanager",
            "wsl": "the alertmanager release archive from https://prometheus.io/download/",
        },
    ),
    Tool(
        # `course serve` and `course sidecar` are built by cargo on first use.
        # The workspace declares rust-version 1.89, the release a locked
        # dependency, serde-saphyr 2.2, needs: cargo refuses anything older.
        name="rustc",
        executables=("rustc",),
        args=("--version",),
        minimum="1.89",
        module=0,
        serve=True,
        hints=RUST_INSTALL,
        upgrade_hints=RUST_UPGRADE,
    ),
    Tool(
        name="cargo",
        executables=("cargo",),
        args=("--version",),
        minimum="1.89",
        module=0,
        serve=True,
        hints=RUST_INSTALL,
        upgrade_hints=RUST_UPGRADE,
    ),
)


@dataclass(frozen=True)
class Result:
    """What checking one tool found."""

    tool: Tool
    status: str
    found: str = "-"  # the version read, or "-"
    detail: str = ""  # why a FAILED or NO VERSION row failed


def parse_version(text: str) -> tuple[int, ...] | None:
    """`MAJOR[.MINOR[.PATCH...]]` with an optional leading `v`, else None."""
    text = text.strip()
    if text.startswith("v"):
        text = text[1:]
    parts = text.split(".")
    if not text or len(parts) > 6 or not all(p and set(p) <= set(DIGITS) for p in parts):
        return None
    return tuple(int(p) for p in parts)


def find_version(output: str) -> str | None:
    """The first version-looking token (`digits.digits[...]`) in a tool's output.

    `Python 3.11.7` gives 3.11.7, `Docker Compose version v2.29.1` gives
    2.29.1, `kind v0.31.0 go1.25.5 linux/amd64` gives 0.31.0. A number glued
    to letters (`x86_64`, `go1`) does not start a version, except after `v`.
    This is the rule of the course's own checks, so both agree.
    """
    i = 0
    while i < len(output):
        char = output[i]
        before = output[i - 1] if i > 0 else " "
        starts = not (before.isascii() and before.isalnum()) or before == "v"
        if char in DIGITS and starts:
            start = i
            while i < len(output) and (output[i] in DIGITS or output[i] == "."):
                i += 1
            token = output[start:i].rstrip(".")
            if "." in token and parse_version(token) is not None:
                return token
        else:
            i += 1
    return None


def at_least(found: str, minimum: str) -> bool:
    """Compares numerically, padding with zeros: 3.11 == 3.11.0 < 3.12."""
    a, b = parse_version(found), parse_version(minimum)
    if a is None or b is None:
        raise ValueError(f"not a version: {found!r} or {minimum!r}")
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)) >= b + (0,) * (width - len(b))


def check_tool(tool: Tool, path: str | None = None) -> Result:
    """Runs `tool`'s version command found on `path` (default: $PATH)."""
    executable = None
    for name in tool.executables:
        executable = shutil.which(name, path=path)
        if executable:
            break
    if not executable:
        return Result(tool, MISSING)
    try:
        proc = subprocess.run(
            [executable, *tool.args],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return Result(tool, FAILED, detail=f"no answer within {TIMEOUT_SECONDS} s")
    except OSError as err:
        return Result(tool, FAILED, detail=str(err))
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        detail = f"exit code {proc.returncode}"
        first_line = next((line.strip() for line in output.splitlines() if line.strip()), "")
        if first_line:
            detail = f"{detail}: {first_line}"
        return Result(tool, FAILED, detail=detail)
    version = find_version(output)
    if version is None:
        first_line = output.strip().splitlines()[0] if output.strip() else "(no output)"
        return Result(tool, NO_VERSION, detail=f"printed: {first_line}")
    status = OK if at_least(version, tool.minimum) else TOO_OLD
    return Result(tool, status, found=version)


def this_system() -> str:
    """linux, macos, wsl or windows: which install hints apply here."""
    system = platform.system()
    if system == "Darwin":
        return "macos"
    if system == "Windows":
        return "windows"
    # WSL reports Linux; its kernel release names Microsoft.
    if "microsoft" in platform.release().lower():
        return "wsl"
    return "linux"


def hint_for(result: Result, system: str) -> str:
    """What to do about a row: install, start or upgrade, for `system`."""
    if result.status == OK:
        return ""
    if system == "windows":
        return WINDOWS_HINT
    tool = result.tool
    hints = tool.hints
    if result.status == TOO_OLD and tool.upgrade_hints:
        hints = tool.upgrade_hints
    elif result.status == FAILED and tool.failed_hints:
        hints = tool.failed_hints
    return hints[system]


def modules_name(first: int, last: int) -> str:
    if first == last:
        return f"module {first:02d}"
    return f"modules {first:02d}-{last:02d}"


def scope_name(module: int, serve: bool = False) -> str:
    """What a run checks for: `module 00`, `modules 00-05`, ..."""
    scope = "the whole course" if module == LAST_MODULE else modules_name(0, module)
    return f"{scope} and course serve" if serve else scope


def is_needed(tool: Tool, module: int, serve: bool) -> bool:
    """Whether a problem with `tool` fails a run for modules 00 to `module`."""
    if tool.optional:
        return False
    if tool.serve:
        return serve
    return tool.module <= module


def status_cell(result: Result, module: int, serve: bool) -> str:
    """The status, marked when it cannot fail this run: `MISSING (later)`."""
    tool = result.tool
    if result.status == OK or is_needed(tool, module, serve):
        return result.status
    if tool.optional or tool.serve:
        return f"{result.status} (optional)"
    return f"{result.status} (later)"


def stages() -> list[tuple[int, int]]:
    """The course's stages: from a module where a tool is first needed to the
    module before the next such one. With today's tools: 00, 01-04, 05-06, 07-09."""
    firsts = sorted({t.module for t in TOOLS if not t.optional and not t.serve})
    return [
        (first, firsts[i + 1] - 1 if i + 1 < len(firsts) else LAST_MODULE)
        for i, first in enumerate(firsts)
    ]


def stage_lines(results: list[Result]) -> list[str]:
    """Ready or not for each stage, each stage needing the stages before it too."""
    entries = []
    blocked = False  # an earlier stage is not ready
    for first, last in stages():
        missing = [
            r.tool.name
            for r in results
            if r.status != OK and r.tool.module == first and not (r.tool.optional or r.tool.serve)
        ]
        if missing:
            verdict = "no: " + ", ".join(missing) + (", and the tools above" if blocked else "")
        elif blocked:
            verdict = "no: the tools above"
        else:
            verdict = "yes"
        blocked = blocked or bool(missing)
        entries.append((f"ready for {modules_name(first, last)}:", verdict))
    serve_missing = [r.tool.name for r in results if r.tool.serve and r.status != OK]
    entries.append(
        ("ready for course serve:", "no: " + ", ".join(serve_missing) if serve_missing else "yes")
    )
    width = max(len(label) for label, _ in entries)
    out = ["By stage (install each tool when you reach its module):"]
    out += [f"  {label.ljust(width)}  {verdict}" for label, verdict in entries]
    optional = [
        f"{r.tool.name} (module {r.tool.module:02d})"
        for r in results
        if r.tool.optional and r.status != OK
    ]
    if optional:
        out.append("  not installed, optional: " + ", ".join(optional) + "; see the hints above")
    return out


def report(results: list[Result], system: str, module: int, serve: bool = False) -> tuple[str, int]:
    """The table and summary to print, and the exit code.

    Only tools that modules 00 to `module` need (and with `serve`, the Rust
    toolchain) can make the exit code 1; the others are marked `(later)` or
    `(optional)`, and the stage lines say when each is needed.
    """
    headers = ("tool", "found", "minimum", "status", "needed from", "hint")
    rows = [
        (
            r.tool.name,
            r.found,
            r.tool.minimum,
            status_cell(r, module, serve),
            r.tool.needed_from,
            hint_for(r, system),
        )
        for r in results
    ]
    problems = [r for r in results if r.status != OK and is_needed(r.tool, module, serve)]
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers) - 1)]

    def line(cells: tuple[str, ...]) -> str:
        # No zip(): its strict= argument needs Python 3.10, and this file
        # must start on older ones.
        padded = [cells[i].ljust(widths[i]) for i in range(len(widths))]
        return "  ".join((*padded, cells[-1])).rstrip()

    scope = scope_name(module, serve)
    out = [f"Workstation check for {scope} (hints for {system})", ""]
    out += [line(headers), *(line(row) for row in rows)]
    details = [f"  {r.tool.name} ({r.tool.command}): {r.detail}" for r in results if r.detail]
    if details:
        out += ["", "Details:", *details]
    out.append("")
    if problems:
        names = ", ".join(r.tool.name for r in problems)
        out.append(f"{len(problems)} of {len(results)} tools need attention: {names}")
    else:
        need = "need" if serve else "needs"
        out.append(f"Ready: every tool {scope} {need} is installed and recent enough.")
    out += ["", *stage_lines(results)]
    return "\n".join(out), 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Check that this machine has the tools the MLOps course uses, module by module."
    )
    parser.add_argument(
        "--module",
        type=int,
        choices=range(LAST_MODULE + 1),
        default=0,
        metavar="N",
        help="fail only for tools that modules 00 to N need (0-9, default 0); "
        "tools of later modules are still checked and listed",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="also fail while the Rust toolchain that `course serve` builds with "
        "is missing or too old",
    )
    parser.add_argument(
        "--os",
        choices=SYSTEMS,
        default=None,
        help="print the hints of this system instead of the one detected",
    )
    parser.add_argument(
        "--save",
        metavar="FILE",
        help="also write the report to FILE, to keep or to attach when you ask for help",
    )
    args = parser.parse_args(argv)
    # None when PATH is unset: shutil.which then uses the system default.
    path = os.environ.get("PATH")
    results = [check_tool(tool, path) for tool in TOOLS]
    text, code = report(results, args.os or this_system(), args.module, args.serve)
    print(text)
    if args.save:
        with open(args.save, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
