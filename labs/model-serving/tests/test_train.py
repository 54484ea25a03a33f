"""The training script: quality floor, the files it writes, its command line."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import pytest

from wine_api.schemas import WineFeatures
from wine_api.train import TrainResult, main

# Over random_state 0-29 the test accuracy ranged from 0.9556 to 1.0; a model
# below this floor means something broke (data, features, pipeline).
ACCURACY_FLOOR = 0.9


def test_accuracy_is_above_the_floor(trained: TrainResult) -> None:
    assert trained.metadata.test_accuracy >= ACCURACY_FLOOR


def test_writes_the_model_and_its_metadata(trained: TrainResult) -> None:
    bundle = joblib.load(trained.model_path)
    assert set(bundle) == {"pipeline", "metadata"}
    assert hasattr(bundle["pipeline"], "predict_proba")

    metadata = json.loads(trained.metadata_path.read_text(encoding="utf-8"))
    assert trained.metadata_path == trained.model_path.with_suffix(".json")
    assert metadata == bundle["metadata"]
    assert metadata["model_version"] == "test-1"
    assert metadata["class_names"] == ["class_0", "class_1", "class_2"]
    # The API builds its input rows in this order: the two must agree.
    assert metadata["feature_names"] == list(WineFeatures.model_fields)


def test_cli_writes_where_it_is_told(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "nested" / "wine.joblib"
    assert main(["--output", str(output), "--model-version", "cli-7"]) == 0
    assert output.is_file()
    assert json.loads(output.with_suffix(".json").read_text())["model_version"] == "cli-7"
    assert "test accuracy: " in capsys.readouterr().out


def test_cli_reads_model_path_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "from-env.joblib"
    monkeypatch.setenv("MODEL_PATH", str(output))
    assert main([]) == 0
    assert output.is_file()
