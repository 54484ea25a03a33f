"""Train the wine classifier and save it for the API.

    python -m wine_api.train                          # writes model/model.joblib
    python -m wine_api.train --output /app/model/model.joblib

The data ships with scikit-learn (nothing is downloaded) and the split and the
model are seeded, so the same library versions give the same model every time:
that is what lets the Dockerfile train it during the build.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import joblib
import sklearn
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

DEFAULT_MODEL_PATH = Path("model/model.joblib")
DEFAULT_MODEL_VERSION = "1.0.0"
RANDOM_STATE = 42


def feature_key(name: str) -> str:
    """`od280/od315_of_diluted_wines` has a slash: awkward in JSON keys."""
    return name.replace("/", "_")


def build_pipeline() -> Pipeline:
    """Scaling inside the pipeline: the API sends raw features."""
    return make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=1000, random_state=RANDOM_STATE)
    )


def train(output: Path = DEFAULT_MODEL_PATH, model_version: str = DEFAULT_MODEL_VERSION) -> float:
    """Fit on a stratified 75 % of the wine data, save, return the test accuracy."""
    data = load_wine()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=RANDOM_STATE, stratify=data.target
    )
    pipeline = build_pipeline().fit(x_train, y_train)
    accuracy = float(accuracy_score(y_test, pipeline.predict(x_test)))
    metadata = {
        "model_version": model_version,
        "feature_names": [feature_key(n) for n in data.feature_names],
        "class_names": [str(c) for c in data.target_names],
        "test_accuracy": round(accuracy, 4),
        "sklearn_version": sklearn.__version__,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump({"pipeline": pipeline, "metadata": metadata}, output)
    return accuracy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(os.environ.get("MODEL_PATH", DEFAULT_MODEL_PATH)),
        help="where to write the model (default: $MODEL_PATH or %(default)s)",
    )
    parser.add_argument(
        "--model-version",
        default=os.environ.get("MODEL_VERSION", DEFAULT_MODEL_VERSION),
        help="version string the API reports (default: $MODEL_VERSION or %(default)s)",
    )
    args = parser.parse_args(argv)
    accuracy = train(args.output, args.model_version)
    print(f"test accuracy: {accuracy:.4f}; model saved to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
