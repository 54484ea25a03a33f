"""Register the trained wine model in an MLflow model registry, under an alias.

Module 02 (experiment tracking) registers models as part of training; this
script is the shortcut this lab needs: it takes model/model.joblib (written
by wine_api.train), logs it as an MLflow scikit-learn model with a signature
and its metadata, registers it as a new version of `wine-classifier` and
points the alias `champion` at that version.

    export MLFLOW_TRACKING_URI=http://127.0.0.1:5000
    uv run python -m wine_api.register                 # wine-classifier@champion
    uv run python -m wine_api.register --alias challenger

The API then serves it with MODEL_URI=models:/wine-classifier@champion.
Needs mlflow (the `registry` dependency group).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

import joblib
import mlflow
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema

from wine_api.model import DEFAULT_MODEL_PATH, FEATURES, load_model

DEFAULT_NAME = "wine-classifier"
DEFAULT_ALIAS = "champion"
EXPERIMENT = "wine-serving"

# What the API sends (13 named doubles) and what `predict` returns (a class id).
SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("double", name) for name in FEATURES]),
    outputs=Schema([ColSpec("long")]),
)


@dataclass(frozen=True)
class Registered:
    name: str
    version: str
    alias: str

    @property
    def uri(self) -> str:
        return f"models:/{self.name}@{self.alias}"


def register(
    model_path: Path = DEFAULT_MODEL_PATH,
    name: str = DEFAULT_NAME,
    alias: str = DEFAULT_ALIAS,
) -> Registered:
    """Log the model at `model_path` to the tracking server, register it as a
    new version of `name` and move `alias` to that version."""
    load_model(model_path)  # refuse a file the API would refuse, before uploading it
    bundle = joblib.load(model_path)
    metadata = bundle["metadata"]
    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run(run_name=f"register {metadata['model_version']}"):
        mlflow.log_params(
            {"model_version": metadata["model_version"], "sklearn": metadata["sklearn_version"]}
        )
        mlflow.log_metric("test_accuracy", metadata["test_accuracy"])
        info = mlflow.sklearn.log_model(
            bundle["pipeline"],
            name="model",
            signature=SIGNATURE,
            # Stored in the MLmodel file: the API reads class_names from it.
            metadata=metadata,
            registered_model_name=name,
        )
    version = str(info.registered_model_version)
    mlflow.MlflowClient().set_registered_model_alias(name, alias, version)
    return Registered(name=name, version=version, alias=alias)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m wine_api.register", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--model-path",
        type=Path,
        default=Path(os.environ.get("MODEL_PATH", DEFAULT_MODEL_PATH)),
        help="model written by wine_api.train (default: $MODEL_PATH or %(default)s)",
    )
    parser.add_argument("--name", default=DEFAULT_NAME, help="default: %(default)s")
    parser.add_argument("--alias", default=DEFAULT_ALIAS, help="default: %(default)s")
    args = parser.parse_args(argv)
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        parser.error(
            "set MLFLOW_TRACKING_URI, e.g. export MLFLOW_TRACKING_URI=http://127.0.0.1:5000"
        )

    registered = register(args.model_path, args.name, args.alias)
    print(f"registered {registered.name} version {registered.version}")
    print(f"alias {registered.alias} -> version {registered.version}: serve it with")
    print(f"  MODEL_URI={registered.uri}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
