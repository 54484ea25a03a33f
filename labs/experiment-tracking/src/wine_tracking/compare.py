"""Compare the runs of an experiment: a search, a table, the best run.

    uv run python -m wine_tracking.compare
    uv run python -m wine_tracking.compare --filter "params.C = '0.1'"
    uv run python -m wine_tracking.compare --order-by "metrics.test_accuracy DESC" --max-results 5

Filters use MLflow's search syntax: `metrics.`, `params.`, `tags.` and
`attributes.` (status, run_name, start_time, ...) joined by `and` (there is no
`or`). Params and tags are strings, so compare them with quotes; metrics are
numbers.
"""

from __future__ import annotations

import argparse
import sys

import mlflow
import pandas as pd

from wine_tracking import EXPERIMENT_NAME, RANKING, connect

# Only runs that finished and reached a sane accuracy compete: a crashed or
# broken run must never be "the best" because a metric happens to be low.
DEFAULT_FILTER = "attributes.status = 'FINISHED' and metrics.test_accuracy >= 0.9"
# Best first (see RANKING); among equals, the newest.
DEFAULT_ORDER = [*RANKING, "attributes.start_time DESC"]

COLUMNS = {
    "run_id": "run_id",
    "tags.mlflow.runName": "run_name",
    "params.C": "C",
    "params.max_iter": "max_iter",
    "metrics.test_accuracy": "test_accuracy",
    "metrics.test_f1_macro": "test_f1_macro",
    "metrics.test_log_loss": "test_log_loss",
    "start_time": "start_time",
}


def search(
    filter_string: str = DEFAULT_FILTER,
    order_by: list[str] | None = None,
    max_results: int = 20,
    experiment: str = EXPERIMENT_NAME,
) -> pd.DataFrame:
    """The matching runs, best first, as a DataFrame (one row per run)."""
    connect()
    runs = mlflow.search_runs(
        experiment_names=[experiment],
        filter_string=filter_string,
        order_by=order_by or DEFAULT_ORDER,
        max_results=max_results,
        output_format="pandas",
    )
    assert isinstance(runs, pd.DataFrame)
    return runs


def table(runs: pd.DataFrame) -> str:
    """The columns worth reading, with short run ids."""
    shown = runs.reindex(columns=list(COLUMNS)).rename(columns=COLUMNS)
    shown["run_id"] = shown["run_id"].str[:8]
    shown["start_time"] = pd.to_datetime(shown["start_time"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    return shown.to_string(index=False, float_format=lambda v: f"{v:.4f}")


def best_run_id(**search_args: object) -> str | None:
    """The run at the top of the search, or None when nothing matches."""
    runs = search(max_results=1, **search_args)  # type: ignore[arg-type]
    return None if runs.empty else str(runs.iloc[0]["run_id"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default=EXPERIMENT_NAME)
    parser.add_argument("--filter", default=DEFAULT_FILTER, help="default: %(default)s")
    parser.add_argument(
        "--order-by",
        action="append",
        help=f"repeatable; default: {', '.join(DEFAULT_ORDER)}",
    )
    parser.add_argument("--max-results", type=int, default=20)
    args = parser.parse_args(argv)

    runs = search(args.filter, args.order_by, args.max_results, args.experiment)
    if runs.empty:
        print(
            f"no run of experiment {args.experiment!r} at {mlflow.get_tracking_uri()} matches "
            f"{args.filter!r}; train one first",
            file=sys.stderr,
        )
        return 1
    print(table(runs))
    best = runs.iloc[0]
    name = best.get("tags.mlflow.runName", "")
    order = ", ".join(args.order_by or RANKING)
    print(f"\nbest run by {order}: {best['run_id']} ({name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
