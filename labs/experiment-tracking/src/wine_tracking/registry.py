"""Register a run's model and promote it through the champion gate.

    uv run python -m wine_tracking.registry promote                 # the best run
    uv run python -m wine_tracking.registry promote --run-id RUN_ID
    uv run python -m wine_tracking.registry promote --filter "attributes.run_name = 'weak'"
    uv run python -m wine_tracking.registry show                    # who holds which alias
    uv run python -m wine_tracking.registry show --alias champion   # exit 1 if unset

This module registers; `wine_tracking.promotion` decides. A new version
becomes `challenger`, and takes `champion` only when there is none yet, or
when it ranks better than the champion (a higher test accuracy; on a tie, a
lower test log loss) on the same test data (equal dataset digests).
Otherwise the champion keeps serving. Aliases replace the deprecated stages
(Staging/Production): an alias is a movable name for one version, and
`models:/wine-classifier@champion` always loads the version it points to.
"""

from __future__ import annotations

import argparse
import sys

import mlflow
from mlflow.entities import Run
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from wine_tracking import MODEL_NAME, connect, promotion
from wine_tracking.compare import DEFAULT_FILTER, best_run_id
from wine_tracking.promotion import CHAMPION, Decision


def client() -> MlflowClient:
    connect()
    return MlflowClient()


def logged_model_uri(run: Run) -> str:
    """`models:/m-...`: the model the run logged. (MLflow 3 stores models as
    LoggedModels beside the run; `runs:/ID/model` still works, with a warning.)"""
    outputs = run.outputs.model_outputs if run.outputs else []
    if not outputs:
        raise ValueError(f"run {run.info.run_id} logged no model")
    return f"models:/{outputs[-1].model_id}"


def register(mlflow_client: MlflowClient, run_id: str, name: str = MODEL_NAME) -> ModelVersion:
    """The registry version of this run's model: an existing one, or a new one.

    Registering the same run twice would make two versions of one model;
    looking first makes `promote` safe to run again."""
    existing = mlflow_client.search_model_versions(f"name = '{name}' and run_id = '{run_id}'")
    if existing:
        return min(existing, key=lambda v: int(v.version))
    run = mlflow_client.get_run(run_id)
    metrics = run.data.metrics
    return mlflow.register_model(
        logged_model_uri(run),
        name,
        # Copied onto the version, so the registry shows them without the run.
        tags={
            "C": run.data.params.get("C", ""),
            **{m: f"{metrics[m]:.4f}" for m in promotion.METRICS if m in metrics},
        },
    )


def promote(run_id: str, name: str = MODEL_NAME) -> Decision:
    """Register the run's model (once) and pass its version through the gate."""
    mlflow_client = client()
    return promotion.promote(mlflow_client, name, register(mlflow_client, run_id, name).version)


def show(name: str = MODEL_NAME) -> dict[str, ModelVersion]:
    """Every alias of the model and the version it points to."""
    mlflow_client = client()
    model = mlflow_client.get_registered_model(name)
    return {
        alias: mlflow_client.get_model_version(name, version)
        for alias, version in sorted(model.aliases.items())
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default=MODEL_NAME, help="registered model name")
    commands = parser.add_subparsers(dest="command", required=True)
    promote_cmd = commands.add_parser("promote", help="register a run's model and promote it")
    promote_cmd.add_argument("--run-id", help="default: the best run (see wine_tracking.compare)")
    promote_cmd.add_argument(
        "--filter",
        default=DEFAULT_FILTER,
        help="without --run-id: take the best run matching this search (default: %(default)s)",
    )
    show_cmd = commands.add_parser("show", help="print the aliases")
    show_cmd.add_argument("--alias", help="exit 1 unless this alias is set")
    args = parser.parse_args(argv)

    if args.command == "promote":
        run_id = args.run_id or best_run_id(filter_string=args.filter)
        if run_id is None:
            print(f"no run matches {args.filter!r}; train one first", file=sys.stderr)
            return 1
        decision = promote(run_id, args.name)
        verdict = "promoted to champion" if decision.promoted else "stays challenger"
        print(f"{args.name} version {decision.version} (run {run_id}) {verdict}: {decision.reason}")
        if decision.champion is None:
            print(f"champion: none yet; models:/{args.name}@{CHAMPION} loads nothing")
        else:
            print(f"champion: version {decision.champion} -> models:/{args.name}@{CHAMPION}")
        return 0

    try:
        aliases = show(args.name)
    except MlflowException as exc:
        print(f"{args.name}: {exc.message}", file=sys.stderr)
        return 1
    for alias, version in aliases.items():
        tags = version.tags
        print(
            f"{alias:>10} -> version {version.version} (run {version.run_id}, C={tags.get('C')}, "
            f"accuracy {tags.get('test_accuracy')}, log loss {tags.get('test_log_loss')})"
        )
    if args.alias and args.alias not in aliases:
        print(f"{args.name} has no alias {args.alias!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
