"""Shared fixtures: one real MLflow tracking server for the whole session
(sqlite store, artifacts proxied through the server, as in the lab), and
two training runs logged to it.

The server takes 10-60 s to start, so every test shares it. Tests that need
their own state use their own experiment or registered-model name.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from live import mlflow_server
from mlflow.tracking import MlflowClient

# No network in CI: MLflow's telemetry would only time out.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from wine_tracking.train import TrainResult, train  # noqa: E402 (after the setting above)

# A strongly regularised model and the default one: both accurate, with
# clearly different log losses, so "better" is never a coin toss.
WEAK_C = 0.05
STRONG_C = 1.0


@pytest.fixture(scope="session", autouse=True)
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's server, set as MLFLOW_TRACKING_URI for every test and
    fixture, as the lab's scripts find the one on port 5000. Set for the whole
    session, so that no fixture of any scope can reach another server."""
    with (
        mlflow_server(tmp_path_factory.mktemp("mlflow")) as uri,
        pytest.MonkeyPatch.context() as env,
    ):
        env.setenv("MLFLOW_TRACKING_URI", uri)
        yield uri


@pytest.fixture
def client(tracking_uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri)


@dataclass(frozen=True)
class Runs:
    weak: TrainResult
    strong: TrainResult


@pytest.fixture(scope="session")
def runs(tracking_uri: str) -> Runs:
    """Two runs in the default experiment, logged by the training script."""
    return Runs(weak=train(WEAK_C, run_name="weak"), strong=train(STRONG_C, run_name="strong"))
