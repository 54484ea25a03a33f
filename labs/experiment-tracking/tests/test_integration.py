"""Tracking added to an existing script: only added lines, configuration
from the environment, and the run it logs, read back from the server."""

from __future__ import annotations

import ast
import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

LAB = Path(__file__).resolve().parents[1]
EXISTING = LAB / "integration" / "train_existing.py"
TRACKED = LAB / "integration" / "train_existing_tracked.py"
MARK = "# + mlflow"


def code_lines(path: Path) -> list[str]:
    """The file's lines after its module docstring."""
    text = path.read_text(encoding="utf-8")
    docstring = ast.parse(text).body[0]
    assert isinstance(docstring, ast.Expr)
    return text.splitlines()[docstring.end_lineno :]


def test_the_tracked_script_only_adds_marked_lines() -> None:
    diff = list(difflib.ndiff(code_lines(EXISTING), code_lines(TRACKED)))
    assert not [line for line in diff if line.startswith("- ")], "a line of the script changed"
    added = [line[2:] for line in diff if line.startswith("+ ")]
    code = [line for line in added if line.strip() and not line.lstrip().startswith("#")]
    assert all(line.endswith(MARK) for line in code), code
    assert len(code) == 4  # import, autolog, start_run, log_metrics


def test_the_scripts_name_no_server_and_no_experiment() -> None:
    for path in (EXISTING, TRACKED):
        code = "\n".join(code_lines(path))
        assert "set_tracking_uri" not in code
        assert "set_experiment" not in code
        assert "127.0.0.1" not in code


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_passes_the_configuration_on(monkeypatch: pytest.MonkeyPatch) -> None:
    def config(*args: str) -> str:
        done = subprocess.run(
            ["make", "-s", "tracking-config", *args],
            cwd=LAB,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.test:5000")
    assert config() == (
        "MLFLOW_TRACKING_URI=http://mlflow.test:5000\nMLFLOW_EXPERIMENT_NAME=wine-existing\n"
    )
    assert "MLFLOW_EXPERIMENT_NAME=nightly\n" in config("MLFLOW_EXPERIMENT_NAME=nightly")


def test_the_tracked_script_logs_a_run_where_the_environment_says(
    client: MlflowClient, tracking_uri: str
) -> None:
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri}
    env["MLFLOW_EXPERIMENT_NAME"] = "wine-existing-test"  # created on first use
    done = subprocess.run(
        [sys.executable, str(TRACKED)],
        cwd=LAB,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    assert "test accuracy 1.0000, test log loss 0.0811" in done.stdout
    experiment = client.get_experiment_by_name("wine-existing-test")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params["logisticregression__C"] == "0.5"  # autolog, a pipeline's step
    assert run.data.metrics["test_accuracy"] == 1.0
    assert round(run.data.metrics["test_log_loss"], 4) == 0.0811
    assert "training_log_loss" in run.data.metrics
    assert run.outputs.model_outputs, "autolog logged no model"
