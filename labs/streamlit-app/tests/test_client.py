"""The API client against the real API: each way a call can fail becomes one
exception with a message that says what to do."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from conftest import TESTS, AppFactory
from helpers import texts
from live import free_port, serve

from wine_app.client import ApiFailed, ApiRejected, ApiUnreachable, WineApiClient
from wine_app.features import median_wine, wine_frame
from wine_app.settings import resolve


def client(url: str) -> WineApiClient:
    return WineApiClient(resolve({"WINE_API_URL": url}, {}))


@pytest.fixture(scope="module")
def api_without_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real API started without a model file: alive, but not ready."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    missing = tmp_path_factory.mktemp("empty") / "model.joblib"
    command = [
        *(sys.executable, "-m", "uvicorn", "wine_api.app:app", "--app-dir", str(TESTS)),
        *("--host", "127.0.0.1", "--port", str(port)),
    ]
    with serve(command, ready_url=f"{base}/health", env={"MODEL_PATH": str(missing)}):
        yield base


def test_a_ready_api_reports_its_model_version(api_url: str) -> None:
    status = client(api_url).status()
    assert (status.reachable, status.ready, status.model_version) == (True, True, "test-1")


def test_a_batch_keeps_the_order_of_the_wines(api_url: str) -> None:
    frame = wine_frame()
    rows = frame.iloc[[0, 60, 130]]  # one wine of each class, in order
    predictions = client(api_url).predict_batch(rows.drop(columns="class").to_dict("records"))
    assert [p.class_name for p in predictions] == list(rows["class"])
    assert {p.model_version for p in predictions} == {"test-1"}


def test_a_request_the_api_refuses_lists_every_problem(api_url: str) -> None:
    wine = median_wine() | {"malic_acid": -1.0}
    del wine["proline"]
    with pytest.raises(ApiRejected) as refused:
        client(api_url).predict(wine)
    assert refused.value.status == 422
    assert refused.value.problems == [
        "malic_acid: Input should be greater than or equal to 0",
        "proline: Field required",
    ]


def test_a_wrong_path_asks_whether_this_is_the_api(api_url: str) -> None:
    with pytest.raises(ApiFailed, match=r"/v1/predict answered 404 Not Found\. Is .* the wine API"):
        client(f"{api_url}/v1").predict(median_wine())


def test_an_api_without_a_model_is_up_but_not_ready(api_without_model: str) -> None:
    status = client(api_without_model).status()
    assert (status.reachable, status.ready) == (True, False)
    assert status.detail.endswith(
        "is up but not ready (503): no model file at MODEL_PATH; train one first"
    )
    with pytest.raises(ApiFailed, match=r"up but not ready \(503\)"):
        client(api_without_model).predict(median_wine())


def test_the_sidebar_warns_when_the_api_is_not_ready(
    make_app: AppFactory, api_without_model: str
) -> None:
    at = make_app(api_without_model)
    assert not at.exception
    (warning,) = texts(at.sidebar.warning)
    assert "no model file at MODEL_PATH; train one first" in warning


def test_nothing_listening_is_unreachable_with_the_reason(down_url: str) -> None:
    with pytest.raises(ApiUnreachable) as unreachable:
        client(down_url).predict(median_wine())
    assert unreachable.value.reason == "connection refused: nothing listens on that port"
    assert unreachable.value.url == down_url
