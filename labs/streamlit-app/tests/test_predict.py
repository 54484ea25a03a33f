"""The Predict tab against the real wine API: the form, the answer, the chart."""

from __future__ import annotations

import pytest
import requests
from conftest import AppFactory
from helpers import charts, texts
from streamlit.testing.v1 import AppTest

from wine_app.features import FEATURES, median_wine, typical_wine


def submit(at: AppTest) -> AppTest:
    return at.form_submit_button[0].click().run()


def test_the_form_starts_at_the_median_wine(make_app: AppFactory, api_url: str) -> None:
    at = make_app(api_url)
    assert not at.exception
    fields = {n.key: n.value for n in at.number_input}
    assert sorted(fields) == sorted(f"feature_{f.key}" for f in FEATURES)
    assert fields == {f"feature_{k}": v for k, v in median_wine().items()}
    # Nothing is predicted before the user asks.
    assert not at.metric


def test_the_sidebar_shows_the_api_and_its_model(make_app: AppFactory, api_url: str) -> None:
    at = make_app(api_url)
    assert at.sidebar.code[0].value == api_url
    assert texts(at.sidebar.success) == ["Ready, model version test-1."]
    assert "environment variable WINE_API_URL" in texts(at.sidebar.caption)[0]


def test_a_prediction_shows_the_apis_answer(make_app: AppFactory, api_url: str) -> None:
    at = submit(make_app(api_url))
    assert not at.exception
    assert not at.error

    # What the API itself answers for the same wine: the app must show exactly that.
    expected = requests.post(f"{api_url}/predict", json=median_wine(), timeout=10).json()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Predicted class"] == expected["class_name"]
    best = expected["probabilities"][expected["class_name"]]
    assert metrics["Probability"] == f"{best:.1%}"
    assert "Answered by the API, model version test-1." in texts(at.caption)

    ((spec, frames),) = charts(at)
    assert spec["layer"][0]["mark"]["type"] == "bar"
    (data,) = frames
    shown = dict(zip(data["class"], data["probability"], strict=True))
    assert shown == pytest.approx(expected["probabilities"])
    assert sum(shown.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("class_name", ["class_0", "class_1", "class_2"])
def test_a_typical_wine_of_each_class_is_recognised(
    make_app: AppFactory, api_url: str, class_name: str
) -> None:
    at = make_app(api_url)
    (preset,) = [b for b in at.button if b.label == f"Typical {class_name}"]
    preset.click().run()
    # The callback filled the form through session_state before the rerun.
    assert at.number_input(key="feature_proline").value == typical_wine(class_name)["proline"]
    at = submit(at)
    assert {m.label: m.value for m in at.metric}["Predicted class"] == class_name


def test_a_value_outside_the_training_range_warns_but_still_predicts(
    make_app: AppFactory, api_url: str
) -> None:
    at = make_app(api_url)
    at.number_input(key="feature_proline").set_value(3000.0)
    at = submit(at)
    expected = "Proline: 3000 is outside the training range 278-1680"
    assert any(expected in w for w in texts(at.warning))
    assert {m.label for m in at.metric} >= {"Predicted class"}


def test_the_prediction_survives_reruns_until_the_form_is_refilled(
    make_app: AppFactory, api_url: str
) -> None:
    at = submit(make_app(api_url))
    answer = at.metric[0].value
    # Any other interaction reruns the script; session_state keeps the answer.
    at.toggle(key="use_fallback").set_value(True).run()
    assert at.metric[0].value == answer
    # Refilling the form drops the answer: it belonged to other values.
    (median,) = [b for b in at.button if b.label == "Median wine"]
    median.click().run()
    assert not at.metric
