"""The drift job: compare a batch of production inputs with a reference
sample, feature by feature, with the population stability index (PSI) and
the two-sample Kolmogorov-Smirnov (KS) test, and write a JSON report.

Run it from the lab folder (after `python -m wine_api.simulate`):

    uv run python -m wine_api.drift --batch data/drifted.csv
    uv run python -m wine_api.drift --batch data/control.csv

The API reads the report (DRIFT_REPORT, default reports/drift.json) at every
scrape and exposes it as the gauges wine_drift_psi{feature}, ...; the alert
rule WineFeatureDrift fires on them.

PSI and KS are computed by wine_api.drift_stats (the binning, ties
included, is explained there). The usual reading of PSI (a convention, not
a law): < 0.1 no real change, 0.1-0.25 moderate, > 0.25 significant.

KS: D = sup_x |F_ref(x) - F_batch(x)|, the largest vertical gap between the
two empirical CDFs, and the p-value of "both samples come from the same
distribution". The p-value shrinks with sample size: with tens of thousands
of rows a shift far too small to matter is "significant". The job reports
KS but flags drift on PSI, an effect size.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from wine_api.drift_stats import ks_test, psi
from wine_api.simulate import read_csv

BINS = 10
PSI_MODERATE = 0.1  # conventional thresholds, see the module docstring
PSI_SIGNIFICANT = 0.25
KS_ALPHA = 0.01
DEFAULT_REPORT = Path("reports/drift.json")


def psi_level(value: float) -> str:
    if value >= PSI_SIGNIFICANT:
        return "significant"
    if value >= PSI_MODERATE:
        return "moderate"
    return "none"


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    psi: float
    psi_level: str  # none | moderate | significant
    ks_statistic: float
    ks_pvalue: float
    drifted: bool  # psi >= the PSI threshold


def compare(
    reference: dict[str, np.ndarray],
    batch: dict[str, np.ndarray],
    *,
    psi_threshold: float = PSI_SIGNIFICANT,
    bins: int = BINS,
) -> list[FeatureDrift]:
    """PSI and KS for every feature of the reference (the batch must have them all)."""
    results = []
    for name, ref in reference.items():
        if len(batch[name]) == 0:
            raise ValueError("the batch is empty")
        value = psi(ref, batch[name], bins)
        d, p = ks_test(ref, batch[name])
        results.append(
            FeatureDrift(
                feature=name,
                psi=round(value, 6),
                psi_level=psi_level(value),
                ks_statistic=round(d, 6),
                ks_pvalue=p,
                drifted=value >= psi_threshold,
            )
        )
    return results


def build_report(
    features: list[FeatureDrift],
    *,
    reference: str,
    batch: str,
    reference_rows: int,
    batch_rows: int,
    psi_threshold: float,
    bins: int,
) -> dict[str, object]:
    now = time.time()
    drifted = [f.feature for f in features if f.drifted]
    return {
        "created": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
        "created_unix": round(now, 3),
        "reference": reference,
        "batch": batch,
        "reference_rows": reference_rows,
        "batch_rows": batch_rows,
        "bins": bins,
        "psi_threshold": psi_threshold,
        "ks_alpha": KS_ALPHA,
        "drift_detected": bool(drifted),
        "drifted_features": drifted,
        "features": [asdict(f) for f in features],
    }


def write_report(report: dict[str, object], path: Path) -> None:
    """Write to a temporary file, then rename: the API reads this file at
    every scrape and must never see half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=Path("data/reference.csv"))
    parser.add_argument("--batch", type=Path, required=True)
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT)
    parser.add_argument("--psi-threshold", type=float, default=PSI_SIGNIFICANT)
    parser.add_argument("--bins", type=int, default=BINS)
    args = parser.parse_args(argv)

    ref = read_csv(args.reference)
    cur = read_csv(args.batch)
    features = compare(
        {name: ref.column(name) for name in ref.features},
        {name: cur.column(name) for name in cur.features},
        psi_threshold=args.psi_threshold,
        bins=args.bins,
    )
    report = build_report(
        features,
        reference=str(args.reference),
        batch=str(args.batch),
        reference_rows=len(ref.x),
        batch_rows=len(cur.x),
        psi_threshold=args.psi_threshold,
        bins=args.bins,
    )
    write_report(report, args.report)

    print(f"{'feature':<30} {'PSI':>8} {'KS D':>7} {'KS p':>10}  verdict")
    for f in features:
        verdict = "DRIFT" if f.drifted else ("watch" if f.psi_level == "moderate" else "ok")
        print(f"{f.feature:<30} {f.psi:8.3f} {f.ks_statistic:7.3f} {f.ks_pvalue:10.2g}  {verdict}")
    drifted = report["drifted_features"]
    if drifted:
        print(f"drift detected in {len(drifted)} of {len(features)} features: {', '.join(drifted)}")
    else:
        print(f"no drift: every PSI is below {args.psi_threshold}")
    print(f"report written to {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
