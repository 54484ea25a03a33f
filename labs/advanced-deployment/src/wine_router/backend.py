"""A multi-model backend: every model version in the registry folder, served
by name and version from one process.

    MODELS_DIR=models uv run uvicorn wine_router.backend:app --host 127.0.0.1 --port 8101

    GET  /health                                       liveness
    GET  /ready                                        200 once at least one model is published
    GET  /models                                       the catalog (loaded or not)
    GET  /models/{name}/versions/{version}             one version's metadata
    POST /models/{name}/versions/{version}/predict     a prediction from that version

Settings (environment):
    MODELS_DIR          the registry folder written by wine_router.train (default models)
    MAX_LOADED_MODELS   how many pipelines stay in memory at once (default 2)
    PRELOAD_MODELS      load these at start-up, before /ready says ready, e.g.
                        "wine/1,wine/2": the first request to a lazily loaded
                        model waits for the unpickling, which can take longer
                        than a router's timeout
    SIMULATED_DELAY_S   sleep this long before each prediction: a slow model, for
                        trying what a slow shadow or canary does to the router
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from wine_router.schemas import ModelInfo, PredictionResponse, WineFeatures
from wine_router.store import CorruptModelError, ModelStore, UnknownModelError

logger = logging.getLogger("wine_router.backend")


def create_app(
    models_dir: Path | str | None = None,
    *,
    max_loaded: int | None = None,
    delay_s: float | None = None,
    preload: str | None = None,
) -> FastAPI:
    """Build the app; arguments win over the environment (tests pass them)."""
    store = ModelStore(
        Path(models_dir or os.environ.get("MODELS_DIR", "models")),
        max_loaded=max_loaded or int(os.environ.get("MAX_LOADED_MODELS", "2")),
    )
    delay = delay_s if delay_s is not None else float(os.environ.get("SIMULATED_DELAY_S", "0"))

    hot = preload if preload is not None else os.environ.get("PRELOAD_MODELS", "")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Uvicorn accepts no request before this finishes, so the preloaded
        # models are in memory before the first /ready or /predict.
        for key in filter(None, (k.strip() for k in hot.split(","))):
            name, _, version = key.partition("/")
            store.get(name, version)
        yield

    app = FastAPI(title="Wine multi-model backend", lifespan=lifespan)
    app.state.store = store

    @app.exception_handler(UnknownModelError)
    async def unknown_model(request: Request, exc: UnknownModelError) -> JSONResponse:
        return JSONResponse(status_code=status.HTTP_404_NOT_FOUND, content={"detail": str(exc)})

    @app.exception_handler(CorruptModelError)
    async def corrupt_model(request: Request, exc: CorruptModelError) -> JSONResponse:
        logger.error("%s", exc)
        return JSONResponse(
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
            content={"detail": "the model artifact failed its integrity check; see the server log"},
        )

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    def ready() -> JSONResponse:
        if not store.list():
            store.refresh()
        models = [f"{m.name}/{m.registry_version}" for m in store.list()]
        if not models:
            return JSONResponse(
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                content={"status": "not ready", "detail": f"no models in {store.models_dir}"},
            )
        return JSONResponse(content={"status": "ready", "models": models})

    @app.get("/models")
    def list_models() -> list[ModelInfo]:
        return store.list()

    @app.get("/models/{name}/versions/{version}")
    def describe(name: str, version: str) -> ModelInfo:
        store.entry(name, version)  # an unknown name or version raises: 404
        return next(m for m in store.list() if (m.name, m.registry_version) == (name, version))

    # Plain `def`: predict_proba is CPU work, so FastAPI runs it in its thread
    # pool and the event loop keeps answering /health meanwhile.
    @app.post("/models/{name}/versions/{version}/predict")
    def predict(name: str, version: str, wine: WineFeatures) -> PredictionResponse:
        model = store.get(name, version)
        if delay:
            time.sleep(delay)
        (prediction,) = model.predict([wine])
        # The version in every log line: which model answered is the first
        # question when a prediction is disputed.
        logger.info(
            "predicted %s model=%s/%s model_version=%s",
            prediction.class_name,
            name,
            version,
            prediction.model_version,
        )
        return prediction

    return app


logging.basicConfig(
    level=os.environ.get("LOG_LEVEL", "INFO").upper(),
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
app = create_app()
