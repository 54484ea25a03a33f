"""One metrics, log and alert contract between module 07 (monitoring) and
module 09 (the final project), proven with real parts.

Module 09's service runs as the lab runs it (uvicorn, `--log-config
logging.json`, the champion from a real MLflow registry, drifted traffic
sent and the real drift job run), a real Prometheus scrapes it and evaluates
module 09's rules, and then:

- every PromQL expression of module 07's Grafana dashboard returns series
  with numbers, and its `$job` variable finds the job;
- every alert rule of module 09 routes, by its labels, to the receiver that
  module 07's Alertmanager config gives module 07's alerts with the same
  severity (amtool `config routes test`), never only to the root's default;
- the service's log lines are module 07's JSON lines, with the same fields.

A rename in 09 (the `route` label back to `endpoint`, `severity: page`)
fails it. Needs `prometheus` and `amtool` on PATH (scripts/install-tools.sh
puts Prometheus 3.5 and Alertmanager 0.33 in .tools/venv/bin) and the MLflow
of this suite.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from live import free_port, mlflow_server, prometheus_server, query, serve, wait_for_series

ROOT = Path(__file__).resolve().parents[3]
MONITORING = ROOT / "labs/monitoring"
FINAL = ROOT / "labs/final-project"
DASHBOARD = MONITORING / "grafana/dashboards/wine-api.json"
ALERTMANAGER = MONITORING / "alertmanager/alertmanager.yml"

# live.py names its scrape job "live"; the labs' files say "wine-api".
JOB = "live"
SUBSTITUTIONS = {"$job": JOB, "$__rate_interval": "1m"}

# The fields of module 07's JSON log lines (wine_api/logs.py, metrics.py, app.py).
BASE_FIELDS = {"ts", "level", "logger", "event"}
REQUEST_FIELDS = BASE_FIELDS | {"request_id", "method", "route", "status", "duration_ms"}
PREDICTION_FIELDS = BASE_FIELDS | {"request_id", "model_version", "class_name", "confidence"}
WINE = {
    **{"alcohol": 13.2, "malic_acid": 1.78, "ash": 2.14, "alcalinity_of_ash": 11.2},
    **{"magnesium": 100.0, "total_phenols": 2.65, "flavanoids": 2.76},
    **{"nonflavanoid_phenols": 0.26, "proanthocyanins": 1.28, "color_intensity": 4.38},
    **{"hue": 1.05, "od280_od315_of_diluted_wines": 3.4, "proline": 1050.0},
}


def require(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        message = f"no `{tool}` on PATH (run scripts/install-tools.sh; it comes with {package})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI=true: no check may be skipped")
        pytest.skip(message)
    return path


def rules_of(path: Path) -> list[dict[str, Any]]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [rule for group in doc["groups"] for rule in group["rules"]]


def groups_of(path: Path) -> dict[str, list[dict[str, Any]]]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {group["name"]: group["rules"] for group in doc["groups"]}


def dashboard_queries() -> list[tuple[str, str]]:
    doc = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found = []
    for panel in doc["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for name, value in SUBSTITUTIONS.items():
                expr = expr.replace(name, value)
            assert "$" not in expr, f"{panel['title']}: unknown variable in {expr}"
            found.append((panel["title"], expr))
    return found


def has_numbers(result: list[dict[str, Any]]) -> bool:
    return any(not math.isnan(float(s["value"][1])) for s in result)


def post(url: str, body: object) -> int:
    request = urllib.request.Request(  # noqa: S310 (loopback only)
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def run(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 (our own interpreter and modules)
        [sys.executable, "-m", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
    return done.stdout


# --- without servers ---------------------------------------------------------


def test_the_recording_rules_are_module_07s() -> None:
    """09's dashboard series come from 07's recording rules, rule for rule."""
    name = "wine-api-recording"
    assert (
        groups_of(FINAL / "prometheus/rules.yml")[name]
        == groups_of(MONITORING / "prometheus/rules.yml")[name]
    )


def test_the_log_config_is_module_07s_with_its_own_package() -> None:
    ours = json.loads((FINAL / "logging.json").read_text(encoding="utf-8"))
    theirs = json.loads((MONITORING / "logging.json").read_text(encoding="utf-8"))
    theirs["formatters"]["json"]["()"] = "wine_pipeline.logs.JsonFormatter"
    assert ours == theirs


def receiver(amtool: str, labels: dict[str, str]) -> str:
    """The receiver(s) module 07's Alertmanager picks for an alert with these labels."""
    done = subprocess.run(  # noqa: S603
        [
            amtool,
            "config",
            "routes",
            "test",
            f"--config.file={ALERTMANAGER}",
            *(f"{k}={v}" for k, v in sorted(labels.items())),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def alert_labels(rule: dict[str, Any]) -> dict[str, str]:
    return {"alertname": rule["alert"], "job": "wine-api", **rule.get("labels", {})}


def test_every_alert_of_09_routes_as_module_07s_alerts_of_its_severity() -> None:
    amtool = require("amtool", "prometheus-alertmanager")
    config = yaml.safe_load(ALERTMANAGER.read_text(encoding="utf-8"))
    default = config["route"]["receiver"]
    # What 07's own alerts get, by (severity, team).
    expected: dict[tuple[str, str], str] = {}
    for rule in rules_of(MONITORING / "prometheus/rules.yml"):
        if "alert" in rule:
            labels = rule["labels"]
            expected[(labels["severity"], labels.get("team", ""))] = receiver(
                amtool, alert_labels(rule)
            )
    assert expected[("critical", "")] == "pager"  # what the chapter teaches

    alerts = [r for r in rules_of(FINAL / "prometheus/rules.yml") if "alert" in r]
    assert alerts
    for rule in alerts:
        labels = rule.get("labels", {})
        key = (labels.get("severity", ""), labels.get("team", ""))
        assert key in expected, (
            f"{rule['alert']}: severity/team {key} is none of module 07's {sorted(expected)}"
        )
        got = receiver(amtool, alert_labels(rule))
        assert got == expected[key], f"{rule['alert']} goes to {got}, 07's {key} to {expected[key]}"
        if key[0] == "critical":
            assert got != default, f"{rule['alert']} is critical but pages nobody"


# --- module 09's service, scraped by a real Prometheus -----------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require("prometheus", "prometheus")
    work = tmp_path_factory.mktemp("contract")
    with mlflow_server(work / "mlflow") as tracking_uri:
        port = free_port()
        api = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "PYTHONPATH": str(FINAL / "src"),
            "MLFLOW_TRACKING_URI": tracking_uri,
            "DATA_DIR": str(work / "data"),
            "REPORTS_DIR": str(work / "reports"),
            "API_URL": api,
            "MODEL_REFRESH_SECONDS": "2",
        }
        # The lab's champion step: train, register, gate, promote.
        run(env, work, "wine_pipeline.train", "--reference-only", "--trigger", "initial")
        run(env, work, "wine_pipeline.gate", "check", "latest")

        # Module 09's rules as shipped, with the job renamed (see JOB).
        text = (FINAL / "prometheus/rules.yml").read_text(encoding="utf-8")
        (work / "rules.yml").write_text(text.replace('job="wine-api"', f'job="{JOB}"'))
        command = [
            *(sys.executable, "-m", "uvicorn", "wine_pipeline.serve:app"),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--log-config", str(FINAL / "logging.json")),
        ]
        log = work / "api.log"
        with (
            serve(command, ready_url=f"{api}/ready", cwd=work, env=env, log=log, deadline_s=120),
            prometheus_server(
                work / "prometheus", [f"127.0.0.1:{port}"], rule_files=[work / "rules.yml"]
            ) as prometheus,
        ):
            wait_for_series(prometheus, f'up{{job="{JOB}"}} == 1', deadline_s=30)

            def traffic(round_: int) -> None:
                """Drifted wines as a batch (the lab's step), single wines,
                bad bodies (422) and an unknown path (404)."""
                run(env, work, "wine_pipeline.data", "send", "--name", f"b{round_}", "--drifted")
                assert [post(f"{api}/predict", WINE) for _ in range(5)] == [200] * 5
                assert [post(f"{api}/predict", {"alcohol": -1}) for _ in range(5)] == [422] * 5
                assert post(f"{api}/no/such/path", {}) in (404, 405)

            # A series that appears with its first request (a route's latency
            # buckets) needs a second round after a scrape, or rate() is 0.
            # Each round scores 205 wines: a batch of 200 and 5 single ones.
            traffic(1)
            wait_for_series(prometheus, "sum(wine_api_predictions_total) >= 205", deadline_s=30)
            run(env, work, "wine_pipeline.drift")
            wait_for_series(prometheus, "wine_drift_psi", deadline_s=30)
            # The last round just before the queries, which rate over [1m].
            traffic(2)
            wait_for_series(prometheus, "sum(wine_api_predictions_total) >= 410", deadline_s=30)
            yield {"prometheus": prometheus, "log": log}


@pytest.mark.parametrize(("title", "expr"), dashboard_queries(), ids=lambda v: v[:60])
def test_every_query_of_module_07s_dashboard_returns_data(
    stack: dict[str, Any], title: str, expr: str
) -> None:
    # A recording rule evaluated just before the last scrape still holds
    # the NaN of a rate of 0: ask again until a number comes, or time out.
    deadline = time.monotonic() + 30
    result = wait_for_series(stack["prometheus"], expr, deadline_s=30)
    while not has_numbers(result) and time.monotonic() < deadline:
        time.sleep(0.5)
        result = query(stack["prometheus"], expr)
    assert has_numbers(result), f"{title}: only NaN from {expr}"
    # A panel split `by (route, ...)` needs that label on every series: a
    # sum by a label the service does not have returns one unlabelled series.
    grouped = {
        label.strip()
        for clause in re.findall(r"\bby \(([^)]*)\)", expr)
        for label in clause.split(",")
    } - {"le"}
    for series in result:
        missing = grouped - series["metric"].keys()
        assert not missing, f"{title}: no {sorted(missing)} label on {series['metric']}"


def test_the_dashboard_variable_finds_the_job(stack: dict[str, Any]) -> None:
    doc = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    (variable,) = doc["templating"]["list"]
    match = re.fullmatch(r"label_values\((\w+), (\w+)\)", variable["definition"])
    assert match
    metric, label = match.groups()
    assert JOB in {s["metric"][label] for s in query(stack["prometheus"], metric)}


def test_the_drift_alert_fires_with_module_07s_labels(stack: dict[str, Any]) -> None:
    [alert] = wait_for_series(
        stack["prometheus"], 'ALERTS{alertname="WineFeatureDrift", alertstate="firing"}'
    )
    assert (alert["metric"]["severity"], alert["metric"]["team"]) == ("warning", "ml")


def test_the_service_logs_module_07s_json_lines(stack: dict[str, Any]) -> None:
    entries = [json.loads(line) for line in stack["log"].read_text().splitlines()]
    requests = [e for e in entries if e["event"] == "request"]
    predictions = [e for e in entries if e["event"] == "prediction"]
    assert requests
    assert predictions
    assert all(set(e) == REQUEST_FIELDS for e in requests), requests[0]
    assert all(set(e) == PREDICTION_FIELDS for e in predictions), predictions[0]
    assert {e["route"] for e in requests} >= {"/predict", "/ready", "<unmatched>"}
    assert any(e["logger"] == "uvicorn.error" for e in entries)  # uvicorn's own, as JSON
