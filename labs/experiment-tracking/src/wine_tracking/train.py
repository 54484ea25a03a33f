"""Train the wine classifier and log everything about the run to MLflow.

    uv run python -m wine_tracking.train                 # C=1.0
    uv run python -m wine_tracking.train --C 0.05 --run-name strong-regularisation

One run records:
    params     C, max_iter, model_type, the split settings
    metrics    test_accuracy, test_f1_macro, test_log_loss, train_accuracy
    datasets   the training and test DataFrames (name, digest, schema, profile)
    artifacts  evaluation/confusion_matrix.json, evaluation/classification_report.txt
    model      the fitted pipeline in the `model` folder, with its signature and
               an input example, loadable by mlflow.pyfunc.load_model
    tags       what kind of model it is and where the data came from

The same script is the `main` entry point of the MLproject file.
"""

from __future__ import annotations

import argparse
import os
import warnings
from dataclasses import dataclass
from importlib.metadata import version
from urllib.parse import quote

import mlflow
import pandas as pd
from mlflow.models import infer_signature

from wine_tracking import EXPERIMENT_NAME, connect
from wine_tracking.data import CLASS_NAMES, SPLIT_SEED, TARGET, TEST_SIZE, split
from wine_tracking.model import MODEL_TYPE, build_pipeline, evaluate, hyperparameters

MODEL_ARTIFACT = "model"

# What loading the model needs, at the versions that trained it. Without this
# list MLflow infers one: in a uv project it exports the whole uv.lock (about
# 100 packages here, wandb included); elsewhere it loads the model in a
# subprocess to see what it imports, which is slow.
MODEL_REQUIREMENTS = [
    f"{name}=={version(name)}"
    for name in ("mlflow", "numpy", "pandas", "scikit-learn", "scipy", "skops")
]


def log_dataset(frame: pd.DataFrame, name: str, context: str) -> None:
    """Record which rows the run used: MLflow stores the DataFrame's digest
    (a hash of its content), schema and size, and where it came from, not
    the rows themselves."""
    with warnings.catch_warnings():
        # The integer `target` column makes MLflow hint that integers cannot
        # hold missing values. Ours has none; the hint would only be noise.
        warnings.filterwarnings(
            "ignore", message="Hint: Inferred schema contains integer", category=UserWarning
        )
        dataset = mlflow.data.from_pandas(frame, name=name, targets=TARGET)
        mlflow.log_input(dataset, context=context)


@dataclass(frozen=True)
class TrainResult:
    run_id: str
    experiment_id: str
    model_uri: str  # models:/m-... : the logged model, before any registration
    metrics: dict[str, float]


def train(
    c: float = 1.0,
    max_iter: int = 1000,
    *,
    experiment: str = EXPERIMENT_NAME,
    run_name: str | None = None,
) -> TrainResult:
    connect()
    # `mlflow run` creates the run first and hands it over in MLFLOW_RUN_ID
    # (in the experiment given by --experiment-name). Setting another
    # experiment here would make start_run() refuse that run.
    if not os.environ.get("MLFLOW_RUN_ID"):
        mlflow.set_experiment(experiment)

    data = split()
    with mlflow.start_run(run_name=run_name) as run:
        # Under `mlflow run` the entry point's parameters are already logged
        # (as you typed them: "10", not 10.0); a param, once logged, cannot change.
        already = run.data.params
        params = {
            **hyperparameters(c, max_iter),
            "split_seed": SPLIT_SEED,
            "test_size": TEST_SIZE,
        }
        mlflow.log_params({k: v for k, v in params.items() if k not in already})
        mlflow.set_tags({"model_type": MODEL_TYPE, "data_source": "sklearn.datasets.load_wine"})

        log_dataset(data.train, "wine-train", "training")
        log_dataset(data.test, "wine-test", "testing")

        pipeline = build_pipeline(c, max_iter).fit(data.x_train, data.y_train)
        evaluation = evaluate(pipeline, data)
        mlflow.log_metrics(evaluation.metrics)
        mlflow.log_dict(
            {"labels": CLASS_NAMES, "matrix": evaluation.confusion},
            "evaluation/confusion_matrix.json",
        )
        mlflow.log_text(evaluation.report, "evaluation/classification_report.txt")

        # The signature is the model's contract: 13 named double columns in,
        # one integer class id out. pyfunc checks every input against it.
        signature = infer_signature(data.x_train, pipeline.predict(data.x_train))
        model_info = mlflow.sklearn.log_model(
            pipeline,
            name=MODEL_ARTIFACT,
            signature=signature,
            input_example=data.x_train.head(3),  # real rows, stored next to the model
            pip_requirements=MODEL_REQUIREMENTS,
        )
    return TrainResult(
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        model_uri=model_info.model_uri,
        metrics=evaluation.metrics,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--C", dest="c", type=float, default=1.0, help="inverse regularisation")
    parser.add_argument("--max-iter", type=int, default=1000)
    parser.add_argument("--experiment", default=EXPERIMENT_NAME)
    parser.add_argument("--run-name", default=None, help="default: a generated name")
    args = parser.parse_args(argv)

    result = train(args.c, args.max_iter, experiment=args.experiment, run_name=args.run_name)
    for name, value in sorted(result.metrics.items()):
        print(f"{name:>15}: {value:.4f}")
    print(f"run {result.run_id} logged the model {result.model_uri}")
    base = mlflow.get_tracking_uri().rstrip("/")
    if base.startswith("http"):
        print(f"open {base}/#/experiments/{result.experiment_id}/runs/{quote(result.run_id)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
