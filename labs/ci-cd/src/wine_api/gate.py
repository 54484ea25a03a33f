"""The validation gate: may this candidate model replace the champion?

Run it after `wine_api.train`, from the lab folder:

    uv run python -m wine_api.gate --champion champion/metrics.json     # JSON files
    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 uv run python -m wine_api.gate   # the registry

Both read the candidate from model/metrics.json (--candidate to change).

Where the champion's scores come from:

- with MLFLOW_TRACKING_URI set (and not empty), from the MLflow run behind the
  registered model version that carries the `champion` alias;
- otherwise from the JSON file given with --champion (a file written by
  wine_api.train and committed to the repository when that model shipped).

The rule: the candidate passes when its metric is at least the champion's
minus the tolerance (for a metric where lower is better, at most the
champion's plus the tolerance), and not worse than the floor. It prints one
line that says by how much, and exits

    0  the candidate passes;
    1  the candidate fails;
    2  the gate cannot decide: a missing file or metric, scores computed on
       different evaluation data, an unreachable registry.

With --promote, a passing candidate becomes the champion: the `champion` alias
moves to its registered version (MLflow), or its metrics replace the
--champion file (JSON; commit that file).

Under GitHub Actions the result also becomes an annotation on the run and a
table in the job summary.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

CHAMPION_ALIAS = "champion"
DEFAULT_REGISTERED_MODEL = "wine-classifier"
# Which way is better, per metric the training script records.
HIGHER_IS_BETTER = {"accuracy": True, "f1_macro": True, "log_loss": False}

PASS, FAIL, UNDECIDED = 0, 1, 2


class GateError(Exception):
    """The gate cannot compare the two models; the message says why."""


@dataclass(frozen=True)
class Scores:
    """A model's recorded metrics and where they came from."""

    source: str
    metrics: dict[str, float]
    eval_digest: str | None = None
    registered_version: str | None = None


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str


def decide(
    candidate: Scores,
    champion: Scores | None,
    *,
    metric: str = "accuracy",
    tolerance: float = 0.005,
    floor: float | None = None,
) -> Verdict:
    """Compare two sets of scores on `metric`. Raises GateError when they cannot be compared."""
    if metric not in HIGHER_IS_BETTER:
        raise GateError(f"unknown metric {metric!r}; choose one of {sorted(HIGHER_IS_BETTER)}")
    if tolerance < 0:
        raise GateError(f"the tolerance must not be negative, got {tolerance}")
    higher_is_better = HIGHER_IS_BETTER[metric]
    value = _metric(candidate, metric)

    if floor is not None and (value < floor if higher_is_better else value > floor):
        bound = "minimum" if higher_is_better else "maximum"
        return Verdict(False, f"candidate {metric} {value:.3f} misses the {bound} of {floor:.3f}")

    if champion is None:
        return Verdict(True, f"candidate {metric} {value:.3f}; there is no champion yet")

    if (
        candidate.eval_digest
        and champion.eval_digest
        and candidate.eval_digest != champion.eval_digest
    ):
        raise GateError(
            "the candidate and the champion were scored on different evaluation data "
            f"({candidate.eval_digest[:19]} vs {champion.eval_digest[:19]}): their scores "
            "cannot be compared; score the champion on the candidate's test set first"
        )

    best = _metric(champion, metric)
    # Positive gain: the candidate is better, whichever way the metric points.
    gain = value - best if higher_is_better else best - value
    if value == best:
        text = f"equals the champion's {best:.3f}"
    else:
        relation = "above" if value > best else "below"
        text = f"is {abs(value - best):.3f} {relation} the champion's {best:.3f}"
    message = f"candidate {metric} {value:.3f} {text} (tolerance {tolerance:.3f})"
    # A tiny epsilon, so that 0.933 - 0.928 counts as exactly the tolerance.
    return Verdict(gain >= -tolerance - 1e-12, message)


def _metric(scores: Scores, metric: str) -> float:
    try:
        return float(scores.metrics[metric])
    except KeyError:
        known = ", ".join(sorted(scores.metrics))
        raise GateError(f"{scores.source} has no {metric!r} metric (it has: {known})") from None


# --- where scores come from ---------------------------------------------------


def scores_from_json(path: Path) -> Scores:
    """Scores from a metrics.json written by wine_api.train."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GateError(f"no metrics file at {path}") from None
    except json.JSONDecodeError as exc:
        raise GateError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(record, dict) or not isinstance(record.get("metrics"), dict):
        raise GateError(f'{path} has no "metrics" object; was it written by wine_api.train?')
    registered = record.get("mlflow") or {}
    return Scores(
        source=str(path),
        metrics=record["metrics"],
        eval_digest=record.get("eval_digest"),
        registered_version=registered.get("version"),
    )


def champion_from_mlflow(tracking_uri: str, registered_model: str) -> Scores | None:
    """The scores of the run behind `registered_model@champion`; None without a champion.

    MLflow is imported here: the JSON path never needs it.
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(tracking_uri=tracking_uri)
    try:
        # The model's alias table, rather than asking for the alias and reading
        # the error: MLflow answers a missing alias with INVALID_PARAMETER_VALUE.
        model = client.get_registered_model(registered_model)
        champion_version = model.aliases.get(CHAMPION_ALIAS)
        if champion_version is None:
            return None  # the registry's first model: nothing to beat yet
        version = client.get_model_version(registered_model, str(champion_version))
        if version.run_id is None:
            raise GateError(f"{registered_model} version {version.version} has no run to read")
        run = client.get_run(version.run_id)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise GateError(f"no registered model {registered_model!r} at {tracking_uri}") from None
        # Also what an unreachable server raises, after MLflow's own retries.
        raise GateError(f"cannot read the registry at {tracking_uri}: {exc.message}") from None
    return Scores(
        source=f"{registered_model}@{CHAMPION_ALIAS} (version {version.version})",
        metrics=dict(run.data.metrics),
        eval_digest=run.data.tags.get("eval_digest"),
        registered_version=str(version.version),
    )


def promote_in_mlflow(tracking_uri: str, registered_model: str, version: str) -> None:
    from mlflow import MlflowClient

    MlflowClient(tracking_uri=tracking_uri).set_registered_model_alias(
        registered_model, CHAMPION_ALIAS, version
    )


# --- GitHub Actions -----------------------------------------------------------


def report_to_github(verdict: Verdict, candidate: Scores, champion: Scores | None) -> None:
    """An annotation on the run page and a table in the job summary.

    Both are plain text protocols: a `::error::` line on stdout, and markdown
    appended to the file named by GITHUB_STEP_SUMMARY.
    """
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return
    level = "notice" if verdict.passed else "error"
    print(f"::{level} title=Validation gate::{verdict.message}")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary:
        return
    names = sorted(set(candidate.metrics) | set(champion.metrics if champion else {}))
    rows = [
        f"| {name} | {candidate.metrics.get(name, '')} | "
        f"{champion.metrics.get(name, '') if champion else '—'} |"
        for name in names
    ]
    with open(summary, "a", encoding="utf-8") as out:
        out.write(
            f"### Validation gate: {'passed' if verdict.passed else 'FAILED'}\n\n"
            f"{verdict.message}\n\n"
            f"| metric | candidate | champion ({champion.source if champion else 'none'}) |\n"
            "|---|---|---|\n" + "\n".join(rows) + "\n\n"
        )


# --- command line ---------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--candidate",
        type=Path,
        default=Path("model/metrics.json"),
        help="the candidate's metrics.json (default: %(default)s)",
    )
    parser.add_argument(
        "--champion",
        type=Path,
        help="the champion's metrics.json; used when MLFLOW_TRACKING_URI is not set",
    )
    parser.add_argument(
        "--metric",
        default="accuracy",
        choices=sorted(HIGHER_IS_BETTER),
        help="the metric the decision is made on (default: %(default)s)",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=0.005,
        help="how much worse than the champion the candidate may be (default: %(default)s)",
    )
    parser.add_argument(
        "--floor",
        type=float,
        help="an absolute bound the candidate must reach, champion or not",
    )
    parser.add_argument(
        "--registered-model",
        default=DEFAULT_REGISTERED_MODEL,
        help="MLflow registered model name (default: %(default)s)",
    )
    parser.add_argument(
        "--promote",
        action="store_true",
        help="if the candidate passes, make it the champion",
    )
    args = parser.parse_args(argv)
    # An empty MLFLOW_TRACKING_URI (an unset repository variable in CI) means "no MLflow".
    tracking_uri = os.environ.get("MLFLOW_TRACKING_URI") or None

    try:
        candidate = scores_from_json(args.candidate)
        check_promotable(candidate, args, tracking_uri)
        if tracking_uri:
            champion = champion_from_mlflow(tracking_uri, args.registered_model)
        elif args.champion:
            champion = scores_from_json(args.champion)
        else:
            raise GateError("no champion to compare with: set MLFLOW_TRACKING_URI or --champion")
        verdict = decide(
            candidate,
            champion,
            metric=args.metric,
            tolerance=args.tolerance,
            floor=args.floor,
        )
    except GateError as exc:
        message = f"gate: cannot decide: {exc}"
        print(message, file=sys.stderr)
        if os.environ.get("GITHUB_ACTIONS") == "true":
            print(f"::error title=Validation gate::{message}")
        return UNDECIDED

    print(f"gate: {'PASS' if verdict.passed else 'FAIL'}: {verdict.message}")
    report_to_github(verdict, candidate, champion)
    if not verdict.passed:
        return FAIL
    if args.promote:
        print(promote(candidate, args, tracking_uri))
    return PASS


def check_promotable(candidate: Scores, args: argparse.Namespace, tracking_uri: str | None) -> None:
    """Refuse --promote before deciding, rather than pass and then fail to promote."""
    if not args.promote:
        return
    if tracking_uri and candidate.registered_version is None:
        raise GateError(
            f"cannot promote: {candidate.source} names no registered version; "
            "train with MLFLOW_TRACKING_URI set"
        )
    if not tracking_uri and args.champion is None:
        raise GateError("cannot promote: without MLflow, --promote needs --champion")


def promote(candidate: Scores, args: argparse.Namespace, tracking_uri: str | None) -> str:
    if tracking_uri:
        assert candidate.registered_version is not None  # check_promotable made sure
        promote_in_mlflow(tracking_uri, args.registered_model, candidate.registered_version)
        return (
            f"gate: {args.registered_model}@{CHAMPION_ALIAS} now points to "
            f"version {candidate.registered_version}"
        )
    shutil.copyfile(args.candidate, args.champion)
    return f"gate: {args.champion} now holds the candidate's metrics; commit it"


if __name__ == "__main__":
    raise SystemExit(main())
