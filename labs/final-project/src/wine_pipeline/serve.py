"""The wine API: serves whichever version the registry calls `champion`.

    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 \\
      uv run uvicorn wine_pipeline.serve:app --host 127.0.0.1 --port 8000 \\
        --log-config logging.json

The same request/response contract as module 03's API (/health, /ready,
/predict, /predict/batch), with three additions for running it in a pipeline:

- The model comes from the MLflow registry, `models:/wine-classifier@champion`,
  resolved to a version number first so the API always knows (and reports)
  exactly which version answers.
- Every MODEL_REFRESH_SECONDS (default 30) it asks the registry which version
  the alias points at, and swaps the model when that changed. Promotion and
  rollback are alias moves; every replica follows on its own. The registry
  being down never stops predictions: the loaded model keeps serving.
- GET /metrics, for Prometheus, and one JSON log line per request and per
  prediction: module 07's contract, from module 07's own files (metrics.py
  and logs.py are byte-for-byte copies), so module 07's Grafana dashboard,
  rules and Alertmanager routes work unchanged on this service. Added here:
  wine_api_model_loaded and wine_api_model_refreshes_total.
  Every scored row is appended to the prediction log, the drift job's input.

Settings (environment): MLFLOW_TRACKING_URI, MODEL_NAME, MODEL_REFRESH_SECONDS,
DATA_DIR (prediction log), REPORTS_DIR (drift report), LOG_LEVEL.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Annotated, Any

import mlflow
import pandas as pd
from fastapi import Depends, FastAPI, Request, Response, status
from fastapi.responses import JSONResponse
from mlflow.tracking import MlflowClient
from prometheus_client import Counter, Gauge
from prometheus_client.exposition import choose_encoder
from pydantic import BaseModel, ConfigDict, Field

from wine_pipeline import __version__
from wine_pipeline.config import CHAMPION, Settings
from wine_pipeline.data import CLASS_NAMES, FEATURES, append_predictions
from wine_pipeline.logs import configure_logging
from wine_pipeline.metrics import ApiMetrics, MetricsMiddleware

# The logger name module 07's API logs under: one log contract, one name.
logger = logging.getLogger("wine_api")

MAX_BATCH_SIZE = 1000
DEFAULT_REFRESH_SECONDS = 30.0


# --- the contract (module 03's, in short) -----------------------------------


class WineFeatures(BaseModel):
    """The 13 measurements of one wine. The bounds refuse impossible values
    only: unusual ones must reach the model, or drift would never be seen."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    alcohol: float = Field(ge=0, le=100)
    malic_acid: float = Field(ge=0, le=100)
    ash: float = Field(ge=0, le=100)
    alcalinity_of_ash: float = Field(ge=0, le=1000)
    magnesium: float = Field(ge=0, le=10_000)
    total_phenols: float = Field(ge=0, le=100)
    flavanoids: float = Field(ge=0, le=100)
    nonflavanoid_phenols: float = Field(ge=0, le=100)
    proanthocyanins: float = Field(ge=0, le=100)
    color_intensity: float = Field(ge=0, le=1000)
    hue: float = Field(ge=0, le=100)
    od280_od315_of_diluted_wines: float = Field(ge=0, le=100)
    proline: float = Field(ge=0, le=100_000)


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    instances: list[WineFeatures] = Field(min_length=1, max_length=MAX_BATCH_SIZE)


class ClassPrediction(BaseModel):
    class_id: int
    class_name: str
    probabilities: dict[str, float]


class PredictionResponse(ClassPrediction):
    model_version: str


class BatchResponse(BaseModel):
    model_version: str
    predictions: list[ClassPrediction]


# --- the model and where it comes from --------------------------------------


class IncompatibleModelError(Exception):
    """The registered model expects other features than the API sends."""


class ModelNotLoadedError(Exception):
    """A prediction was requested before any model was loaded."""


@dataclass(frozen=True)
class LoadedModel:
    pipeline: Any
    version: str
    run_id: str

    def predict(self, rows: list[dict[str, float]]) -> list[ClassPrediction]:
        """One vectorised call for all rows. A DataFrame with the training
        column names: the pipeline checks them, an array would only warn."""
        probabilities = self.pipeline.predict_proba(pd.DataFrame(rows, columns=FEATURES))
        names = [CLASS_NAMES[int(c)] for c in self.pipeline.classes_]
        results = []
        for row in probabilities:
            best = int(self.pipeline.classes_[row.argmax()])
            results.append(
                ClassPrediction(
                    class_id=best,
                    class_name=CLASS_NAMES[best],
                    probabilities={n: float(p) for n, p in zip(names, row, strict=True)},
                )
            )
        return results


class ModelHolder:
    """Holds the model being served and replaces it when the alias moves.

    Requests read `self.model` once and use that object to the end, so a swap
    in the middle of a request never mixes two versions.
    """

    def __init__(self, settings: Settings, alias: str = CHAMPION) -> None:
        self.settings = settings
        self.alias = alias
        self.model: LoadedModel | None = None
        self.not_ready_reason = "the model has not been loaded yet"
        self._lock = threading.Lock()  # one refresh at a time

    def refresh(self) -> bool:
        """Load the alias's version if it is not the one being served.

        Returns True when it swapped the model. Raises whatever the registry or
        the loading raised; the model being served (if any) stays in place.
        """
        with self._lock:
            client = MlflowClient(self.settings.tracking_uri)
            target = client.get_model_version_by_alias(self.settings.model_name, self.alias)
            version = str(target.version)
            if self.model is not None and self.model.version == version:
                return False
            # The exact version, not the alias: the alias may move while we load.
            uri = f"models:/{self.settings.model_name}/{version}"
            with tempfile.TemporaryDirectory() as tmp:
                local = mlflow.artifacts.download_artifacts(
                    artifact_uri=uri,
                    dst_path=tmp,
                    tracking_uri=self.settings.tracking_uri,
                    registry_uri=self.settings.tracking_uri,
                )
                pipeline = mlflow.sklearn.load_model(local)
            expected = list(getattr(pipeline, "feature_names_in_", []))
            if expected != FEATURES:
                raise IncompatibleModelError(f"{uri} expects {expected}, the API sends {FEATURES}")
            self.model = LoadedModel(pipeline=pipeline, version=version, run_id=target.run_id)
            return True


class Metrics(ApiMetrics):
    """Module 07's metrics (names, labels, buckets), plus two of the
    pipeline's own: whether a model is loaded, and the registry checks."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(drift_report=settings.drift_report)
        self.loaded = Gauge(
            "wine_api_model_loaded", "1 when a model is loaded and serving", registry=self.registry
        )
        self.refreshes = Counter(
            "wine_api_model_refreshes",
            "Registry checks, by result (unchanged, loaded, error)",
            ["result"],
            registry=self.registry,
        )

    def serving(self, version: str) -> None:
        # Exactly one wine_api_model_info series (the version serving now),
        # and every class's prediction series at 0 from the start.
        self.model_loaded(version, list(CLASS_NAMES))
        self.loaded.set(1)


def get_model(request: Request) -> LoadedModel:
    """Dependency of the prediction endpoints: the model, or a 503."""
    model = request.app.state.holder.model  # read once: a swap mid-request changes nothing
    if model is None:
        raise ModelNotLoadedError
    return model


Model = Annotated[LoadedModel, Depends(get_model)]


def refresh_once(holder: ModelHolder, metrics: Metrics) -> None:
    """One registry check, with its outcome logged and counted. Never raises."""
    try:
        swapped = holder.refresh()
    except Exception as exc:  # the registry is down, the alias is missing, ...
        metrics.refreshes.labels("error").inc()
        if holder.model is None:
            holder.not_ready_reason = f"cannot load {holder.alias} from the registry: {exc}"
            logger.error("no model yet", extra={"error": str(exc)})
        else:
            logger.warning(
                "registry check failed",
                extra={"model_version": holder.model.version, "error": str(exc)},
            )
        return
    model = holder.model
    assert model is not None  # refresh() either loaded one or raised
    if swapped:
        metrics.refreshes.labels("loaded").inc()
        metrics.serving(model.version)
        logger.info(
            "model loaded",
            extra={"model_name": holder.settings.model_name, "model_version": model.version},
        )
    else:
        metrics.refreshes.labels("unchanged").inc()


def create_app(settings: Settings | None = None, refresh_seconds: float | None = None) -> FastAPI:
    """Build the app. Without arguments, both come from the environment."""
    settings = settings or Settings.from_env()
    if refresh_seconds is None:
        refresh_seconds = float(os.environ.get("MODEL_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS))
    if refresh_seconds <= 0:
        raise ValueError("MODEL_REFRESH_SECONDS must be more than 0")
    # MLflow's client retries a failed request 7 times with backoff (minutes),
    # which would hold the first load, and so the startup, that long while the
    # registry is down. The poll loop retries anyway: fail fast instead.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    holder = ModelHolder(settings)
    metrics = Metrics(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # First load before serving; then poll in the background. A failed
        # first load leaves the API up and not ready, and the loop retries.
        await asyncio.to_thread(refresh_once, holder, metrics)

        async def poll() -> None:
            while True:
                await asyncio.sleep(refresh_seconds)
                await asyncio.to_thread(refresh_once, holder, metrics)

        task = asyncio.create_task(poll())
        yield
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task

    app = FastAPI(title="Wine classifier API (pipeline)", version=__version__, lifespan=lifespan)
    app.state.holder = holder
    app.state.metrics = metrics

    # Module 07's middleware: a request id (X-Request-ID), one JSON log line
    # and the request count and latency, labelled by method, route template
    # and status, for every request but the scrapes.
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    @app.exception_handler(ModelNotLoadedError)
    async def not_loaded(request: Request, exc: ModelNotLoadedError) -> JSONResponse:
        return JSONResponse(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            content={"detail": "The model is not loaded; GET /ready says why."},
        )

    def score(model: LoadedModel, wines: list[WineFeatures]) -> list[ClassPrediction]:
        rows = [w.model_dump() for w in wines]
        predictions = model.predict(rows)
        for p in predictions:
            metrics.predictions.labels(class_name=p.class_name, model_version=model.version).inc()
            metrics.confidence.labels(model_version=model.version).observe(
                max(p.probabilities.values())
            )
        append_predictions(
            settings.prediction_log, rows, [p.class_name for p in predictions], model.version
        )
        return predictions

    @app.get("/health", tags=["probes"])
    def health() -> dict[str, str]:
        """Liveness: the process answers. Never touches the model or the registry."""
        return {"status": "ok"}

    @app.get("/ready", tags=["probes"])
    def ready() -> JSONResponse:
        """Readiness: a model is loaded. Says which version, and where it came from."""
        model = holder.model
        if model is None:
            return JSONResponse(
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                content={"status": "not ready", "detail": holder.not_ready_reason},
            )
        return JSONResponse(
            {
                "status": "ready",
                "model_name": settings.model_name,
                "model_alias": holder.alias,
                "model_version": model.version,
                "run_id": model.run_id,
            }
        )

    @app.post("/predict", response_model=PredictionResponse, tags=["predictions"])
    def predict(wine: WineFeatures, model: Model) -> PredictionResponse:
        (prediction,) = score(model, [wine])
        # Module 07's prediction line: joinable to a label by its request id.
        logger.info(
            "prediction",
            extra={
                "model_version": model.version,
                "class_name": prediction.class_name,
                "confidence": round(max(prediction.probabilities.values()), 4),
            },
        )
        return PredictionResponse(**prediction.model_dump(), model_version=model.version)

    @app.post("/predict/batch", response_model=BatchResponse, tags=["predictions"])
    def predict_batch(batch: BatchRequest, model: Model) -> BatchResponse:
        predictions = score(model, batch.instances)
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

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics(request: Request) -> Response:
        """Prometheus text or OpenMetrics, from the scraper's Accept header."""
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(metrics.registry), media_type=content_type)

    # The answers clients of the prediction routes get, at 0 from the start
    # (see ApiMetrics.expect); other statuses appear with their first request.
    for route in ("/predict", "/predict/batch"):
        metrics.expect("POST", route, ("200", "422"))

    return app


# JSON lines on stderr (LOG_LEVEL), unless `--log-config logging.json` set
# logging up already, as the lab's serve step does.
configure_logging()


# What `uvicorn wine_pipeline.serve:app` runs. Building it reads the settings
# from the environment and loads nothing: the model loads at startup.
app = create_app()
