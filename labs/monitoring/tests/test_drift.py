"""PSI and KS against values computed by hand, and the drift job on the
seeded batches: it flags the drifted batch and not the control."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from wine_api import drift, drift_stats, simulate

# --- PSI ---------------------------------------------------------------------


def test_psi_of_four_bins_by_hand() -> None:
    # e = 0.25 each, a = 0.1, 0.2, 0.3, 0.4:
    # (0.1-0.25) ln(0.1/0.25) + (0.2-0.25) ln(0.2/0.25)
    #   + (0.3-0.25) ln(0.3/0.25) + (0.4-0.25) ln(0.4/0.25)
    # = 0.15*0.916291 + 0.05*0.223144 + 0.05*0.182322 + 0.15*0.470004 = 0.228218
    value = drift_stats.psi_from_shares([0.25] * 4, [0.1, 0.2, 0.3, 0.4])
    assert value == pytest.approx(0.228218, abs=1e-6)


def test_an_empty_bin_costs_a_large_but_finite_psi() -> None:
    # a = 0, 0.5, 0.5, 0 -> the zeros become eps = 1e-4:
    # 2 * (0.25 - 1e-4) * ln(0.25 / 1e-4) + 2 * 0.25 * ln(0.5 / 0.25)
    # = 2 * 0.2499 * 7.824046 + 0.5 * 0.693147 = 3.910458 + 0.346574 = 4.257032
    value = drift_stats.psi_from_shares([0.25] * 4, [0.0, 0.5, 0.5, 0.0])
    assert value == pytest.approx(4.257032, abs=1e-6)
    assert math.isfinite(value)


def test_psi_is_zero_for_equal_shares_and_symmetric() -> None:
    e, a = [0.2, 0.3, 0.5], [0.3, 0.3, 0.4]
    assert drift_stats.psi_from_shares(e, e) == 0
    assert drift_stats.psi_from_shares(e, a) == pytest.approx(drift_stats.psi_from_shares(a, e))
    assert drift_stats.psi_from_shares(e, a) > 0


def test_psi_bins_on_the_reference_quantiles() -> None:
    reference = np.arange(100, dtype=float)  # quartile edges 24.75, 49.5, 74.25
    assert drift_stats.bin_edges(reference, bins=4).tolist() == [24.75, 49.5, 74.25]
    # 10 values in the first quarter, 20 in the second, 30, then 40:
    batch = np.concatenate(
        [np.full(10, 5.0), np.full(20, 30.0), np.full(30, 60.0), np.full(40, 90.0)]
    )
    assert drift_stats.shares(batch, drift_stats.bin_edges(reference, 4)).tolist() == [
        0.1,
        0.2,
        0.3,
        0.4,
    ]
    assert drift_stats.psi(reference, batch, bins=4) == pytest.approx(0.228218, abs=1e-6)


def test_values_outside_the_reference_range_land_in_the_outer_bins() -> None:
    edges = drift_stats.bin_edges(np.arange(100, dtype=float), bins=4)
    assert drift_stats.shares(np.array([-1e9, 1e9]), edges).tolist() == [0.5, 0, 0, 0.5]


def test_repeated_values_merge_bins() -> None:
    # 90 % of the values are 1: most deciles are 1, and become one edge.
    reference = np.array([1.0] * 90 + list(range(2, 12)), dtype=float)
    edges = drift_stats.bin_edges(reference, bins=10)
    assert len(edges) == len(set(edges.tolist())) < 9


def test_a_value_on_an_edge_goes_to_the_bin_below() -> None:
    # Quartile edges 24.75, 49.5, 74.25 of 0..99; the bins are (-inf, 24.75],
    # (24.75, 49.5], (49.5, 74.25], (74.25, inf), as a quantile is defined.
    edges = drift_stats.bin_edges(np.arange(100, dtype=float), bins=4)
    assert drift_stats.shares(np.array([24.75, 49.5, 74.25, 74.26]), edges).tolist() == [
        0.25,
        0.25,
        0.25,
        0.25,
    ]


def test_ties_in_the_reference_keep_batches_apart() -> None:
    # 95 % of the reference is 1.0, so every decile is 1.0: one edge, two
    # bins, "<= 1.0" and "> 1.0". A batch of 2.0s must land in the other bin
    # than the reference's usual value. (With ties sent to the bin above,
    # "< 1.0" and ">= 1.0", the reference and the 2.0s would share one bin
    # and PSI would be 0.)
    reference = np.array([1.0] * 95 + [2.0] * 5)
    edges = drift_stats.bin_edges(reference, bins=10)
    assert edges.tolist() == [1.0]
    twos = np.full(50, 2.0)
    assert drift_stats.shares(reference, edges).tolist() == [0.95, 0.05]
    assert drift_stats.shares(twos, edges).tolist() == [0.0, 1.0]
    assert drift_stats.psi(reference, reference, bins=10) == pytest.approx(0.0, abs=1e-12)
    assert drift_stats.psi(reference, twos, bins=10) > drift.PSI_SIGNIFICANT


# --- KS ----------------------------------------------------------------------


def ecdf_gap(x: list[float], y: list[float]) -> float:
    """D by its definition: the largest |F_x - F_y| over every observed value."""
    points = sorted(set(x) | set(y))
    return max(
        abs(sum(v <= p for v in x) / len(x) - sum(v <= p for v in y) / len(y)) for p in points
    )


def exact_pvalue(x: list[float], y: list[float]) -> float:
    """P(D >= observed D) over every way to split the pooled values into
    groups of len(x) and len(y): all equally likely if both come from one
    distribution."""
    pooled = x + y
    observed = ecdf_gap(x, y)
    splits = list(itertools.combinations(range(len(pooled)), len(x)))
    extreme = 0
    for chosen in splits:
        a = [pooled[i] for i in chosen]
        b = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        extreme += ecdf_gap(a, b) >= observed - 1e-12
    return extreme / len(splits)


def test_ks_of_two_separated_samples_by_hand() -> None:
    # Every x is below every y: at x = 4, F_x = 1 and F_y = 0, so D = 1.
    # Of the C(8,4) = 70 splits of 8 values into 4 + 4, only 2 separate
    # them completely (lowest four left or right): p = 2/70.
    d, p = drift.ks_test(np.array([1.0, 2, 3, 4]), np.array([5.0, 6, 7, 8]))
    assert d == 1.0
    assert p == pytest.approx(2 / 70)


def test_ks_statistic_and_pvalue_match_their_definitions() -> None:
    x, y = [1.0, 2, 5, 6, 9], [3.0, 4, 7, 8, 10, 11]
    d, p = drift.ks_test(np.array(x), np.array(y))
    assert d == pytest.approx(ecdf_gap(x, y))
    assert p == pytest.approx(exact_pvalue(x, y))


def test_ks_pvalue_shrinks_with_sample_size_while_the_shift_stays_tiny() -> None:
    rng = np.random.default_rng(7)
    shift = 0.05  # standard deviations: too small to matter to this model
    small = drift.ks_test(rng.normal(0, 1, 200), rng.normal(shift, 1, 200))
    large_ref, large_batch = rng.normal(0, 1, 50_000), rng.normal(shift, 1, 50_000)
    large = drift.ks_test(large_ref, large_batch)
    assert small[1] > 0.05  # 200 rows: "no evidence of a difference"
    assert large[1] < 1e-6  # 50,000 rows: "highly significant"
    assert large[0] < 0.03  # ... for a CDF gap of under 3 points
    assert drift_stats.psi(large_ref, large_batch, bins=10) < 0.01  # PSI: no real change


# --- The seeded batches and the drift job -------------------------------------


def test_the_batches_are_reproducible() -> None:
    first = simulate.production_batch(50, seed=3)
    second = simulate.production_batch(50, seed=3)
    assert np.array_equal(first.x, second.x)
    assert first.labels == second.labels
    assert not np.array_equal(first.x, simulate.production_batch(50, seed=4).x)


def test_the_drift_changes_alcohol_and_color_intensity_only() -> None:
    batch = simulate.production_batch(100, seed=1)
    drifted = simulate.apply_drift(batch)
    alcohol = batch.features.index("alcohol")
    color = batch.features.index("color_intensity")
    assert np.allclose(drifted.x[:, alcohol], batch.x[:, alcohol] + 1.5)
    assert np.allclose(drifted.x[:, color], batch.x[:, color] * 1.3)
    others = [i for i in range(13) if i not in (alcohol, color)]
    assert np.array_equal(drifted.x[:, others], batch.x[:, others])
    assert drifted.labels == batch.labels


@pytest.fixture
def batches(tmp_path: Path) -> Path:
    simulate.main(["--out", str(tmp_path)])
    return tmp_path


def run_job(batches: Path, name: str, report: Path) -> dict[str, object]:
    drift.main(
        [
            "--reference",
            str(batches / "reference.csv"),
            "--batch",
            str(batches / name),
            "--report",
            str(report),
        ]
    )
    return json.loads(report.read_text())


def test_the_job_flags_the_drifted_batch(batches: Path, tmp_path: Path) -> None:
    report = run_job(batches, "drifted.csv", tmp_path / "reports" / "drifted.json")
    assert report["drift_detected"] is True
    assert report["drifted_features"] == ["alcohol", "color_intensity"]
    by_feature = {f["feature"]: f for f in report["features"]}
    assert by_feature["alcohol"]["psi"] > 1  # shifted by ~1.8 standard deviations
    assert by_feature["alcohol"]["ks_pvalue"] < 1e-10
    assert by_feature["color_intensity"]["psi_level"] == "significant"
    assert (report["reference_rows"], report["batch_rows"]) == (178, 500)


def test_the_job_does_not_flag_the_control_batch(batches: Path, tmp_path: Path) -> None:
    report = run_job(batches, "control.csv", tmp_path / "control.json")
    assert report["drift_detected"] is False
    assert report["drifted_features"] == []
    assert max(f["psi"] for f in report["features"]) < 0.1
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically


def test_the_verdict_does_not_depend_on_a_lucky_seed() -> None:
    reference = simulate.reference()
    ref = {name: reference.column(name) for name in reference.features}
    for seed in range(20):
        control = simulate.production_batch(500, seed)
        drifted = simulate.apply_drift(simulate.production_batch(500, 1000 + seed))
        flagged_control = [
            f.feature
            for f in drift.compare(ref, {n: control.column(n) for n in control.features})
            if f.drifted
        ]
        flagged_drifted = [
            f.feature
            for f in drift.compare(ref, {n: drifted.column(n) for n in drifted.features})
            if f.drifted
        ]
        assert flagged_control == [], seed
        assert flagged_drifted == ["alcohol", "color_intensity"], seed


def test_a_batch_without_a_feature_column_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("alcohol,label\n13.2,class_0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing feature columns"):
        simulate.read_csv(bad)
