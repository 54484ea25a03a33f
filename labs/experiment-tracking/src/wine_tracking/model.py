"""The course's wine classifier and how it is scored, shared by the MLflow
and the W&B training scripts so both train exactly the same model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score
from sklearn.metrics import log_loss as sk_log_loss
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from wine_tracking.data import CLASS_NAMES, Split

MODEL_TYPE = "logistic_regression"


def build_pipeline(c: float = 1.0, max_iter: int = 1000) -> Pipeline:
    """StandardScaler + LogisticRegression, as in module 03. `c` is the inverse
    regularisation strength: small values give a simpler, less confident model."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=max_iter))


@dataclass(frozen=True)
class Evaluation:
    """Scores on the held-out wines."""

    metrics: dict[str, float]
    confusion: list[list[int]]
    report: str


def evaluate(pipeline: Pipeline, data: Split) -> Evaluation:
    predicted = pipeline.predict(data.x_test)
    probabilities = pipeline.predict_proba(data.x_test)
    metrics = {
        "test_accuracy": float(accuracy_score(data.y_test, predicted)),
        "test_f1_macro": float(f1_score(data.y_test, predicted, average="macro")),
        "test_log_loss": float(sk_log_loss(data.y_test, probabilities, labels=[0, 1, 2])),
        "train_accuracy": float(accuracy_score(data.y_train, pipeline.predict(data.x_train))),
    }
    labels = list(range(len(CLASS_NAMES)))
    confusion = confusion_matrix(data.y_test, predicted, labels=labels).tolist()
    report = classification_report(
        data.y_test, predicted, labels=labels, target_names=CLASS_NAMES, digits=4
    )
    return Evaluation(metrics=metrics, confusion=confusion, report=str(report))


def hyperparameters(c: float, max_iter: int) -> dict[str, Any]:
    """What a run logs as params, besides the split settings."""
    return {"C": c, "max_iter": max_iter, "model_type": MODEL_TYPE}
