"""lab.yaml and the checker must agree: same commands, same minimums.

The course page runs the lab's steps and checks; the script runs its own
table. A minimum changed in one place and not the other would tell a learner
two different things about the same machine.
"""

from __future__ import annotations

import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from check_workstation import TOOLS, Tool, at_least, find_version
from conftest import FakePath

LAB = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def steps() -> list[dict[str, Any]]:
    return yaml.safe_load((LAB / "lab.yaml").read_text())["steps"]


def version_checks(steps: list[dict[str, Any]]) -> dict[tuple[str, ...], dict[str, Any]]:
    """The steps' version checks, by the argv of their command."""
    return {
        tuple(shlex.split(step["check"]["command"])): step["check"]
        for step in steps
        if step.get("check", {}).get("min_version")
    }


def has_a_step(tool: Tool) -> bool:
    """The page has a step for the tools of modules 00 and 01, and for the Rust
    toolchain; later modules' tools only have the checker's rows, so that the
    first week's page asks for nothing that week does not use."""
    return not tool.optional and (tool.serve or tool.module <= 1)


def test_each_tool_of_the_first_modules_has_a_step_with_the_checkers_command_and_minimum(
    steps: list[dict[str, Any]],
) -> None:
    checks = version_checks(steps)
    known = {(tool.executables[0], *tool.args): tool for tool in TOOLS}
    for argv, check in checks.items():
        assert argv in known, f"a version step that the checker does not know: {check['command']}"
        assert check["min_version"] == known[argv].minimum, argv
    for tool in TOOLS:
        argv = (tool.executables[0], *tool.args)
        assert (argv in checks) == has_a_step(tool), tool.name


def test_week_one_asks_for_no_tool_of_a_later_module(steps: list[dict[str, Any]]) -> None:
    later = {tool.executables[0] for tool in TOOLS if tool.module > 1 and not tool.serve}
    assert {"kubectl", "kind", "helm", "prometheus"} <= later
    for step in steps:
        words = set(shlex.split(step.get("run", ""))) | set(
            shlex.split(step.get("check", {}).get("command", ""))
        )
        assert not words & later, step["id"]


@pytest.mark.parametrize(
    "tool",
    [tool for tool in TOOLS if has_a_step(tool)],
    ids=lambda tool: tool.name,
)
def test_each_version_check_fails_without_its_tool_and_passes_with_it(
    steps: list[dict[str, Any]], fake_path: FakePath, tool: Tool
) -> None:
    """The page's check, run as the course runs it (through sh), on a PATH
    without the tool, then with a working stub of it."""
    command = version_checks(steps)[(tool.executables[0], *tool.args)]["command"]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["/bin/sh", "-c", command],
            capture_output=True,
            text=True,
            env={"PATH": str(fake_path.folder)},
            timeout=30,
            check=False,
        )

    fake_path.add_healthy()
    fake_path.remove(tool.executables[0])
    assert run().returncode == 127, "the check passes without the tool"
    fake_path.add_healthy(tool.executables[0])
    proc = run()
    assert proc.returncode == 0, proc.stderr
    version = find_version(proc.stdout + proc.stderr)
    assert version is not None
    assert at_least(version, tool.minimum)


def test_version_steps_run_what_they_check(steps: list[dict[str, Any]]) -> None:
    for step in steps:
        check = step.get("check", {})
        if check.get("kind") == "command" and check.get("min_version"):
            assert step["run"] == check["command"], step["id"]


def test_every_check_has_a_hint(steps: list[dict[str, Any]]) -> None:
    for step in steps:
        if "check" in step:
            assert step["check"].get("hint", "").strip(), step["id"]


def test_minimums_are_versions_the_checks_can_read(steps: list[dict[str, Any]]) -> None:
    # min_version is quoted in lab.yaml: unquoted, YAML would read 4.0 as a
    # float and 3.10 as 3.1.
    for step in steps:
        minimum = step.get("check", {}).get("min_version")
        if minimum is not None:
            assert isinstance(minimum, str), step["id"]
            assert find_version(minimum) == minimum, step["id"]


def test_the_checker_step_runs_the_script(steps: list[dict[str, Any]]) -> None:
    checker = next(step for step in steps if step["id"] == "checker")
    assert checker["run"] == "python3 check_workstation.py --save workstation-report.txt"
    assert checker["check"] == {
        "kind": "file",
        "path": "workstation-report.txt",
        "contains": "Ready:",
        "hint": checker["check"]["hint"],
    }


def test_tools_of_later_modules_never_block_the_checker_step(
    steps: list[dict[str, Any]],
) -> None:
    # The step runs the checker without --module: only module 00's tools can
    # fail it, so week 1 passes before Docker or the Kubernetes tools exist.
    checker = next(step for step in steps if step["id"] == "checker")
    assert "--module" not in checker["run"]


# The course's other labs, when this one sits among them (not in a copy of
# this lab alone).
OTHER_LABS = sorted(path for path in LAB.parent.glob("*/lab.yaml") if path.parent != LAB)


@pytest.mark.skipif(not OTHER_LABS, reason="a copy of this lab alone: no other lab to compare")
def test_the_checker_asks_for_every_tool_a_lab_requires_at_its_module() -> None:
    """A lab that raises a minimum, or needs a new tool, fails this until the
    checker (and the workstation page) asks for it too, by that lab's module."""
    tools = {tool.name: tool for tool in TOOLS}
    for path in OTHER_LABS:
        lab = yaml.safe_load(path.read_text())
        for need in lab.get("requires", []):
            where = f"{lab['id']} (module {lab['module']:02d}) requires {need['tool']}"
            tool = tools.get(need["tool"])
            assert tool is not None, f"{where}, which the checker does not check"
            if "version" in need:
                assert at_least(tool.minimum, need["version"]), (
                    f"{where} {need['version']}, the checker only {tool.minimum}"
                )
            if not need.get("optional"):
                assert not tool.optional, f"{where}, which the checker calls optional"
                assert tool.module <= lab["module"], (
                    f"{where}, which the checker first asks for in module {tool.module:02d}"
                )


WORKSPACE = LAB.parents[1] / "Cargo.toml"


@pytest.mark.skipif(not WORKSPACE.exists(), reason="a copy of this lab alone: no course source")
def test_the_rust_minimum_is_at_least_the_workspaces_rust_version() -> None:
    declared = tomllib.loads(WORKSPACE.read_text())["workspace"]["package"]["rust-version"]
    for name in ("rustc", "cargo"):
        tool = next(tool for tool in TOOLS if tool.name == name)
        assert tool.serve
        assert at_least(tool.minimum, declared), (name, tool.minimum, declared)
