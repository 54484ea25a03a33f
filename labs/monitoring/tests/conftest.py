"""Shared fixtures: a model trained once per test session into a temporary
folder, an app client, and rows of the wine data as request bodies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sklearn.datasets import load_wine

from wine_api.app import create_app
from wine_api.train import TrainResult, feature_key, train

LAB = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    return train(tmp_path_factory.mktemp("model") / "model.joblib", model_version="test-1")


@pytest.fixture
def drift_report(tmp_path: Path) -> Path:
    """Where this test's app looks for the drift report (nothing there yet)."""
    return tmp_path / "reports" / "drift.json"


@pytest.fixture
def client(trained: TrainResult, drift_report: Path) -> Iterator[TestClient]:
    # `with` runs the lifespan handler, which loads the model.
    with TestClient(create_app(trained.model_path, drift_report)) as c:
        yield c


@pytest.fixture
def client_without_model(tmp_path: Path, drift_report: Path) -> Iterator[TestClient]:
    with TestClient(create_app(tmp_path / "missing.joblib", drift_report)) as c:
        yield c


@pytest.fixture(scope="session")
def wines() -> list[tuple[dict[str, float], str]]:
    """Every row of the bundled wine data as a request body, with its class name."""
    data = load_wine()
    keys = [feature_key(n) for n in data.feature_names]
    return [
        (dict(zip(keys, map(float, row), strict=True)), str(data.target_names[target]))
        for row, target in zip(data.data, data.target, strict=True)
    ]


@pytest.fixture
def wine(wines: list[tuple[dict[str, float], str]]) -> dict[str, float]:
    """One valid request body of class_0 (a fresh copy each test)."""
    return dict(wines[0][0])
