"""The Explore tab: a dashboard of the bundled wine data, which works
without the API."""

from __future__ import annotations

from conftest import AppFactory
from helpers import charts, show_tab

from wine_app.features import wine_frame


def test_the_dashboard_needs_no_api(make_app: AppFactory, down_url: str) -> None:
    at = show_tab(make_app(down_url), "Explore the data")
    assert not at.exception
    assert not at.main.error
    assert {m.label: m.value for m in at.metric} == {
        "Wines": "178",
        "class_0": "59",
        "class_1": "71",
        "class_2": "48",
    }


def test_choosing_a_feature_redraws_its_histogram_and_summary(
    make_app: AppFactory, down_url: str
) -> None:
    at = show_tab(make_app(down_url), "Explore the data")
    at = at.selectbox(key="explore_feature").set_value("flavanoids").run()
    histogram, scatter = charts(at)
    spec, (data,) = histogram
    assert spec["encoding"]["x"]["field"] == "flavanoids"
    assert spec["encoding"]["x"]["bin"] == {"maxbins": 30}
    assert len(data) == 178
    # The summary table: one row per class, computed from the same data.
    summary = at.dataframe[0].value
    assert list(summary.index) == ["class_0", "class_1", "class_2"]
    frame = wine_frame()
    class_2_mean = frame.loc[frame["class"] == "class_2", "flavanoids"].mean()
    assert summary.loc["class_2", "mean"] == round(class_2_mean, 3)
    # The scatter plot keeps its own two features.
    scatter_spec, _ = scatter
    assert scatter_spec["encoding"]["x"]["field"] == "color_intensity"
    assert scatter_spec["encoding"]["y"]["field"] == "proline"


def test_the_last_submitted_wine_is_marked_on_the_histogram(
    make_app: AppFactory, api_url: str
) -> None:
    at = make_app(api_url)
    at.number_input(key="feature_proline").set_value(1234.0)
    at = at.form_submit_button[0].click().run()
    at = show_tab(at, "Explore the data")
    at = at.selectbox(key="explore_feature").set_value("proline").run()
    (spec, (_, marker)), _ = charts(at)
    assert spec["layer"][1]["mark"]["type"] == "rule"
    assert marker["proline"].tolist() == [1234.0]
    assert "The dashed line is the wine you last sent from the Predict tab." in [
        c.value for c in at.caption
    ]


def test_only_the_open_tab_runs(make_app: AppFactory, down_url: str) -> None:
    # With on_change="rerun", st.tabs reports which tab is open and the app
    # skips the others: the Predict tab's form is not drawn here.
    at = show_tab(make_app(down_url), "Explore the data")
    assert not at.number_input
    assert at.tabs[2].label == "Explore the data"
    assert at.tabs[2].children
    assert not at.tabs[0].children
