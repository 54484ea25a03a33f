"""The champion gate on its own: the rule on scores, the file's independence
(another lab copies it byte for byte), and a version from a run that did not
log what the gate needs."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from wine_tracking import promotion
from wine_tracking.data import split
from wine_tracking.model import build_pipeline
from wine_tracking.promotion import Scores, decide
from wine_tracking.train import MODEL_REQUIREMENTS, log_dataset

GATE = Path(promotion.__file__)

CHAMPION = Scores({"test_accuracy": 1.0, "test_log_loss": 0.07}, "9d859b26")


def scores(accuracy: float, log_loss: float, digest: str | None = "9d859b26") -> Scores:
    return Scores({"test_accuracy": accuracy, "test_log_loss": log_loss}, digest)


@pytest.mark.parametrize(
    ("new", "promoted", "reason"),
    [
        (scores(1.0, 0.05), True, "better: accuracy 1.0000, log loss 0.0500 vs the champion's"),
        (scores(1.0, 0.09), False, "not better: accuracy 1.0000, log loss 0.0900"),
        (scores(1.0, 0.07), False, "not better: "),  # a tie keeps the champion
        (scores(44 / 45, 0.01), False, "not better: accuracy 0.9778"),  # one wine wrong
        (scores(1.0, 0.01, "0123abcd"), False, "not comparable: tested on data with digest"),
        (scores(1.0, 0.01, None), False, "cannot judge: the run logged no 'testing' dataset"),
        (Scores({"test_accuracy": 1.0}, "9d859b26"), False, "cannot judge: the run logged no "),
    ],
)
def test_the_rule(new: Scores, promoted: bool, reason: str) -> None:
    verdict, why = decide(new, CHAMPION, "2")
    assert verdict is promoted
    assert why.startswith(reason)


def test_the_first_version_needs_its_scores_too() -> None:
    assert decide(scores(0.5, 2.0), None) == (True, "there was no champion yet")
    assert decide(scores(1.0, 0.01, None), None)[0] is False
    assert decide(Scores({}, "9d859b26"), None) == (
        False,
        "cannot judge: the run logged no test_accuracy, test_log_loss",
    )


def test_ranking_and_rank_agree() -> None:
    """The search order and the sort key say the same: accuracy, then log loss."""
    assert promotion.RANKING == ["metrics.test_accuracy DESC", "metrics.test_log_loss ASC"]
    runs = [scores(1.0, 0.09), scores(0.9, 0.01), scores(1.0, 0.05)]
    best = sorted(runs, key=lambda s: promotion.rank(s.metrics))
    assert [s.metrics["test_log_loss"] for s in best] == [0.05, 0.09, 0.01]


def test_the_gate_imports_only_the_standard_library_and_mlflow() -> None:
    """So that another project can copy the file unchanged."""
    tree = ast.parse(GATE.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add((node.module or "").split(".")[0])
    assert roots - set(sys.stdlib_module_names) == {"mlflow"}


def test_the_gate_loads_from_a_copy_outside_the_package(tmp_path: Path) -> None:
    copy = tmp_path / "gate_copy.py"
    copy.write_bytes(GATE.read_bytes())
    spec = importlib.util.spec_from_file_location("gate_copy", copy)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gate_copy"] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        assert module.decide(scores(1.0, 0.05), CHAMPION, "2")[0] is True
    finally:
        del sys.modules["gate_copy"]


def test_a_version_without_a_test_dataset_never_becomes_champion(
    client: MlflowClient, tracking_uri: str
) -> None:
    """How module 03 uses the gate: log and register in one call, then promote.
    This run logs its metrics but not the test set they came from."""
    name = "wine-gate-test"
    data = split()
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment("gate-test")
    with mlflow.start_run():
        mlflow.log_metrics({"test_accuracy": 1.0, "test_log_loss": 0.01})
        info = mlflow.sklearn.log_model(
            build_pipeline().fit(data.x_train, data.y_train),
            name="model",
            pip_requirements=MODEL_REQUIREMENTS,
            registered_model_name=name,
        )
    first = promotion.promote(client, name, str(info.registered_model_version))
    assert (first.promoted, first.champion) == (False, None)
    assert first.reason == "cannot judge: the run logged no 'testing' dataset input"
    assert client.get_registered_model(name).aliases == {"challenger": "1"}

    with mlflow.start_run():
        log_dataset(data.test, "wine-test", "testing")
        mlflow.log_metrics({"test_accuracy": 1.0, "test_log_loss": 0.07})
        info = mlflow.sklearn.log_model(
            build_pipeline().fit(data.x_train, data.y_train),
            name="model",
            pip_requirements=MODEL_REQUIREMENTS,
            registered_model_name=name,
        )
    second = promotion.promote(client, name, info.registered_model_version)
    assert (second.version, second.promoted, second.champion) == ("2", True, "2")
    assert client.get_registered_model(name).aliases == {"champion": "2"}
    again = promotion.promote(client, name, "2")
    assert again.reason == "this version is already the champion"
