"""The HTTP contract of the wine API: probes, predictions and every 4xx/5xx."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib
import pytest
import sklearn
from fastapi.testclient import TestClient

from wine_api.app import LoadedModel, create_app
from wine_api.schemas import MAX_BATCH_SIZE, MAX_BODY_BYTES
from wine_api.train import TrainResult

CLASSES = {"class_0", "class_1", "class_2"}


def errors(response: Any) -> list[tuple[str, list[Any]]]:
    """(type, loc) of each validation error in a 422 body."""
    assert response.status_code == 422, response.text
    return [(e["type"], e["loc"]) for e in response.json()["detail"]]


# ---------------------------------------------------------------- probes


def test_health_is_ok_with_a_model(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_is_ok_without_a_model(client_without_model: TestClient) -> None:
    # Liveness says "the process works"; restarting it would not bring a model.
    assert client_without_model.get("/health").json() == {"status": "ok"}


def test_ready_when_the_model_is_loaded(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "model_version": "test-1"}


def test_not_ready_without_a_model(client_without_model: TestClient) -> None:
    response = client_without_model.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert "no model file" in body["detail"]


def test_not_ready_with_a_broken_model_file(tmp_path: Path) -> None:
    broken = tmp_path / "model.joblib"
    broken.write_bytes(b"this is not a pickle")
    with TestClient(create_app(broken)) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert "could not be loaded" in response.json()["detail"]


def test_not_ready_with_a_model_for_other_features(tmp_path: Path, trained: TrainResult) -> None:
    bundle = joblib.load(trained.model_path)
    bundle["metadata"]["feature_names"] = ["colour", "smell"]
    joblib.dump(bundle, tmp_path / "model.joblib")
    with TestClient(create_app(tmp_path / "model.joblib")) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert "does not fit" in response.json()["detail"]


def test_not_ready_with_a_model_from_another_sklearn(tmp_path: Path, trained: TrainResult) -> None:
    # Pretend the model was pickled by another scikit-learn release: every
    # estimator stores the version it was saved with as a string in the pickle.
    current = sklearn.__version__.encode()
    data = trained.model_path.read_bytes()
    assert current in data
    (tmp_path / "model.joblib").write_bytes(data.replace(current, b"0" * len(current)))
    with TestClient(create_app(tmp_path / "model.joblib")) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert "does not fit" in response.json()["detail"]


def test_model_path_comes_from_the_environment(
    trained: TrainResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_PATH", str(trained.model_path))
    with TestClient(create_app()) as client:
        assert client.get("/ready").status_code == 200


# ----------------------------------------------------------- predictions


def test_predict(client: TestClient, wine: dict[str, float]) -> None:
    response = client.post("/predict", json=wine)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["class_name"] in CLASSES
    assert body["class_name"] == f"class_{body['class_id']}"
    assert body["model_version"] == "test-1"
    assert set(body["probabilities"]) == CLASSES
    assert sum(body["probabilities"].values()) == pytest.approx(1.0)
    assert body["probabilities"][body["class_name"]] == max(body["probabilities"].values())


def test_predict_accepts_integers_for_floats(client: TestClient, wine: dict[str, float]) -> None:
    wine["magnesium"] = 127  # JSON has one number type; 127 is a fine float
    assert client.post("/predict", json=wine).status_code == 200


def test_batch_keeps_the_order(
    client: TestClient, wines: list[tuple[dict[str, float], str]]
) -> None:
    # One wine of each class, taken from the bundled data.
    picked = [wines[0], wines[70], wines[170]]
    response = client.post("/predict/batch", json={"instances": [w for w, _ in picked]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_version"] == "test-1"
    assert [p["class_name"] for p in body["predictions"]] == [name for _, name in picked]
    for p in body["predictions"]:
        assert sum(p["probabilities"].values()) == pytest.approx(1.0)


def test_batch_of_the_maximum_size(client: TestClient, wine: dict[str, float]) -> None:
    response = client.post("/predict/batch", json={"instances": [wine] * MAX_BATCH_SIZE})
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == MAX_BATCH_SIZE


def test_batch_matches_single_predictions(
    client: TestClient, wines: list[tuple[dict[str, float], str]]
) -> None:
    sample = [w for w, _ in wines[::20]]
    batch = client.post("/predict/batch", json={"instances": sample}).json()["predictions"]
    single = [client.post("/predict", json=w).json() for w in sample]
    for b, s in zip(batch, single, strict=True):
        assert b["class_id"] == s["class_id"]
        assert b["probabilities"] == pytest.approx(s["probabilities"])


# ------------------------------------------------------- client errors (4xx)


def test_missing_field(client: TestClient, wine: dict[str, float]) -> None:
    del wine["hue"]
    assert errors(client.post("/predict", json=wine)) == [("missing", ["body", "hue"])]


def test_extra_field(client: TestClient, wine: dict[str, float]) -> None:
    wine["colour"] = 5.0
    assert errors(client.post("/predict", json=wine)) == [("extra_forbidden", ["body", "colour"])]


@pytest.mark.parametrize("value", ["high", "13.2", True, None, [14.2]])
def test_wrong_type(client: TestClient, wine: dict[str, Any], value: Any) -> None:
    wine["alcohol"] = value
    [(kind, loc)] = errors(client.post("/predict", json=wine))
    assert loc == ["body", "alcohol"]
    assert kind == "float_type"


def test_negative_value(client: TestClient, wine: dict[str, float]) -> None:
    wine["proline"] = -1.0
    assert errors(client.post("/predict", json=wine)) == [
        ("greater_than_equal", ["body", "proline"])
    ]


def test_impossible_value(client: TestClient, wine: dict[str, float]) -> None:
    wine["alcohol"] = 150.0
    assert errors(client.post("/predict", json=wine)) == [("less_than_equal", ["body", "alcohol"])]


def test_every_bad_field_is_reported_at_once(client: TestClient, wine: dict[str, float]) -> None:
    wine["ash"] = -2.0
    del wine["hue"]
    assert len(errors(client.post("/predict", json=wine))) == 2


@pytest.mark.parametrize(
    ("literal", "echoed"),
    [("NaN", "nan"), ("Infinity", "inf"), ("-Infinity", "-inf"), ("1e999", "inf")],
)
def test_non_finite_numbers_are_a_422_not_a_500(
    client: TestClient, wine: dict[str, Any], literal: str, echoed: str
) -> None:
    # Python's JSON parser accepts these; strict JSON output does not. The
    # 422 echoes the input as text instead of crashing on it.
    body = json.dumps({**wine, "alcohol": "VALUE"}).replace('"VALUE"', literal)
    response = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
    assert errors(response) == [("finite_number", ["body", "alcohol"])]
    assert response.json()["detail"][0]["input"] == echoed


def test_a_body_that_is_not_utf8_is_a_422_not_a_500(client: TestClient) -> None:
    response = client.post("/predict", content=b"\x80abc", headers={"Content-Type": "text/plain"})
    assert errors(response) == [("model_attributes_type", ["body"])]
    assert response.json()["detail"][0]["input"] == "\ufffdabc"


def test_malformed_json(client: TestClient) -> None:
    response = client.post(
        "/predict",
        content=b'{"alcohol": 14.2,',
        headers={"Content-Type": "application/json"},
    )
    assert [kind for kind, _ in errors(response)] == ["json_invalid"]


def test_empty_body(client: TestClient) -> None:
    assert errors(client.post("/predict")) == [("missing", ["body"])]


def test_empty_batch(client: TestClient) -> None:
    assert errors(client.post("/predict/batch", json={"instances": []})) == [
        ("too_short", ["body", "instances"])
    ]


def test_too_large_batch(client: TestClient, wine: dict[str, float]) -> None:
    body = {"instances": [wine] * (MAX_BATCH_SIZE + 1)}
    assert errors(client.post("/predict/batch", json=body)) == [("too_long", ["body", "instances"])]


def test_oversized_body_is_refused_before_parsing(client: TestClient) -> None:
    # Starlette's body limit answers before any JSON is parsed, in plain text.
    body = b'{"instances": [' + b" " * MAX_BODY_BYTES + b"]}"
    response = client.post(
        "/predict/batch", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.text == "Content Too Large"


def test_batch_error_names_the_row(client: TestClient, wine: dict[str, float]) -> None:
    bad = dict(wine, alcohol=-1.0)
    response = client.post("/predict/batch", json={"instances": [wine, bad]})
    assert errors(response) == [("greater_than_equal", ["body", "instances", 1, "alcohol"])]


def test_batch_is_not_a_bare_list(client: TestClient, wine: dict[str, float]) -> None:
    assert errors(client.post("/predict/batch", json=[wine]))[0][0] == "model_attributes_type"


def test_wrong_method(client: TestClient) -> None:
    response = client.get("/predict")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


# ------------------------------------------------------- server errors (5xx)


def test_predict_without_a_model(client_without_model: TestClient, wine: dict[str, float]) -> None:
    for path, body in [("/predict", wine), ("/predict/batch", {"instances": [wine]})]:
        response = client_without_model.post(path, json=body)
        assert response.status_code == 503
        assert response.json() == {"detail": "The model is not loaded; GET /ready says why."}


def test_without_a_model_even_bad_requests_get_503(
    client_without_model: TestClient, wine: dict[str, float]
) -> None:
    # FastAPI runs dependencies (get_model) before it validates the body, so
    # a server without a model answers 503 before it looks at the input.
    del wine["hue"]
    assert client_without_model.post("/predict", json=wine).status_code == 503


class _BrokenPipeline:
    classes_ = [0, 1, 2]

    def predict_proba(self, x: Any) -> Any:
        raise RuntimeError("secret internal detail")


def test_unexpected_error_is_a_500_without_internals(
    trained: TrainResult, wine: dict[str, float]
) -> None:
    app = create_app(trained.model_path)
    with TestClient(app, raise_server_exceptions=False) as client:
        app.state.model = LoadedModel(
            _BrokenPipeline(), "broken", ["class_0", "class_1", "class_2"]
        )
        response = client.post("/predict", json=wine)
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}
    assert "secret" not in response.text
