"""Comparing runs: search_runs with filter and order strings, the table, the best run."""

from __future__ import annotations

import mlflow
import pytest
from conftest import Runs

from wine_tracking import EXPERIMENT_NAME, rank
from wine_tracking.compare import best_run_id, main, search


@pytest.fixture(scope="module")
def crashed_run_id(runs: Runs, tracking_uri: str) -> str:
    """A run with perfect metrics that then crashed: it must never win."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(EXPERIMENT_NAME)

    def train_and_crash() -> None:
        with mlflow.start_run(run_name="crashed") as run:
            mlflow.log_metrics({"test_accuracy": 1.0, "test_log_loss": 0.0})
            raise RuntimeError(run.info.run_id)  # leaving `with` this way marks it FAILED

    with pytest.raises(RuntimeError) as crash:
        train_and_crash()
    run_id = str(crash.value)
    assert mlflow.get_run(run_id).info.status == "FAILED"
    return run_id


def test_the_best_finished_run_comes_first(runs: Runs, crashed_run_id: str) -> None:
    found = search()
    ids = list(found["run_id"])
    assert crashed_run_id not in ids
    assert ids.index(runs.strong.run_id) < ids.index(runs.weak.run_id)
    ranks = [
        rank(row)
        for row in found.rename(columns=lambda c: c.removeprefix("metrics.")).to_dict("records")
    ]
    assert ranks == sorted(ranks)
    assert best_run_id() == ids[0]


def test_params_are_strings_in_filters(runs: Runs) -> None:
    found = search("params.C = '0.05'")
    assert list(found["run_id"]) == [runs.weak.run_id]


def test_order_by_another_metric_and_limit(runs: Runs) -> None:
    found = search("attributes.status = 'FINISHED'", ["metrics.test_log_loss DESC"], max_results=1)
    assert len(found) == 1
    assert found.iloc[0]["metrics.test_log_loss"] >= runs.weak.metrics["test_log_loss"]


def test_cli_prints_a_table_and_the_best_run(
    runs: Runs, crashed_run_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert header == [
        "run_id", "run_name", "C", "max_iter",
        "test_accuracy", "test_f1_macro", "test_log_loss", "start_time",
    ]  # fmt: skip
    assert runs.weak.run_id[:8] in out
    assert crashed_run_id[:8] not in out
    ranking = "metrics.test_accuracy DESC, metrics.test_log_loss ASC"
    assert f"best run by {ranking}: {best_run_id()}" in out


def test_cli_says_when_nothing_matches(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--filter", "params.C = 'no such value'"]) == 1
    assert "train one first" in capsys.readouterr().err
