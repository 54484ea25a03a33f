"""A real `mlflow server` (sqlite store, proxied artifacts) as a lab's
training code would use it: log a run through the client, read it back.

MLflow starts in 10-60 s, so the module starts its servers once: two at the
same moment (as two test sessions would), `tracking` being the first. The
last test stops them and checks that nothing is left."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from observe import enter_in, port_is_free, processes_of

from live import mlflow_server


@dataclass
class Tracking:
    uri: str
    workdir: Path
    stack: ExitStack  # closing it stops the server


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Tracking]]:
    workdirs = [tmp_path_factory.mktemp("mlflow") for _ in range(2)]
    with ExitStack() as stack:
        with ThreadPoolExecutor(max_workers=2) as pool:
            uris = list(pool.map(enter_in(stack), [mlflow_server(w) for w in workdirs]))
        yield [Tracking(uri, w, stack) for uri, w in zip(uris, workdirs, strict=True)]


@pytest.fixture(scope="module")
def tracking(servers: list[Tracking]) -> Tracking:
    return servers[0]


@pytest.fixture
def client(tracking: Tracking, monkeypatch: pytest.MonkeyPatch) -> MlflowClient:
    """The tracking URI as a lab sets it: MLFLOW_TRACKING_URI, for mlflow.* and MlflowClient()."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking.uri)
    return MlflowClient()


def test_the_server_answers_on_loopback(tracking: Tracking) -> None:
    assert tracking.uri.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(f"{tracking.uri}/health", timeout=5) as response:  # noqa: S310
        assert response.read() == b"OK"
    assert (tracking.workdir / "mlflow.db").is_file()  # the sqlite store is in workdir


def test_a_run_logged_through_the_client_reads_back(
    tracking: Tracking, client: MlflowClient, tmp_path: Path
) -> None:
    report = tmp_path / "report.txt"
    report.write_text("accuracy 0.93\n")
    mlflow.set_experiment("live-fixture")
    with mlflow.start_run(run_name="first") as run:
        mlflow.log_params({"model": "logreg", "C": 0.5})
        mlflow.log_metric("accuracy", 0.93)
        mlflow.log_artifact(str(report), artifact_path="reports")

    experiment = client.get_experiment_by_name("live-fixture")
    assert experiment is not None
    [found] = client.search_runs([experiment.experiment_id], "params.model = 'logreg'")
    assert found.info.run_id == run.info.run_id
    assert found.info.status == "FINISHED"
    assert found.data.params == {"model": "logreg", "C": "0.5"}
    assert found.data.metrics == {"accuracy": 0.93}

    # Uploaded through the server (mlflow-artifacts:/) into workdir/artifacts.
    assert found.info.artifact_uri.startswith("mlflow-artifacts:/")
    [stored] = (tracking.workdir / "artifacts").rglob("report.txt")
    assert stored.read_text() == "accuracy 0.93\n"
    downloaded = client.download_artifacts(found.info.run_id, "reports", str(tmp_path / "dl"))
    assert (Path(downloaded) / "report.txt").read_text() == "accuracy 0.93\n"


def test_two_servers_started_at_once_have_their_own_port_and_store(
    servers: list[Tracking], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = servers
    assert urlsplit(a.uri).port != urlsplit(b.uri).port
    monkeypatch.setenv("MLFLOW_TRACKING_URI", b.uri)
    assert MlflowClient().get_experiment_by_name("live-fixture") is None  # logged to a only
    MlflowClient().create_experiment("only-in-b")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", a.uri)
    assert MlflowClient().get_experiment_by_name("only-in-b") is None


def test_after_the_context_the_ports_are_free_and_the_processes_are_gone(
    servers: list[Tracking],
) -> None:
    """Runs last (file order): it stops the module's servers."""
    for server in servers:
        assert len(processes_of(server.workdir)) == 2  # `mlflow server` and its uvicorn
    servers[0].stack.close()  # one stack holds both
    for server in servers:
        port = urlsplit(server.uri).port
        assert port is not None
        assert port_is_free(port)
        assert processes_of(server.workdir) == []
