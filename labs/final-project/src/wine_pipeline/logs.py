"""Structured logs: one JSON object per line, with the request id of the
request being served.

A JSON line can be searched and aggregated by field (`level`, `event`,
`request_id`, `status`) in any log system (Loki, Elasticsearch, CloudWatch,
`jq` on a laptop) without a regular expression per message format.

What never goes into a log: request bodies (they may hold personal data and
make every line huge), secrets and tokens, full tracebacks sent to clients.
Log what lets you find and join events: ids, routes, status codes,
durations, the model version and the prediction.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

# The id of the request being served, readable from any code that runs for it
# (a ContextVar follows the request across `await`s and into the thread pool
# FastAPI runs plain `def` endpoints in).
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

# Accept a caller's id only if it is short and harmless; anything else (a
# newline, 10 kB of text) is replaced, so a client cannot forge log lines.
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

# Attributes every LogRecord has; anything else on a record came from
# `extra={...}` and becomes a field of the JSON line. uvicorn adds a
# `color_message` with terminal colour codes: drop it.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "color_message",
}


def request_id_from(header: str | None) -> str:
    """The caller's X-Request-ID if it is safe to log, else a new random id."""
    if header is not None and _SAFE_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON:

    {"ts": "2026-11-27T14:28:59.128Z", "level": "INFO", "logger": "wine_api",
     "event": "prediction", "request_id": "…", "class_name": "class_0", …}
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # default=str: a value json cannot encode (a Path, a datetime) is
        # written as text instead of losing the whole line.
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str | None = None) -> None:
    """Send every log record to stderr as JSON, unless logging is already set
    up (e.g. by `uvicorn --log-config logging.json`, which does the same for
    uvicorn's own loggers too)."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel((level or os.environ.get("LOG_LEVEL", "INFO")).upper())
