"""The model from an MLflow registry, by alias: a real `mlflow server`, the
lab's register script, and the same serving code as for a file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import joblib
import mlflow
import pytest
import sklearn
from fastapi.testclient import TestClient
from live import mlflow_server
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import wine_api.train
from wine_api import batch
from wine_api import register as register_module
from wine_api.app import create_app
from wine_api.flask_app import create_app as create_flask_app
from wine_api.promotion import Decision
from wine_api.register import Registered, register
from wine_api.train import TrainResult, train

pytestmark = pytest.mark.live

CHAMPION = "models:/wine-classifier@champion"
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "wines.csv"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real MLflow server, its URI set as MLFLOW_TRACKING_URI for the module."""
    workdir = tmp_path_factory.mktemp("mlflow")
    # The deadline is generous: on a busy 2-core machine the server can take minutes.
    with mlflow_server(workdir, deadline_s=300) as uri, pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        yield uri


def aliases(name: str) -> dict[str, str]:
    return dict(mlflow.MlflowClient().get_registered_model(name).aliases)


@pytest.fixture(scope="module")
def champion(registry: str, trained: TrainResult) -> Registered:
    return register(trained.model_path)


def test_the_api_serves_the_champion(
    champion: Registered, trained: TrainResult, wine: dict[str, float]
) -> None:
    assert champion.uri == CHAMPION
    with TestClient(create_app(model_uri=CHAMPION)) as client:
        ready = client.get("/ready")
        from_registry = client.post("/predict", json=wine).json()
    # The version is the registry's: the number the alias points to.
    assert ready.json() == {"status": "ready", "model_version": champion.version}
    with TestClient(create_app(trained.model_path)) as client:
        from_file = client.post("/predict", json=wine).json()
    assert from_registry["class_name"] == from_file["class_name"]
    assert from_registry["probabilities"] == pytest.approx(from_file["probabilities"])


def test_model_uri_comes_from_the_environment(
    champion: Registered, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_URI", CHAMPION)
    monkeypatch.setenv("MODEL_PATH", "/nowhere/model.joblib")  # MODEL_URI wins
    with TestClient(create_app()) as client:
        assert client.get("/ready").json()["model_version"] == champion.version
    ready = create_flask_app().test_client().get("/ready")
    assert ready.get_json()["model_version"] == champion.version


def test_the_first_registration_becomes_champion(champion: Registered) -> None:
    assert champion.decision == Decision(
        champion.version, True, champion.version, "there was no champion yet"
    )
    assert aliases("wine-classifier") == {"champion": champion.version}


def test_a_model_tested_on_other_wines_stays_challenger(
    champion: Registered, tmp_path: Path
) -> None:
    # Another seed is another split: its scores come from other wines.
    retrained = train(tmp_path / "model.joblib", model_version="2.0.0", random_state=7)
    new = register(retrained.model_path)
    assert int(new.version) > int(champion.version)
    assert not new.decision.promoted
    assert new.decision.reason.startswith("not comparable: tested on data with digest ")
    assert new.uri == "models:/wine-classifier@challenger"
    assert aliases("wine-classifier") == {"champion": champion.version, "challenger": new.version}
    # What the next start serves: the champion, unchanged; the challenger by its alias.
    with TestClient(create_app(model_uri=CHAMPION)) as client:
        assert client.get("/ready").json()["model_version"] == champion.version
    with TestClient(create_app(model_uri=new.uri)) as client:
        assert client.get("/ready").json()["model_version"] == new.version


def train_with(tmp_path: Path, c: float) -> Path:
    """train.py's recipe and split, with another regularisation strength C."""

    def build(random_state: int = 42) -> Pipeline:
        classifier = LogisticRegression(C=c, max_iter=1000, random_state=random_state)
        return make_pipeline(StandardScaler(), classifier)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(wine_api.train, "build_pipeline", build)
        return train(tmp_path / f"c{c}.joblib", model_version=f"C={c}").model_path


def test_champion_moves_only_to_a_better_model(registry: str, tmp_path: Path) -> None:
    name = "gated-wine"  # a model of its own: this test decides who is first
    # C=0.01: every test wine right, but hesitant (log loss about 0.41).
    first = register(train_with(tmp_path, 0.01), name)
    assert (first.decision.promoted, first.decision.reason) == (True, "there was no champion yet")

    # C=0.001: 37 of 45 right. Worse: the champion stays.
    worse = register(train_with(tmp_path, 0.001), name)
    assert (worse.decision.promoted, worse.decision.champion) == (False, first.version)
    assert worse.decision.reason.startswith("not better: accuracy 0.8222, log loss 0.88")
    assert aliases(name) == {"champion": first.version, "challenger": worse.version}

    # C=1, train.py's own: every wine right and confident (log loss about 0.07).
    better = register(train_with(tmp_path, 1.0), name)
    assert (better.decision.promoted, better.decision.champion) == (True, better.version)
    assert better.decision.reason.startswith("better: accuracy 1.0000, log loss 0.067")
    assert aliases(name) == {"champion": better.version}  # challenger removed
    with TestClient(create_app(model_uri=f"models:/{name}@champion")) as client:
        assert client.get("/ready").json()["model_version"] == better.version

    # A pinned version does not move.
    with TestClient(create_app(model_uri=f"models:/{name}/{first.version}")) as client:
        assert client.get("/ready").json()["model_version"] == first.version


def test_register_moves_no_alias_itself() -> None:
    # Only the gate (wine_api.promotion, module 02's file) moves aliases.
    source = Path(register_module.__file__).read_text(encoding="utf-8")
    assert "promotion.promote(" in source
    assert "set_registered_model_alias" not in source


def test_the_batch_cli_reads_the_same_registry_model(
    champion: Registered, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "predictions.csv"
    code = batch.main(
        [
            "data/wines.csv",
            str(output),
            "--model-uri",
            f"models:/wine-classifier/{champion.version}",
        ]
    )
    assert code == batch.EXIT_OK
    assert f"(model version {champion.version})" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("models:/wine-classifier@no-such-alias", "Registered model alias no-such-alias not found"),
        ("models:/no-such-model/1", "not found"),
        ("runs:/0123/model", "is not models:/<name>@<alias>"),
    ],
    ids=["no such alias", "no such model", "not a registry URI"],
)
def test_a_model_the_registry_cannot_give_leaves_the_api_alive_but_not_ready(
    champion: Registered, uri: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(create_app(model_uri=uri)) as client:
        assert client.get("/health").status_code == 200
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["detail"] == (
        "the model could not be fetched from the registry; see the server log"
    )
    assert reason in caplog.text  # the log has the details


def test_a_registry_model_for_other_features_is_refused(
    registry: str, trained: TrainResult
) -> None:
    pipeline = joblib.load(trained.model_path)["pipeline"]
    signature = ModelSignature(inputs=Schema([ColSpec("double", f"x{i}") for i in range(13)]))
    with mlflow.start_run():
        mlflow.sklearn.log_model(
            pipeline, name="model", signature=signature, registered_model_name="other-features"
        )
    with TestClient(create_app(model_uri="models:/other-features/1")) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert "does not fit" in response.json()["detail"]


def test_an_unreachable_registry_fails_fast_when_retries_are_capped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on port 9 (discard). MLflow retries 7 times with
    # backoff by default: capped here, as the chapter advises for a server.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    with TestClient(create_app(model_uri=CHAMPION)) as client:
        assert client.get("/ready").status_code == 503
    assert "Connection refused" in caplog.text


def test_a_registry_model_from_another_sklearn_is_refused(
    champion: Registered, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # As if this environment had another scikit-learn than the one the
    # model's MLmodel file records.
    monkeypatch.setattr("wine_api.model.SKLEARN_VERSION", "0.0.0")
    with TestClient(create_app(model_uri=CHAMPION)) as client:
        response = client.get("/ready")
    assert response.json()["detail"] == (
        "the registry's model does not fit this code; register one that does"
    )
    assert f"was saved with scikit-learn {sklearn.__version__}, this is 0.0.0" in caplog.text
