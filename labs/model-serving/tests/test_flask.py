"""The Flask app answers exactly as the FastAPI app does: the same request
gets the same status, content type and body bytes from both. Then the two
ways a learner runs it: Flask's development server and gunicorn."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from flask.testing import FlaskClient
from live import free_port, serve
from servers import flask_command, gunicorn_command, request

from wine_api.app import create_app as create_fastapi_app
from wine_api.flask_app import create_app as create_flask_app
from wine_api.model import LoadedModel
from wine_api.schemas import MAX_BATCH_SIZE, MAX_BODY_BYTES
from wine_api.train import TrainResult

JSON = {"Content-Type": "application/json"}


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


# (name, method, path, body made from a valid wine, headers)
Case = tuple[str, str, str, Callable[[dict[str, float]], bytes | None], dict[str, str]]
CASES: list[Case] = [
    ("health", "GET", "/health", lambda w: None, {}),
    ("ready", "GET", "/ready", lambda w: None, {}),
    ("predict", "POST", "/predict", _dumps, JSON),
    ("integers for floats", "POST", "/predict", lambda w: _dumps({**w, "magnesium": 127}), JSON),
    ("json subtype", "POST", "/predict", _dumps, {"Content-Type": "application/vnd.a+json"}),
    (
        "missing field",
        "POST",
        "/predict",
        lambda w: _dumps({k: v for k, v in w.items() if k != "hue"}),
        JSON,
    ),
    ("null", "POST", "/predict", lambda w: _dumps({**w, "hue": None}), JSON),
    ("extra field", "POST", "/predict", lambda w: _dumps({**w, "colour": 5}), JSON),
    ("string number", "POST", "/predict", lambda w: _dumps({**w, "alcohol": "13.2"}), JSON),
    ("boolean", "POST", "/predict", lambda w: _dumps({**w, "alcohol": True}), JSON),
    ("negative", "POST", "/predict", lambda w: _dumps({**w, "proline": -1}), JSON),
    ("impossible", "POST", "/predict", lambda w: _dumps({**w, "alcohol": 150}), JSON),
    (
        "several errors",
        "POST",
        "/predict",
        lambda w: _dumps({k: v for k, v in w.items() if k != "hue"} | {"ash": -2, "x": 1}),
        JSON,
    ),
    ("NaN", "POST", "/predict", lambda w: _dumps(w).replace(b"14.23", b"NaN"), JSON),
    ("Infinity body", "POST", "/predict", lambda w: b"1e999", JSON),
    ("malformed JSON", "POST", "/predict", lambda w: b'{"alcohol": 14.2,', JSON),
    ("not UTF-8", "POST", "/predict", lambda w: b"\x80abc", JSON),
    ("too deeply nested", "POST", "/predict", lambda w: b"[" * 100_000 + b"]" * 100_000, JSON),
    ("empty body", "POST", "/predict", lambda w: None, JSON),
    ("a list, not an object", "POST", "/predict", lambda w: _dumps([w]), JSON),
    ("no content type", "POST", "/predict", _dumps, {}),
    ("form content type", "POST", "/predict", _dumps, {"Content-Type": "text/plain"}),
    ("batch", "POST", "/predict/batch", lambda w: _dumps({"instances": [w, w]}), JSON),
    ("empty batch", "POST", "/predict/batch", lambda w: _dumps({"instances": []}), JSON),
    (
        "too large batch",
        "POST",
        "/predict/batch",
        lambda w: _dumps({"instances": [w] * (MAX_BATCH_SIZE + 1)}),
        JSON,
    ),
    (
        "bad row in batch",
        "POST",
        "/predict/batch",
        lambda w: _dumps({"instances": [w, {**w, "alcohol": -1}]}),
        JSON,
    ),
    ("bare list batch", "POST", "/predict/batch", lambda w: _dumps([w]), JSON),
    (
        "oversized body",
        "POST",
        "/predict/batch",
        lambda w: b'{"instances": [' + b" " * MAX_BODY_BYTES + b"]}",
        JSON,
    ),
    (
        "oversized body, unknown path",
        "POST",
        "/nope",
        lambda w: b" " * (MAX_BODY_BYTES + 1),
        JSON,
    ),
    ("wrong method", "GET", "/predict", lambda w: None, {}),
    ("no such path", "GET", "/nope", lambda w: None, {}),
]


@pytest.fixture(scope="module")
def apps(trained: TrainResult) -> Iterator[tuple[TestClient, FlaskClient]]:
    with TestClient(create_fastapi_app(trained.model_path)) as fastapi_client:
        yield fastapi_client, create_flask_app(trained.model_path).test_client()


@pytest.fixture(scope="module")
def apps_without_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    missing = tmp_path_factory.mktemp("none") / "model.joblib"
    with TestClient(create_fastapi_app(missing)) as fastapi_client:
        yield fastapi_client, create_flask_app(missing).test_client()


def assert_same_answer(
    clients: tuple[TestClient, FlaskClient], method: str, path: str, body: Any, headers: Any
) -> int:
    fastapi_client, flask_client = clients
    expected = fastapi_client.request(method, path, content=body, headers=headers)
    actual = flask_client.open(path, method=method, data=body, headers=headers)
    assert actual.status_code == expected.status_code, actual.data[:500]
    assert actual.headers["Content-Type"] == expected.headers["Content-Type"]
    assert actual.data == expected.content
    return actual.status_code


@pytest.mark.parametrize(
    ("method", "path", "make_body", "headers"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_same_answer_as_fastapi(
    apps: tuple[TestClient, FlaskClient],
    wine: dict[str, float],
    method: str,
    path: str,
    make_body: Callable[[dict[str, float]], bytes | None],
    headers: dict[str, str],
) -> None:
    assert_same_answer(apps, method, path, make_body(wine), headers)


def test_the_cases_cover_every_status_the_api_uses(
    apps: tuple[TestClient, FlaskClient], wine: dict[str, float]
) -> None:
    statuses = {
        apps[0].request(m, p, content=b(wine), headers=h).status_code for _, m, p, b, h in CASES
    }
    assert statuses == {200, 400, 404, 405, 413, 422}


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/ready", None, 503),
        ("/predict", b"{}", 503),  # the model is checked before the body is validated
        ("/predict/batch", b'{"instances": []}', 503),
        ("/predict", b'{"alcohol": 14.2,', 422),  # but after the body is parsed
        ("/predict", b" " * (MAX_BODY_BYTES + 1), 413),  # and after its size is checked
    ],
)
def test_same_answer_as_fastapi_without_a_model(
    apps_without_model: tuple[TestClient, FlaskClient], path: str, body: Any, status: int
) -> None:
    method = "GET" if body is None else "POST"
    assert assert_same_answer(apps_without_model, method, path, body, JSON) == status


class _BrokenPipeline:
    classes_ = [0, 1, 2]

    def predict_proba(self, x: Any) -> Any:
        raise RuntimeError("secret internal detail")


def test_unexpected_error_is_a_logged_500_without_internals(
    trained: TrainResult, wine: dict[str, float], caplog: pytest.LogCaptureFixture
) -> None:
    app = create_flask_app(trained.model_path)
    app.extensions["wine_api"].model = LoadedModel(_BrokenPipeline(), "broken", ["a", "b", "c"])
    with caplog.at_level(logging.ERROR):
        response = app.test_client().post("/predict", json=wine)
    assert response.status_code == 500
    assert response.get_json() == {"detail": "Internal server error"}
    assert b"secret" not in response.data
    # Flask logged the traceback for the operator.
    assert any("secret internal detail" in str(r.exc_info) for r in caplog.records)


def test_model_uri_argument_wins_over_the_environment(
    trained: TrainResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_URI", "models:/not-used@champion")
    monkeypatch.setenv("MODEL_PATH", str(trained.model_path))
    # An explicit path wins over both variables...
    assert create_flask_app(trained.model_path).test_client().get("/ready").status_code == 200
    # ...and without arguments MODEL_URI wins over MODEL_PATH (here: no mlflow
    # server at all, so not ready, and the reason says where it looked).
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    body = create_flask_app().test_client().get("/ready").get_json()
    assert "registry" in body["detail"]


# ------------------------------------------------------------------ live


@pytest.mark.live
@pytest.mark.parametrize("command", [flask_command, gunicorn_command], ids=["flask", "gunicorn"])
def test_the_flask_app_on_a_real_socket(
    command: Callable[[int], list[str]],
    trained: TrainResult,
    wine: dict[str, float],
    tmp_path: Path,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"MODEL_PATH": str(trained.model_path)}
    log = tmp_path / "server.log"
    # gunicorn starts two workers, each importing scikit-learn and loading the
    # model: on a busy 2-core machine that takes well over the default minute.
    with serve(command(port), ready_url=f"{base}/ready", env=env, log=log, deadline_s=240):
        assert request(f"{base}/ready") == (200, {"status": "ready", "model_version": "test-1"})
        status, body = request(f"{base}/predict", wine)
        assert (status, body["class_name"]) == (200, "class_0")
        status, body = request(f"{base}/predict", {"alcohol": -1})
        assert status == 422
        assert {e["loc"][-1] for e in body["detail"]} >= {"alcohol", "proline"}
