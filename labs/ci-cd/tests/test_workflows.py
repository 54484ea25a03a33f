"""The workflow files, checked for the rules this module teaches.

actionlint and the workflow schema check that the files are valid GitHub
Actions; these tests check that they are safe and do what the chapter says:
pinned actions, least privilege, no expressions inside scripts, a gate that
stops the pipeline, a deploy that waits and rolls back.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(__file__).parent.parent / ".github" / "workflows"
NAMES = ["test", "train", "build", "deploy", "release"]
# owner/repo[/path]@<40 hex> # vX.Y.Z
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
WRITE_SCOPES = {"packages", "id-token", "attestations"}


def load(name: str) -> dict[str, Any]:
    text = (WORKFLOWS / f"{name}.yml").read_text(encoding="utf-8")
    workflow = yaml.safe_load(text)
    # YAML 1.1 reads the key `on` as the boolean True.
    workflow["on"] = workflow.pop(True)
    return workflow


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def uses_lines() -> list[tuple[str, str]]:
    """(file, the text after `uses:`, comment included) for every step and job."""
    found = []
    for name in NAMES:
        for line in (WORKFLOWS / f"{name}.yml").read_text(encoding="utf-8").splitlines():
            if match := re.match(r"^\s*(?:- )?uses: (.+)$", line):
                found.append((name, match.group(1).strip()))
    return found


def test_there_are_exactly_the_workflows_the_chapter_describes() -> None:
    assert sorted(p.stem for p in WORKFLOWS.glob("*.yml")) == sorted(NAMES)


@pytest.mark.parametrize(("name", "uses"), uses_lines())
def test_every_action_is_pinned_to_a_commit_with_its_version(name: str, uses: str) -> None:
    if uses.startswith("./"):
        return  # a workflow of this repository: it changes with the commit anyway
    assert PINNED.match(uses), f"{name}.yml: `{uses}` is not `owner/repo@<40-hex sha> # vX.Y.Z`"


@pytest.mark.parametrize("name", NAMES)
def test_every_pin_says_why_and_when_it_was_checked(name: str) -> None:
    # The line above each pinned `uses:` gives the reason and the date someone
    # last compared the pin with upstream; the lab page shows the dates.
    lines = (WORKFLOWS / f"{name}.yml").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^\s*(?:- )?uses: (?!\./)[\w.-]+/", line):
            above = lines[number - 1].strip()
            assert re.match(r"^# pin \(checked \d{4}-\d{2}-\d{2}\): \S", above), (
                f"{name}.yml:{number + 1}: no `# pin (checked YYYY-MM-DD): reason` above it"
            )


def test_each_action_has_one_pin_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for _, uses in uses_lines():
        if not uses.startswith("./"):
            action, _, pin = uses.partition("@")
            pins.setdefault(action, set()).add(pin)
    assert {a: p for a, p in pins.items() if len(p) > 1} == {}


@pytest.mark.parametrize("name", NAMES)
def test_the_default_token_can_at_most_read(name: str) -> None:
    assert load(name)["permissions"] in ({}, {"contents": "read"})


def test_write_permissions_appear_only_where_the_image_is_pushed() -> None:
    granted = {}
    for name in NAMES:
        for job_id, job in load(name)["jobs"].items():
            writes = {k for k, v in job.get("permissions", {}).items() if v == "write"}
            if writes:
                granted[f"{name}.{job_id}"] = writes
    assert granted == {"build.image": WRITE_SCOPES, "release.build": WRITE_SCOPES}


@pytest.mark.parametrize("name", NAMES)
def test_every_job_has_a_timeout_or_is_a_call(name: str) -> None:
    for job_id, job in load(name)["jobs"].items():
        assert "uses" in job or "timeout-minutes" in job, f"{name}.{job_id}"


@pytest.mark.parametrize("name", NAMES)
def test_checkouts_do_not_keep_the_token(name: str) -> None:
    for step in steps(load(name)):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("name", NAMES)
def test_no_expression_is_pasted_into_a_script(name: str) -> None:
    # `${{ }}` in `run:` is expanded before the shell sees it: a branch name or
    # an input could become code. Values reach scripts through `env:` instead.
    for step in steps(load(name)):
        assert "${{" not in step.get("run", ""), step.get("name", step["run"][:40])


def test_uv_is_pinned_and_its_cache_keyed_on_the_lock_file() -> None:
    setups = [
        step
        for name in ("test", "train")
        for step in steps(load(name))
        if step.get("uses", "").startswith("astral-sh/setup-uv@")
    ]
    assert len(setups) == 4
    for step in setups:
        assert step["with"]["version"] == "0.13.9"
        assert step["with"]["enable-cache"] is True
        assert step["with"]["cache-dependency-glob"] == "uv.lock"
    # Each job installs another set of packages, so each needs its own cache key.
    suffixes = [step["with"]["cache-suffix"] for step in setups]
    assert len(set(suffixes)) == len(suffixes)


def test_tests_run_on_a_matrix_of_python_versions() -> None:
    matrix = load("test")["jobs"]["pytest"]["strategy"]["matrix"]
    assert matrix["python-version"] == ["3.11", "3.12", "3.13"]


def test_the_gate_runs_after_training_and_before_the_model_is_kept() -> None:
    train_steps = load("train")["jobs"]["train"]["steps"]
    names = [step.get("name", step.get("uses", "")) for step in train_steps]
    assert names.index("Train the candidate") < names.index("Validation gate")
    assert names.index("Validation gate") < names.index("Keep the candidate model")
    keep = train_steps[names.index("Keep the candidate model")]
    # The default `if: success()`: a failed gate uploads nothing for build.yml to ship.
    assert "if" not in keep
    gate = train_steps[names.index("Validation gate")]["run"]
    assert "python -m wine_api.gate" in gate
    assert "--tolerance 0.005" in gate


def test_the_image_is_pushed_with_provenance_and_attested() -> None:
    build_steps = {
        step["uses"].split("@")[0]: step for step in steps(load("build")) if "uses" in step
    }
    push = build_steps["docker/build-push-action"]["with"]
    assert push["push"] is True
    assert push["provenance"] == "mode=max"
    assert push["sbom"] is True
    attest = build_steps["actions/attest"]["with"]
    assert attest["push-to-registry"] is True
    assert attest["subject-digest"] == "${{ steps.push.outputs.digest }}"


def test_the_deploy_waits_for_approval_runs_alone_and_rolls_back() -> None:
    job = load("deploy")["jobs"]["deploy"]
    assert job["environment"]["name"] == "production"
    assert job["concurrency"] == {"group": "deploy-production", "cancel-in-progress": False}
    (upgrade,) = [s["run"] for s in job["steps"] if s.get("name") == "helm upgrade"]
    for flag in ("upgrade --install", "--wait", "--rollback-on-failure", "--timeout 5m"):
        assert flag in upgrade
    # Module 05's chart as it is, with production's values on top.
    assert "chart/wine-api" in upgrade
    assert "--values deploy/production.yaml" in upgrade
    # By digest: the exact image that was built and attested, never a moving tag.
    assert '--set image.digest="$DIGEST"' in upgrade


def test_the_release_runs_the_stages_in_order_and_hands_over_the_image() -> None:
    jobs = load("release")["jobs"]
    assert {job_id: job["uses"] for job_id, job in jobs.items()} == {
        "test": "./.github/workflows/test.yml",
        "train": "./.github/workflows/train.yml",
        "build": "./.github/workflows/build.yml",
        "deploy": "./.github/workflows/deploy.yml",
    }
    assert [jobs[j].get("needs") for j in ("train", "build", "deploy")] == [
        "test",
        "train",
        "build",
    ]
    assert jobs["deploy"]["with"]["image"] == "${{ needs.build.outputs.image }}"
    assert load("release")["concurrency"]["cancel-in-progress"] is False


# ------------------------------------------------------------ who may write to the registry
# A pull request runs code nobody has reviewed yet: its jobs may read the
# champion and nothing more. Only a push to main or a run by hand, in the
# environment "registry" (main only), gets the token that registers and promotes.
WRITE_TOKEN = "secrets.MLFLOW_TRACKING_TOKEN"
READ_TOKEN = "secrets.MLFLOW_READ_TOKEN"
TRUSTED = "${{ github.event_name == 'push' || github.event_name == 'workflow_dispatch' }}"


def job_text(job: dict[str, Any]) -> str:
    return yaml.safe_dump(job, sort_keys=True)


def test_train_runs_on_pull_requests_and_trusted_events_in_separate_jobs() -> None:
    workflow = load("train")
    assert "pull_request" in workflow["on"]
    jobs = workflow["jobs"]
    assert set(jobs) == {"check", "train"}
    assert jobs["check"]["if"] == "${{ github.event_name == 'pull_request' }}"
    assert jobs["train"]["if"] == TRUSTED
    # The release calls train.yml and takes the trusted job's output.
    assert workflow["on"]["workflow_call"]["outputs"]["model-version"]["value"] == (
        "${{ jobs.train.outputs.model-version }}"
    )


def test_a_pull_request_job_gets_read_only_credentials() -> None:
    check = load("train")["jobs"]["check"]
    assert check["permissions"] == {"contents": "read"}
    assert "environment" not in check
    text = job_text(check)
    assert WRITE_TOKEN not in text
    assert READ_TOKEN in text
    names = {step.get("name"): step for step in check["steps"]}
    # Training without a tracking URI registers nothing; the gate never promotes.
    assert "MLFLOW_TRACKING_URI" not in names["Train the candidate"].get("env", {})
    assert "--promote" not in names["Validation gate"]["run"]
    uploads = [
        s for s in check["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")
    ]
    assert uploads == []


def test_the_write_token_lives_only_in_the_registry_environment() -> None:
    holders = []
    for name in NAMES:
        for job_id, job in load(name)["jobs"].items():
            if WRITE_TOKEN in job_text(job):
                holders.append(f"{name}.{job_id}")
                assert job["environment"] == {"name": "registry"}
                assert job["if"] == TRUSTED
    assert holders == ["train.train"]


def test_the_release_passes_train_no_secrets() -> None:
    # Secrets passed by a caller would bypass the environment's branch rule.
    train = load("release")["jobs"]["train"]
    assert "secrets" not in train
    assert train["with"] == {"promote": True}
    assert "secrets" not in load("train")["on"]["workflow_call"]


def test_dependabot_keeps_the_pins_and_the_lock_moving() -> None:
    config = yaml.safe_load((WORKFLOWS.parent / "dependabot.yml").read_text(encoding="utf-8"))
    ecosystems = {update["package-ecosystem"] for update in config["updates"]}
    assert ecosystems == {"github-actions", "uv"}
