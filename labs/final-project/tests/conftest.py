"""Shared fixtures: an MLflow registry in a temporary folder (sqlite, no
server), two trained models, and settings that keep every file the code
writes under pytest's tmp_path.

Training takes seconds, so each model is trained once per session; a test
that needs versions of its own registers those models again under a fresh
registered-model name, which costs no training and keeps tests independent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import Trained, fresh_settings, register
from mlflow.tracking import MlflowClient

from wine_pipeline.config import EXPERIMENT, Settings
from wine_pipeline.data import load_training_data
from wine_pipeline.gate import promote
from wine_pipeline.train import train

# No network here (nor in CI): MLflow's client telemetry would only time out.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    # Artifacts under tmp too: without a location MLflow would write ./mlruns.
    MlflowClient(uri).create_experiment(EXPERIMENT, artifact_location=(root / "art").as_uri())
    return uri


@pytest.fixture
def settings(tracking_uri: str, tmp_path: Path) -> Settings:
    """A model name of its own: the test may promote and roll back freely."""
    return fresh_settings(tracking_uri, tmp_path)


@pytest.fixture(scope="session")
def trained(tracking_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    settings = fresh_settings(tracking_uri, tmp_path_factory.mktemp("trained"))
    data = load_training_data(None)
    return Trained(
        model_name=settings.model_name,
        good=train(settings, data, trigger="test"),
        poor=train(settings, data, trigger="test", c=0.003),
    )


@pytest.fixture
def served(settings: Settings, trained: Trained) -> Settings:
    """`settings` with version 1 (the good model) as champion."""
    version = register(settings, trained.good)
    promote(MlflowClient(settings.tracking_uri), settings.model_name, version, reason="test")
    return settings
