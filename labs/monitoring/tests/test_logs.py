"""Structured logs: every line is JSON, requests carry their id, and the
client's data stays out of the log."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from wine_api.logs import REQUEST_ID, JsonFormatter, request_id_from


class JsonLines(logging.Handler):
    """Formats each record with the real formatter as it is logged (as a
    StreamHandler would, inside the request), and keeps the parsed lines."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def logged() -> Iterator[list[dict[str, object]]]:
    handler = JsonLines()
    logger = logging.getLogger("wine_api")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


def record(msg: str, **extra: object) -> logging.LogRecord:
    r = logging.LogRecord("wine_api", logging.INFO, __file__, 1, msg, (), None)
    r.__dict__.update(extra)
    return r


def test_a_record_becomes_one_line_of_json_with_its_extra_fields() -> None:
    line = JsonFormatter().format(record("prediction", class_name="class_0", confidence=0.99))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["event"] == "prediction"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "wine_api"
    assert entry["class_name"] == "class_0"
    assert entry["confidence"] == 0.99
    assert entry["ts"].endswith("Z")
    assert "request_id" not in entry  # not inside a request


def test_the_request_id_of_the_current_request_is_added() -> None:
    token = REQUEST_ID.set("req-42")
    try:
        entry = json.loads(JsonFormatter().format(record("hello")))
    finally:
        REQUEST_ID.reset(token)
    assert entry["request_id"] == "req-42"


def test_exceptions_and_odd_values_stay_on_one_line() -> None:
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        r = record("failed", path=__import__("pathlib").Path("/tmp/x"))
        r.exc_info = sys.exc_info()
    line = JsonFormatter().format(r)
    assert "\n" not in line
    entry = json.loads(line)
    assert "ValueError: bad" in entry["exception"]
    assert entry["path"] == "/tmp/x"  # not JSON-serialisable: written as text


def test_uvicorns_colour_codes_are_dropped() -> None:
    r = record("Started server process", color_message="\x1b[32mStarted\x1b[0m")
    assert "color_message" not in json.loads(JsonFormatter().format(r))


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        ("abc-123", True),
        ("0f8e3c1a2b4d4e6f8a9b0c1d2e3f4a5b", True),
        ("two words", False),
        ("x" * 65, False),
        ('{"event": "forged"}', False),
        (None, False),
    ],
)
def test_only_safe_request_ids_are_kept(header: str | None, kept: bool) -> None:
    rid = request_id_from(header)
    assert (rid == header) is kept
    assert 1 <= len(rid) <= 64


def test_a_request_logs_its_id_route_status_and_duration(
    client: TestClient, wine: dict[str, float], logged: list[dict[str, object]]
) -> None:
    response = client.post("/predict", json=wine, headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    prediction, request = logged
    assert prediction["event"] == "prediction"
    assert prediction["request_id"] == "abc-123"
    assert prediction["class_name"] == "class_0"
    assert prediction["model_version"] == "test-1"
    assert request["event"] == "request"
    assert request["request_id"] == "abc-123"
    assert request["route"] == "/predict"
    assert request["status"] == 200
    assert isinstance(request["duration_ms"], float)


def test_each_request_gets_its_own_id(client: TestClient, logged: list[dict[str, object]]) -> None:
    first = client.get("/health").headers["x-request-id"]
    second = client.get("/health").headers["x-request-id"]
    assert first != second
    assert [line["request_id"] for line in logged] == [first, second]


def test_rejected_requests_log_the_fields_not_the_values(
    client: TestClient, logged: list[dict[str, object]]
) -> None:
    body = {"alcohol": -12345.678, "malic_acid": "patient-4711@example.org"}
    assert client.post("/predict", json=body).status_code == 422
    text = json.dumps(logged)
    assert "patient-4711" not in text
    assert "12345" not in text
    rejected = next(line for line in logged if line["event"] == "request rejected")
    assert {"loc": "body.alcohol", "type": "greater_than_equal"} in rejected["errors"]


def test_predictions_never_log_the_features(
    client: TestClient, wine: dict[str, float], logged: list[dict[str, object]]
) -> None:
    client.post("/predict", json=wine)
    text = json.dumps(logged)
    assert "alcohol" not in text
    assert str(wine["proline"]) not in text
