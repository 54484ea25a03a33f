"""Track the course's wine classifier with MLflow (and, as an alternative, W&B).

Each module is one command, run from the lab folder with `uv run python -m ...`:

    wine_tracking.train          train, and log params, metrics, artifacts, the
                                 model (signature + input example) and the datasets
    wine_tracking.train_autolog  the same training, logged by mlflow.sklearn.autolog()
    wine_tracking.compare        search the runs, print a table and the best run
    wine_tracking.registry       register a run's model, set `challenger`, promote
                                 it to `champion` only if it beats the champion
    wine_tracking.predict        load models:/wine-classifier@champion and predict
    wine_tracking.train_wandb    the training script logging to Weights & Biases

Every MLflow command talks to the tracking server named by MLFLOW_TRACKING_URI,
or to http://127.0.0.1:5000 (the lab's server) when it is unset.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request

import mlflow

# Which of two runs is better is stated once, in the promotion gate (which
# must stay self-contained); the table and "the best run" use it too.
from wine_tracking.promotion import RANKING as RANKING
from wine_tracking.promotion import rank as rank

__version__ = "0.1.0"

DEFAULT_TRACKING_URI = "http://127.0.0.1:5000"
EXPERIMENT_NAME = "wine-classifier"
MODEL_NAME = "wine-classifier"


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI if set, else the lab's server.

    Without this default MLflow 3 would write to ./mlflow.db directly: a
    second store, beside the server's, that the UI never shows."""
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def connect() -> str:
    """Point MLflow at the tracking server, after checking that it answers.

    MLflow's client retries a refused connection 7 times with backoff (about
    4 minutes) before it gives up; asking /health first fails in a second."""
    uri = tracking_uri()
    if uri.startswith(("http://", "https://")):
        health = uri.rstrip("/") + "/health"
        try:
            with urllib.request.urlopen(health, timeout=10) as response:  # noqa: S310
                body = response.read(100)
        except urllib.error.HTTPError as exc:
            exc.close()
            raise ConnectionError(
                f"{health} answered HTTP {exc.code}: that is not an MLflow server "
                "(on macOS, the AirPlay Receiver listens on port 5000)"
            ) from exc
        except OSError as exc:
            raise ConnectionError(
                f"no MLflow tracking server answers at {uri} ({exc}); start it "
                "(the lab's server step) or set MLFLOW_TRACKING_URI"
            ) from exc
        if body != b"OK":
            raise ConnectionError(f"{health} answered {body!r}: that is not an MLflow server")
    mlflow.set_tracking_uri(uri)
    return uri
