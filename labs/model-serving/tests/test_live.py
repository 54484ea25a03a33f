"""The API as a learner runs it: a real uvicorn process on a real socket."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from live import free_port, serve

from wine_api.train import TrainResult


def uvicorn(port: int) -> list[str]:
    """The command of the lab's serve step, on another port."""
    app = "wine_api.app:app"
    return [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]


@pytest.fixture(scope="module")
def live_api(trained: TrainResult, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("uvicorn") / "uvicorn.log"
    env = {"MODEL_PATH": str(trained.model_path)}
    with serve(uvicorn(port), ready_url=f"{base}/ready", env=env, log=log):
        yield base


def post(url: str, body: object) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback only)
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        with error:  # an HTTPError holds the open response: close it
            return error.code, json.load(error)


def test_the_server_is_ready_and_predicts(live_api: str, wine: dict[str, float]) -> None:
    with urllib.request.urlopen(f"{live_api}/health", timeout=5) as response:  # noqa: S310
        assert json.load(response) == {"status": "ok"}
    status, body = post(f"{live_api}/predict", wine)
    assert status == 200
    assert body["class_name"] == "class_0"


def test_the_server_rejects_bad_input_with_422(live_api: str) -> None:
    status, body = post(f"{live_api}/predict", {"alcohol": -1, "malic_acid": "lots"})
    assert status == 422
    assert "detail" in body


def test_a_server_without_a_model_is_alive_but_not_ready(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"MODEL_PATH": str(tmp_path / "none.joblib")}
    with serve(uvicorn(port), ready_url=f"{base}/health", env=env):
        with pytest.raises(urllib.error.HTTPError) as not_ready:
            urllib.request.urlopen(f"{base}/ready", timeout=5)  # noqa: S310
        with not_ready.value as error:
            assert error.code == 503
