"""Register a run's model and promote it with aliases: `challenger`, then
`champion` only if it beats the current champion.

    uv run python -m wine_tracking.registry promote                 # the best run
    uv run python -m wine_tracking.registry promote --run-id RUN_ID
    uv run python -m wine_tracking.registry promote --filter "attributes.run_name = 'weak'"
    uv run python -m wine_tracking.registry show                    # who holds which alias
    uv run python -m wine_tracking.registry show --alias champion   # exit 1 if unset

The rule: a new version becomes `challenger`. It takes `champion` when there
is none yet, or when it ranks better than the champion (a higher test
accuracy; on a tie, a lower test log loss) on the same test data (equal
dataset digests). Otherwise it stays challenger and the champion keeps
serving. Aliases replace the deprecated stages (Staging/Production): an alias
is a movable name for one version, and `models:/wine-classifier@champion`
always loads the version it points to.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import mlflow
from mlflow.entities import Run
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from wine_tracking import MODEL_NAME, connect, rank
from wine_tracking.compare import DEFAULT_FILTER, best_run_id

CHAMPION = "champion"
CHALLENGER = "challenger"
TEST_CONTEXT = "testing"  # the dataset input the test metrics were computed on


@dataclass(frozen=True)
class Decision:
    version: str  # the version this run's model got
    promoted: bool  # it is the champion now
    champion: str  # the champion's version after the decision
    reason: str


def client() -> MlflowClient:
    connect()
    return MlflowClient()


def alias_version(mlflow_client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    """The version an alias points to, or None if the alias (or model) does not exist.

    Asking get_model_version_by_alias() for a missing alias raises
    INVALID_PARAMETER_VALUE, which also means other things; the registered
    model's `aliases` dict says it plainly."""
    try:
        model = mlflow_client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":  # not registered yet
            return None
        raise
    version = model.aliases.get(alias)
    return None if version is None else mlflow_client.get_model_version(name, version)


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
            "test_accuracy": f"{metrics['test_accuracy']:.4f}",
            "test_log_loss": f"{metrics['test_log_loss']:.4f}",
        },
    )


def _scores(mlflow_client: MlflowClient, run_id: str) -> tuple[dict[str, float], str | None]:
    """The run's metrics and the digest of the data they were computed on."""
    run = mlflow_client.get_run(run_id)
    digest = None
    for dataset_input in run.inputs.dataset_inputs:
        contexts = {t.value for t in dataset_input.tags if t.key == "mlflow.data.context"}
        if TEST_CONTEXT in contexts:
            digest = dataset_input.dataset.digest
    return run.data.metrics, digest


def _describe(metrics: dict[str, float]) -> str:
    return f"accuracy {metrics['test_accuracy']:.4f}, log loss {metrics['test_log_loss']:.4f}"


def promote(run_id: str, name: str = MODEL_NAME) -> Decision:
    mlflow_client = client()
    new = register(mlflow_client, run_id, name)
    champion = alias_version(mlflow_client, name, CHAMPION)

    if champion is not None and champion.version == new.version:
        return Decision(new.version, True, new.version, "this version is already the champion")

    new_metrics, new_digest = _scores(mlflow_client, run_id)
    if champion is None:
        promoted, reason = True, "there was no champion yet"
    else:
        old_metrics, old_digest = _scores(mlflow_client, champion.run_id)
        versus = f"{_describe(new_metrics)} vs the champion's (v{champion.version}) "
        versus += _describe(old_metrics)
        if new_digest != old_digest:
            # Scores on different test sets do not compare: never promote on them.
            promoted = False
            reason = (
                f"not comparable: tested on data with digest {new_digest}, "
                f"the champion on {old_digest}"
            )
        elif rank(new_metrics) < rank(old_metrics):
            promoted, reason = True, f"better: {versus}"
        else:
            promoted, reason = False, f"not better: {versus}"

    if promoted:
        # Moving an alias is one call; the old champion keeps its version
        # number, so a rollback is the same call with the old number.
        mlflow_client.set_registered_model_alias(name, CHAMPION, new.version)
        if alias_version(mlflow_client, name, CHALLENGER) is not None:
            mlflow_client.delete_registered_model_alias(name, CHALLENGER)
        mlflow_client.set_model_version_tag(name, new.version, "validation_status", "champion")
        return Decision(new.version, True, new.version, reason)

    mlflow_client.set_registered_model_alias(name, CHALLENGER, new.version)
    mlflow_client.set_model_version_tag(name, new.version, "validation_status", "rejected")
    assert champion is not None
    return Decision(new.version, False, champion.version, reason)


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
