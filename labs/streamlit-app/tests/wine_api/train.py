"""Train the wine classifier and save it for the API.

Run it from the lab folder:

    uv run python -m wine_api.train                      # writes model/model.joblib
    uv run python -m wine_api.train --output /tmp/m.joblib --model-version 2

The model file is a joblib dict with the fitted pipeline and its metadata.
A copy of the metadata is written next to it as JSON (model/model.json), so
people and tools can read it without unpickling anything.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

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
TEST_SIZE = 0.25


def feature_key(name: str) -> str:
    """The JSON field name for a dataset column: `od280/od315_of_diluted_wines`
    has a slash, which is awkward in JSON keys and impossible in Python names."""
    return name.replace("/", "_")


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
    """Where the model went and how good it is."""

    model_path: Path
    metadata_path: Path
    metadata: ModelMetadata


def build_pipeline(random_state: int = RANDOM_STATE) -> Pipeline:
    """Scaling inside the pipeline means the API sends raw features and can
    never forget to scale them the way training did."""
    return make_pipeline(
        StandardScaler(),
        LogisticRegression(max_iter=1000, random_state=random_state),
    )


def train(
    output: Path = DEFAULT_MODEL_PATH,
    model_version: str = DEFAULT_MODEL_VERSION,
    random_state: int = RANDOM_STATE,
) -> TrainResult:
    """Fit on a stratified split of the bundled wine data, score on the rest, save."""
    data = load_wine()  # bundled with scikit-learn: nothing is downloaded
    x_train, x_test, y_train, y_test = train_test_split(
        data.data,
        data.target,
        test_size=TEST_SIZE,
        random_state=random_state,
        stratify=data.target,
    )
    pipeline = build_pipeline(random_state)
    pipeline.fit(x_train, y_train)
    accuracy = float(accuracy_score(y_test, pipeline.predict(x_test)))

    metadata = ModelMetadata(
        model_version=model_version,
        feature_names=[feature_key(n) for n in data.feature_names],
        class_names=[str(c) for c in data.target_names],
        test_accuracy=round(accuracy, 4),
        sklearn_version=sklearn.__version__,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    bundle: dict[str, Any] = {"pipeline": pipeline, "metadata": asdict(metadata)}
    joblib.dump(bundle, output)
    metadata_path = output.with_suffix(".json")
    metadata_path.write_text(json.dumps(asdict(metadata), indent=2) + "\n", encoding="utf-8")
    return TrainResult(model_path=output, metadata_path=metadata_path, metadata=metadata)


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
    parser.add_argument("--random-state", type=int, default=RANDOM_STATE)
    args = parser.parse_args(argv)

    result = train(args.output, args.model_version, args.random_state)
    print(f"test accuracy: {result.metadata.test_accuracy:.4f}")
    print(f"model saved to {result.model_path} (metadata: {result.metadata_path})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
