"""Train a candidate wine classifier, score it, and record how good it is.

Run it from the lab folder:

    uv run python -m wine_api.train                 # writes model/model.joblib, .json, metrics.json
    uv run python -m wine_api.train --c 0.003       # a weaker candidate, to watch the gate stop it

It writes three files next to each other:

- model.joblib: the fitted pipeline and its metadata (what the API loads);
- model.json: the same metadata as JSON (readable without unpickling);
- metrics.json: the held-out scores, the parameters, and a digest of the
  evaluation data, which `wine_api.gate` compares with the champion's.

With MLFLOW_TRACKING_URI set it also logs the run to MLflow and registers the
model as a new version of `wine-classifier` (see --registered-model); the
version number goes into metrics.json so the gate can promote it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

DEFAULT_MODEL_PATH = Path("model/model.joblib")
DEFAULT_MODEL_VERSION = "dev"
DEFAULT_REGISTERED_MODEL = "wine-classifier"
# The split is fixed, on purpose: a candidate and the champion are only
# comparable when both were scored on the same held-out wines. Change it and
# every recorded score becomes incomparable (the gate checks the digest).
SPLIT_SEED = 42
TEST_SIZE = 0.25
DEFAULT_C = 1.0


def feature_key(name: str) -> str:
    """The JSON field name for a dataset column: `od280/od315_of_diluted_wines`
    has a slash, which is awkward in JSON keys and impossible in Python names."""
    return name.replace("/", "_")


@dataclass(frozen=True)
class Split:
    """The training and held-out parts of the data, and what they are called."""

    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]
    class_names: list[str]


@dataclass(frozen=True)
class ModelMetadata:
    """What the API needs to know about a model besides its weights."""

    model_version: str
    feature_names: list[str]
    class_names: list[str]
    test_accuracy: float
    sklearn_version: str


@dataclass(frozen=True)
class TrainResult:
    """Where the files went and what was measured."""

    model_path: Path
    metadata_path: Path
    metrics_path: Path
    metrics: dict[str, Any]


def load_split() -> Split:
    """The bundled wine data (nothing is downloaded), split the same way every time."""
    data = load_wine()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data,
        data.target,
        test_size=TEST_SIZE,
        random_state=SPLIT_SEED,
        stratify=data.target,
    )
    return Split(
        x_train=x_train,
        x_test=x_test,
        y_train=y_train,
        y_test=y_test,
        feature_names=[feature_key(n) for n in data.feature_names],
        class_names=[str(c) for c in data.target_names],
    )


def eval_digest(x_test: np.ndarray, y_test: np.ndarray) -> str:
    """A fingerprint of the evaluation set: equal digests, same wines, same labels."""
    sha = hashlib.sha256()
    sha.update(np.ascontiguousarray(x_test, dtype=np.float64).tobytes())
    sha.update(np.ascontiguousarray(y_test, dtype=np.int64).tobytes())
    return f"sha256:{sha.hexdigest()}"


def build_pipeline(c: float = DEFAULT_C) -> Pipeline:
    """Scaling inside the pipeline means the API sends raw features and can
    never forget to scale them the way training did. `c` is the inverse
    regularisation strength: smaller values make a simpler, weaker model."""
    return make_pipeline(
        StandardScaler(),
        LogisticRegression(C=c, max_iter=1000, random_state=SPLIT_SEED),
    )


def score(pipeline: Pipeline, split: Split) -> dict[str, float]:
    """Held-out metrics, rounded so the JSON stays readable."""
    predicted = pipeline.predict(split.x_test)
    probabilities = pipeline.predict_proba(split.x_test)
    return {
        "accuracy": round(float(accuracy_score(split.y_test, predicted)), 4),
        "f1_macro": round(float(f1_score(split.y_test, predicted, average="macro")), 4),
        "log_loss": round(float(log_loss(split.y_test, probabilities)), 4),
    }


def train(
    output: Path = DEFAULT_MODEL_PATH,
    model_version: str = DEFAULT_MODEL_VERSION,
    c: float = DEFAULT_C,
    tracking_uri: str | None = None,
    registered_model: str = DEFAULT_REGISTERED_MODEL,
) -> TrainResult:
    """Fit, score on the held-out split, save; log and register when tracking."""
    split = load_split()
    pipeline = build_pipeline(c)
    pipeline.fit(split.x_train, split.y_train)
    metrics = score(pipeline, split)

    metadata = ModelMetadata(
        model_version=model_version,
        feature_names=split.feature_names,
        class_names=split.class_names,
        test_accuracy=metrics["accuracy"],
        sklearn_version=sklearn.__version__,
    )
    record: dict[str, Any] = {
        "model_version": model_version,
        "metrics": metrics,
        "params": {"C": c, "split_seed": SPLIT_SEED, "test_size": TEST_SIZE},
        "eval_digest": eval_digest(split.x_test, split.y_test),
        "git_sha": os.environ.get("GITHUB_SHA", ""),
    }
    if tracking_uri:
        record["mlflow"] = log_to_mlflow(pipeline, split, record, tracking_uri, registered_model)

    output.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump({"pipeline": pipeline, "metadata": asdict(metadata)}, output)
    metadata_path = output.with_suffix(".json")
    metadata_path.write_text(json.dumps(asdict(metadata), indent=2) + "\n", encoding="utf-8")
    metrics_path = output.parent / "metrics.json"
    metrics_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return TrainResult(output, metadata_path, metrics_path, record)


def log_to_mlflow(
    pipeline: Pipeline,
    split: Split,
    record: dict[str, Any],
    tracking_uri: str,
    registered_model: str,
) -> dict[str, str]:
    """One run with the parameters, metrics and model; one new registered version.

    MLflow is imported here, not at the top: without a tracking server the
    script (and the CI job) never needs it.
    """
    import mlflow
    from mlflow.models import infer_signature

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment("wine-ci")
    with mlflow.start_run() as run:
        mlflow.log_params(record["params"])
        mlflow.log_metrics(record["metrics"])
        # The gate reads these back to refuse comparing scores from different data.
        mlflow.set_tags({"eval_digest": record["eval_digest"], "git_sha": record["git_sha"]})
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=infer_signature(split.x_test, pipeline.predict(split.x_test)),
            registered_model_name=registered_model,
        )
    return {
        "tracking_uri": tracking_uri,
        "run_id": run.info.run_id,
        "registered_model": registered_model,
        "version": str(info.registered_model_version),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(os.environ.get("MODEL_PATH", DEFAULT_MODEL_PATH)),
        help="where to write the model; metrics.json goes next to it "
        "(default: $MODEL_PATH or %(default)s)",
    )
    parser.add_argument(
        "--model-version",
        default=os.environ.get("MODEL_VERSION", DEFAULT_MODEL_VERSION),
        help="version string the API reports (default: $MODEL_VERSION or %(default)s)",
    )
    parser.add_argument(
        "--c",
        type=float,
        default=DEFAULT_C,
        help="inverse regularisation strength of the logistic regression (default: %(default)s)",
    )
    parser.add_argument(
        "--registered-model",
        default=DEFAULT_REGISTERED_MODEL,
        help="MLflow registered model name, when MLFLOW_TRACKING_URI is set (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    # An empty MLFLOW_TRACKING_URI (an unset repository variable in CI) means "no MLflow".
    tracking_uri = os.environ.get("MLFLOW_TRACKING_URI") or None
    result = train(args.output, args.model_version, args.c, tracking_uri, args.registered_model)
    scores = ", ".join(f"{k} {v:.4f}" for k, v in result.metrics["metrics"].items())
    print(f"candidate {args.model_version}: {scores}")
    print(f"model saved to {result.model_path}; metrics in {result.metrics_path}")
    if "mlflow" in result.metrics:
        logged = result.metrics["mlflow"]
        print(
            f"logged run {logged['run_id']}; registered "
            f"{logged['registered_model']} version {logged['version']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
