"""lab.yaml and the checker must agree: same commands, same minimums.

The course page runs the lab's steps and checks; the script runs its own
table. A minimum changed in one place and not the other would tell a learner
two different things about the same machine.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from check_workstation import TOOLS, find_version

LAB = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def steps() -> list[dict[str, Any]]:
    return yaml.safe_load((LAB / "lab.yaml").read_text())["steps"]


def test_each_tool_has_a_step_with_the_checkers_command_and_minimum(
    steps: list[dict[str, Any]],
) -> None:
    checks = {
        tuple(shlex.split(step["check"]["command"])): step["check"]
        for step in steps
        if step.get("check", {}).get("min_version")
    }
    for tool in TOOLS:
        argv = (tool.executables[0], *tool.args)
        assert argv in checks, f"no step checks `{tool.command}`"
        assert checks[argv]["min_version"] == tool.minimum, tool.name
    assert len(checks) == len(TOOLS), "a version step that the checker does not know"


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
