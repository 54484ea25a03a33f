"""The training script's run, as the tracking server stores it: params,
metrics, tags, datasets, artifacts and a loadable model with its signature."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from conftest import STRONG_C, WEAK_C, Runs
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from wine_tracking import EXPERIMENT_NAME
from wine_tracking.data import FEATURES, TARGET, split
from wine_tracking.train import MODEL_REQUIREMENTS, main

ACCURACY_FLOOR = 0.9


def test_the_split_is_the_same_every_time() -> None:
    first, second = split(), split()
    assert len(first.train) == 133
    assert len(first.test) == 45
    pd.testing.assert_frame_equal(first.test, second.test)
    # Stratified: every class is in the test set.
    assert set(first.y_test) == {0, 1, 2}
    assert list(first.x_test.columns) == FEATURES


def test_a_run_records_params_metrics_and_tags(runs: Runs, client: MlflowClient) -> None:
    run = client.get_run(runs.weak.run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "weak"
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == EXPERIMENT_NAME
    # Params are stored as strings.
    assert run.data.params == {
        "C": str(WEAK_C),
        "max_iter": "1000",
        "model_type": "logistic_regression",
        "split_seed": "42",
        "test_size": "0.25",
    }
    metrics = run.data.metrics
    assert set(metrics) == {"test_accuracy", "test_f1_macro", "test_log_loss", "train_accuracy"}
    assert metrics["test_accuracy"] >= ACCURACY_FLOOR
    assert metrics == pytest.approx(runs.weak.metrics)
    assert run.data.tags["model_type"] == "logistic_regression"
    assert run.data.tags["data_source"] == "sklearn.datasets.load_wine"


def test_a_run_records_its_datasets_with_digests(runs: Runs, client: MlflowClient) -> None:
    data = split()
    expected = {
        "training": ("wine-train", mlflow.data.from_pandas(data.train, targets=TARGET).digest, 133),
        "testing": ("wine-test", mlflow.data.from_pandas(data.test, targets=TARGET).digest, 45),
    }
    for result in (runs.weak, runs.strong):
        found = {}
        for dataset_input in client.get_run(result.run_id).inputs.dataset_inputs:
            [context] = [t.value for t in dataset_input.tags if t.key == "mlflow.data.context"]
            dataset = dataset_input.dataset
            found[context] = (dataset.name, dataset.digest, json.loads(dataset.profile)["num_rows"])
            columns = [c["name"] for c in json.loads(dataset.schema)["mlflow_colspec"]]
            assert columns == [*FEATURES, TARGET]
        # Both runs used the very same rows: same digests, so their scores compare.
        assert found == expected


def test_a_run_stores_its_evaluation_artifacts(
    runs: Runs, client: MlflowClient, tmp_path: Path
) -> None:
    names = {a.path for a in client.list_artifacts(runs.weak.run_id, "evaluation")}
    assert names == {"evaluation/confusion_matrix.json", "evaluation/classification_report.txt"}
    folder = Path(client.download_artifacts(runs.weak.run_id, "evaluation", str(tmp_path)))
    confusion = json.loads((folder / "confusion_matrix.json").read_text())
    assert confusion["labels"] == ["class_0", "class_1", "class_2"]
    assert sum(map(sum, confusion["matrix"])) == 45  # every test wine, once
    assert "macro avg" in (folder / "classification_report.txt").read_text()


def test_the_model_has_a_signature_an_input_example_and_exact_requirements(runs: Runs) -> None:
    info = mlflow.models.get_model_info(runs.weak.model_uri)
    assert info.run_id == runs.weak.run_id
    assert info.signature.inputs.input_names() == FEATURES
    assert [t.name for t in info.signature.inputs.input_types()] == ["double"] * 13
    assert info.saved_input_example_info["artifact_path"] == "input_example.json"
    sklearn_flavor = info.flavors["sklearn"]
    assert sklearn_flavor["serialization_format"] == "skops"
    requirements = mlflow.pyfunc.get_model_dependencies(runs.weak.model_uri)
    assert Path(requirements).read_text().split() == MODEL_REQUIREMENTS


def test_the_logged_model_loads_as_pyfunc_and_predicts(runs: Runs) -> None:
    model = mlflow.pyfunc.load_model(runs.strong.model_uri)
    data = split()
    predictions = model.predict(data.x_test)
    accuracy = float((predictions == data.y_test.to_numpy()).mean())
    assert accuracy == pytest.approx(runs.strong.metrics["test_accuracy"])


def test_the_signature_rejects_input_without_a_column(runs: Runs) -> None:
    model = mlflow.pyfunc.load_model(runs.strong.model_uri)
    incomplete = split().x_test.drop(columns="proline")
    with pytest.raises(MlflowException, match="proline"):
        model.predict(incomplete)


def test_cli_prints_the_metrics_and_the_run(
    capsys: pytest.CaptureFixture[str], client: MlflowClient
) -> None:
    assert main(["--C", str(STRONG_C), "--run-name", "from-the-cli", "--experiment", "cli"]) == 0
    out = capsys.readouterr().out
    assert "test_log_loss: " in out
    [run] = client.search_runs(
        [client.get_experiment_by_name("cli").experiment_id], "attributes.run_name = 'from-the-cli'"
    )
    assert f"run {run.info.run_id} logged the model models:/m-" in out
    assert f"/runs/{run.info.run_id}" in out
