"""Settings for the whole suite."""

from __future__ import annotations

import os

# No network here (nor in CI): MLflow's client telemetry would only time out.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
