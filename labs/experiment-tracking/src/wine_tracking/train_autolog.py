"""The same training with mlflow.sklearn.autolog(): existing code, one line added.

    uv run python -m wine_tracking.train_autolog --C 0.5

Autolog patches scikit-learn's fit(): it logs every constructor parameter of
every step of the pipeline (`logisticregression__C`, `standardscaler__with_mean`,
...), metrics computed on the *training* data (`training_accuracy_score`,
`training_log_loss`, ...), the fitted model with a signature, and the training
data as a dataset input. It cannot know which data is your held-out set, so
the test metrics are still logged by hand, as in train.py.

The runs go to their own experiment (`wine-classifier-autolog`): their param
names differ from train.py's, so mixing both in one table would compare nothing.
"""

from __future__ import annotations

import argparse
import os

import mlflow

from wine_tracking import connect
from wine_tracking.data import split
from wine_tracking.model import build_pipeline, evaluate

AUTOLOG_EXPERIMENT = "wine-classifier-autolog"


def train_autolog(c: float = 1.0, max_iter: int = 1000) -> str:
    """Fit once with autologging on; return the run id."""
    connect()
    if not os.environ.get("MLFLOW_RUN_ID"):  # not under `mlflow run -e autolog`
        mlflow.set_experiment(AUTOLOG_EXPERIMENT)
    # Autolog stores sklearn models with cloudpickle by default (log_model()
    # uses skops); input examples are off unless asked for.
    mlflow.sklearn.autolog(log_input_examples=True)
    try:
        data = split()
        with mlflow.start_run() as run:
            # The existing training code, unchanged: autolog logs the fit.
            pipeline = build_pipeline(c, max_iter).fit(data.x_train, data.y_train)
            # What autolog cannot guess: how the model does on held-out data.
            mlflow.log_metrics(evaluate(pipeline, data).metrics)
    finally:
        mlflow.sklearn.autolog(disable=True)  # leave scikit-learn unpatched
    return run.info.run_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--C", dest="c", type=float, default=1.0)
    parser.add_argument("--max-iter", type=int, default=1000)
    args = parser.parse_args(argv)

    run_id = train_autolog(args.c, args.max_iter)
    run = mlflow.get_run(run_id)
    print(f"run {run_id} in experiment {AUTOLOG_EXPERIMENT!r}")
    print(
        f"{len(run.data.params)} params, e.g. logisticregression__C = "
        f"{run.data.params.get('logisticregression__C')}"
    )
    for name, value in sorted(run.data.metrics.items()):
        print(f"{name:>32}: {value:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
