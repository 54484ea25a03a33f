"""The training script: the files it writes, what metrics.json holds, its command line."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import pytest

from wine_api.train import DEFAULT_C, TrainResult, main, train


def test_writes_the_model_its_metadata_and_its_metrics(trained: TrainResult) -> None:
    bundle = joblib.load(trained.model_path)
    assert set(bundle) == {"pipeline", "metadata"}
    metadata = json.loads(trained.metadata_path.read_text(encoding="utf-8"))
    assert metadata == bundle["metadata"]
    assert metadata["model_version"] == "test-1"

    record = json.loads(trained.metrics_path.read_text(encoding="utf-8"))
    assert trained.metrics_path == trained.model_path.parent / "metrics.json"
    assert record == trained.metrics
    assert set(record["metrics"]) == {"accuracy", "f1_macro", "log_loss"}
    assert record["eval_digest"].startswith("sha256:")
    assert record["params"]["C"] == DEFAULT_C
    # Without a tracking URI nothing is logged, and nothing says otherwise.
    assert "mlflow" not in record


def test_the_metrics_are_the_ones_the_api_model_reports(trained: TrainResult) -> None:
    metadata = json.loads(trained.metadata_path.read_text(encoding="utf-8"))
    assert metadata["test_accuracy"] == trained.metrics["metrics"]["accuracy"]


def test_stronger_regularisation_gives_a_worse_candidate(tmp_path: Path) -> None:
    strong = train(tmp_path / "a" / "model.joblib", c=1.0).metrics["metrics"]
    weak = train(tmp_path / "b" / "model.joblib", c=0.003).metrics["metrics"]
    assert weak["accuracy"] < strong["accuracy"]
    assert weak["log_loss"] > strong["log_loss"]


def test_records_the_commit_it_was_built_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
    record = train(tmp_path / "model.joblib").metrics
    assert record["git_sha"] == "0123456789abcdef0123456789abcdef01234567"


def test_cli_writes_where_it_is_told(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "nested" / "wine.joblib"
    assert main(["--output", str(output), "--model-version", "cli-7", "--c", "0.5"]) == 0
    record = json.loads((output.parent / "metrics.json").read_text())
    assert record["model_version"] == "cli-7"
    assert record["params"]["C"] == 0.5
    assert "candidate cli-7: accuracy " in capsys.readouterr().out


def test_an_empty_tracking_uri_means_no_mlflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In CI an unset repository variable arrives as an empty string.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "")
    assert main(["--output", str(tmp_path / "model.joblib")]) == 0
    assert "mlflow" not in json.loads((tmp_path / "metrics.json").read_text())
