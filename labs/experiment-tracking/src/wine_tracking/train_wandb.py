"""The training script again, logging to Weights & Biases instead of MLflow.

    uv run python -m wine_tracking.train_wandb              # offline: no account needed
    WANDB_MODE=online uv run python -m wine_tracking.train_wandb   # after `wandb login`

Offline (the default here) the run is written under ./wandb/offline-run-*/ ;
`uv run wandb sync wandb/offline-run-*` uploads it later, once you have an
account and are logged in. Set WANDB_DIR to write the wandb/ folder elsewhere.

The same concepts under other names:
    MLflow                 W&B
    experiment             project
    run params             run.config
    log_metric(s)          run.log() (history) and run.summary (final values)
    tags                   tags (a list of labels)
    log_input(dataset)     an artifact of type "dataset" used by the run
    log_model / registry   an artifact of type "model" with aliases
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import joblib
import wandb

from wine_tracking.data import SPLIT_SEED, TEST_SIZE, split
from wine_tracking.model import build_pipeline, evaluate, hyperparameters

PROJECT = "wine-classifier"


def train_wandb(c: float = 1.0, max_iter: int = 1000, *, project: str = PROJECT) -> Path:
    """Train, log to W&B, return the run's local folder."""
    data = split()
    run = wandb.init(
        project=project,
        job_type="train",
        # WANDB_MODE wins when set; otherwise stay offline, so the script never
        # stops to ask for an API key.
        mode=os.environ.get("WANDB_MODE", "offline"),  # type: ignore[arg-type]
        config={**hyperparameters(c, max_iter), "split_seed": SPLIT_SEED, "test_size": TEST_SIZE},
        tags=["wine", "course-module-02"],
    )
    with run, tempfile.TemporaryDirectory() as tmp:  # finishes the run, also on errors
        # The training rows as a versioned dataset artifact. W&B hashes the
        # files: unchanged data is the same artifact version next time.
        # (Offline, a run can log artifacts but not use_artifact() them: that
        # needs the server to look the version up.)
        train_csv = Path(tmp) / "wine-train.csv"
        data.train.to_csv(train_csv, index=False)
        dataset = wandb.Artifact("wine-train", type="dataset")
        dataset.add_file(str(train_csv))
        run.log_artifact(dataset)

        pipeline = build_pipeline(c, max_iter).fit(data.x_train, data.y_train)
        evaluation = evaluate(pipeline, data)
        run.log(evaluation.metrics)  # one step of history; the summary keeps the last values
        run.summary["confusion_matrix"] = evaluation.confusion

        model_file = Path(tmp) / "model.joblib"
        joblib.dump(pipeline, model_file)
        model = wandb.Artifact("wine-classifier", type="model", metadata=evaluation.metrics)
        # add_file copies the file into W&B's staging folder at once, so the
        # temporary folder may go away before the upload (or the sync) happens.
        model.add_file(str(model_file))
        run.log_artifact(model, aliases=["candidate"])
        print(f"{run.settings.mode} run {run.id}: {evaluation.metrics}")
        return Path(run.dir).parent  # run.dir is the run's files/ folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--C", dest="c", type=float, default=1.0)
    parser.add_argument("--max-iter", type=int, default=1000)
    parser.add_argument("--project", default=PROJECT)
    args = parser.parse_args(argv)

    run_dir = train_wandb(args.c, args.max_iter, project=args.project)
    print(f"run folder: {run_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
