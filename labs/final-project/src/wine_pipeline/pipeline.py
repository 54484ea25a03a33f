"""The retraining trigger: drift -> retrain -> gate -> promote -> verify.

    uv run python -m wine_pipeline.pipeline

Run it after each drift job (cron, a Kubernetes CronJob, a CI schedule). It
reads reports/drift-latest.json and, only when that report found drift in
the traffic of the current champion and there is labelled data the champion
was not trained on (retraining on the same data gives the same model):

  1. retrains on the reference data plus every labelled batch (data/labelled/),
  2. runs the validation gate against the champion on held-out rows,
  3. on pass, the gate moves the `champion` alias (that is the deployment),
  4. waits until the running API reports the new version on /ready.

The API is never called to reload: it polls the alias, so every replica
picks the new version up by itself, and a rollback works the same way.

A rollback (gate.py) pauses it: the restored champion would otherwise be
retrained into a similar model at the next drift report. `--resume` lifts
the pause once the cause is fixed.

Exit codes: 0 nothing to do, or the new champion is serving; 1 the gate
refused the candidate (the champion stays; a person should look); 2 it
cannot act (paused, no drift report, or no labelled data yet); 3 promoted,
but the API did not report the new version in time.
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from mlflow.tracking import MlflowClient

from wine_pipeline.config import PAUSED, Settings
from wine_pipeline.data import load_training_data
from wine_pipeline.drift import load_report
from wine_pipeline.gate import champion_version, check, registered_model
from wine_pipeline.train import train

DEFAULT_WAIT_SECONDS = 90.0


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    message: str
    new_version: str | None = None


def served_version(api_url: str) -> str | None:
    """The model version the API's /ready reports, or None if it is not ready."""
    try:
        with urllib.request.urlopen(f"{api_url}/ready", timeout=5) as response:  # noqa: S310
            return str(json.load(response)["model_version"])
    except urllib.error.HTTPError as exc:
        exc.close()
        return None
    except (urllib.error.URLError, OSError, KeyError, ValueError):
        return None


def wait_until_served(api_url: str, version: str, deadline_s: float) -> bool:
    deadline = time.monotonic() + deadline_s
    while True:
        if served_version(api_url) == version:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)


def paused(client: MlflowClient, name: str) -> str | None:
    """Why retraining is paused (set by a rollback), or None."""
    model = registered_model(client, name)
    return None if model is None else model.tags.get(PAUSED)


def resume(settings: Settings) -> None:
    """Lift the pause a rollback set: the cause is understood and fixed."""
    client = MlflowClient(settings.tracking_uri)
    if paused(client, settings.model_name) is not None:
        client.delete_registered_model_tag(settings.model_name, PAUSED)


def run(settings: Settings, *, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> Outcome:
    client = MlflowClient(settings.tracking_uri)
    name = settings.model_name
    if (why := paused(client, name)) is not None:
        return Outcome(
            2,
            f"retraining is paused ({why}); once the cause is fixed, "
            "run `python -m wine_pipeline.pipeline --resume`",
        )
    report = load_report(settings.drift_report)
    if report is None:
        return Outcome(2, f"no drift report at {settings.drift_report}: run the drift job first")
    champion = champion_version(client, name)
    if report.model_version != champion:
        return Outcome(
            0,
            f"the drift report judged version {report.model_version}, the champion is now "
            f"{champion}: nothing to do until the drift job runs again",
        )
    if not report.detected:
        return Outcome(
            0, f"no drift (max PSI {report.max_psi:.4f} <= {report.threshold}): nothing to do"
        )

    data = load_training_data(settings.labelled_dir)
    if data.sources == ["reference"]:
        return Outcome(2, "drift detected, but no labelled production data to learn from yet")
    # Retraining on the data the champion already saw gives the same model:
    # wait for labels of the new traffic instead of churning out versions.
    run_id = client.get_model_version(name, champion).run_id
    learned = set(client.get_run(run_id).data.tags.get("sources", "").split(","))
    if set(data.sources) <= learned:
        return Outcome(
            0,
            f"drift persists, but version {champion} was trained on every labelled batch "
            "there is: nothing new to learn from until more labels arrive",
        )
    result = train(settings, data, trigger="drift")
    client.set_model_version_tag(name, result.version, "drift_report", report.created_at)
    client.set_model_version_tag(name, result.version, "drifted_features", ",".join(report.drifted))

    gate = check(settings, result.version, data.eval)
    if not gate.passed:
        return Outcome(1, f"gate refused version {result.version}: {gate.reason}", result.version)
    promoted = (
        f"version {result.version} promoted to champion "
        f"(replacing {gate.champion_version}): {gate.reason}"
    )
    if wait_seconds <= 0:
        return Outcome(0, promoted, result.version)
    if not wait_until_served(settings.api_url, result.version, wait_seconds):
        return Outcome(
            3,
            f"{promoted}; but {settings.api_url}/ready did not report it within {wait_seconds} s",
            result.version,
        )
    return Outcome(0, f"{promoted}; {settings.api_url} serves it", result.version)


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--wait-seconds",
        type=float,
        default=DEFAULT_WAIT_SECONDS,
        help="how long to wait for the API to serve a new champion (0: do not wait)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="lift the pause a rollback set, then run as usual",
    )
    args = parser.parse_args(argv)
    if args.resume:
        resume(settings)
    outcome = run(settings, wait_seconds=args.wait_seconds)
    print(outcome.message)
    return outcome.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
