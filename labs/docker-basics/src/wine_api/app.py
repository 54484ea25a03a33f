"""The wine API: liveness, readiness and predictions over FastAPI.

    uvicorn wine_api.app:app --host 127.0.0.1 --port 8000

Settings come from the environment, the way a container receives them:
    MODEL_PATH  the file written by wine_api.train (default model/model.joblib)
    LOG_LEVEL   DEBUG, INFO (default), WARNING or ERROR
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import joblib
import numpy as np
import sklearn
from fastapi import Depends, FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from wine_api import __version__

# The request and response bodies and the error bodies are module 03's files,
# copied unchanged: one contract, whichever lab's image answers.
from wine_api.errors import MODEL_NOT_LOADED, validation_errors
from wine_api.schemas import (
    MAX_BATCH_SIZE,
    MAX_BODY_BYTES,
    BatchRequest,
    BatchResponse,
    ClassPrediction,
    PredictionResponse,
    WineFeatures,
)

__all__ = ["FEATURES", "MAX_BATCH_SIZE", "LoadedModel", "create_app", "load_model"]

logger = logging.getLogger("wine_api")

DEFAULT_MODEL_PATH = Path("model/model.joblib")
FEATURES: list[str] = list(WineFeatures.model_fields)


class ModelNotLoadedError(Exception):
    """A prediction was requested while no model is loaded."""


@dataclass(frozen=True)
class LoadedModel:
    pipeline: Any
    version: str
    class_names: list[str]

    def predict(self, wines: Sequence[WineFeatures]) -> list[ClassPrediction]:
        """One vectorised model call for all the rows."""
        x = np.array([[getattr(w, f) for f in FEATURES] for w in wines], dtype=np.float64)
        labels = self.pipeline.classes_
        results = []
        for row in self.pipeline.predict_proba(x):
            class_id = int(labels[int(np.argmax(row))])
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
    """Load a model written by wine_api.train, refusing one that does not fit.

    joblib files are pickles: loading one runs code from it. Load only files
    you made yourself, such as the one the image trains during its build.
    """
    bundle = joblib.load(path)
    metadata = bundle["metadata"]
    if metadata["sklearn_version"] != sklearn.__version__:
        raise ValueError(
            f"{path} was trained with scikit-learn {metadata['sklearn_version']}, "
            f"this environment has {sklearn.__version__}: retrain it"
        )
    if metadata["feature_names"] != FEATURES:
        raise ValueError(f"{path} expects features {metadata['feature_names']}")
    return LoadedModel(bundle["pipeline"], str(metadata["model_version"]), metadata["class_names"])


def get_model(request: Request) -> LoadedModel:
    model: LoadedModel | None = request.app.state.model
    if model is None:
        raise ModelNotLoadedError
    return model


Model = Annotated[LoadedModel, Depends(get_model)]


def create_app(model_path: Path | str | None = None) -> FastAPI:
    """Build the app. Without `model_path`, MODEL_PATH is read at startup."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Load once, before the first request. If that fails, stay up: /health
        # keeps answering and /ready says why, instead of a restart loop.
        path = Path(model_path or os.environ.get("MODEL_PATH", DEFAULT_MODEL_PATH))
        app.state.model = None
        app.state.not_ready_reason = ""
        try:
            app.state.model = load_model(path)
        except FileNotFoundError:
            app.state.not_ready_reason = "no model file at MODEL_PATH; train one first"
            logger.error("no model at %s", path.resolve())
        except Exception:
            app.state.not_ready_reason = "the model file could not be loaded; see the server log"
            logger.exception("could not load the model from %s", path.resolve())
        else:
            logger.info("loaded model version %s from %s", app.state.model.version, path)
        yield

    app = FastAPI(
        title="Wine classifier API",
        version=__version__,
        lifespan=lifespan,
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
        # FastAPI's own 422 handler echoes the rejected input back, and JSON
        # cannot hold NaN or Infinity: it would answer 500. validation_errors
        # makes the body safe, so a NaN field gets its 422 like any other.
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={"detail": jsonable_encoder(validation_errors(exc.errors()))},
        )

    @app.get("/health")
    def health() -> dict[str, str]:
        """Liveness: the process answers. Never touches the model."""
        return {"status": "ok"}

    @app.get("/ready", response_model=None)
    def ready(request: Request) -> dict[str, str] | JSONResponse:
        """Readiness: the model is loaded and predictions will work."""
        model: LoadedModel | None = request.app.state.model
        if model is None:
            return JSONResponse(
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                content={"status": "not ready", "detail": request.app.state.not_ready_reason},
            )
        return {"status": "ready", "model_version": model.version}

    # Plain `def`: predict_proba is CPU work, so FastAPI runs it in a thread pool.
    @app.post("/predict")
    def predict(wine: WineFeatures, model: Model) -> PredictionResponse:
        (prediction,) = model.predict([wine])
        return PredictionResponse(**prediction.model_dump(), model_version=model.version)

    @app.post("/predict/batch")
    def predict_batch(batch: BatchRequest, model: Model) -> BatchResponse:
        return BatchResponse(
            model_version=model.version, predictions=model.predict(batch.instances)
        )

    return app


logging.basicConfig(
    level=os.environ.get("LOG_LEVEL", "INFO").upper(),
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
app = create_app()
