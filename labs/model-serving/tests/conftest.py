"""Shared fixtures: a model trained once per test session into a temporary
folder, clients for an app with and without a model, and one real uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from live import free_port, serve
from servers import uvicorn_command
from sklearn.datasets import load_wine

from wine_api.app import create_app
from wine_api.train import TrainResult, feature_key, train


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    return train(tmp_path_factory.mktemp("model") / "model.joblib", model_version="test-1")


@pytest.fixture
def client(trained: TrainResult) -> Iterator[TestClient]:
    # `with` runs the lifespan handler, which loads the model.
    with TestClient(create_app(trained.model_path)) as c:
        yield c


@pytest.fixture
def client_without_model(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(tmp_path / "missing.joblib")) as c:
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
    """One valid request body (a fresh copy each test, so tests may edit it)."""
    return dict(wines[0][0])


@pytest.fixture(scope="session")
def live_api(trained: TrainResult, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API as you run it, a real uvicorn process on a free port: its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("uvicorn") / "uvicorn.log"
    env = {"MODEL_PATH": str(trained.model_path)}
    with serve(uvicorn_command(port), ready_url=f"{base}/ready", env=env, log=log):
        yield base
