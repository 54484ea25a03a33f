"""The validation gate: may this model version replace the champion?

    uv run python -m wine_pipeline.gate check 2          # evaluate, promote on pass
    uv run python -m wine_pipeline.gate check latest     # the newest version
    uv run python -m wine_pipeline.gate rollback --reason "INC-42: bad answers"

`check` scores the candidate and the current champion on the same held-out
rows (never on each model's own logged metric: those came from different
test sets) and promotes the candidate when

  1. its accuracy is at least `MIN_ACCURACY` (an absolute floor, which also
     guards the very first model, when there is no champion), and
  2. it is no worse than the champion's by more than `TOLERANCE`.

Promotion moves the `champion` alias to the candidate and leaves the
`previous-champion` alias on the version it replaced, so `rollback` is one
command; it also pauses the retraining trigger until someone resumes it.
Every decision is written on the candidate as version tags.

Exit codes: 0 promoted (or rolled back), 1 refused, 2 nothing to do.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import mlflow
import pandas as pd
from mlflow.entities.model_registry import RegisteredModel
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST, ErrorCode
from mlflow.tracking import MlflowClient
from sklearn.metrics import accuracy_score

from wine_pipeline.config import CHAMPION, PAUSED, PREVIOUS, Settings
from wine_pipeline.data import FEATURES, TARGET, load_training_data

MIN_ACCURACY = 0.85
# About one wine in the ~100 evaluation rows: smaller differences are noise.
TOLERANCE = 0.02


@dataclass(frozen=True)
class GateResult:
    passed: bool
    reason: str
    candidate_version: str
    candidate_accuracy: float
    champion_version: str | None
    champion_accuracy: float | None


def decide(
    candidate: float,
    champion: float | None,
    *,
    min_accuracy: float = MIN_ACCURACY,
    tolerance: float = TOLERANCE,
) -> tuple[bool, str]:
    """The rule itself, without any I/O: (passed, why)."""
    if candidate < min_accuracy:
        return False, f"accuracy {candidate:.4f} is below the floor {min_accuracy}"
    if champion is None:
        return True, f"accuracy {candidate:.4f} clears the floor; there is no champion yet"
    if candidate < champion - tolerance:
        return False, (
            f"accuracy {candidate:.4f} is worse than the champion's {champion:.4f} "
            f"by more than {tolerance}"
        )
    return True, f"accuracy {candidate:.4f} vs champion {champion:.4f} (tolerance {tolerance})"


def registered_model(client: MlflowClient, name: str) -> RegisteredModel | None:
    """The registered model, or None if nothing was registered under `name`."""
    try:
        return client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code == ErrorCode.Name(RESOURCE_DOES_NOT_EXIST):
            return None
        raise


def champion_version(client: MlflowClient, name: str, alias: str = CHAMPION) -> str | None:
    """The version an alias points at, or None when the alias (or the model) does not exist.

    Reads the model's alias table rather than get_model_version_by_alias(),
    which reports a missing alias as INVALID_PARAMETER_VALUE, like a bad request.
    """
    model = registered_model(client, name)
    version = None if model is None else model.aliases.get(alias)
    return None if version is None else str(version)


def latest_version(client: MlflowClient, name: str) -> str:
    versions = client.search_model_versions(f"name = '{name}'")
    if not versions:
        raise ValueError(f"no version of {name} is registered: train one first")
    return str(max(int(v.version) for v in versions))


def accuracy(model_uri: str, rows: pd.DataFrame) -> float:
    model = mlflow.sklearn.load_model(model_uri)
    return float(accuracy_score(rows[TARGET], model.predict(rows[FEATURES])))


def promote(client: MlflowClient, name: str, version: str, reason: str) -> str | None:
    """Point `champion` at `version`; the old champion becomes `previous-champion`."""
    old = champion_version(client, name)
    if old is not None and old != version:
        client.set_registered_model_alias(name, PREVIOUS, old)
    client.set_registered_model_alias(name, CHAMPION, version)
    client.set_model_version_tag(name, version, "promoted_reason", reason)
    return old


def check(
    settings: Settings,
    candidate: str,
    eval_rows: pd.DataFrame,
    *,
    min_accuracy: float = MIN_ACCURACY,
    tolerance: float = TOLERANCE,
) -> GateResult:
    """Score candidate and champion on `eval_rows`; promote the candidate on pass."""
    mlflow.set_tracking_uri(settings.tracking_uri)
    client = MlflowClient(settings.tracking_uri)
    name = settings.model_name
    if candidate == "latest":
        candidate = latest_version(client, name)
    client.get_model_version(name, candidate)  # fails early for a version that does not exist
    current = champion_version(client, name)
    if current == candidate:
        raise ValueError(f"version {candidate} is already the champion")

    candidate_accuracy = accuracy(f"models:/{name}/{candidate}", eval_rows)
    champion_accuracy = None
    if current is not None:
        champion_accuracy = accuracy(f"models:/{name}/{current}", eval_rows)
    passed, reason = decide(
        candidate_accuracy, champion_accuracy, min_accuracy=min_accuracy, tolerance=tolerance
    )
    tags = {
        "gate.result": "passed" if passed else "failed",
        "gate.reason": reason,
        "gate.eval_rows": str(len(eval_rows)),
        "gate.candidate_accuracy": f"{candidate_accuracy:.4f}",
        "gate.champion_version": current or "none",
        "gate.champion_accuracy": f"{champion_accuracy:.4f}" if current else "none",
    }
    for key, value in tags.items():
        client.set_model_version_tag(name, candidate, key, value)
    if passed:
        promote(client, name, candidate, reason=f"gate: {reason}")
    return GateResult(passed, reason, candidate, candidate_accuracy, current, champion_accuracy)


def rollback(settings: Settings, reason: str) -> tuple[str, str]:
    """Point `champion` back at `previous-champion`; returns (from, to).

    The demoted version is tagged and `previous-champion` is removed, so a
    second rollback cannot bring the bad version back by accident. Retraining
    is paused (a tag on the registered model): otherwise the next drift report
    about the restored champion would retrain and promote a similar model.
    """
    client = MlflowClient(settings.tracking_uri)
    name = settings.model_name
    bad = champion_version(client, name)
    target = champion_version(client, name, PREVIOUS)
    if bad is None or target is None:
        raise ValueError("nothing to roll back to: no champion or no previous-champion alias")
    client.set_registered_model_alias(name, CHAMPION, target)
    client.delete_registered_model_alias(name, PREVIOUS)
    client.set_model_version_tag(name, bad, "rolled_back", reason)
    client.set_model_version_tag(name, target, "promoted_reason", f"rollback: {reason}")
    client.set_registered_model_tag(name, PAUSED, f"rollback of version {bad}: {reason}")
    return bad, target


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description="The validation gate.")
    commands = parser.add_subparsers(dest="command", required=True)
    check_cmd = commands.add_parser("check", help="evaluate a version; promote it on pass")
    check_cmd.add_argument("version", help="the candidate's registry version (2), or latest")
    check_cmd.add_argument("--tolerance", type=float, default=TOLERANCE)
    check_cmd.add_argument("--min-accuracy", type=float, default=MIN_ACCURACY)
    back_cmd = commands.add_parser("rollback", help="make previous-champion the champion again")
    back_cmd.add_argument("--reason", required=True, help="recorded on the demoted version")
    args = parser.parse_args(argv)

    if args.command == "rollback":
        try:
            bad, good = rollback(settings, args.reason)
        except ValueError as exc:
            print(f"rollback refused: {exc}")
            return 2
        print(f"champion: version {bad} -> version {good}; the API follows within its refresh")
        print("retraining is paused; resume it with `python -m wine_pipeline.pipeline --resume`")
        return 0

    eval_rows = load_training_data(settings.labelled_dir).eval
    try:
        result = check(
            settings,
            args.version,
            eval_rows,
            min_accuracy=args.min_accuracy,
            tolerance=args.tolerance,
        )
    except ValueError as exc:
        print(f"nothing to do: {exc}")
        return 2
    verdict = "PASSED" if result.passed else "FAILED"
    print(f"gate {verdict} for version {result.candidate_version}: {result.reason}")
    if result.passed:
        print(f"version {result.candidate_version} is now @{CHAMPION}")
    return 0 if result.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
