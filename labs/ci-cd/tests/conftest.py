"""Shared fixtures: the fixed split, and a model trained once per session
into a temporary folder (without MLflow)."""

from __future__ import annotations

import pytest

from wine_api.train import Split, TrainResult, load_split, train


@pytest.fixture(autouse=True)
def no_ambient_mlflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tracking URI in the developer's shell must not turn JSON tests into MLflow ones."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture(scope="session")
def split() -> Split:
    return load_split()


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    return train(tmp_path_factory.mktemp("model") / "model.joblib", model_version="test-1")
