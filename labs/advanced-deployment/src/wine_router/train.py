"""Train the wine model variants the backends serve, into a model registry
laid out on disk as models/<name>/<registry version>/.

    uv run python -m wine_router.train                 # writes models/wine/{1,2,3}
    uv run python -m wine_router.train --models-dir /tmp/models

Every variant is trained on the same seeded split of scikit-learn's bundled
wine data (nothing is downloaded), so the results are the same on every run.
A version that exists already is never overwritten: published model versions
are immutable. To change a model, add a new version.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import sklearn
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from wine_router.schemas import FEATURES
from wine_router.store import sha256_of

DEFAULT_MODELS_DIR = Path("models")
RANDOM_STATE = 42
TEST_SIZE = 0.25


@dataclass(frozen=True)
class Variant:
    """One model version: its registry coordinates, its semantic version and
    how to build it. The semantic version says what changed for a client:
    MAJOR = the input or output schema changed, MINOR = a new model behind
    the same schema, PATCH = the same model, repackaged."""

    name: str
    registry_version: str
    model_version: str
    algorithm: str
    build: Callable[[], Pipeline]


VARIANTS: tuple[Variant, ...] = (
    # Module 03's model: scaler + logistic regression.
    Variant(
        "wine",
        "1",
        "1.0.0",
        "logistic regression, C=1.0",
        lambda: make_pipeline(
            StandardScaler(), LogisticRegression(C=1.0, max_iter=1000, random_state=RANDOM_STATE)
        ),
    ),
    # A challenger with another algorithm and the same schema: a MINOR version.
    Variant(
        "wine",
        "2",
        "1.1.0",
        "random forest, 100 trees",
        lambda: make_pipeline(
            StandardScaler(),
            RandomForestClassifier(n_estimators=100, random_state=RANDOM_STATE),
        ),
    ),
    # Heavily regularised: a weaker model, to give the shadow something to disagree about.
    Variant(
        "wine",
        "3",
        "1.2.0",
        "logistic regression, C=0.005",
        lambda: make_pipeline(
            StandardScaler(), LogisticRegression(C=0.005, max_iter=1000, random_state=RANDOM_STATE)
        ),
    ),
)


def held_out() -> tuple[Any, Any]:
    """The test split every variant is scored on (and the lab's traffic is drawn from)."""
    data = load_wine()
    _, x_test, _, y_test = train_test_split(
        data.data, data.target, test_size=TEST_SIZE, random_state=RANDOM_STATE, stratify=data.target
    )
    return x_test, y_test


def train_variant(variant: Variant, models_dir: Path) -> tuple[Path, bool]:
    """Train and save one variant; returns its folder and whether it was written.

    The artifact is written first, then its metadata with the artifact's
    SHA-256: the metadata file is what makes a version visible to a backend,
    and the hash lets the backend refuse a file that changed after publishing.
    """
    folder = models_dir / variant.name / variant.registry_version
    metadata_path = folder / "model.json"
    if metadata_path.exists():
        return folder, False
    data = load_wine()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=TEST_SIZE, random_state=RANDOM_STATE, stratify=data.target
    )
    pipeline = variant.build()
    pipeline.fit(x_train, y_train)
    accuracy = float(accuracy_score(y_test, pipeline.predict(x_test)))

    folder.mkdir(parents=True, exist_ok=True)
    artifact = folder / "model.joblib"
    joblib.dump(pipeline, artifact)
    metadata = {
        "name": variant.name,
        "registry_version": variant.registry_version,
        "model_version": variant.model_version,
        "algorithm": variant.algorithm,
        "feature_names": FEATURES,
        "class_names": [str(c) for c in data.target_names],
        "test_accuracy": round(accuracy, 4),
        "sklearn_version": sklearn.__version__,
        "sha256": sha256_of(artifact),
    }
    metadata_path.write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    return folder, True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS_DIR)
    args = parser.parse_args(argv)
    for variant in VARIANTS:
        folder, written = train_variant(variant, args.models_dir)
        meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
        state = "trained" if written else "exists, kept (versions are immutable)"
        print(
            f"{variant.name}/{variant.registry_version} (v{meta['model_version']}, "
            f"{meta['algorithm']}): test accuracy {meta['test_accuracy']:.4f} - {state}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
