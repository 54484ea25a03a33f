#!/usr/bin/env python3
"""Check that this machine has every tool the MLOps course uses.

    python3 check_workstation.py                      # what module 00 needs; the rest is listed
    python3 check_workstation.py --module 3           # what modules 00-03 need
    python3 check_workstation.py --module 9           # the whole course
    python3 check_workstation.py --os macos           # another system's install hints
    python3 check_workstation.py --save report.txt    # also write the report to a file

For each tool it runs the tool's own version command, takes the first version
number in what the command prints, and compares it with the course's minimum:
the same rule the checks on the course pages use. It prints one table row per
tool with a hint for your system: how to install, start or upgrade it.

It exits with 1 when a tool that the chosen modules need is missing, too old
or not working, 0 otherwise. Tools of later modules are checked and reported
the same way, but they never make the exit code 1: you install them when you
get there.

Standard library only, so it runs before anything else is installed. It also
starts on a Python older than the course's 3.11 (3.8 or later), so an old
`python3` can report itself as too old instead of failing with a syntax error.
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
    """One tool the course needs, and how to ask it for its version."""

    name: str
    # Tried in order; the first one found on PATH is run with `args`.
    executables: tuple[str, ...]
    args: tuple[str, ...]
    minimum: str
    # The first module of the course whose lab needs this tool.
    module: int
    # Install hints for "linux", "macos" and "wsl": shown when the tool is
    # missing, and for any other problem that has no hint of its own below.
    hints: dict[str, str]
    # Shown instead when the tool runs but reports a version below the minimum.
    upgrade_hints: dict[str, str] | None = None
    # Shown instead when the tool is there but its version command fails.
    failed_hints: dict[str, str] | None = None

    @property
    def command(self) -> str:
        return " ".join((self.executables[0], *self.args))


DOCKER_INSTALL = {
    "linux": "install Docker Engine from Docker's apt repository: "
    "https://docs.docker.com/engine/install/",
    "macos": "install Docker Desktop: https://docs.docker.com/desktop/",
    "wsl": "install Docker Desktop for Windows and turn on "
    "Settings > Resources > WSL integration for your distribution",
}

TOOLS = (
    Tool(
        name="python",
        executables=("python3", "python"),
        args=("--version",),
        minimum="3.11",
        module=0,
        hints={
            "linux": "sudo apt install python3 (Debian 12: 3.11, Ubuntu 24.04: 3.12); "
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
        name="kubectl",
        executables=("kubectl",),
        args=("version", "--client"),
        minimum="1.32",
        module=5,
        hints={
            "linux": "https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/ "
            "(or: sudo snap install kubectl --classic)",
            "macos": "brew install kubectl",
            "wsl": "https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/",
        },
    ),
    Tool(
        name="kind",
        executables=("kind",),
        args=("version",),
        minimum="0.31",
        module=5,
        hints={
            "linux": "release binary: https://kind.sigs.k8s.io/docs/user/quick-start/ "
            "(or: go install sigs.k8s.io/kind@v0.31.0)",
            "macos": "brew install kind",
            "wsl": "release binary: https://kind.sigs.k8s.io/docs/user/quick-start/ "
            "(or: go install sigs.k8s.io/kind@v0.31.0)",
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


def scope_name(module: int) -> str:
    if module == 0:
        return "module 00"
    if module == LAST_MODULE:
        return "the whole course"
    return f"modules 00-{module:02d}"


def report(results: list[Result], system: str, module: int) -> tuple[str, int]:
    """The table and summary to print, and the exit code.

    Only tools that modules 00 to `module` need can make the exit code 1;
    the others are reported as `(later)` and listed under their module.
    """
    headers = ("tool", "found", "minimum", "status", "needed from", "hint")
    rows = []
    problems = []
    later: dict[int, list[str]] = {}
    for r in results:
        needed = r.tool.module <= module
        status = r.status if needed or r.status == OK else f"{r.status} (later)"
        rows.append(
            (
                r.tool.name,
                r.found,
                r.tool.minimum,
                status,
                f"module {r.tool.module:02d}",
                hint_for(r, system),
            )
        )
        if r.status != OK:
            if needed:
                problems.append(r)
            else:
                later.setdefault(r.tool.module, []).append(r.tool.name)
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers) - 1)]

    def line(cells: tuple[str, ...]) -> str:
        # No zip(): its strict= argument needs Python 3.10, and this file
        # must start on older ones.
        padded = [cells[i].ljust(widths[i]) for i in range(len(widths))]
        return "  ".join((*padded, cells[-1])).rstrip()

    scope = scope_name(module)
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
        out.append(f"Ready: every tool {scope} needs is installed and recent enough.")
    for first in sorted(later):
        names = ", ".join(later[first])
        out.append(f"Before module {first:02d}: {names} (see the hints above).")
    return "\n".join(out), 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Check that this machine has every tool the MLOps course uses."
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
    text, code = report(results, args.os or this_system(), args.module)
    print(text)
    if args.save:
        with open(args.save, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
