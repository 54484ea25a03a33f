"""The wine API of the model-serving lab, instrumented: Prometheus metrics at
/metrics, one JSON log line per request and per prediction, a request id on
every response, and the last drift report exposed as gauges.

Start it from the lab folder, after training a model:

    uv run uvicorn wine_api.app:app --host 127.0.0.1 --port 8000 \
        --log-config logging.json

Settings come from the environment:
    MODEL_PATH    the joblib file written by wine_api.train (default model/model.joblib)
    DRIFT_REPORT  the JSON report written by wine_api.drift (default reports/drift.json)
    LOG_LEVEL     DEBUG, INFO (default), WARNING or ERROR
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import joblib
import numpy as np
from fastapi import Depends, FastAPI, Request, Response, status
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client.exposition import choose_encoder
from sklearn.exceptions import InconsistentVersionWarning

from wine_api import __version__
from wine_api.logs import configure_logging
from wine_api.metrics import ApiMetrics, MetricsMiddleware
from wine_api.schemas import (
    MAX_BODY_BYTES,
    BatchRequest,
    BatchResponse,
    ClassPrediction,
    ErrorResponse,
    HealthResponse,
    NotReadyResponse,
    PredictionResponse,
    ReadyResponse,
    WineFeatures,
)

logger = logging.getLogger("wine_api")

DEFAULT_MODEL_PATH = Path("model/model.joblib")
DEFAULT_DRIFT_REPORT = Path("reports/drift.json")
# The column order the model was trained with is the field order of the schema;
# load_model() refuses a model whose metadata says otherwise.
FEATURES: list[str] = list(WineFeatures.model_fields)


class ModelNotLoadedError(Exception):
    """A prediction was requested while no model is loaded."""


class IncompatibleModelError(Exception):
    """The model file does not fit this code: another scikit-learn version,
    other features, or not written by wine_api.train."""


@dataclass(frozen=True)
class LoadedModel:
    """A fitted pipeline and what the API needs to know about it."""

    pipeline: Any
    version: str
    class_names: list[str]

    def predict(self, wines: Sequence[WineFeatures]) -> list[ClassPrediction]:
        """One vectorised model call for all the rows, not one call per row."""
        x = np.array([[getattr(w, f) for f in FEATURES] for w in wines], dtype=np.float64)
        probabilities = self.pipeline.predict_proba(x)
        labels = self.pipeline.classes_
        results = []
        for row in probabilities:
            best = int(np.argmax(row))
            class_id = int(labels[best])
            results.append(
                ClassPrediction(
                    class_id=class_id,
                    class_name=self.class_names[class_id],
                    probabilities={
                        self.class_names[int(label)]: float(p)
                        for label, p in zip(labels, row, strict=True)
                    },
                )
            )
        return results


def load_model(path: Path) -> LoadedModel:
    """Load a model written by wine_api.train and check it fits this API.

    joblib files are pickles: loading one runs code from it. Only load files
    you produced yourself or got from a source you trust.
    """
    with warnings.catch_warnings():
        # scikit-learn only warns when a model was pickled by another version,
        # and then "might" give wrong answers. A service should refuse instead.
        warnings.simplefilter("error", InconsistentVersionWarning)
        try:
            bundle = joblib.load(path)
        except InconsistentVersionWarning as exc:
            raise IncompatibleModelError(f"{path}: {exc}") from exc
    if not isinstance(bundle, dict) or not {"pipeline", "metadata"} <= bundle.keys():
        raise IncompatibleModelError(f"{path} is not a model written by wine_api.train")
    metadata = bundle["metadata"]
    if metadata["feature_names"] != FEATURES:
        raise IncompatibleModelError(
            f"{path} expects features {metadata['feature_names']}, the API sends {FEATURES}"
        )
    return LoadedModel(
        pipeline=bundle["pipeline"],
        version=str(metadata["model_version"]),
        class_names=list(metadata["class_names"]),
    )


def get_model(request: Request) -> LoadedModel:
    """Dependency for the prediction endpoints: the loaded model, or a 503."""
    model: LoadedModel | None = request.app.state.model
    if model is None:
        raise ModelNotLoadedError
    return model


def get_metrics(request: Request) -> ApiMetrics:
    return request.app.state.metrics


Model = Annotated[LoadedModel, Depends(get_model)]
Metrics = Annotated[ApiMetrics, Depends(get_metrics)]


def record(metrics: ApiMetrics, model: LoadedModel, predictions: list[ClassPrediction]) -> None:
    """Count each prediction by class and observe its confidence: the two
    signals about the model's behaviour that exist before any label does."""
    for p in predictions:
        metrics.predictions.labels(class_name=p.class_name, model_version=model.version).inc()
        metrics.confidence.labels(model_version=model.version).observe(
            max(p.probabilities.values())
        )


def create_app(
    model_path: Path | str | None = None, drift_report: Path | str | None = None
) -> FastAPI:
    """Build the app. Without arguments, MODEL_PATH is read at startup and
    DRIFT_REPORT now."""
    metrics = ApiMetrics(
        drift_report=Path(drift_report or os.environ.get("DRIFT_REPORT", DEFAULT_DRIFT_REPORT))
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Runs once, before the first request: load the model here, not per
        # request and not at import time.
        path = Path(model_path or os.environ.get("MODEL_PATH", DEFAULT_MODEL_PATH))
        app.state.model = None
        # Whatever goes wrong, stay up: /health keeps answering, /ready says
        # what is wrong, and /metrics keeps being scraped.
        try:
            app.state.model = load_model(path)
        except FileNotFoundError:
            app.state.not_ready_reason = "no model file at MODEL_PATH; train one first"
            logger.error("no model file", extra={"model_path": str(path.resolve())})
        except IncompatibleModelError as exc:
            app.state.not_ready_reason = "the model file does not fit this code; retrain it"
            logger.error("model refused", extra={"model_path": str(path), "reason": str(exc)})
        except Exception:
            app.state.not_ready_reason = "the model file could not be loaded; see the server log"
            logger.exception("model not loaded", extra={"model_path": str(path.resolve())})
        else:
            model = app.state.model
            metrics.model_loaded(model.version, model.class_names)
            logger.info(
                "model loaded", extra={"model_version": model.version, "model_path": str(path)}
            )
        yield
        app.state.model = None

    app = FastAPI(
        title="Wine classifier API",
        version=__version__,
        summary="Predicts the cultivar of a wine from 13 chemical measurements.",
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
    )
    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    @app.exception_handler(ModelNotLoadedError)
    async def model_not_loaded(request: Request, exc: ModelNotLoadedError) -> JSONResponse:
        return JSONResponse(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            content={"detail": "The model is not loaded; GET /ready says why."},
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Log which fields failed and why, never the values: they are the
        # client's data. A burst of these usually means a client changed.
        logger.info(
            "request rejected",
            extra={
                "errors": [
                    {"loc": ".".join(map(str, e["loc"])), "type": e["type"]} for e in exc.errors()
                ]
            },
        )
        return await request_validation_exception_handler(request, exc)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        # A JSON 500 without internals. Starlette re-raises the exception
        # after this handler, and uvicorn logs the traceback.
        return JSONResponse(
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
            content={"detail": "Internal server error"},
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

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics(request: Request) -> Response:
        """The metrics in the format the scraper asks for (Prometheus text or
        OpenMetrics, from its Accept header)."""
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(metrics.registry), media_type=content_type)

    # Plain `def`, not `async def`: predict_proba is CPU work, so FastAPI runs
    # these in its thread pool and the event loop stays free for other requests.
    @app.post(
        "/predict",
        response_model=PredictionResponse,
        responses={503: {"model": ErrorResponse}},
        tags=["predictions"],
    )
    def predict(wine: WineFeatures, model: Model, metrics: Metrics) -> PredictionResponse:
        """Predict the class of one wine."""
        (prediction,) = model.predict([wine])
        record(metrics, model, [prediction])
        # The prediction and its request id, so that a label arriving days
        # later can be joined to it (wine_api.quality does that).
        logger.info(
            "prediction",
            extra={
                "model_version": model.version,
                "class_name": prediction.class_name,
                "confidence": round(max(prediction.probabilities.values()), 4),
            },
        )
        return PredictionResponse(**prediction.model_dump(), model_version=model.version)

    @app.post(
        "/predict/batch",
        response_model=BatchResponse,
        responses={503: {"model": ErrorResponse}},
        tags=["predictions"],
    )
    def predict_batch(batch: BatchRequest, model: Model, metrics: Metrics) -> BatchResponse:
        """Predict the classes of up to 1000 wines, in order."""
        predictions = model.predict(batch.instances)
        record(metrics, model, predictions)
        # One line per batch, not one per wine: a full batch would be 1000 lines.
        counts: dict[str, int] = {}
        for p in predictions:
            counts[p.class_name] = counts.get(p.class_name, 0) + 1
        logger.info(
            "batch prediction",
            extra={
                "model_version": model.version,
                "instances": len(predictions),
                "classes": counts,
            },
        )
        return BatchResponse(model_version=model.version, predictions=predictions)

    # The answers clients of the prediction routes get, at 0 from the start
    # (see ApiMetrics.expect); other statuses appear with their first request.
    for route in ("/predict", "/predict/batch"):
        metrics.expect("POST", route, ("200", "422"))

    return app


configure_logging()
app = create_app()
