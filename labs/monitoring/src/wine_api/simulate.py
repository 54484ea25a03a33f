"""Seeded stand-ins for production data: a reference sample, a batch without
drift (the control) and a batch with a documented drift.

Nothing is downloaded: everything starts from scikit-learn's bundled wine data.

- reference: the 178 wines of the data set, the data the model was built and
  evaluated on.
- a production batch: wines drawn at random (with replacement) from the data
  set, each measurement plus Gaussian noise of 5 % of that feature's standard
  deviation (so no two rows are identical), clipped at 0.
- the drift, applied to a production batch: alcohol + 1.5 (% vol, a warmer
  vintage) and color_intensity x 1.3 (a recalibrated instrument). Only these
  two features change; the label of each row stays the label of the wine it
  was drawn from.

Run it from the lab folder:

    uv run python -m wine_api.simulate        # writes data/reference.csv,
                                              # data/control.csv, data/drifted.csv

Every CSV has a header of the 13 feature names plus `label` (the true
class). The drift job reads only the features; `label` stands for the ground
truth that arrives later (wine_api.traffic uses it).
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.datasets import load_wine

from wine_api.train import feature_key

NOISE = 0.05  # x each feature's standard deviation
ALCOHOL_SHIFT = 1.5  # added to alcohol
COLOR_FACTOR = 1.3  # multiplies color_intensity
CONTROL_SEED = 1
DRIFTED_SEED = 2
BATCH_SIZE = 500


@dataclass(frozen=True)
class Batch:
    """Rows of the 13 features (in the model's order) and their true labels."""

    features: list[str]
    x: np.ndarray  # shape (rows, 13)
    labels: list[str]

    def column(self, name: str) -> np.ndarray:
        return self.x[:, self.features.index(name)]


def reference() -> Batch:
    """The wine data set as it ships with scikit-learn."""
    data = load_wine()
    return Batch(
        features=[feature_key(n) for n in data.feature_names],
        x=np.asarray(data.data, dtype=np.float64),
        labels=[str(data.target_names[t]) for t in data.target],
    )


def production_batch(n: int, seed: int, noise: float = NOISE) -> Batch:
    """`n` wines as production might send them: resampled, with a little noise."""
    ref = reference()
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(ref.x), size=n)
    jitter = rng.normal(0.0, noise * ref.x.std(axis=0), size=(n, ref.x.shape[1]))
    x = np.clip(ref.x[rows] + jitter, 0.0, None)  # no negative concentrations
    return Batch(features=ref.features, x=x, labels=[ref.labels[i] for i in rows])


def apply_drift(batch: Batch) -> Batch:
    """The documented drift: alcohol + 1.5, color_intensity x 1.3."""
    x = batch.x.copy()
    x[:, batch.features.index("alcohol")] += ALCOHOL_SHIFT
    x[:, batch.features.index("color_intensity")] *= COLOR_FACTOR
    return Batch(features=batch.features, x=x, labels=batch.labels)


def write_csv(batch: Batch, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([*batch.features, "label"])
        for row, label in zip(batch.x, batch.labels, strict=True):
            writer.writerow([*(f"{v:.6g}" for v in row), label])


def read_csv(path: Path) -> Batch:
    """Read a CSV with a header that names all 13 features; a `label`
    column is kept if present, any other column is ignored."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        header = reader.fieldnames or []
    features = reference().features
    missing = [name for name in features if name not in header]
    if missing:
        raise ValueError(f"{path}: missing feature columns {missing}")
    x = np.array([[float(r[name]) for name in features] for r in rows], dtype=np.float64)
    x = x.reshape(len(rows), len(features))
    labels = [r["label"] for r in rows] if "label" in header else []
    return Batch(features=features, x=x, labels=labels)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data"), help="folder (default: data)")
    parser.add_argument("--rows", type=int, default=BATCH_SIZE, help="rows per batch")
    args = parser.parse_args(argv)

    outputs = {
        "reference.csv": reference(),
        "control.csv": production_batch(args.rows, CONTROL_SEED),
        "drifted.csv": apply_drift(production_batch(args.rows, DRIFTED_SEED)),
    }
    for name, batch in outputs.items():
        write_csv(batch, args.out / name)
        print(f"{args.out / name}: {len(batch.x)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
