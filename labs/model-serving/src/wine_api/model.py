"""Load the model the API serves: from a joblib file, or from an MLflow registry.

Both web apps (FastAPI in `wine_api.app`, Flask in `wine_api.flask_app`) and
the batch CLI (`wine_api.batch`) get their model from `load_configured()`,
so the code that serves a model is the same whichever source it came from.
The source is chosen by the environment:

    MODEL_URI   an MLflow registry URI, models:/<name>@<alias> (what to serve is
                decided in the registry) or models:/<name>/<version> (pinned).
                Needs the `registry` dependency group and MLFLOW_TRACKING_URI.
    MODEL_PATH  otherwise: a joblib file written by wine_api.train
                (default model/model.joblib)
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn import __version__ as SKLEARN_VERSION
from sklearn.exceptions import InconsistentVersionWarning

from wine_api.schemas import ClassPrediction, WineFeatures

logger = logging.getLogger("wine_api")

DEFAULT_MODEL_PATH = Path("model/model.joblib")
# The column order the model was trained with is the field order of the schema;
# the loaders refuse a model whose metadata or signature says otherwise.
FEATURES: list[str] = list(WineFeatures.model_fields)

# models:/wine-classifier@champion or models:/wine-classifier/3
_REGISTRY_URI = re.compile(r"models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/@]+)|/(?P<version>\d+))")


class IncompatibleModelError(Exception):
    """The model does not fit this code: another scikit-learn version,
    other features, or not written by wine_api.train."""


class RegistryError(Exception):
    """The model could not be fetched from the registry: a bad MODEL_URI, no
    such model or alias, the registry unreachable, or mlflow not installed."""


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


def _unpickle(load: Any, source: str) -> Any:
    """Run `load`, refusing a model pickled by another scikit-learn version.

    scikit-learn only *warns* then, saying results "might" be invalid. A
    service should refuse instead.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        try:
            return load()
        except InconsistentVersionWarning as exc:
            raise IncompatibleModelError(f"{source}: {exc}") from exc


def load_model(path: Path) -> LoadedModel:
    """Load a model written by wine_api.train and check it fits this API.

    joblib files are pickles: loading one runs code from it. Only load files
    you produced yourself or got from a source you trust.
    """
    bundle = _unpickle(lambda: joblib.load(path), str(path))
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


def load_registry_model(uri: str) -> LoadedModel:
    """Load a scikit-learn model from the MLflow registry named by `uri`.

    An alias is resolved to a version number first, and that exact version is
    downloaded and reported: if someone moves the alias meanwhile, the API
    still serves one consistent version. The model's signature must list the
    API's 13 features in order (a `/` in a name is read as `_`, as in
    wine_api.train); class names come from the model's metadata if it has
    them, else `class_<label>`.
    """
    match = _REGISTRY_URI.fullmatch(uri)
    if match is None:
        raise RegistryError(
            f"MODEL_URI={uri!r} is not models:/<name>@<alias> or models:/<name>/<version>"
        )
    try:
        import mlflow
        from mlflow.exceptions import MlflowException
        from mlflow.models import Model
    except ModuleNotFoundError as exc:
        raise RegistryError(
            "MODEL_URI is set but mlflow is not installed: uv sync --group registry"
        ) from exc

    name = match["name"]
    client = mlflow.MlflowClient()
    try:
        if match["alias"]:
            version = client.get_model_version_by_alias(name, match["alias"]).version
        else:
            version = client.get_model_version(name, match["version"]).version
        local_dir = mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version}")
    except MlflowException as exc:
        raise RegistryError(f"{uri}: {exc.message}") from exc

    source = f"models:/{name}/{version}"
    description = Model.load(local_dir)  # the MLmodel file: flavors, signature, metadata
    if "sklearn" not in description.flavors:
        raise IncompatibleModelError(f"{source} is not a scikit-learn model")
    saved_with = description.flavors["sklearn"].get("sklearn_version")
    if saved_with != SKLEARN_VERSION:
        raise IncompatibleModelError(
            f"{source} was saved with scikit-learn {saved_with}, this is {SKLEARN_VERSION}"
        )
    if description.signature is None:
        raise IncompatibleModelError(
            f"{source} was logged without a signature: its features cannot be checked"
        )
    features = [str(n).replace("/", "_") for n in description.signature.inputs.input_names()]
    if features != FEATURES:
        raise IncompatibleModelError(
            f"{source} expects features {features}, the API sends {FEATURES}"
        )

    pipeline = _unpickle(lambda: mlflow.sklearn.load_model(local_dir), source)
    metadata = description.metadata or {}
    class_names = metadata.get("class_names") or [f"class_{int(c)}" for c in pipeline.classes_]
    return LoadedModel(pipeline=pipeline, version=str(version), class_names=list(class_names))


def model_source(model_path: Path | str | None = None, model_uri: str | None = None) -> str | Path:
    """Where the model comes from: a registry URI (str) or a file (Path).

    An argument wins over the environment; a URI wins over a path.
    """
    if model_uri is None and model_path is None:
        model_uri = os.environ.get("MODEL_URI") or None
    if model_uri is not None:
        return model_uri
    return Path(model_path or os.environ.get("MODEL_PATH") or DEFAULT_MODEL_PATH)


def load_from(source: str | Path) -> LoadedModel:
    """The model at `source`, as returned by `model_source`."""
    if isinstance(source, Path):
        return load_model(source)
    return load_registry_model(source)


def load_for_serving(
    model_path: Path | str | None = None, model_uri: str | None = None
) -> tuple[LoadedModel | None, str]:
    """For a web service: the model and "ready", or None and the reason why not.

    Never raises. Whatever goes wrong, the service should stay up: /health
    keeps answering and /ready says what is wrong, instead of a crash loop
    with the reason in a log. The reason is short and safe to show a client;
    the log gets the details.
    """
    source = model_source(model_path, model_uri)
    shown = source.resolve() if isinstance(source, Path) else source
    try:
        model = load_from(source)
    except FileNotFoundError:
        logger.error("no model at %s: run `python -m wine_api.train` first", shown)
        return None, "no model file at MODEL_PATH; train one first"
    except IncompatibleModelError as exc:
        logger.error("refusing the model: %s", exc)
        if isinstance(source, Path):
            return None, "the model file does not fit this code; retrain it"
        return None, "the registry's model does not fit this code; register one that does"
    except RegistryError as exc:
        logger.error("could not get the model from the registry: %s", exc)
        return None, "the model could not be fetched from the registry; see the server log"
    except Exception:
        logger.exception("could not load the model from %s", shown)
        return None, "the model file could not be loaded; see the server log"
    logger.info("loaded model version %s from %s", model.version, source)
    return model, "ready"
