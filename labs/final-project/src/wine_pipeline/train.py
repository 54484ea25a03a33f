"""Train the wine classifier, track the run in MLflow, register a new version.

    uv run python -m wine_pipeline.train                     # reference data only
    uv run python -m wine_pipeline.train --trigger drift     # + data/labelled/*.csv

The run records everything needed to explain and reproduce the model later:
parameters, the evaluation accuracy (overall and per data source), the
training and evaluation data sets (name, digest, schema), the model with its
signature and an input example, and the training features as the drift
reference. The model is registered as a new version of `wine-classifier`;
registering does not promote it: `wine_pipeline.gate` decides that.
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import mlflow
import sklearn
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from wine_pipeline.config import EXPERIMENT, Settings
from wine_pipeline.data import FEATURES, SOURCE, TARGET, TrainingData, load_training_data

RANDOM_STATE = 42
# Where the training features go inside the run's artifacts; drift.py reads them.
REFERENCE_ARTIFACT = "reference/features.csv"


@dataclass(frozen=True)
class TrainResult:
    version: str
    run_id: str
    model_uri: str  # the logged model itself (models:/m-...), whatever its registry name
    eval_accuracy: float


def build_pipeline(c: float = 1.0, random_state: int = RANDOM_STATE) -> Pipeline:
    """Scaling inside the pipeline: the API sends raw measurements."""
    return make_pipeline(
        StandardScaler(),
        LogisticRegression(C=c, max_iter=1000, random_state=random_state),
    )


def train(
    settings: Settings,
    data: TrainingData,
    *,
    trigger: str = "manual",
    c: float = 1.0,
) -> TrainResult:
    """Fit on `data.train`, score on `data.eval`, log it all, register a version."""
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_experiment(EXPERIMENT)
    x_train, y_train = data.train[FEATURES], data.train[TARGET]
    x_eval, y_eval = data.eval[FEATURES], data.eval[TARGET]

    with mlflow.start_run(run_name=f"train-{trigger}") as run:
        mlflow.set_tags({"trigger": trigger, "sources": ",".join(data.sources)})
        mlflow.log_params(
            {
                "model": "StandardScaler+LogisticRegression",
                "C": c,
                "max_iter": 1000,
                "random_state": RANDOM_STATE,
                "train_rows": len(data.train),
                "eval_rows": len(data.eval),
                "split": "crc32(wine_id) % 4 == 0 -> eval",
                "sklearn_version": sklearn.__version__,
            }
        )
        # The data sets, by content digest: two runs on the same rows show the
        # same digest, so "what was this model trained on?" has an answer. No
        # `source`: the rows are built by code, so MLflow records the code
        # (file and git commit) as the source.
        with warnings.catch_warnings():
            # MLflow hints that integer columns cannot hold missing values;
            # `target` is a class id and is never missing.
            warnings.filterwarnings("ignore", "Hint: Inferred schema contains integer")
            for frame, context in ((data.train, "training"), (data.eval, "evaluation")):
                dataset = mlflow.data.from_pandas(frame, targets=TARGET, name=f"wine-{context}")
                mlflow.log_input(dataset, context=context)

        model = build_pipeline(c).fit(x_train, y_train)
        accuracy = float(accuracy_score(y_eval, model.predict(x_eval)))
        mlflow.log_metric("eval_accuracy", accuracy)
        for source, rows in data.eval.groupby(SOURCE):
            score = accuracy_score(rows[TARGET], model.predict(rows[FEATURES]))
            mlflow.log_metric(f"eval_accuracy_{source}", float(score))

        with tempfile.TemporaryDirectory() as tmp:
            reference = Path(tmp) / Path(REFERENCE_ARTIFACT).name
            x_train.to_csv(reference, index=False)
            mlflow.log_artifact(str(reference), artifact_path=Path(REFERENCE_ARTIFACT).parent.name)

        info = mlflow.sklearn.log_model(
            model,
            name="model",
            registered_model_name=settings.model_name,
            signature=infer_signature(x_train, model.predict(x_train)),
            input_example=x_train.head(2),
            # Given, not inferred: inference loads the model in a new Python
            # process to list what it imports (slow), and it picked up pytest
            # when this ran under the tests. The model needs these and mlflow.
            pip_requirements=mlflow.sklearn.get_default_pip_requirements(include_skops=True),
        )

    version = str(info.registered_model_version)
    client = MlflowClient(settings.tracking_uri)
    client.set_model_version_tag(settings.model_name, version, "trigger", trigger)
    client.set_model_version_tag(settings.model_name, version, "eval_accuracy", f"{accuracy:.4f}")
    return TrainResult(
        version=version, run_id=run.info.run_id, model_uri=info.model_uri, eval_accuracy=accuracy
    )


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--trigger",
        default="manual",
        help="why this run happened, recorded as a tag (manual, drift, schedule)",
    )
    parser.add_argument(
        "--reference-only",
        action="store_true",
        help="ignore data/labelled/ and train on the reference data alone",
    )
    parser.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    args = parser.parse_args(argv)

    data = load_training_data(None if args.reference_only else settings.labelled_dir)
    result = train(settings, data, trigger=args.trigger, c=args.c)
    print(f"trained on {len(data.train)} rows from {', '.join(data.sources)}")
    print(f"eval accuracy: {result.eval_accuracy:.4f} on {len(data.eval)} held-out rows")
    print(f"registered {settings.model_name} version {result.version} (run {result.run_id})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
