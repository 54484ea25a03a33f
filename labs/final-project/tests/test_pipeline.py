"""The retraining trigger's decisions that need no retraining.

The path that retrains, gates, promotes and waits for the API runs for real
in test_end_to_end.py.
"""

from __future__ import annotations

from helpers import Trained, register
from mlflow.tracking import MlflowClient

from wine_pipeline.config import Settings
from wine_pipeline.data import FEATURES, load_training_data, make_batch, write_labelled
from wine_pipeline.drift import DriftReport, write_report
from wine_pipeline.gate import champion_version, promote, rollback
from wine_pipeline.pipeline import resume, run
from wine_pipeline.train import train


def report(version: str, *, drifted: bool) -> DriftReport:
    psi = dict.fromkeys(FEATURES, 0.05)
    if drifted:
        psi["hue"] = 1.2
    return DriftReport(
        created_at="2026-11-27T12:00:00+00:00",
        created_unix=1795780800.0,
        model_version=version,
        rows=200,
        bins=5,
        threshold=0.25,
        drift_detected=drifted,
        features=[
            {"feature": f, "psi": v, "ks_statistic": 0.1, "ks_pvalue": 0.5, "drifted": v > 0.25}
            for f, v in psi.items()
        ],
        drifted=["hue"] if drifted else [],
    )


def versions(settings: Settings) -> int:
    client = MlflowClient(settings.tracking_uri)
    return len(client.search_model_versions(f"name = '{settings.model_name}'"))


def test_without_a_report_it_cannot_decide(served: Settings) -> None:
    outcome = run(served, wait_seconds=0)
    assert outcome.exit_code == 2
    assert "run the drift job first" in outcome.message


def test_no_drift_means_nothing_to_do(served: Settings) -> None:
    write_report(report("1", drifted=False), served.reports_dir)
    outcome = run(served, wait_seconds=0)
    assert (outcome.exit_code, outcome.new_version) == (0, None)
    assert outcome.message.startswith("no drift (max PSI 0.0500")
    assert versions(served) == 1


def test_a_report_about_an_older_champion_is_not_acted_on(served: Settings) -> None:
    # The drift was about version 7; the champion (1) has replaced it since.
    write_report(report("7", drifted=True), served.reports_dir)
    outcome = run(served, wait_seconds=0)
    assert outcome.exit_code == 0
    assert "judged version 7, the champion is now 1" in outcome.message
    assert versions(served) == 1


def test_drift_without_labelled_data_cannot_retrain(served: Settings) -> None:
    write_report(report("1", drifted=True), served.reports_dir)
    outcome = run(served, wait_seconds=0)
    assert outcome.exit_code == 2
    assert "no labelled production data" in outcome.message
    assert versions(served) == 1


def test_drift_with_nothing_new_to_learn_does_not_retrain(settings: Settings) -> None:
    # A champion that was trained on the only labelled batch there is.
    write_labelled(make_batch(100, drifted=True), settings.labelled_dir, "batch-001")
    result = train(settings, load_training_data(settings.labelled_dir), trigger="test")
    promote(MlflowClient(settings.tracking_uri), settings.model_name, result.version, "test")
    write_report(report(result.version, drifted=True), settings.reports_dir)

    outcome = run(settings, wait_seconds=0)
    assert outcome.exit_code == 0
    assert "trained on every labelled batch" in outcome.message
    assert versions(settings) == 1
    assert champion_version(MlflowClient(settings.tracking_uri), settings.model_name) == "1"


def test_a_rollback_pauses_retraining_until_resumed(served: Settings, trained: Trained) -> None:
    second = register(served, trained.good)
    promote(MlflowClient(served.tracking_uri), served.model_name, second, "test")
    rollback(served, "INC-1: bad answers")
    write_report(report("1", drifted=True), served.reports_dir)

    outcome = run(served, wait_seconds=0)
    assert outcome.exit_code == 2
    assert "retraining is paused (rollback of version 2: INC-1: bad answers)" in outcome.message

    resume(served)
    # Resumed: it gets as far as the next reason not to retrain.
    assert "no labelled production data" in run(served, wait_seconds=0).message
