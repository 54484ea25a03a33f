"""The wine data as pandas DataFrames, split the same way every time.

The data is scikit-learn's bundled copy of the UCI wine data (178 wines, 13
measurements, 3 cultivars): nothing is downloaded. The split is fixed
(SPLIT_SEED), so every run is scored on the same 45 held-out wines and their
metrics can be compared. MLflow records a digest of each DataFrame, which
proves it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split

TARGET = "target"
SPLIT_SEED = 42
TEST_SIZE = 0.25
CLASS_NAMES = ["class_0", "class_1", "class_2"]


def feature_key(name: str) -> str:
    """`od280/od315_of_diluted_wines` -> `od280_od315_of_diluted_wines`: the
    names the wine API of module 03 uses, valid as JSON keys and Python names."""
    return name.replace("/", "_")


@dataclass(frozen=True)
class Split:
    """Features and target of both halves. `train`/`test` keep the target
    column: MLflow logs them as datasets with `targets="target"`."""

    train: pd.DataFrame
    test: pd.DataFrame

    @property
    def x_train(self) -> pd.DataFrame:
        return self.train.drop(columns=TARGET)

    @property
    def y_train(self) -> pd.Series:
        return self.train[TARGET]

    @property
    def x_test(self) -> pd.DataFrame:
        return self.test.drop(columns=TARGET)

    @property
    def y_test(self) -> pd.Series:
        return self.test[TARGET]


def load_frame() -> pd.DataFrame:
    """All 178 wines: 13 float feature columns and an integer `target` (0, 1, 2)."""
    frame = load_wine(as_frame=True).frame
    return frame.rename(columns=feature_key)


FEATURES: list[str] = [c for c in load_frame().columns if c != TARGET]


def split(frame: pd.DataFrame | None = None) -> Split:
    """A stratified 75/25 split with a fixed seed: the same rows every run."""
    frame = load_frame() if frame is None else frame
    train, test = train_test_split(
        frame, test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=frame[TARGET]
    )
    return Split(train=train, test=test)
