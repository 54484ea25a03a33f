"""Register the trained wine model in an MLflow model registry, and let the
champion gate decide whether it becomes `champion`.

Module 02 (experiment tracking) registers models as part of training; this
script is the shortcut this lab needs. It takes model/model.joblib (written
by wine_api.train), scores it on the wines training held out, and logs it as
an MLflow scikit-learn model with a signature, its metadata, its test scores
and its test set (a dataset input with the context `testing`). It registers
that as a new version of `wine-classifier` and hands the version to the gate,
`wine_api.promotion`, a byte-for-byte copy of module 02's: the version takes
`champion` only when there is none yet, or when it ranks better than the
champion on the same test wines. Otherwise it becomes `challenger`, and the
champion keeps serving. This script never moves `champion` itself.

    export MLFLOW_TRACKING_URI=http://127.0.0.1:5000
    uv run python -m wine_api.register
    uv run python -m wine_api.register --model-path model/v2.joblib

The API then serves the champion with MODEL_URI=models:/wine-classifier@champion.
Needs the dev environment (`uv sync`): the full mlflow, whose dataset digests
need pandas.
"""

from __future__ import annotations

import argparse
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import joblib
import mlflow
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema
from sklearn.datasets import load_wine
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from wine_api import promotion
from wine_api.model import DEFAULT_MODEL_PATH, FEATURES, load_model
from wine_api.train import TEST_SIZE, feature_key

DEFAULT_NAME = "wine-classifier"
EXPERIMENT = "wine-serving"
TARGET = "target"

# What the API sends (13 named doubles) and what `predict` returns (a class id).
SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("double", name) for name in FEATURES]),
    outputs=Schema([ColSpec("long")]),
)


@dataclass(frozen=True)
class Registered:
    name: str
    version: str
    decision: promotion.Decision  # what the gate decided for this version

    @property
    def alias(self) -> str:
        """The alias this version holds now."""
        return promotion.CHAMPION if self.decision.promoted else promotion.CHALLENGER

    @property
    def uri(self) -> str:
        return f"models:/{self.name}@{self.alias}"


def split_seed(pipeline: Pipeline) -> int:
    """The seed wine_api.train split the data with. train() gives the same seed
    to the classifier (build_pipeline), so the model itself says which wines
    it never saw."""
    seed = pipeline.get_params().get("logisticregression__random_state")
    if not isinstance(seed, int):
        raise ValueError(
            "cannot tell which wines this model was tested on: "
            "register models written by wine_api.train"
        )
    return seed


def held_out(seed: int) -> pd.DataFrame:
    """The wines wine_api.train held out when it split with `seed`: the 13
    features and a `target` column. With the default seed (42) these are the
    same rows as module 02's test set, built the same way."""
    frame = load_wine(as_frame=True).frame.rename(columns=feature_key)
    _, test = train_test_split(
        frame, test_size=TEST_SIZE, random_state=seed, stratify=frame[TARGET]
    )
    return test


def scores(pipeline: Pipeline, test: pd.DataFrame) -> dict[str, float]:
    """The two metrics the gate ranks by, on the held-out wines."""
    # The pipeline was fitted on a plain array: give it one, not a DataFrame.
    features, target = test[FEATURES].to_numpy(), test[TARGET].to_numpy()
    return {
        "test_accuracy": float(accuracy_score(target, pipeline.predict(features))),
        "test_log_loss": float(
            log_loss(target, pipeline.predict_proba(features), labels=[0, 1, 2])
        ),
    }


def log_test_set(test: pd.DataFrame) -> None:
    """Record which wines the scores came from: MLflow stores the frame's
    digest, schema and size (not the rows); the gate compares digests."""
    with warnings.catch_warnings():
        # The integer `target` makes MLflow hint that integers cannot hold
        # missing values. It has none; the hint would only be noise.
        warnings.filterwarnings(
            "ignore", message="Hint: Inferred schema contains integer", category=UserWarning
        )
        # MLflow 3.17's digest calls a pandas method the way pandas 4 will
        # refuse; pandas 3 warns. MLflow's call, not this script's.
        warnings.filterwarnings("ignore", message="Starting with pandas version 4.0")
        dataset = mlflow.data.from_pandas(test, name="wine-test", targets=TARGET)
        mlflow.log_input(dataset, context=promotion.TEST_CONTEXT)


def register(model_path: Path = DEFAULT_MODEL_PATH, name: str = DEFAULT_NAME) -> Registered:
    """Log the model at `model_path` with its test scores, register it as a
    new version of `name`, and pass that version through the gate."""
    load_model(model_path)  # refuse a file the API would refuse, before uploading it
    bundle = joblib.load(model_path)
    pipeline, metadata = bundle["pipeline"], bundle["metadata"]
    test = held_out(split_seed(pipeline))
    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run(run_name=f"register {metadata['model_version']}"):
        mlflow.log_params(
            {"model_version": metadata["model_version"], "sklearn": metadata["sklearn_version"]}
        )
        mlflow.log_metrics(scores(pipeline, test))
        log_test_set(test)
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=SIGNATURE,
            # Stored in the MLmodel file: the API reads class_names from it.
            metadata=metadata,
            registered_model_name=name,
        )
    version = str(info.registered_model_version)
    decision = promotion.promote(mlflow.MlflowClient(), name, version)
    return Registered(name=name, version=version, decision=decision)


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
    args = parser.parse_args(argv)
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        parser.error(
            "set MLFLOW_TRACKING_URI, e.g. export MLFLOW_TRACKING_URI=http://127.0.0.1:5000"
        )

    registered = register(args.model_path, args.name)
    decision = registered.decision
    verdict = "promoted to champion" if decision.promoted else "stays challenger"
    print(f"registered {registered.name} version {registered.version}, {verdict}:")
    print(f"  {decision.reason}")
    if not decision.promoted:
        held = "no version" if decision.champion is None else f"version {decision.champion}"
        print(f"champion: {held}, unchanged")
    print(f"serve version {registered.version} with MODEL_URI={registered.uri}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
