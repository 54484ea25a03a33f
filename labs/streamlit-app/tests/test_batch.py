"""The Batch tab: a CSV upload is checked before anything is sent, then
scored with one call to the real API's /predict/batch."""

from __future__ import annotations

import pytest
from conftest import AppFactory
from helpers import charts, show_tab, texts
from streamlit.testing.v1 import AppTest

from wine_app.features import FEATURE_KEYS, wine_frame


def upload(at: AppTest, data: bytes, name: str = "wines.csv") -> AppTest:
    at = show_tab(at, "Batch")
    at.file_uploader(key="batch_file").set_value((name, data, "text/csv"))
    return at.run()


def predict_buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button if b.label.startswith("Predict ")]


def test_a_whole_data_set_is_scored_in_one_batch(make_app: AppFactory, api_url: str) -> None:
    # All 178 wines, in the data set's own column names (with the slash),
    # plus the known class, which the app must ignore and say so.
    frame = wine_frame().rename(
        columns={"od280_od315_of_diluted_wines": "od280/od315_of_diluted_wines"}
    )
    at = upload(make_app(api_url), frame.to_csv(index=False).encode())
    assert texts(at.info) == ["Ignored column(s): class."]
    assert predict_buttons(at) == ["Predict 178 wines"]

    (predict,) = [b for b in at.button if b.label == "Predict 178 wines"]
    at = predict.click().run()
    assert not at.exception
    assert not at.error

    results = at.dataframe[0].value
    assert len(results) == 178
    assert list(results.columns) == ["predicted_class", "probability", *FEATURE_KEYS]
    # The model of module 03 gets almost all of its own training data right.
    agreement = (results["predicted_class"] == wine_frame()["class"]).mean()
    assert agreement > 0.95
    assert results["probability"].between(1 / 3, 1).all()
    assert "Answered by the API, model version test-1." in texts(at.caption)

    ((spec, (counts,)),) = charts(at)
    assert spec["mark"]["type"] == "bar"
    assert dict(zip(counts["class"], counts["wines"], strict=True)) == (
        results["predicted_class"].value_counts().to_dict()
    )


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        pytest.param(b"", "The file is empty.", id="empty"),
        pytest.param(b"alcohol,ash\n13.2,2.1\n", "Missing column(s): malic_acid", id="columns"),
        pytest.param(",".join(FEATURE_KEYS).encode() + b"\n", "header but no rows", id="no-rows"),
        pytest.param(
            (",".join(FEATURE_KEYS) + "\n" + ",".join(["1"] * 12 + ["lots"]) + "\n").encode(),
            "line 2, proline: 'lots' is not a number.",
            id="not-a-number",
        ),
        pytest.param(
            (",".join(FEATURE_KEYS) + "\n" + ",".join(["-1"] + ["1"] * 12) + "\n").encode(),
            "line 2, alcohol: -1 is outside 0-100, which the API refuses.",
            id="negative",
        ),
        pytest.param(
            (",".join(FEATURE_KEYS) + "\n" + ("1," * 12 + "1\n") * 1001).encode(),
            "The file has 1001 rows; the API takes at most 1000",
            id="too-many-rows",
        ),
        pytest.param(b"\xff\xfe\x00a", "not UTF-8", id="not-utf8"),
    ],
)
def test_a_bad_file_is_refused_before_any_request(
    make_app: AppFactory, down_url: str, csv: bytes, message: str
) -> None:
    # Pointed at a dead URL on purpose: had the app sent anything, the error
    # would be "Cannot reach the wine API". Instead it names the problem.
    at = upload(make_app(down_url), csv, name="bad.csv")
    assert not at.exception
    (error,) = texts(at.main.error)
    assert error.startswith("bad.csv cannot be sent to the API:")
    assert message in error
    assert predict_buttons(at) == []


def test_the_results_belong_to_the_file_they_came_from(make_app: AppFactory, api_url: str) -> None:
    frame = wine_frame()
    first = frame.head(5).to_csv(index=False).encode()
    at = upload(make_app(api_url), first)
    (predict,) = [b for b in at.button if b.label == "Predict 5 wines"]
    at = predict.click().run()
    assert len(at.dataframe[0].value) == 5
    # Another file: the old results must not be shown as if they were its own.
    at = upload(at, frame.tail(7).to_csv(index=False).encode(), name="other.csv")
    assert not at.dataframe
    assert predict_buttons(at) == ["Predict 7 wines"]
