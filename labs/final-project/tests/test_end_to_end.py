"""The whole pipeline, end to end, every service a real process (no Docker).

    MLflow server   <- training, the gate, the drift job, the trigger, the API
    the API         <- uvicorn, as in the lab; polls the `champion` alias
    Prometheus      <- scrapes the API's /metrics, evaluates prometheus/rules.yml
    the drift job and the retraining trigger: `python -m ...`, as the lab runs them

Undrifted traffic must trigger nothing. Drifted traffic must raise the drift
gauges in Prometheus and make the real WineFeatureDrift rule's expression
true, and lead to a retrained model that passes the gate, becomes champion
(a new registry version) and is what the running API serves.

Takes one to three minutes, most of it starting MLflow and importing it in
each job.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from live import free_port, mlflow_server, prometheus_server, query, serve, wait_for_series
from mlflow.tracking import MlflowClient

from wine_pipeline.config import CHAMPION, MODEL_NAME, PREVIOUS, Settings
from wine_pipeline.data import DRIFT, load_training_data
from wine_pipeline.data import main as data_main
from wine_pipeline.drift import load_report
from wine_pipeline.drift import main as drift_main
from wine_pipeline.gate import champion_version, check
from wine_pipeline.pipeline import main as pipeline_main
from wine_pipeline.train import train

LAB = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Stack:
    settings: Settings
    env: dict[str, str]  # what every process of the pipeline is started with
    workdir: Path
    prometheus: str  # base URL


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("e2e")
    with mlflow_server(work / "mlflow") as tracking_uri:
        port = free_port()
        settings = Settings(
            tracking_uri=tracking_uri,
            model_name=MODEL_NAME,
            data_dir=work / "data",
            reports_dir=work / "reports",
            api_url=f"http://127.0.0.1:{port}",
        )
        env = {
            "MLFLOW_TRACKING_URI": tracking_uri,
            "DATA_DIR": str(settings.data_dir),
            "REPORTS_DIR": str(settings.reports_dir),
            "API_URL": settings.api_url,
            "MODEL_REFRESH_SECONDS": "1",
        }
        # The first champion, as the lab's train and gate steps make it.
        data = load_training_data(settings.labelled_dir)
        first = train(settings, data, trigger="initial")
        assert check(settings, first.version, data.eval).passed

        uvicorn = [sys.executable, "-m", "uvicorn", "wine_pipeline.serve:app"]
        with (
            serve(
                [*uvicorn, "--host", "127.0.0.1", "--port", str(port)]
                + ["--log-config", str(LAB / "logging.json")],
                ready_url=f"{settings.api_url}/ready",
                cwd=work,
                env=env,
                deadline_s=120,
                log=work / "api.log",
            ),
            prometheus_server(
                work / "prometheus",
                [f"127.0.0.1:{port}"],
                rule_files=[LAB / "prometheus" / "rules.yml"],
            ) as prometheus,
        ):
            yield Stack(settings, env, work, prometheus)


def job(stack: Stack, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a pipeline stage as its own process, the way the lab's steps do."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=stack.workdir,
        env={**os.environ, **stack.env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
        return json.load(response)


def rule_query(prometheus: str, alert: str) -> str:
    """The expression of an alert rule as Prometheus loaded it from rules.yml."""
    groups = get_json(f"{prometheus}/api/v1/rules")["data"]["groups"]
    [expr] = [r["query"] for g in groups for r in g["rules"] if r["name"] == alert]
    return expr


def wait_for_report(stack: Stack) -> None:
    """Until Prometheus has scraped the report the drift job just wrote."""
    report = load_report(stack.settings.drift_report)
    assert report is not None
    wait_for_series(
        stack.prometheus,
        f"abs(wine_drift_report_timestamp_seconds - {report.created_unix}) < 0.01",
        deadline_s=30,
    )


def test_drift_leads_to_a_new_champion_that_the_running_api_serves(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, prometheus = stack.settings, stack.prometheus
    client = MlflowClient(settings.tracking_uri)
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)  # for the commands run in this process
    drift_alert = rule_query(prometheus, "WineFeatureDrift")

    # Prometheus scrapes the API, which serves version 1.
    wait_for_series(prometheus, 'wine_api_model_info{model_version="1"}', deadline_s=60)

    # --- undrifted traffic: nothing happens -----------------------------------
    # The same commands, called in this process to save two MLflow imports;
    # the drifted round below runs them as processes of their own.
    assert data_main(["send", "--name", "batch-001", "--seed", "1"]) == 0
    assert drift_main([]) == 0
    assert "no drift" in capsys.readouterr().out
    wait_for_report(stack)
    assert query(prometheus, drift_alert) == []  # the alert's expression is false

    assert pipeline_main([]) == 0
    assert capsys.readouterr().out.startswith("no drift")
    assert len(client.search_model_versions(f"name = '{settings.model_name}'")) == 1

    # --- drifted traffic: alert, retrain, gate, promote, serve ----------------
    assert data_main(["send", "--name", "batch-002", "--seed", "2", "--drifted"]) == 0
    drift = job(stack, "wine_pipeline.drift")
    assert drift.returncode == 0, drift.stdout + drift.stderr
    report = load_report(settings.drift_report)
    assert report is not None
    assert set(report.drifted) == set(DRIFT)
    assert report.model_version == "1"

    wait_for_report(stack)
    [firing] = query(prometheus, drift_alert)  # the alert's expression is true
    assert float(firing["value"][1]) == pytest.approx(report.max_psi)
    # ...and the rule evaluates it: firing at once (no `for:`), with module
    # 07's labels, which its Alertmanager routes to the model's owners.
    [alert] = wait_for_series(
        prometheus, 'ALERTS{alertname="WineFeatureDrift", alertstate="firing"}'
    )
    assert (alert["metric"]["severity"], alert["metric"]["team"]) == ("warning", "ml")

    trigger = job(stack, "wine_pipeline.pipeline", "--wait-seconds", "60")
    assert trigger.returncode == 0, trigger.stdout + trigger.stderr
    assert "version 2 promoted to champion (replacing 1)" in trigger.stdout

    # The registry: a new version, promoted by the gate, the old one kept for rollback.
    assert champion_version(client, settings.model_name) == "2"
    assert champion_version(client, settings.model_name, PREVIOUS) == "1"
    tags = client.get_model_version(settings.model_name, "2").tags
    assert tags["trigger"] == "drift"
    assert tags["gate.result"] == "passed"
    assert float(tags["gate.candidate_accuracy"]) > float(tags["gate.champion_accuracy"])
    run = client.get_run(client.get_model_version(settings.model_name, "2").run_id)
    assert run.data.tags["sources"] == "reference,batch-001,batch-002"

    # The running API followed the alias by itself, and Prometheus saw it.
    ready = get_json(f"{settings.api_url}/ready")
    assert (ready["model_alias"], ready["model_version"]) == (CHAMPION, "2")
    wait_for_series(prometheus, 'wine_api_model_info{model_version="2"}')
    assert query(prometheus, 'wine_api_model_info{model_version="1"}') == []
