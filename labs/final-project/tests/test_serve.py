"""The API in-process: the champion from the registry, alias moves, metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from helpers import Trained, register
from mlflow.tracking import MlflowClient
from prometheus_client.parser import text_string_to_metric_families

from wine_pipeline.config import CHAMPION, Settings
from wine_pipeline.data import FEATURES, make_batch, read_recent
from wine_pipeline.serve import create_app, refresh_once

WINE = make_batch(1, seed=0)[FEATURES].iloc[0].to_dict()


@pytest.fixture
def client(served: Settings) -> Iterator[TestClient]:
    # `with` runs the lifespan: the first registry check happens before it returns.
    # A refresh interval of an hour: tests call refresh themselves.
    with TestClient(create_app(served, refresh_seconds=3600)) as c:
        yield c


def samples(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def test_ready_names_the_version_it_serves(client: TestClient, served: Settings) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    body = client.get("/ready").json()
    assert body["status"] == "ready"
    assert body["model_name"] == served.model_name
    assert body["model_alias"] == CHAMPION
    assert body["model_version"] == "1"


def test_predict_and_batch(client: TestClient) -> None:
    single = client.post("/predict", json=WINE)
    assert single.status_code == 200, single.text
    assert single.json()["model_version"] == "1"
    assert sum(single.json()["probabilities"].values()) == pytest.approx(1.0)
    batch = client.post("/predict/batch", json={"instances": [WINE, WINE]})
    assert [p["class_name"] for p in batch.json()["predictions"]] == [
        single.json()["class_name"]
    ] * 2


def test_bad_input_is_a_422(client: TestClient) -> None:
    response = client.post("/predict", json={**WINE, "alcohol": -1, "colour": 3})
    assert response.status_code == 422
    assert {e["type"] for e in response.json()["detail"]} == {
        "greater_than_equal",
        "extra_forbidden",
    }


def test_every_scored_row_goes_to_the_prediction_log(client: TestClient, served: Settings) -> None:
    client.post("/predict/batch", json={"instances": [WINE] * 3})
    client.post("/predict", json={**WINE, "alcohol": 14.0})
    logged = read_recent(served.prediction_log, 100)
    assert len(logged) == 4
    assert logged["alcohol"].tolist()[-1] == 14.0


def test_metrics_name_the_model_and_count_requests(client: TestClient, served: Settings) -> None:
    client.post("/predict", json=WINE)
    client.get("/no/such/path")
    found = samples(client)
    # Module 07's names and labels (metrics.py is its file, byte for byte).
    assert found[("wine_api_model_info", frozenset({("model_version", "1")}))] == 1
    assert found[("wine_api_model_loaded", frozenset())] == 1
    ok = frozenset({("method", "POST"), ("route", "/predict"), ("status", "200")})
    assert found[("wine_api_requests_total", ok)] == 1
    # Unknown paths share one label value: a scanner cannot explode the series count.
    unmatched = frozenset({("method", "GET"), ("route", "<unmatched>"), ("status", "404")})
    assert found[("wine_api_requests_total", unmatched)] == 1
    assert sum(v for (n, _), v in found.items() if n == "wine_api_predictions_total") == 1
    confidence = ("wine_api_prediction_confidence_count", frozenset({("model_version", "1")}))
    assert found[confidence] == 1


def test_the_api_follows_the_alias(client: TestClient, served: Settings, trained: Trained) -> None:
    holder = client.app.state.holder
    assert holder.refresh() is False  # nothing moved
    second = register(served, trained.poor)
    MlflowClient(served.tracking_uri).set_registered_model_alias(
        served.model_name, CHAMPION, second
    )
    assert holder.refresh() is True
    assert client.get("/ready").json()["model_version"] == second
    assert client.post("/predict", json=WINE).json()["model_version"] == second


def test_the_poll_loop_picks_up_a_promotion(served: Settings, trained: Trained) -> None:
    with TestClient(create_app(served, refresh_seconds=0.2)) as client:
        second = register(served, trained.poor)
        MlflowClient(served.tracking_uri).set_registered_model_alias(
            served.model_name, CHAMPION, second
        )
        deadline = time.monotonic() + 20
        while client.get("/ready").json()["model_version"] != second:
            assert time.monotonic() < deadline, "the API never loaded the new champion"
            time.sleep(0.1)
        loaded = ("wine_api_model_refreshes_total", frozenset({("result", "loaded")}))
        assert samples(client)[loaded] == 2  # the first load, then the promotion


def test_a_registry_outage_keeps_the_loaded_model_serving(client: TestClient) -> None:
    holder = client.app.state.holder
    holder.settings = replace(holder.settings, tracking_uri="http://127.0.0.1:9")  # nothing there
    refresh_once(holder, client.app.state.metrics)
    assert client.get("/ready").status_code == 200
    assert client.post("/predict", json=WINE).status_code == 200
    assert (
        samples(client)[("wine_api_model_refreshes_total", frozenset({("result", "error")}))] == 1
    )


def test_without_a_champion_the_api_is_up_but_not_ready(settings: Settings) -> None:
    with TestClient(create_app(settings, refresh_seconds=3600)) as client:
        assert client.get("/health").status_code == 200
        response = client.get("/ready")
        assert response.status_code == 503
        assert response.json()["detail"].startswith("cannot load champion from the registry")
        assert client.post("/predict", json=WINE).status_code == 503
        assert samples(client)[("wine_api_model_loaded", frozenset())] == 0


def test_the_refresh_interval_must_be_positive(settings: Settings) -> None:
    with pytest.raises(ValueError, match="MODEL_REFRESH_SECONDS"):
        create_app(settings, refresh_seconds=0)
