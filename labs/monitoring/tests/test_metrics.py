"""The API's /metrics: what each request, prediction and error adds, read
back through prometheus_client's own parser of the exposition format."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families

from wine_api.app import LoadedModel, create_app
from wine_api.drift import write_report
from wine_api.metrics import UNMATCHED_ROUTE
from wine_api.train import TrainResult

Labels = dict[str, str]


def scrape(client: TestClient) -> dict[str, list[tuple[Labels, float]]]:
    """Sample name -> [(labels, value)], as Prometheus would read it."""
    response = client.get("/metrics")
    assert response.status_code == 200
    samples: dict[str, list[tuple[Labels, float]]] = {}
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            samples.setdefault(s.name, []).append((s.labels, s.value))
    return samples


def value(samples: dict[str, list[tuple[Labels, float]]], name: str, **labels: str) -> float:
    """The value of the one sample of `name` whose labels include `labels`."""
    matches = [v for ls, v in samples.get(name, []) if labels.items() <= ls.items()]
    assert len(matches) == 1, f"{name}{labels}: {matches}"
    return matches[0]


def test_metrics_are_in_the_prometheus_text_format(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE wine_api_requests_total counter" in response.text
    assert "# TYPE wine_api_request_duration_seconds histogram" in response.text
    assert "# TYPE wine_api_model_info gauge" in response.text


def test_the_scraper_gets_openmetrics_when_it_asks(client: TestClient) -> None:
    response = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


def test_a_prediction_is_counted_by_route_status_and_class(
    client: TestClient, wine: dict[str, float]
) -> None:
    assert client.post("/predict", json=wine).status_code == 200
    samples = scrape(client)
    total = "wine_api_requests_total"
    assert value(samples, total, method="POST", route="/predict", status="200") == 1
    assert value(samples, "wine_api_predictions_total", class_name="class_0") == 1
    assert value(samples, "wine_api_predictions_total", class_name="class_1") == 0
    confidence = value(samples, "wine_api_prediction_confidence_sum", model_version="test-1")
    assert 1 / 3 < confidence <= 1
    duration = value(
        samples, "wine_api_request_duration_seconds_count", method="POST", route="/predict"
    )
    assert duration == 1


def test_every_class_exists_at_zero_before_any_prediction(client: TestClient) -> None:
    samples = scrape(client)
    predicted = {ls["class_name"]: v for ls, v in samples["wine_api_predictions_total"]}
    assert predicted == {"class_0": 0, "class_1": 0, "class_2": 0}


def test_a_batch_counts_one_prediction_per_wine(
    client: TestClient, wines: list[tuple[dict[str, float], str]]
) -> None:
    batch = [wines[0][0], wines[70][0], wines[170][0]]  # one of each class
    assert client.post("/predict/batch", json={"instances": batch}).status_code == 200
    samples = scrape(client)
    for name in ("class_0", "class_1", "class_2"):
        assert value(samples, "wine_api_predictions_total", class_name=name) == 1
    assert value(samples, "wine_api_prediction_confidence_count", model_version="test-1") == 3


def test_the_histogram_buckets_are_cumulative(client: TestClient, wine: dict[str, float]) -> None:
    for _ in range(3):
        client.post("/predict", json=wine)
    samples = scrape(client)
    buckets = sorted(
        (float(ls["le"]), v)
        for ls, v in samples["wine_api_request_duration_seconds_bucket"]
        if ls["route"] == "/predict"
    )
    counts = [v for _, v in buckets]
    assert counts == sorted(counts)  # each bucket counts everything at or below its bound
    assert buckets[-1] == (math.inf, 3)


def test_invalid_requests_and_unknown_paths_are_labelled_without_raw_paths(
    client: TestClient,
) -> None:
    client.post("/predict", json={"alcohol": -1})
    client.get("/wp-admin/setup.php")
    client.get("/predict/12345")
    samples = scrape(client)
    total = "wine_api_requests_total"
    assert value(samples, total, route="/predict", status="422") == 1
    # Two different unknown paths, one label value: no series per path.
    assert value(samples, total, route=UNMATCHED_ROUTE, status="404") == 2
    routes = {ls["route"] for ls, _ in samples[total]}
    assert not any("wp-admin" in r or "12345" in r for r in routes)


def test_scrapes_are_not_counted_as_traffic(client: TestClient) -> None:
    for _ in range(3):
        client.get("/metrics")
    samples = scrape(client)
    # No request yet but the scrapes: only the expected series, all at 0.
    assert {ls["route"] for ls, _ in samples["wine_api_requests_total"]} == {
        "/predict",
        "/predict/batch",
    }
    assert all(v == 0 for _, v in samples["wine_api_requests_total"])


def test_the_prediction_routes_series_exist_at_zero_before_any_request(
    client: TestClient,
) -> None:
    samples = scrape(client)
    for route in ("/predict", "/predict/batch"):
        for status in ("200", "422"):
            assert value(samples, "wine_api_requests_total", route=route, status=status) == 0


def test_an_unhandled_exception_is_counted_as_a_500(
    trained: TrainResult,
    drift_report: Path,
    wine: dict[str, float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(self: LoadedModel, wines: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(LoadedModel, "predict", broken)
    app = create_app(trained.model_path, drift_report)
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.post("/predict", json=wine).status_code == 500
        samples = scrape(c)
    assert value(samples, "wine_api_requests_total", route="/predict", status="500") == 1
    assert value(samples, "wine_api_requests_in_progress") == 0  # decremented on the way out


def test_without_a_model_there_is_no_model_info_and_predictions_get_503(
    client_without_model: TestClient, wine: dict[str, float]
) -> None:
    assert client_without_model.post("/predict", json=wine).status_code == 503
    samples = scrape(client_without_model)
    assert "wine_api_model_info" not in samples
    assert value(samples, "wine_api_requests_total", route="/predict", status="503") == 1


def test_the_model_info_metric_names_the_version(client: TestClient) -> None:
    samples = scrape(client)
    assert samples["wine_api_model_info"] == [({"model_version": "test-1"}, 1.0)]


def test_process_metrics_are_exposed(client: TestClient) -> None:
    samples = scrape(client)
    assert "python_info" in samples
    assert "process_resident_memory_bytes" in samples  # Linux only (read from /proc)


def test_two_apps_in_one_process_do_not_clash(trained: TrainResult, tmp_path: Path) -> None:
    # Each app has its own registry; with the global one, the second
    # create_app() would raise "Duplicated timeseries in CollectorRegistry".
    first = create_app(trained.model_path, tmp_path / "a.json")
    second = create_app(trained.model_path, tmp_path / "b.json")
    assert first.state.metrics.registry is not second.state.metrics.registry


def test_registering_a_metric_name_twice_fails() -> None:
    registry = CollectorRegistry()
    Counter("wine_api_requests", "first", registry=registry)
    with pytest.raises(ValueError, match="Duplicated timeseries in CollectorRegistry"):
        Counter("wine_api_requests", "second", registry=registry)


def test_no_drift_report_means_no_drift_series(client: TestClient) -> None:
    assert not any(name.startswith("wine_drift") for name in scrape(client))


def test_the_last_drift_report_is_exposed_as_gauges(client: TestClient, drift_report: Path) -> None:
    write_report(
        {
            "created_unix": 1_795_000_000.5,
            "drift_detected": True,
            "features": [
                {"feature": "alcohol", "psi": 3.62, "ks_statistic": 0.59, "ks_pvalue": 1e-43},
                {"feature": "hue", "psi": 0.04, "ks_statistic": 0.05, "ks_pvalue": 0.86},
            ],
        },
        drift_report,
    )
    samples = scrape(client)
    assert value(samples, "wine_drift_psi", feature="alcohol") == 3.62
    assert value(samples, "wine_drift_psi", feature="hue") == 0.04
    assert value(samples, "wine_drift_ks_pvalue", feature="alcohol") == 1e-43
    assert value(samples, "wine_drift_ks_statistic", feature="hue") == 0.05
    assert value(samples, "wine_drift_detected") == 1
    assert value(samples, "wine_drift_report_timestamp_seconds") == 1_795_000_000.5

    # A new report is picked up at the next scrape, without a restart.
    report = json.loads(drift_report.read_text())
    report["features"][0]["psi"] = 0.01
    report["drift_detected"] = False
    write_report(report, drift_report)
    samples = scrape(client)
    assert value(samples, "wine_drift_psi", feature="alcohol") == 0.01
    assert value(samples, "wine_drift_detected") == 0


def test_an_unreadable_drift_report_is_logged_and_skipped(
    client: TestClient, drift_report: Path, caplog: pytest.LogCaptureFixture
) -> None:
    drift_report.parent.mkdir(parents=True)
    drift_report.write_text('{"features": [', encoding="utf-8")  # half a file
    samples = scrape(client)
    assert not any(name.startswith("wine_drift") for name in samples)
    assert "wine_api_requests_in_progress" in samples  # the rest of /metrics still works
    assert any(r.getMessage() == "cannot read the drift report" for r in caplog.records)
