"""Where the data comes from, in the lab's simulation of production.

The reference data is scikit-learn's bundled wine data set (178 wines, 13
measurements, 3 cultivars): nothing is downloaded. Production traffic is
simulated: `make_batch` draws wines from the same data with measurement
noise and, with `drifted=True`, applies `DRIFT`, a documented change of
the measurements. Both are seeded, so a batch is the same on every machine.

Send a batch to the running API (its labels arrive in data/labelled/):

    uv run python -m wine_pipeline.data send --name batch-001
    uv run python -m wine_pipeline.data send --name batch-002 --drifted
"""

from __future__ import annotations

import argparse
import json
import threading
import urllib.error
import urllib.request
import zlib
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_wine

from wine_pipeline.config import Settings

TARGET = "target"
ID = "wine_id"
SOURCE = "source"
CLASS_NAMES = ["class_0", "class_1", "class_2"]
# Measurement noise of every simulated wine: each value times (1 + N(0, 2 %)).
NOISE = 0.02

# The drift, as the story goes: the lab replaced its spectrophotometer, so the
# three optical readings come out on another calibration, and a warm vintage
# added alcohol. Column -> (operation, amount). The cultivars did not change:
# only what the instruments report about them did (covariate shift).
DRIFT: dict[str, tuple[str, float]] = {
    "color_intensity": ("multiply", 1.8),
    "hue": ("add", -0.25),
    "od280_od315_of_diluted_wines": ("add", -0.7),
    "alcohol": ("add", 1.0),
}


def feature_key(name: str) -> str:
    """The JSON field name of a column: `od280/od315_of_diluted_wines` has a slash."""
    return name.replace("/", "_")


FEATURES: list[str] = [feature_key(n) for n in load_wine().feature_names]


@cache
def _wine_frame() -> pd.DataFrame:
    data = load_wine(as_frame=True)
    frame = data.frame.rename(columns=feature_key)
    frame.insert(0, ID, [f"wine-{i:03d}" for i in range(len(frame))])
    return frame


def wine_frame() -> pd.DataFrame:
    """The 178 wines: wine_id, the 13 features, target (0, 1 or 2). A fresh copy."""
    return _wine_frame().copy()


def is_eval(wine_ids: Iterable[str]) -> np.ndarray:
    """True for the rows that belong to the evaluation split (about 1 in 4).

    The split hashes the wine's id, so it never changes: a wine that was held
    out once is held out from every later training run too, and the gate never
    scores a model on a wine it was trained on. (crc32, not Python's hash():
    hash() of a str changes from one process to the next.)
    """
    return np.array([zlib.crc32(i.encode()) % 4 == 0 for i in wine_ids], dtype=bool)


def apply_drift(features: pd.DataFrame) -> pd.DataFrame:
    """`DRIFT` applied to a copy of `features`."""
    out = features.copy()
    for column, (operation, amount) in DRIFT.items():
        out[column] = out[column] * amount if operation == "multiply" else out[column] + amount
    return out.clip(lower=0)


def make_batch(size: int = 200, *, drifted: bool = False, seed: int = 0) -> pd.DataFrame:
    """`size` simulated production wines with their true class.

    Each row is a wine of the data set drawn at random (with replacement),
    measured again with `NOISE`; it keeps its source wine's id, so it falls
    into the same train/eval split as that wine.
    """
    if size < 1:
        raise ValueError("a batch has at least one row")
    rng = np.random.default_rng(seed)
    wines = wine_frame()
    picked = wines.iloc[rng.integers(0, len(wines), size)].reset_index(drop=True)
    features = picked[FEATURES] * (1 + rng.normal(0, NOISE, size=(size, len(FEATURES))))
    if drifted:
        features = apply_drift(features)
    batch = features.round(3)
    batch.insert(0, ID, picked[ID])
    batch[TARGET] = picked[TARGET]
    return batch


@dataclass(frozen=True)
class TrainingData:
    """Rows to fit on and rows to evaluate on, each with its `source` column."""

    train: pd.DataFrame
    eval: pd.DataFrame
    sources: list[str]


def load_training_data(labelled_dir: Path | None = None) -> TrainingData:
    """The reference data plus every labelled batch in `labelled_dir`, split by wine id."""
    frames = [wine_frame().assign(**{SOURCE: "reference"})]
    if labelled_dir is not None:
        for path in sorted(labelled_dir.glob("*.csv")):
            frames.append(read_labelled(path).assign(**{SOURCE: path.stem}))
    rows = pd.concat(frames, ignore_index=True)
    held_out = is_eval(rows[ID])
    return TrainingData(
        train=rows[~held_out].reset_index(drop=True),
        eval=rows[held_out].reset_index(drop=True),
        sources=[str(s) for s in rows[SOURCE].unique()],
    )


def write_labelled(batch: pd.DataFrame, labelled_dir: Path, name: str) -> Path:
    """Store a batch with its true classes: the labels that 'arrived' for it."""
    labelled_dir.mkdir(parents=True, exist_ok=True)
    path = labelled_dir / f"{name}.csv"
    batch[[ID, *FEATURES, TARGET]].to_csv(path, index=False)
    return path


def read_labelled(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    missing = {ID, TARGET, *FEATURES} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    return frame[[ID, *FEATURES, TARGET]]


# --- the prediction log: what the API saw -----------------------------------

_log_lock = threading.Lock()


def append_predictions(
    log: Path, rows: Sequence[dict[str, float]], class_names: Sequence[str], model_version: str
) -> None:
    """Append one JSON line per scored row. The API calls this from its worker
    threads, hence the lock; one write per request keeps lines whole.

    In production this would go to a queue or a table; a file is enough to
    show the idea: monitoring needs the inputs the model really saw.
    """
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    lines = "".join(
        json.dumps({"ts": now, "model_version": model_version, "class_name": c, "features": r})
        + "\n"
        for r, c in zip(rows, class_names, strict=True)
    )
    log.parent.mkdir(parents=True, exist_ok=True)
    with _log_lock, log.open("a", encoding="utf-8") as f:
        f.write(lines)


def read_recent(log: Path, rows: int) -> pd.DataFrame:
    """The features of the last `rows` lines of the prediction log (fewer if the
    log is shorter; an empty frame if it does not exist)."""
    if not log.exists():
        return pd.DataFrame(columns=FEATURES, dtype=float)
    with log.open(encoding="utf-8") as f:
        last = deque(f, maxlen=rows)
    return pd.DataFrame([json.loads(line)["features"] for line in last], columns=FEATURES)


# --- the command line: send a batch to the API ------------------------------


def send(batch: pd.DataFrame, api_url: str, timeout_s: float = 30.0) -> dict:
    """POST the batch's features to /predict/batch and return the answer."""
    body = {"instances": batch[FEATURES].to_dict(orient="records")}
    request = urllib.request.Request(
        f"{api_url}/predict/batch",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
        return json.load(response)


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description="Simulate production traffic.")
    commands = parser.add_subparsers(dest="command", required=True)
    send_cmd = commands.add_parser(
        "send", help="send a batch to the API and store its labels in data/labelled/"
    )
    send_cmd.add_argument("--name", required=True, help="batch name, e.g. batch-001")
    send_cmd.add_argument("--drifted", action="store_true", help="apply the DRIFT")
    send_cmd.add_argument("--size", type=int, default=200)
    send_cmd.add_argument("--seed", type=int, default=0)
    send_cmd.add_argument("--api-url", default=settings.api_url)
    args = parser.parse_args(argv)

    batch = make_batch(args.size, drifted=args.drifted, seed=args.seed)
    try:
        answer = send(batch, args.api_url)
    except urllib.error.HTTPError as exc:
        with exc:  # it holds the open response: read it, then close it
            print(f"{args.api_url} answered {exc.code}: {exc.read().decode(errors='replace')}")
        return 2
    except urllib.error.URLError as exc:
        print(f"cannot reach the API at {args.api_url}: {exc.reason}")
        return 2
    predicted = [p["class_id"] for p in answer["predictions"]]
    accuracy = float(np.mean(np.array(predicted) == batch[TARGET].to_numpy()))
    path = write_labelled(batch, settings.labelled_dir, args.name)
    kind = "drifted" if args.drifted else "normal"
    print(f"sent {len(batch)} {kind} wines; model version {answer['model_version']} answered")
    print(f"its accuracy on them, once the labels arrived: {accuracy:.3f}")
    print(f"labels stored in {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
