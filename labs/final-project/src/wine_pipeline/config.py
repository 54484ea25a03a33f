"""Settings every stage shares, read from the environment.

One place for names that must agree across processes: the registered model
name and alias the API serves, where the prediction log and the drift
report live. Each process reads them once, at startup.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MODEL_NAME = "wine-classifier"
# The registry alias the API serves. Promotion moves it; rollback moves it back.
CHAMPION = "champion"
# The alias promotion leaves on the version it replaced: rollback's target.
PREVIOUS = "previous-champion"
# A tag on the registered model: while set, the retraining trigger does nothing.
PAUSED = "retraining_paused"
EXPERIMENT = "wine-classifier"

DEFAULT_TRACKING_URI = "http://127.0.0.1:5000"
DEFAULT_API_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Settings:
    """Where everything is. `Settings.from_env()` reads the environment."""

    tracking_uri: str = DEFAULT_TRACKING_URI
    model_name: str = MODEL_NAME
    data_dir: Path = Path("data")
    reports_dir: Path = Path("reports")
    api_url: str = DEFAULT_API_URL

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            tracking_uri=os.environ.get("MLFLOW_TRACKING_URI", DEFAULT_TRACKING_URI),
            model_name=os.environ.get("MODEL_NAME", MODEL_NAME),
            data_dir=Path(os.environ.get("DATA_DIR", "data")),
            reports_dir=Path(os.environ.get("REPORTS_DIR", "reports")),
            api_url=os.environ.get("API_URL", DEFAULT_API_URL).rstrip("/"),
        )

    @property
    def prediction_log(self) -> Path:
        """Every row the API scored, one JSON object per line: the drift job's input."""
        return self.data_dir / "predictions.jsonl"

    @property
    def labelled_dir(self) -> Path:
        """Production rows whose true class has arrived: the retraining data."""
        return self.data_dir / "labelled"

    @property
    def drift_report(self) -> Path:
        """The latest drift report: read by the API's /metrics and by the pipeline."""
        return self.reports_dir / "drift-latest.json"
