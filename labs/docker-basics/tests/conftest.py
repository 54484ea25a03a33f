"""Shared fixtures: a model trained once per session into a temporary folder,
test clients with and without it, and the lab's files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sklearn.datasets import load_wine

from wine_api.app import create_app
from wine_api.train import feature_key, train

LAB = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def lab() -> Path:
    """The lab folder: the build context of both Dockerfiles."""
    return LAB


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    train(path, model_version="test-1")
    return path


@pytest.fixture
def client(model_path: Path) -> Iterator[TestClient]:
    # `with` runs the lifespan handler, which loads the model.
    with TestClient(create_app(model_path)) as c:
        yield c


@pytest.fixture
def client_without_model(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(tmp_path / "missing.joblib")) as c:
        yield c


@pytest.fixture(scope="session")
def wines() -> list[tuple[dict[str, float], str]]:
    """Every row of the wine data as a request body, with its class name."""
    data = load_wine()
    keys = [feature_key(n) for n in data.feature_names]
    return [
        (dict(zip(keys, map(float, row), strict=True)), str(data.target_names[target]))
        for row, target in zip(data.data, data.target, strict=True)
    ]


@pytest.fixture
def wine(wines: list[tuple[dict[str, float], str]]) -> dict[str, float]:
    """One valid request body (class_0), a fresh copy for each test."""
    return dict(wines[0][0])
