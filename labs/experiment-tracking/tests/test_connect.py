"""The scripts check the tracking server first, and fail in seconds with a
clear message, instead of MLflow's minutes of retries."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import mlflow
import pytest
from live import free_port

import wine_tracking
from wine_tracking import DEFAULT_TRACKING_URI, connect


class _Forbidden(BaseHTTPRequestHandler):
    """What answers on port 5000 on macOS: the AirPlay Receiver, with 403."""

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self.send_response(403)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def not_mlflow() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Forbidden)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_connect_sets_the_tracking_uri(tracking_uri: str) -> None:
    assert connect() == tracking_uri
    assert mlflow.get_tracking_uri() == tracking_uri


def test_without_the_variable_the_lab_server_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert wine_tracking.tracking_uri() == DEFAULT_TRACKING_URI == "http://127.0.0.1:5000"


def test_nothing_listening_fails_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    with pytest.raises(ConnectionError, match="no MLflow tracking server answers at .*refused"):
        connect()
    assert time.monotonic() - started < 5


def test_another_program_on_the_port_is_named(
    not_mlflow: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", not_mlflow)
    with pytest.raises(ConnectionError, match="answered HTTP 403: that is not an MLflow server"):
        connect()
