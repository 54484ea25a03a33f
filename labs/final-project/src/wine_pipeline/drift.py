"""The drift job: has the traffic moved away from what the champion learned on?

    uv run python -m wine_pipeline.drift            # the last 200 scored rows

It compares the last `--window` rows of the API's prediction log with the
champion's training features (stored with its MLflow run by train.py),
feature by feature, with the population stability index (PSI), and writes a
report to reports/drift-<time>.json and reports/drift-latest.json.

A batch job has no /metrics endpoint of its own that Prometheus could
scrape, so the API publishes the latest report's numbers: `DriftCollector`
reads the file at each scrape and exports them as gauges (the same idea as
node_exporter's textfile collector; across machines you would push them to
a Pushgateway instead). The alert rule fires on those gauges; the retraining
trigger (pipeline.py) reads the report itself.

Exit codes: 0 report written (drifted or not), 2 not enough rows to judge.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient
from prometheus_client.core import GaugeMetricFamily, Metric

from wine_pipeline.config import CHAMPION, Settings
from wine_pipeline.data import FEATURES, read_recent
from wine_pipeline.train import REFERENCE_ARTIFACT

# The usual reading of PSI: < 0.1 stable, 0.1-0.25 a moderate shift, > 0.25 a
# significant one. prometheus/rules.yml alerts at the same value.
PSI_THRESHOLD = 0.25
# Quintiles, not the textbook ten bins: against a reference of 133 rows,
# undrifted batches of 200 (seeds 0-99) reached a worst-feature PSI of 0.22
# with ten bins, too close to 0.25; with five, 0.16. Few rows, few bins.
BINS = 5
WINDOW = 200
MIN_ROWS = 50
# A share of 0 would make PSI infinite (log of 0): empty bins count as this.
_EPSILON = 1e-4


def psi(reference: np.ndarray, current: np.ndarray, bins: int = BINS) -> float:
    """Population stability index of `current` against `reference`.

    Bins are the reference's quantiles, so each holds about the same share of
    the reference; PSI = sum over bins of (cur% - ref%) * ln(cur% / ref%).
    """
    reference = np.asarray(reference, dtype=float)
    current = np.asarray(current, dtype=float)
    if len(reference) == 0 or len(current) == 0:
        raise ValueError("PSI needs rows in both the reference and the current data")
    # Interior edges only: the outer bins stay open, so values beyond the
    # reference's range land in them instead of falling out. Ties in the
    # reference can make edges equal; unique() drops the empty bins between.
    # A value equal to an edge goes to the bin below it (side="left"), as in
    # the quantile's definition: with 90 % of the reference at 1.0, the bins
    # are "<= 1.0" and "> 1.0", and a batch of 2.0s is told apart.
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    ref_p, cur_p = _shares(edges, reference), _shares(edges, current)
    return float(np.sum((cur_p - ref_p) * np.log(cur_p / ref_p)))


def _shares(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The share of `values` in each bin; an empty bin counts as _EPSILON."""
    counts = np.bincount(np.searchsorted(edges, values, side="left"), minlength=len(edges) + 1)
    return np.clip(counts / len(values), _EPSILON, None)


@dataclass(frozen=True)
class DriftReport:
    """What the drift job found, as written to JSON."""

    created_at: str
    timestamp: float
    model_version: str  # the champion whose training data is the reference
    rows: int
    bins: int
    threshold: float
    psi: dict[str, float]
    drifted: list[str] = field(default_factory=list)

    @property
    def detected(self) -> bool:
        return bool(self.drifted)

    @property
    def max_psi(self) -> float:
        return max(self.psi.values())


def compare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    model_version: str,
    threshold: float = PSI_THRESHOLD,
    bins: int = BINS,
) -> DriftReport:
    """PSI of every feature; a feature above `threshold` counts as drifted."""
    scores = {f: round(psi(reference[f], current[f], bins), 4) for f in FEATURES}
    now = datetime.now(UTC)
    return DriftReport(
        created_at=now.isoformat(timespec="seconds"),
        timestamp=now.timestamp(),
        model_version=model_version,
        rows=len(current),
        bins=bins,
        threshold=threshold,
        psi=scores,
        drifted=sorted((f for f, s in scores.items() if s > threshold), key=lambda f: -scores[f]),
    )


def load_reference(settings: Settings) -> tuple[str, pd.DataFrame]:
    """(version, training features) of the current champion, from its MLflow run."""
    client = MlflowClient(settings.tracking_uri)
    version = client.get_model_version_by_alias(settings.model_name, CHAMPION)
    with tempfile.TemporaryDirectory() as tmp:
        path = mlflow.artifacts.download_artifacts(
            run_id=version.run_id,
            artifact_path=REFERENCE_ARTIFACT,
            dst_path=tmp,
            tracking_uri=settings.tracking_uri,
        )
        return str(version.version), pd.read_csv(path)


def write_report(report: DriftReport, reports_dir: Path) -> Path:
    """Write the report under its time and as drift-latest.json.

    drift-latest.json is replaced atomically (write a temporary file, then
    os.replace): the API may read it at any moment and never sees half a file.
    """
    reports_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(asdict(report), indent=2) + "\n"
    stamp = report.created_at.replace(":", "").replace("+0000", "Z")
    dated = reports_dir / f"drift-{stamp}.json"
    dated.write_text(text, encoding="utf-8")
    fd, tmp = tempfile.mkstemp(dir=reports_dir, prefix=".drift-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, reports_dir / "drift-latest.json")
    return dated


def load_report(path: Path) -> DriftReport | None:
    """The report at `path`, or None if there is none yet."""
    try:
        return DriftReport(**json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None


class DriftCollector:
    """Exports the latest drift report as gauges, read fresh at every scrape.

    Register it with a prometheus_client registry; a missing report exports
    nothing (no series), which the alert rules treat as "no news", not as 0.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def describe(self) -> Iterator[Metric]:
        # The names this collector owns, so a registry can refuse duplicates.
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        report = load_report(self.path)
        yield from self._families(report)

    @staticmethod
    def _families(report: DriftReport | None = None) -> Iterator[Metric]:
        per_feature = GaugeMetricFamily(
            "wine_drift_psi",
            "PSI of each feature, last drift report vs the champion's training data",
            labels=["feature"],
        )
        rows = GaugeMetricFamily("wine_drift_rows", "Rows the last drift report looked at")
        when = GaugeMetricFamily(
            "wine_drift_report_timestamp_seconds", "When the last drift report was written"
        )
        if report is not None:
            for feature, value in report.psi.items():
                per_feature.add_metric([feature], value)
            rows.add_metric([], report.rows)
            when.add_metric([], report.timestamp)
        yield from (per_feature, rows, when)


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=int, default=WINDOW, help="rows of the log to judge")
    parser.add_argument("--min-rows", type=int, default=MIN_ROWS)
    parser.add_argument("--threshold", type=float, default=PSI_THRESHOLD)
    parser.add_argument("--bins", type=int, default=BINS)
    args = parser.parse_args(argv)

    current = read_recent(settings.prediction_log, args.window)
    if len(current) < args.min_rows:
        print(
            f"only {len(current)} rows in {settings.prediction_log}; "
            f"need {args.min_rows} to judge drift. Send traffic first."
        )
        return 2
    version, reference = load_reference(settings)
    report = compare(
        reference, current, model_version=version, threshold=args.threshold, bins=args.bins
    )
    path = write_report(report, settings.reports_dir)

    print(f"{report.rows} recent rows vs the training data of version {version}:")
    for feature, value in sorted(report.psi.items(), key=lambda kv: -kv[1]):
        flag = "  DRIFT" if feature in report.drifted else ""
        print(f"  {feature:<30} PSI {value:7.4f}{flag}")
    verdict = f"drift in {len(report.drifted)} feature(s)" if report.detected else "no drift"
    print(f"{verdict} (threshold {report.threshold}); report: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
