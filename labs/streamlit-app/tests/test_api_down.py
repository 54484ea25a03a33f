"""The app with nothing listening at the API's URL: a real connection refused,
not a mock. It must say so, name the URL and how to start the API, and use
the local model only when the user turns it on, with a label."""

from __future__ import annotations

from conftest import AppFactory
from helpers import charts, show_tab, texts

from wine_app.fallback import LOCAL_MODEL_VERSION
from wine_app.features import sample_csv


def test_the_sidebar_says_the_api_is_not_reachable(make_app: AppFactory, down_url: str) -> None:
    at = make_app(down_url)
    assert not at.exception
    assert texts(at.sidebar.error) == [
        "Not reachable: connection refused: nothing listens on that port."
    ]
    assert at.sidebar.code[0].value == down_url


def test_a_prediction_names_the_url_and_how_to_start_the_api(
    make_app: AppFactory, down_url: str
) -> None:
    at = make_app(down_url).form_submit_button[0].click().run()
    assert not at.exception
    (error,) = texts(at.main.error)
    assert f"Cannot reach the wine API at {down_url} (connection refused" in error
    assert "uv run uvicorn wine_api.app:app --host 127.0.0.1 --port 8000" in error
    assert "WINE_API_URL" in error
    # No answer is made up: no metric, no chart, and a hint at the fallback.
    assert not at.metric
    assert not charts(at)
    assert any("turn on the local model" in i for i in texts(at.info))


def test_the_local_fallback_answers_with_a_label(make_app: AppFactory, down_url: str) -> None:
    at = make_app(down_url)
    at.toggle(key="use_fallback").set_value(True)
    at = at.form_submit_button[0].click().run()
    assert not at.exception
    # Still an error: the API is down, whatever the fallback does.
    assert any("Cannot reach the wine API" in e for e in texts(at.main.error))
    assert any("local fallback model" in w and "not from the API" in w for w in texts(at.warning))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Predicted class"] in {"class_0", "class_1", "class_2"}
    assert len(charts(at)) == 1
    assert at.session_state["prediction"].model_version == LOCAL_MODEL_VERSION


def test_a_batch_names_the_url_too(make_app: AppFactory, down_url: str) -> None:
    at = show_tab(make_app(down_url), "Batch")
    at.file_uploader(key="batch_file").set_value(("wines.csv", sample_csv(), "text/csv"))
    at = at.run()
    (predict,) = [b for b in at.button if b.label.startswith("Predict ")]
    at = predict.click().run()
    assert not at.exception
    assert any(f"Cannot reach the wine API at {down_url}" in e for e in texts(at.main.error))
    assert not at.dataframe
