"""The MLproject file, run by the real `mlflow run`, and the autolog variant."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mlflow.projects._project_spec import load_project
from mlflow.tracking import MlflowClient

from wine_tracking.train_autolog import AUTOLOG_EXPERIMENT, train_autolog

LAB = Path(__file__).resolve().parent.parent


def test_the_mlproject_declares_its_entry_points() -> None:
    project = load_project(str(LAB))
    assert project.name == "wine-classifier"
    main = project.get_entry_point("main")
    assert set(main.parameters) == {"C", "max_iter"}
    assert main.compute_command({"C": "0.5"}, storage_dir=None) == (
        "python -m wine_tracking.train --C 0.5 --max-iter 1000"
    )
    assert set(project.get_entry_point("autolog").parameters) == {"C"}


def test_mlflow_run_runs_the_entry_point_into_one_run(
    tracking_uri: str, client: MlflowClient
) -> None:
    # mlflow.set_experiment() (called by earlier tests) exports
    # MLFLOW_EXPERIMENT_ID, and `mlflow run` refuses it next to --experiment-name.
    env = {
        k: v for k, v in os.environ.items() if k not in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_RUN_ID")
    }
    # `uv run` puts .venv/bin first on PATH; the entry point's `python` must
    # be this environment's, as it is under `uv run mlflow run`.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["MLFLOW_TRACKING_URI"] = tracking_uri
    command = [sys.executable, "-m", "mlflow", "run", str(LAB), "--env-manager", "local"]
    command += ["--experiment-name", "project", "-P", "C=10", "--run-name", "via-mlproject"]
    done = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [run] = client.search_runs([client.get_experiment_by_name("project").experiment_id])
    assert f"=== Run (ID '{run.info.run_id}') succeeded ===" in done.stderr
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "via-mlproject"
    tags = run.data.tags
    assert tags["mlflow.source.type"] == "PROJECT"
    assert tags["mlflow.project.entryPoint"] == "main"
    # `mlflow run` logged the entry point's parameters as typed ("10", not
    # "10.0"); the script added the rest to the same run instead of a new one.
    assert run.data.params["C"] == "10"
    assert run.data.params["max_iter"] == "1000"
    assert run.data.params["model_type"] == "logistic_regression"
    assert {"test_accuracy", "test_log_loss"} <= set(run.data.metrics)


def test_autolog_logs_the_fit_and_the_script_adds_test_metrics(client: MlflowClient) -> None:
    run = client.get_run(train_autolog(0.5))
    assert client.get_experiment(run.info.experiment_id).name == AUTOLOG_EXPERIMENT
    params = run.data.params
    # Every constructor parameter of every pipeline step, named step__param.
    assert params["logisticregression__C"] == "0.5"
    assert params["standardscaler__with_mean"] == "True"
    assert len(params) > 10
    metrics = run.data.metrics
    assert {"training_accuracy_score", "training_log_loss"} <= set(metrics)
    assert {"test_accuracy", "test_log_loss"} <= set(metrics)  # logged by hand
    contexts = {t.value for d in run.inputs.dataset_inputs for t in d.tags}
    assert "train" in contexts
    [model] = client.search_logged_models(
        [run.info.experiment_id], filter_string=f"source_run_id = '{run.info.run_id}'"
    )
    assert model.name == "model"
