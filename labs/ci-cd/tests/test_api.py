"""The API the image runs, serving the model the training script wrote: the
contract between train.py (which writes the model) and app.py (which loads it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from wine_api.app import create_app
from wine_api.schemas import EXAMPLE_WINE
from wine_api.train import TrainResult


@pytest.fixture
def client(trained: TrainResult) -> Iterator[TestClient]:
    # `with` runs the lifespan handler, which loads the model.
    with TestClient(create_app(trained.model_path)) as c:
        yield c


def test_the_api_is_ready_with_the_trained_model(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "model_version": "test-1"}


def test_the_api_predicts_with_it(client: TestClient) -> None:
    response = client.post("/predict", json=EXAMPLE_WINE)
    assert response.status_code == 200
    body = response.json()
    assert body["class_name"] == "class_0"
    assert body["model_version"] == "test-1"


def test_the_api_still_refuses_bad_input(client: TestClient) -> None:
    assert client.post("/predict", json={"alcohol": -1}).status_code == 422
