"""PSI, the drift report, and the gauges the API exports from it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from wine_pipeline.data import (
    DRIFT,
    FEATURES,
    append_predictions,
    is_eval,
    make_batch,
    wine_frame,
)
from wine_pipeline.drift import (
    BINS,
    PSI_THRESHOLD,
    compare,
    load_report,
    main,
    psi,
    write_report,
)
from wine_pipeline.metrics import DriftReportCollector


@pytest.fixture(scope="module")
def reference() -> object:
    """What train.py stores as the drift reference: the training rows' features."""
    wines = wine_frame()
    return wines[~is_eval(wines["wine_id"])][FEATURES]


def test_psi_of_a_sample_against_itself_is_zero() -> None:
    values = np.random.default_rng(0).normal(size=500)
    assert psi(values, values) == pytest.approx(0.0, abs=1e-12)


def test_psi_grows_with_the_shift() -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=2000)
    small = psi(reference, rng.normal(0.1, 1, size=2000))
    large = psi(reference, rng.normal(1.0, 1, size=2000))
    assert small < 0.1 < PSI_THRESHOLD < large


def test_values_beyond_the_reference_land_in_the_outer_bins() -> None:
    reference = np.arange(100.0)
    # Everything far above the reference's range: one bin holds it all.
    assert psi(reference, np.full(50, 1e6)) > 1.0
    assert np.isfinite(psi(reference, np.full(50, 1e6)))


def test_ties_in_the_reference_do_not_break_the_bins() -> None:
    reference = np.array([1.0] * 90 + [2.0] * 10)  # most quantile edges are equal
    assert psi(reference, reference) == pytest.approx(0.0, abs=1e-12)
    assert psi(reference, np.array([2.0] * 50)) > PSI_THRESHOLD


def test_psi_needs_data_on_both_sides() -> None:
    with pytest.raises(ValueError, match="needs rows"):
        psi(np.array([]), np.array([1.0]))


def test_undrifted_batches_stay_below_the_threshold(reference: object) -> None:
    # The noise floor: batches of 200 from the same distribution, 30 seeds.
    worst = max(
        compare(reference, make_batch(200, seed=s), model_version="1").max_psi for s in range(30)
    )
    assert worst < PSI_THRESHOLD


def test_drifted_batches_flag_exactly_the_drifted_features(reference: object) -> None:
    for seed in range(10):
        report = compare(reference, make_batch(200, seed=seed, drifted=True), model_version="1")
        assert set(report.drifted) == set(DRIFT), seed
        assert report.drifted[0] == max(report.psi, key=report.psi.get)  # worst first


def test_the_report_is_written_dated_and_as_latest(tmp_path: Path, reference: object) -> None:
    report = compare(reference, make_batch(200, drifted=True), model_version="3")
    dated = write_report(report, tmp_path)
    latest = tmp_path / "drift-latest.json"
    assert dated.name.startswith("drift-20")
    assert dated.name.endswith("Z.json")
    assert json.loads(latest.read_text()) == json.loads(dated.read_text())
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left
    loaded = load_report(latest)
    assert loaded == report
    assert loaded.detected
    assert loaded.model_version == "3"
    assert loaded.bins == BINS
    assert load_report(tmp_path / "none.json") is None


def scrape(collector: DriftReportCollector) -> dict[tuple[str, str], float]:
    """{(metric name, feature label or ""): value}, parsed from the exposition text."""
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    return {
        (sample.name, sample.labels.get("feature", "")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_collector_exports_the_latest_report(tmp_path: Path, reference: object) -> None:
    # Module 07's collector (metrics.py is its file, byte for byte).
    collector = DriftReportCollector(tmp_path / "drift-latest.json")
    assert scrape(collector) == {}  # no report: no series (not zeros)

    report = compare(reference, make_batch(200, drifted=True), model_version="1")
    write_report(report, tmp_path)
    samples = scrape(collector)
    assert {f: samples[("wine_drift_psi", f)] for f in FEATURES} == report.psi
    ks = {f["feature"]: f["ks_statistic"] for f in report.features}
    assert {f: samples[("wine_drift_ks_statistic", f)] for f in FEATURES} == ks
    assert samples[("wine_drift_detected", "")] == 1
    assert samples[("wine_drift_report_timestamp_seconds", "")] == pytest.approx(
        report.created_unix
    )

    # Read at every scrape: a newer report shows at once.
    write_report(compare(reference, make_batch(200, seed=3), model_version="1"), tmp_path)
    assert scrape(collector)[("wine_drift_detected", "")] == 0


def test_the_alert_rule_and_the_job_share_the_threshold() -> None:
    # Two files, one number: the drift job flags a feature above PSI_THRESHOLD,
    # and the alert fires above the value in prometheus/rules.yml.
    rules = (Path(__file__).resolve().parents[1] / "prometheus" / "rules.yml").read_text()
    assert f"max by (job, instance) (wine_drift_psi) > {PSI_THRESHOLD}\n" in rules


def test_the_job_refuses_to_judge_too_few_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    rows = make_batch(10)[FEATURES].to_dict(orient="records")
    append_predictions(tmp_path / "predictions.jsonl", rows, ["class_0"] * 10, "1")
    assert main([]) == 2
    assert "only 10 rows in" in capsys.readouterr().out
    assert not (tmp_path / "reports").exists()
