"""The wine data and the API's input contract, as the app needs them.

The app never imports the API's code: it is a separate service that may run
another version. What it needs to know about the API (the 13 field names, in
order, their upper bounds and the batch limit) is written down here, and
`tests/test_contract.py` compares it with the real API's schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pandas as pd
from sklearn.datasets import load_wine

# POST /predict/batch takes at most this many wines (the API's MAX_BATCH_SIZE).
MAX_BATCH_SIZE = 1000
CLASS_NAMES = ("class_0", "class_1", "class_2")


@dataclass(frozen=True)
class Feature:
    """One input of the model: its JSON key, how people read it, and the
    largest value the API accepts (every field must also be >= 0)."""

    key: str
    label: str
    api_max: float
    step: float
    decimals: int


FEATURES: tuple[Feature, ...] = (
    Feature("alcohol", "Alcohol (% vol)", 100, 0.01, 2),
    Feature("malic_acid", "Malic acid", 100, 0.01, 2),
    Feature("ash", "Ash", 100, 0.01, 2),
    Feature("alcalinity_of_ash", "Alcalinity of ash", 1000, 0.1, 1),
    Feature("magnesium", "Magnesium", 10_000, 1.0, 0),
    Feature("total_phenols", "Total phenols", 100, 0.01, 2),
    Feature("flavanoids", "Flavanoids", 100, 0.01, 2),
    Feature("nonflavanoid_phenols", "Nonflavanoid phenols", 100, 0.01, 2),
    Feature("proanthocyanins", "Proanthocyanins", 100, 0.01, 2),
    Feature("color_intensity", "Colour intensity", 1000, 0.01, 2),
    Feature("hue", "Hue", 100, 0.01, 2),
    Feature("od280_od315_of_diluted_wines", "OD280/OD315 of diluted wines", 100, 0.01, 2),
    Feature("proline", "Proline", 100_000, 1.0, 0),
)
FEATURE_KEYS: tuple[str, ...] = tuple(f.key for f in FEATURES)


def feature_key(name: str) -> str:
    """The API's name for a column: `od280/od315_of_diluted_wines` becomes
    `od280_od315_of_diluted_wines`. Also forgives case, spaces and dashes,
    so a hand-made CSV header such as `Color Intensity` still matches."""
    return name.strip().lower().replace("/", "_").replace(" ", "_").replace("-", "_")


@cache
def wine_frame() -> pd.DataFrame:
    """The 178 wines bundled with scikit-learn (nothing is downloaded): the 13
    features under the API's keys, plus a `class` column (class_0..class_2).

    Cached per process with functools.cache because it is also used outside
    Streamlit (tests, the smoke check). Callers must not modify it: copy first.
    """
    data = load_wine(as_frame=True)
    frame = data.data.rename(columns=feature_key)
    frame["class"] = [CLASS_NAMES[t] for t in data.target]
    return frame


def _round(median: float) -> float:
    # The data has at most 2 decimals, so a median (the mean of two values)
    # has at most 3; rounding drops float noise such as 4.6899999999999995.
    return round(float(median), 3)


@dataclass(frozen=True)
class TrainingRange:
    low: float
    median: float
    high: float


@cache
def training_ranges() -> dict[str, TrainingRange]:
    """Minimum, median and maximum of each feature in the data set. The model
    has only seen values in this range; outside it, it extrapolates."""
    frame = wine_frame()
    return {
        key: TrainingRange(
            low=float(frame[key].min()),
            median=_round(frame[key].median()),
            high=float(frame[key].max()),
        )
        for key in FEATURE_KEYS
    }


def median_wine() -> dict[str, float]:
    """The form's defaults: the median of each feature over all 178 wines."""
    return {key: r.median for key, r in training_ranges().items()}


def typical_wine(class_name: str) -> dict[str, float]:
    """The median of each feature over the wines of one class."""
    frame = wine_frame()
    rows = frame[frame["class"] == class_name]
    if rows.empty:
        raise ValueError(f"no class {class_name!r}; expected one of {CLASS_NAMES}")
    return {key: _round(rows[key].median()) for key in FEATURE_KEYS}


def sample_csv(rows: int = 20) -> bytes:
    """A CSV a user can download, fill in and upload again: the API's column
    names and wines spread evenly over the data set, so all three classes appear."""
    frame = wine_frame()
    sample = frame.iloc[:: max(len(frame) // rows, 1)].head(rows)
    return sample[list(FEATURE_KEYS)].to_csv(index=False).encode()
