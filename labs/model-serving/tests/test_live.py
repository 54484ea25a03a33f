"""The API as a learner runs it: a real uvicorn process on a real socket
(the `live_api` fixture in conftest.py)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from live import free_port, serve
from servers import request, uvicorn_command

pytestmark = pytest.mark.live


def test_the_server_is_ready_and_predicts(live_api: str, wine: dict[str, float]) -> None:
    with urllib.request.urlopen(f"{live_api}/health", timeout=5) as response:  # noqa: S310
        assert json.load(response) == {"status": "ok"}
    status, body = request(f"{live_api}/predict", wine)
    assert status == 200
    assert body["class_name"] == "class_0"


def test_the_server_rejects_bad_input_with_422(live_api: str) -> None:
    status, body = request(f"{live_api}/predict", {"alcohol": -1, "malic_acid": "lots"})
    assert status == 422
    assert "detail" in body


def test_a_server_without_a_model_is_alive_but_not_ready(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"MODEL_PATH": str(tmp_path / "none.joblib")}
    with serve(uvicorn_command(port), ready_url=f"{base}/health", env=env):
        with pytest.raises(urllib.error.HTTPError) as not_ready:
            urllib.request.urlopen(f"{base}/ready", timeout=5)  # noqa: S310
        with not_ready.value as error:
            assert error.code == 503
