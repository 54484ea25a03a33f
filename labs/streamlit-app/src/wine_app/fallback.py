"""A local stand-in for the API, used only when the user asks for it.

When the API is down, a demo can still show *something*: the same kind of
pipeline as module 03 (StandardScaler + LogisticRegression, same split, same
seed), trained in the app's process; 178 wines take a fraction of a second.
It is not the served model: another library version or another training run can differ,
so every answer it gives is labelled with LOCAL_MODEL_VERSION.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from wine_app.client import Prediction
from wine_app.features import CLASS_NAMES, FEATURE_KEYS, wine_frame

LOCAL_MODEL_VERSION = "local fallback (not the served model)"


@dataclass(frozen=True)
class LocalModel:
    pipeline: Pipeline

    def predict(self, wine: Mapping[str, float]) -> Prediction:
        x = np.array([[float(wine[k]) for k in FEATURE_KEYS]])
        (row,) = self.pipeline.predict_proba(x)
        best = int(np.argmax(row))
        return Prediction(
            class_id=best,
            class_name=CLASS_NAMES[best],
            probabilities={CLASS_NAMES[i]: float(p) for i, p in enumerate(row)},
            model_version=LOCAL_MODEL_VERSION,
        )


def train_local_model(random_state: int = 42) -> LocalModel:
    frame = wine_frame()
    x = frame[list(FEATURE_KEYS)].to_numpy()
    y = frame["class"].map(CLASS_NAMES.index).to_numpy()
    x_train, _, y_train, _ = train_test_split(
        x, y, test_size=0.25, random_state=random_state, stratify=y
    )
    pipeline = make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=1000, random_state=random_state)
    )
    pipeline.fit(x_train, y_train)
    return LocalModel(pipeline)
