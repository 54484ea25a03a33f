"""The registry: versions, the challenger/champion rule, loading by alias."""

from __future__ import annotations

import mlflow
import pytest
from conftest import Runs
from mlflow.tracking import MlflowClient

from wine_tracking.data import CLASS_NAMES, TARGET, split
from wine_tracking.model import build_pipeline
from wine_tracking.predict import SAMPLE_ROWS, sample
from wine_tracking.predict import main as predict_main
from wine_tracking.registry import main, promote
from wine_tracking.train import MODEL_REQUIREMENTS, log_dataset

NAME = "wine-registry-test"


@pytest.fixture(scope="module")
def promoted(runs: Runs) -> list:
    """The weak run first, the strong one next, then the weak one again."""
    return [promote(runs.weak.run_id, NAME), promote(runs.strong.run_id, NAME),
            promote(runs.weak.run_id, NAME)]  # fmt: skip


def test_the_first_version_becomes_champion(promoted: list) -> None:
    first = promoted[0]
    assert (first.version, first.promoted, first.champion) == ("1", True, "1")
    assert first.reason == "there was no champion yet"


def test_a_better_version_takes_the_champion_alias(promoted: list) -> None:
    second = promoted[1]
    assert (second.version, second.promoted, second.champion) == ("2", True, "2")
    assert second.reason.startswith("better: accuracy 1.0000, log loss ")


def test_a_worse_version_stays_challenger_and_is_not_registered_twice(
    promoted: list, client: MlflowClient
) -> None:
    third = promoted[2]
    assert (third.version, third.promoted, third.champion) == ("1", False, "2")
    assert third.reason.startswith("not better: accuracy ")
    assert "vs the champion's (v2) accuracy 1.0000, log loss " in third.reason
    model = client.get_registered_model(NAME)
    assert model.aliases == {"champion": "2", "challenger": "1"}
    assert len(client.search_model_versions(f"name = '{NAME}'")) == 2
    assert client.get_model_version(NAME, "1").tags["validation_status"] == "rejected"
    assert client.get_model_version(NAME, "2").tags["validation_status"] == "champion"


def test_the_champion_loads_by_alias_and_predicts(promoted: list, runs: Runs) -> None:
    model = mlflow.pyfunc.load_model(f"models:/{NAME}@champion")
    assert model.metadata.run_id == runs.strong.run_id
    wines = sample()
    predicted = model.predict(wines.drop(columns=TARGET))
    assert list(predicted) == list(wines[TARGET])


def test_scores_on_other_test_data_never_promote(
    promoted: list, client: MlflowClient, tracking_uri: str
) -> None:
    """A run scored on a different test set, with a better-looking metric."""
    data = split()
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment("other-test-data")
    with mlflow.start_run() as run:
        easy_test = data.test.head(10)  # ten wines instead of 45: another digest
        log_dataset(easy_test, "wine-test", "testing")
        mlflow.log_metrics({"test_accuracy": 1.0, "test_log_loss": 0.0001})
        pipeline = build_pipeline().fit(data.x_train, data.y_train)
        mlflow.sklearn.log_model(pipeline, name="model", pip_requirements=MODEL_REQUIREMENTS)
    decision = promote(run.info.run_id, NAME)
    assert not decision.promoted
    assert decision.reason.startswith("not comparable: tested on data with digest")
    assert client.get_registered_model(NAME).aliases["champion"] == "2"


def test_cli_show_prints_the_aliases(
    promoted: list, runs: Runs, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--name", NAME, "show", "--alias", "champion"]) == 0
    out = capsys.readouterr().out
    assert f"  champion -> version 2 (run {runs.strong.run_id}, C=1.0, accuracy 1.0000" in out
    assert "challenger -> version " in out  # 1, or 3 after the other-test-data test
    assert main(["--name", NAME, "show", "--alias", "production"]) == 1
    assert "has no alias 'production'" in capsys.readouterr().err


def test_cli_show_for_a_model_that_is_not_registered(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--name", "never-registered", "show"]) == 1
    assert "RESOURCE_DOES_NOT_EXIST" in capsys.readouterr().err


def test_cli_promotes_the_best_run_and_predict_loads_the_champion(
    runs: Runs, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lab's steps: `registry promote` with no run id, then `predict`."""
    assert main(["promote"]) == 0
    out = capsys.readouterr().out
    best = runs.strong.run_id  # the lower log loss of the default experiment's runs
    assert f"(run {best}) promoted to champion: there was no champion yet" in out
    assert "-> models:/wine-classifier@champion" in out
    assert predict_main([]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("models:/wine-classifier@champion = model m-")
    for row, line in zip(SAMPLE_ROWS, lines[2:], strict=True):
        true_class = CLASS_NAMES[int(sample().loc[row, TARGET])]
        assert line == f"wine {row:>3}: predicted {true_class}, true {true_class}"
