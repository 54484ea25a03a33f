"""The wine API: liveness, readiness and prediction endpoints over FastAPI.

Start it from the lab folder, after training a model:

    uv run uvicorn wine_api.app:app --host 127.0.0.1 --port 8000

Settings come from the environment:
    MODEL_PATH  the joblib file written by wine_api.train (default model/model.joblib)
    MODEL_URI   or a model in an MLflow registry, e.g. models:/wine-classifier@champion
                (with MLFLOW_TRACKING_URI; see wine_api.model)
    LOG_LEVEL   DEBUG, INFO (default), WARNING or ERROR
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from wine_api import __version__
from wine_api.errors import INTERNAL_ERROR, MODEL_NOT_LOADED, validation_errors
from wine_api.model import (
    FEATURES,
    IncompatibleModelError,
    LoadedModel,
    load_for_serving,
    load_model,
)
from wine_api.schemas import (
    MAX_BODY_BYTES,
    BatchRequest,
    BatchResponse,
    ErrorResponse,
    HealthResponse,
    NotReadyResponse,
    PredictionResponse,
    ReadyResponse,
    WineFeatures,
)

# The model loading lives in wine_api.model; these names stay importable from here.
__all__ = ["FEATURES", "IncompatibleModelError", "LoadedModel", "create_app", "load_model"]

logger = logging.getLogger("wine_api")


class ModelNotLoadedError(Exception):
    """A prediction was requested while no model is loaded."""


def get_model(request: Request) -> LoadedModel:
    """Dependency for the prediction endpoints: the loaded model, or a 503."""
    model: LoadedModel | None = request.app.state.model
    if model is None:
        raise ModelNotLoadedError
    return model


Model = Annotated[LoadedModel, Depends(get_model)]


def create_app(model_path: Path | str | None = None, *, model_uri: str | None = None) -> FastAPI:
    """Build the app. Without arguments, MODEL_URI or MODEL_PATH is read at startup."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Runs once, before the first request: load the model here, not per
        # request and not at import time (tests import this module and build
        # apps with their own model paths). load_for_serving never raises:
        # without a model the app stays up, and /ready says why.
        app.state.model, app.state.not_ready_reason = load_for_serving(model_path, model_uri)
        yield
        app.state.model = None

    app = FastAPI(
        title="Wine classifier API",
        version=__version__,
        summary="Predicts the cultivar of a wine from 13 chemical measurements.",
        lifespan=lifespan,
        # Refuse oversized bodies (413) before reading them into memory; the
        # batch's max_length only applies once the whole body is parsed.
        max_body_size=MAX_BODY_BYTES,
    )

    @app.exception_handler(ModelNotLoadedError)
    async def model_not_loaded(request: Request, exc: ModelNotLoadedError) -> JSONResponse:
        return JSONResponse(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            content={"detail": MODEL_NOT_LOADED},
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's 422 body (it names every bad field), made safe to
        # serialise: its default handler answers 500 when the rejected input
        # holds NaN or Infinity. Log a summary too: a burst of rejected
        # requests usually means a client changed.
        logger.info(
            "rejected %s %s: %d validation error(s)",
            request.method,
            request.url.path,
            len(exc.errors()),
        )
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={"detail": jsonable_encoder(validation_errors(exc.errors()))},
        )

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        # A JSON 500 without internals. No logging here: Starlette re-raises
        # the exception after this handler, and uvicorn logs the traceback.
        return JSONResponse(
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
            content={"detail": INTERNAL_ERROR},
        )

    @app.get("/health", response_model=HealthResponse, tags=["probes"])
    def health() -> HealthResponse:
        """Liveness: the process is up and answering. Never touches the model."""
        return HealthResponse()

    @app.get(
        "/ready",
        response_model=ReadyResponse,
        responses={503: {"model": NotReadyResponse}},
        tags=["probes"],
    )
    def ready(request: Request) -> ReadyResponse | JSONResponse:
        """Readiness: the model is loaded and predictions will work."""
        model: LoadedModel | None = request.app.state.model
        if model is None:
            body = NotReadyResponse(detail=request.app.state.not_ready_reason)
            return JSONResponse(
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE, content=body.model_dump()
            )
        return ReadyResponse(model_version=model.version)

    # Plain `def`, not `async def`: predict_proba is CPU work, so FastAPI runs
    # these in its thread pool and the event loop stays free for other requests.
    @app.post(
        "/predict",
        response_model=PredictionResponse,
        responses={503: {"model": ErrorResponse}},
        tags=["predictions"],
    )
    def predict(wine: WineFeatures, model: Model) -> PredictionResponse:
        """Predict the class of one wine."""
        (prediction,) = model.predict([wine])
        return PredictionResponse(**prediction.model_dump(), model_version=model.version)

    @app.post(
        "/predict/batch",
        response_model=BatchResponse,
        responses={503: {"model": ErrorResponse}},
        tags=["predictions"],
    )
    def predict_batch(batch: BatchRequest, model: Model) -> BatchResponse:
        """Predict the classes of up to 1000 wines, in order."""
        return BatchResponse(
            model_version=model.version, predictions=model.predict(batch.instances)
        )

    return app


logging.basicConfig(
    level=os.environ.get("LOG_LEVEL", "INFO").upper(),
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
app = create_app()
