"""The champion gate: the only way a registered version becomes `champion`.

This file imports nothing but the standard library and MLflow (mlflow-skinny
is enough), so another project copies it unchanged and promotes through the
same rule. Module 03's wine API carries a byte-for-byte copy.

    from mlflow import MlflowClient
    decision = promote(MlflowClient(), "wine-classifier", "3")
    print(decision.reason)

What a version needs: the run that logged its model has the metrics
`test_accuracy` and `test_log_loss`, and its test set as a dataset input with
the context `testing` (`mlflow.log_input(dataset, context="testing")`).

The rule:
1. A version that already holds `champion` stays champion.
2. A version without those metrics, or without a test dataset, is refused.
3. With no champion yet, the version becomes champion.
4. Scores on different test data (other digests) do not compare: refused.
5. Otherwise it becomes champion only if it ranks better (RANKING).
On promotion `champion` moves to it and `challenger` is removed; on refusal
`challenger` points at it. The version is tagged `validation_status`
`champion` or `rejected` either way, and the champion keeps serving until an
alias moves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

CHAMPION = "champion"
CHALLENGER = "challenger"
TEST_CONTEXT = "testing"  # the dataset input the test metrics were computed on

# Which of two models is better, stated once: the higher test accuracy; on a
# tie, the lower test log loss. Accuracy on 45 test wines often ties at 1.0;
# log loss then still separates confident, correct models from hesitant ones.
# The same order as a search: mlflow.search_runs(order_by=RANKING).
RANKING = ["metrics.test_accuracy DESC", "metrics.test_log_loss ASC"]
METRICS = ("test_accuracy", "test_log_loss")


def rank(metrics: Mapping[str, float]) -> tuple[float, float]:
    """The sort key of RANKING: the smaller, the better."""
    return (-metrics["test_accuracy"], metrics["test_log_loss"])


@dataclass(frozen=True)
class Scores:
    """What the gate knows of one version: its run's metrics and test digest."""

    metrics: Mapping[str, float]
    test_digest: str | None


@dataclass(frozen=True)
class Decision:
    version: str  # the version that was judged
    promoted: bool  # it is the champion now
    champion: str | None  # the champion's version after the decision
    reason: str


def _describe(metrics: Mapping[str, float]) -> str:
    return f"accuracy {metrics['test_accuracy']:.4f}, log loss {metrics['test_log_loss']:.4f}"


def decide(new: Scores, champion: Scores | None, champion_version: str = "") -> tuple[bool, str]:
    """The rule on scores alone (no server): (promote?, why)."""
    missing = [m for m in METRICS if m not in new.metrics]
    if missing:
        return False, f"cannot judge: the run logged no {', '.join(missing)}"
    if new.test_digest is None:
        return False, f"cannot judge: the run logged no {TEST_CONTEXT!r} dataset input"
    if champion is None:
        return True, "there was no champion yet"
    if new.test_digest != champion.test_digest or any(m not in champion.metrics for m in METRICS):
        # Scores on different test sets do not compare: never promote on them.
        return False, (
            f"not comparable: tested on data with digest {new.test_digest}, "
            f"the champion on {champion.test_digest}"
        )
    versus = f"{_describe(new.metrics)} vs the champion's (v{champion_version}) "
    versus += _describe(champion.metrics)
    if rank(new.metrics) < rank(champion.metrics):
        return True, f"better: {versus}"
    return False, f"not better: {versus}"


def scores(client: MlflowClient, run_id: str) -> Scores:
    """The run's metrics and the digest of the data its test metrics came from."""
    run = client.get_run(run_id)
    digest = None
    for dataset_input in run.inputs.dataset_inputs:
        contexts = {t.value for t in dataset_input.tags if t.key == "mlflow.data.context"}
        if TEST_CONTEXT in contexts:
            digest = dataset_input.dataset.digest
    return Scores(metrics=dict(run.data.metrics), test_digest=digest)


def alias_version(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    """The version an alias points to, or None if the alias (or model) does not exist.

    get_model_version_by_alias() raises INVALID_PARAMETER_VALUE for a missing
    alias, which also means other things; the model's `aliases` say it plainly."""
    try:
        model = client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":  # not registered yet
            return None
        raise
    version = model.aliases.get(alias)
    return None if version is None else client.get_model_version(name, version)


def promote(client: MlflowClient, name: str, version: str) -> Decision:
    """Judge a registered version against the champion, and move the aliases."""
    version = str(version)
    champion = alias_version(client, name, CHAMPION)
    if champion is not None and champion.version == version:
        return Decision(version, True, version, "this version is already the champion")

    new = scores(client, client.get_model_version(name, version).run_id)
    old = None if champion is None else scores(client, champion.run_id)
    promoted, reason = decide(new, old, "" if champion is None else champion.version)

    if promoted:
        # Moving an alias is one call; the old champion keeps its version
        # number, so a rollback is the same call with the old number.
        client.set_registered_model_alias(name, CHAMPION, version)
        if alias_version(client, name, CHALLENGER) is not None:
            client.delete_registered_model_alias(name, CHALLENGER)
        client.set_model_version_tag(name, version, "validation_status", "champion")
        return Decision(version, True, version, reason)

    client.set_registered_model_alias(name, CHALLENGER, version)
    client.set_model_version_tag(name, version, "validation_status", "rejected")
    return Decision(version, False, None if champion is None else champion.version, reason)
