"""The API the image serves, through FastAPI's TestClient: no server, no Docker."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import pytest
from fastapi.testclient import TestClient

from wine_api.app import MAX_BATCH_SIZE, create_app
from wine_api.train import train


def test_health_answers_without_touching_the_model(client_without_model: TestClient) -> None:
    response = client_without_model.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_reports_the_model_version(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "model_version": "test-1"}


def test_without_a_model_ready_and_predict_answer_503(
    client_without_model: TestClient, wine: dict[str, float]
) -> None:
    ready = client_without_model.get("/ready")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "not ready",
        "detail": "no model file at MODEL_PATH; train one first",
    }
    assert client_without_model.post("/predict", json=wine).status_code == 503


def test_predict_returns_the_class_and_its_probabilities(
    client: TestClient, wine: dict[str, float]
) -> None:
    response = client.post("/predict", json=wine)
    assert response.status_code == 200
    body = response.json()
    assert body["class_id"] == 0
    assert body["class_name"] == "class_0"
    assert body["model_version"] == "test-1"
    assert set(body["probabilities"]) == {"class_0", "class_1", "class_2"}
    assert abs(sum(body["probabilities"].values()) - 1) < 1e-9


def test_the_model_gets_nearly_every_known_wine_right(
    client: TestClient, wines: list[tuple[dict[str, float], str]]
) -> None:
    response = client.post("/predict/batch", json={"instances": [w for w, _ in wines]})
    assert response.status_code == 200
    predicted = [p["class_name"] for p in response.json()["predictions"]]
    correct = sum(p == truth for p, (_, truth) in zip(predicted, wines, strict=True))
    assert correct / len(wines) >= 0.95


def test_invalid_input_is_refused_with_422_naming_each_field(
    client: TestClient, wine: dict[str, float]
) -> None:
    body = {**wine, "alcohol": -1, "malic_acid": "1.7", "colour": 3}
    del body["proline"]
    response = client.post("/predict", json=body)
    assert response.status_code == 422
    problems = {(e["loc"][-1], e["type"]) for e in response.json()["detail"]}
    assert problems == {
        ("alcohol", "greater_than_equal"),
        ("malic_acid", "float_type"),
        ("colour", "extra_forbidden"),
        ("proline", "missing"),
    }


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
@pytest.mark.parametrize("path", ["/predict", "/predict/batch"])
def test_a_number_that_is_not_finite_is_a_422(
    client: TestClient, wine: dict[str, float], literal: str, path: str
) -> None:
    """Python's JSON parser reads NaN and Infinity (and 1e999 as Infinity);
    the answer names the field, as module 03's API does, instead of a 500."""
    # httpx refuses to send NaN, so the body is written by hand.
    one = json.dumps({**wine, "hue": "X"}).replace('"X"', literal)
    body = one if path == "/predict" else f'{{"instances": [{one}]}}'
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"][-1] == "hue"
    assert problem["type"] == "finite_number"
    assert problem["input"] in {"nan", "inf", "-inf"}


def test_batches_are_bounded(client: TestClient, wine: dict[str, float]) -> None:
    assert client.post("/predict/batch", json={"instances": []}).status_code == 422
    too_many = {"instances": [wine] * (MAX_BATCH_SIZE + 1)}
    assert client.post("/predict/batch", json=too_many).status_code == 422


def test_a_model_from_another_scikit_learn_is_refused(model_path: Path, tmp_path: Path) -> None:
    bundle = joblib.load(model_path)
    bundle["metadata"]["sklearn_version"] = "0.0.1"
    stale = tmp_path / "stale.joblib"
    joblib.dump(bundle, stale)
    with TestClient(create_app(stale)) as c:
        response = c.get("/ready")
    assert response.status_code == 503
    assert "could not be loaded" in response.json()["detail"]


def test_training_is_reproducible(tmp_path: Path) -> None:
    """Same code, same library versions, same model: why the image may train it."""
    first = train(tmp_path / "a.joblib")
    second = train(tmp_path / "b.joblib")
    assert first == second >= 0.9
    a = joblib.load(tmp_path / "a.joblib")["pipeline"]
    b = joblib.load(tmp_path / "b.joblib")["pipeline"]
    assert (a[-1].coef_ == b[-1].coef_).all()
