"""Helpers the tests share (conftest.py holds the fixtures)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import mlflow

from wine_pipeline.config import Settings
from wine_pipeline.train import TrainResult


def fresh_settings(tracking_uri: str, folder: Path) -> Settings:
    return Settings(
        tracking_uri=tracking_uri,
        model_name=f"wine-{uuid.uuid4().hex[:8]}",
        data_dir=folder / "data",
        reports_dir=folder / "reports",
        api_url="http://127.0.0.1:9",  # nothing listens on port 9 (discard)
    )


@dataclass(frozen=True)
class Trained:
    model_name: str  # the registered model both were trained into (versions 1 and 2)
    good: TrainResult  # C=1.0: eval accuracy 0.9778 on the reference's 45 held-out wines
    poor: TrainResult  # C=0.003: 0.9333, more than the gate's tolerance below


def register(settings: Settings, result: TrainResult) -> str:
    """Register an already trained model as the next version of settings.model_name."""
    mlflow.set_tracking_uri(settings.tracking_uri)
    return str(mlflow.register_model(result.model_uri, settings.model_name).version)
