"""Pins that `course check` does not see, kept to the course's pin rule.

`course check` finds the pins in a lab's files (FROM, image:, uses:,
pyproject.toml) and wants a `# pin (checked YYYY-MM-DD): reason` line above
each. Two kinds of pin live elsewhere, and this file holds them to the same
rule:

- versions in a lab step's `run:` (`uvx tool==X`, `helm ... --version X`,
  `docker run image:X`): the comment goes on the line above `run:`, where
  .github/workflows/current.yml dates it like the others;
- the actions of the course's own workflows (.github/workflows): each pinned
  by a commit SHA with its release in a comment, and one pin per action in
  the whole project, the lab's workflows included, so that a bump is one
  change everywhere.

A step that gains `==1.2.3` without its comment, or an action pinned by tag,
fails here with the file and line to fix.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LABS = sorted(ROOT.glob("labs/*/lab.yaml"))
OWN_WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))
LAB_WORKFLOWS = sorted(ROOT.glob("labs/*/.github/workflows/*.yml"))

PIN_COMMENT = re.compile(r"^\s*# pin \(checked (\d{4}-\d{2}-\d{2})\): \S")
# What pins a version inside a shell command.
VERSION_IN_COMMAND = re.compile(
    r"==\d"  # uvx tool==1.2.3, --with package==1.2.3
    r"|@v?\d+\.\d+"  # go install module@v0.33.0, npx tool@1.2.3
    r"|--version[ =]v?\d"  # helm install --version 3.14.0
    r"|\b[a-z0-9.-]+/[a-z0-9._-]+:v?\d+\.\d+"  # grafana/grafana:13.3.0
)
USES = re.compile(r"^\s*(?:- )?uses:\s*(?P<action>[^@\s]+)@(?P<ref>\S+)(?P<comment>.*)$")
SHA_WITH_RELEASE = re.compile(r"[0-9a-f]{40}")
RELEASE_COMMENT = re.compile(r"^\s+# v\d+(\.\d+){0,2}\b")


def run_blocks(lines: list[str]) -> list[tuple[int, str]]:
    """(0-based line of `run:`, the command) for every step of a lab.yaml."""
    blocks = []
    for i, line in enumerate(lines):
        match = re.match(r"^(\s*)run:\s?(.*)$", line)
        if not match:
            continue
        indent, rest = len(match.group(1)), match.group(2)
        if rest.strip() not in {"|", ">", "|-", ">-"}:
            blocks.append((i, rest))
            continue
        body = []
        for following in lines[i + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            body.append(following)
        blocks.append((i, "\n".join(body)))
    return blocks


def step_pin_problems(path: Path, today: str, root: Path = ROOT) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    rel = path.relative_to(root)
    problems = []
    for i, command in run_blocks(lines):
        if not VERSION_IN_COMMAND.search(command):
            continue
        above = lines[i - 1] if i > 0 else ""
        comment = PIN_COMMENT.match(above)
        if comment is None:
            problems.append(
                f"{rel}:{i + 1}: this step's command pins a version "
                f"({VERSION_IN_COMMAND.search(command).group(0)!r}); put "
                "`# pin (checked YYYY-MM-DD): why this version` on the line above `run:`"
            )
        elif comment.group(1) > today:
            problems.append(f"{rel}:{i}: the pin says it was checked on {comment.group(1)}")
    return problems


def test_every_version_a_lab_step_pins_says_why_and_when() -> None:
    today = datetime.date.today().isoformat()
    problems = [p for lab in LABS for p in step_pin_problems(lab, today)]
    assert not problems, "\n" + "\n".join(problems)


def test_a_step_pin_without_its_comment_is_found(tmp_path: Path) -> None:
    text = (
        "steps:\n"
        "  - id: lint\n"
        "    run: uvx zizmor==9.9.9 .\n"
        "  - id: chart\n"
        "    # pin (checked 2026-01-01): the chart the chapter shows\n"
        "    run: |\n"
        "      helm install x x \\\n"
        "        --version 1.2.3\n"
        "  - id: later\n"
        "    # pin (checked 2999-01-01): a day that has not come\n"
        "    run: docker run --rm grafana/grafana:99.0.0\n"
        "  - id: plain\n"
        "    run: uv run pytest\n"
    )
    assert [i for i, _ in run_blocks(text.splitlines())] == [2, 5, 10, 12]
    (tmp_path / "lab.yaml").write_text(text, encoding="utf-8")
    problems = step_pin_problems(tmp_path / "lab.yaml", "2026-12-07", root=tmp_path)
    assert len(problems) == 2, problems
    assert problems[0].startswith("lab.yaml:3: ")
    assert "'==9'" in problems[0]
    assert problems[1].startswith("lab.yaml:10: ")
    assert "2999-01-01" in problems[1]


def uses_lines(path: Path) -> list[tuple[int, str, str, str]]:
    """(line, action, ref, comment) of every remote action a workflow uses."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = USES.match(line)
        if match and not match.group("action").startswith("./"):
            found.append((number, match["action"], match["ref"], match["comment"]))
    return found


@pytest.mark.parametrize("workflow", OWN_WORKFLOWS, ids=lambda p: p.name)
def test_the_courses_own_actions_are_pinned_by_sha_with_their_release(workflow: Path) -> None:
    problems = []
    for number, action, ref, comment in uses_lines(workflow):
        where = f"{workflow.relative_to(ROOT)}:{number}: {action}@{ref}"
        if not SHA_WITH_RELEASE.fullmatch(ref):
            problems.append(f"{where}: pin the full 40-character commit SHA of a release")
        if not RELEASE_COMMENT.match(comment):
            problems.append(f"{where}: add the release after the SHA, as `# v1.2.3`")
    assert not problems, "\n" + "\n".join(problems)


def test_one_pin_per_action_in_the_whole_project() -> None:
    pins: dict[str, set[tuple[str, str]]] = {}
    places: dict[str, list[str]] = {}
    for workflow in OWN_WORKFLOWS + LAB_WORKFLOWS:
        for number, action, ref, comment in uses_lines(workflow):
            release = comment.strip().split()[1] if comment.strip() else ""
            pins.setdefault(action, set()).add((ref, release))
            places.setdefault(action, []).append(f"{workflow.relative_to(ROOT)}:{number}")
    assert pins, "no workflow found"
    split = {a: sorted(p) for a, p in pins.items() if len(p) > 1}
    assert not split, "\n".join(
        f"{action} is pinned {len(refs)} ways ({refs}) in {places[action]}: use one"
        for action, refs in split.items()
    )


def workflow_value(path: Path, key: str) -> list[str]:
    return re.findall(rf"^\s*{key}:\s*\"?([^\"\s#]+)", path.read_text(encoding="utf-8"), re.M)


def test_the_scheduled_run_installs_what_the_labs_run_installs() -> None:
    labs, current = ROOT / ".github/workflows/labs.yml", ROOT / ".github/workflows/current.yml"
    for key in ("version", "kubectl_version", "HELM_VERSION", "node-version"):
        assert set(workflow_value(labs, key)) == set(workflow_value(current, key)), key
    # The kind that installs module 05's node image is the one the
    # workstation checker asks for.
    (kind,) = set(workflow_value(labs, "version"))
    checker = (ROOT / "labs/workstation/check_workstation.py").read_text(encoding="utf-8")
    assert f"sigs.k8s.io/kind@{kind}" in checker, kind
    kind_yaml = (ROOT / "labs/kubernetes/kind.yaml").read_text(encoding="utf-8")
    assert f"kind {kind}" in kind_yaml, (
        f"labs/kubernetes/kind.yaml does not name kind {kind}, "
        "whose release notes list its node image"
    )
