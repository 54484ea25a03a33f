"""The drift job: has the traffic moved away from what the champion learned on?

    uv run python -m wine_pipeline.drift            # the last 200 scored rows

It compares the last `--window` rows of the API's prediction log with the
champion's training features (stored with its MLflow run by train.py),
feature by feature, with the population stability index (PSI) and the KS
test, and writes a report to reports/drift-<time>.json and
reports/drift-latest.json. The statistics, and how a value on a bin edge is
binned, are drift_stats.py's: module 07's file, byte for byte.

A batch job has no /metrics endpoint of its own that Prometheus could
scrape, so the API publishes the latest report's numbers: module 07's
`DriftReportCollector` (metrics.py) reads the file at each scrape and
exports them as gauges (the same idea as node_exporter's textfile
collector; across machines you would push them to a Pushgateway instead).
The report therefore carries the fields that collector reads (`features`,
`created_unix`, `drift_detected`). The alert rule fires on those gauges;
the retraining trigger (pipeline.py) reads the report itself.

Exit codes: 0 report written (drifted or not), 2 not enough rows to judge.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from wine_pipeline import drift_stats
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


def psi(reference: np.ndarray, current: np.ndarray, bins: int = BINS) -> float:
    """Population stability index of `current` against `reference`, on the
    reference's quantile bins (see drift_stats.py, ties included)."""
    return drift_stats.psi(np.asarray(reference), np.asarray(current), bins)


@dataclass(frozen=True)
class DriftReport:
    """What the drift job found, as written to JSON. `features`,
    `created_unix` and `drift_detected` are the fields module 07's
    DriftReportCollector reads at every scrape."""

    created_at: str
    created_unix: float
    model_version: str  # the champion whose training data is the reference
    rows: int
    bins: int
    threshold: float
    drift_detected: bool
    # One entry per feature: feature, psi, ks_statistic, ks_pvalue, drifted.
    features: list[dict[str, Any]]
    drifted: list[str] = field(default_factory=list)

    @property
    def detected(self) -> bool:
        return self.drift_detected

    @property
    def psi(self) -> dict[str, float]:
        return {f["feature"]: f["psi"] for f in self.features}

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
    """PSI and KS of every feature; a feature above `threshold` counts as drifted."""
    features = []
    for f in FEATURES:
        value = round(psi(reference[f], current[f], bins), 4)
        d, p = drift_stats.ks_test(np.asarray(reference[f]), np.asarray(current[f]))
        features.append(
            {
                "feature": f,
                "psi": value,
                "ks_statistic": round(d, 6),
                "ks_pvalue": p,
                "drifted": value > threshold,
            }
        )
    scores = {e["feature"]: e["psi"] for e in features}
    drifted = sorted((f for f, s in scores.items() if s > threshold), key=lambda f: -scores[f])
    now = datetime.now(UTC)
    return DriftReport(
        created_at=now.isoformat(timespec="seconds"),
        created_unix=round(now.timestamp(), 3),
        model_version=model_version,
        rows=len(current),
        bins=bins,
        threshold=threshold,
        drift_detected=bool(drifted),
        features=features,
        drifted=drifted,
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
