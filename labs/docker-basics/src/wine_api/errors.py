"""The error bodies of the wine API, shared by the FastAPI and the Flask app.

Every error the API answers itself is JSON with a `detail`: a string for
503 and 500, a list of validation errors for 422. Both apps build these
bodies here, so a client cannot tell which framework answered.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

MODEL_NOT_LOADED = "The model is not loaded; GET /ready says why."
INTERNAL_ERROR = "Internal server error"


def json_safe(value: Any) -> Any:
    """`value` with what strict JSON cannot hold replaced by text.

    A validation error echoes the client's input back, and that input can be
    what made it invalid: NaN or Infinity (Python's JSON parser accepts them,
    strict JSON output refuses them) or bytes that are not UTF-8. Without
    this, rejecting such a request would crash the error handler: a 500
    instead of a 422.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # 'nan', 'inf', '-inf'
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)  # e.g. the exception object in a custom validator's ctx


def validation_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """pydantic's error dicts (type, loc, msg, input, ctx), safe to serialise."""
    return [json_safe(dict(error)) for error in errors]


def json_bytes(content: Any) -> bytes:
    """Compact JSON as FastAPI's JSONResponse writes it, so both apps send the
    same bytes. allow_nan=False: a NaN that slipped through is a bug to see."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(
        "utf-8"
    )
