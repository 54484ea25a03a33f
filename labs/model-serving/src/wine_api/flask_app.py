"""The wine API again, in Flask: the same endpoints, bodies and status codes.

FastAPI reads, parses and validates a request before your function runs, and
turns each failure into an answer. Flask hands you the raw request: here
each of those steps is written out, so you can see what FastAPI does for you.
The request and response models are the same pydantic classes
(`wine_api.schemas`), and the model comes from the same loader
(`wine_api.model`), so the two apps answer the same request the same way.

Run it from the lab folder (development server, one process):

    uv run flask --app wine_api.flask_app run --host 127.0.0.1 --port 8001

In production, run it under a WSGI server instead, for example

    gunicorn --workers 2 --bind 127.0.0.1:8001 'wine_api.flask_app:create_app()'

Settings: the same environment variables as wine_api.app (MODEL_PATH,
MODEL_URI, LOG_LEVEL).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, Response, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from wine_api.errors import INTERNAL_ERROR, MODEL_NOT_LOADED, json_bytes, validation_errors
from wine_api.model import LoadedModel, load_for_serving
from wine_api.schemas import (
    MAX_BODY_BYTES,
    BatchRequest,
    BatchResponse,
    HealthResponse,
    NotReadyResponse,
    PredictionResponse,
    ReadyResponse,
    WineFeatures,
)

logger = logging.getLogger("wine_api")

M = TypeVar("M", bound=BaseModel)

# Marks a request that has no body at all (FastAPI calls it Undefined).
_NO_BODY = object()


@dataclass
class ServingState:
    """What the app holds between requests: the model, or why there is none."""

    model: LoadedModel | None
    not_ready_reason: str


class ModelNotLoadedError(Exception):
    """A prediction was requested while no model is loaded."""


class RequestValidationFailed(Exception):
    """The body did not fit the request model; `errors` are pydantic's dicts."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} validation error(s)")
        self.errors = errors


class BodyParseError(Exception):
    """The body could not be decoded at all (FastAPI answers 400 here)."""


def _json_response(content: Any, status: int = 200) -> Response:
    return Response(json_bytes(content), status=status, mimetype="application/json")


def _model_response(body: BaseModel, status: int = 200) -> Response:
    # pydantic writes the JSON itself, exactly as FastAPI does for a
    # response_model, so both apps send the same bytes for the same floats.
    return Response(body.model_dump_json(), status=status, mimetype="application/json")


def read_body() -> Any:
    """The request body as FastAPI reads it, before any validation.

    JSON is parsed only when the Content-Type says JSON; anything else is
    passed on as raw bytes, which validation then refuses. Reading the body
    enforces MAX_CONTENT_LENGTH (413) before anything is parsed.
    """
    raw = request.get_data(cache=True)
    if not raw:
        return _NO_BODY
    mimetype = request.mimetype  # lower case, without parameters such as charset
    if mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    ):
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise RequestValidationFailed(
                [
                    {
                        "type": "json_invalid",
                        "loc": ("body", exc.pos),
                        "msg": "JSON decode error",
                        "input": {},
                        "ctx": {"error": exc.msg},
                    }
                ]
            ) from exc
        except Exception as exc:  # not UTF-8, nested too deep, ...
            raise BodyParseError from exc
    return raw


def validate(model_class: type[M], body: Any) -> M:
    """`body` as an instance of `model_class`, or RequestValidationFailed (422).

    from_attributes=True and the "body" prefix of each error's `loc` are what
    FastAPI uses, so the 422 bodies match to the byte.
    """
    if body is _NO_BODY:
        raise RequestValidationFailed(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    try:
        return model_class.model_validate(body, from_attributes=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise RequestValidationFailed([{**e, "loc": ("body", *e["loc"])} for e in errors]) from exc


def create_app(model_path: Path | str | None = None, *, model_uri: str | None = None) -> Flask:
    """Build the app and load its model. Without arguments, MODEL_URI or
    MODEL_PATH is read. `flask --app wine_api.flask_app` finds and calls this
    factory; a WSGI server calls it once per worker process."""
    app = Flask(__name__)
    # Werkzeug refuses a larger body with 413 while reading it, before parsing.
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    # Flask has no lifespan: the factory runs once per process, so load here.
    model, reason = load_for_serving(model_path, model_uri)
    state = ServingState(model=model, not_ready_reason=reason)
    app.extensions["wine_api"] = state

    @app.before_request
    def refuse_declared_oversized_body() -> None:
        # Runs before routing takes effect, as Starlette's body limit does:
        # a body declared too large gets 413 whatever the path. (A body sent
        # without Content-Length is cut off while it is read, in read_body.)
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise RequestEntityTooLarge

    def require_model() -> LoadedModel:
        if state.model is None:
            raise ModelNotLoadedError
        return state.model

    # ------------------------------------------------------------ errors

    @app.errorhandler(ModelNotLoadedError)
    def model_not_loaded(exc: ModelNotLoadedError) -> Response:
        return _json_response({"detail": MODEL_NOT_LOADED}, 503)

    @app.errorhandler(RequestValidationFailed)
    def invalid_request(exc: RequestValidationFailed) -> Response:
        logger.info(
            "rejected %s %s: %d validation error(s)", request.method, request.path, len(exc.errors)
        )
        return _json_response({"detail": validation_errors(exc.errors)}, 422)

    @app.errorhandler(BodyParseError)
    def unparsable_body(exc: BodyParseError) -> Response:
        return _json_response({"detail": "There was an error parsing the body"}, 400)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge) -> Response:
        # FastAPI (Starlette) answers this one in plain text; so do we.
        return Response("Content Too Large", status=413, mimetype="text/plain")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        # 404, 405, ...: Werkzeug's response (with its headers, such as Allow
        # on a 405) but a JSON body instead of an HTML page.
        response = exc.get_response()
        response.set_data(json_bytes({"detail": exc.name}))
        response.mimetype = "application/json"
        return response

    @app.errorhandler(InternalServerError)
    def internal_error(exc: InternalServerError) -> Response:
        # Registered for 500, not for Exception: Flask then logs the
        # traceback of the original exception before calling this. The
        # client gets no internals.
        return _json_response({"detail": INTERNAL_ERROR}, 500)

    # ------------------------------------------------------------ probes

    @app.get("/health")
    def health() -> Response:
        """Liveness: the process is up and answering. Never touches the model."""
        return _model_response(HealthResponse())

    @app.get("/ready")
    def ready() -> Response:
        """Readiness: the model is loaded and predictions will work."""
        if state.model is None:
            return _model_response(NotReadyResponse(detail=state.not_ready_reason), 503)
        return _model_response(ReadyResponse(model_version=state.model.version))

    # ------------------------------------------------------- predictions
    # The order of the three steps is FastAPI's: read and parse the body,
    # then check the model (503), then validate the body (422).

    @app.post("/predict")
    def predict() -> Response:
        """Predict the class of one wine."""
        body = read_body()
        model = require_model()
        wine = validate(WineFeatures, body)
        (prediction,) = model.predict([wine])
        return _model_response(
            PredictionResponse(**prediction.model_dump(), model_version=model.version)
        )

    @app.post("/predict/batch")
    def predict_batch() -> Response:
        """Predict the classes of up to 1000 wines, in order."""
        body = read_body()
        model = require_model()
        batch = validate(BatchRequest, body)
        return _model_response(
            BatchResponse(model_version=model.version, predictions=model.predict(batch.instances))
        )

    return app


logging.basicConfig(
    level=os.environ.get("LOG_LEVEL", "INFO").upper(),
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
