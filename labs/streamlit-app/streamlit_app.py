"""The wine classifier as a Streamlit app, in front of the wine API of module 03.

Run it from the lab folder while the API answers on http://127.0.0.1:8000:

    uv run streamlit run streamlit_app.py

Streamlit runs this whole file, top to bottom, when a browser connects, and
again after every interaction: a click, a new value in a widget, an upload.
Three things make that affordable and correct:

- widgets return their current value on each run, and `st.session_state`
  keeps anything else that must survive from one run to the next (here, the
  last prediction);
- `st.form` batches the 13 inputs, so typing does not rerun the script; only
  the submit button does;
- `st.cache_data` and `st.cache_resource` keep expensive results (the data
  set, a trained model, the API's status) across runs and sessions.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from wine_app import charts
from wine_app.client import ApiError, ApiStatus, ApiUnreachable, Prediction, WineApiClient
from wine_app.fallback import LOCAL_MODEL_VERSION, LocalModel, train_local_model
from wine_app.features import (
    CLASS_NAMES,
    FEATURE_KEYS,
    FEATURES,
    MAX_BATCH_SIZE,
    median_wine,
    sample_csv,
    training_ranges,
    typical_wine,
    wine_frame,
)
from wine_app.settings import ApiSettings, SettingsError, resolve
from wine_app.validation import parse_batch_csv, validate_wine

# Call it early: the page title, icon and layout apply from here on.
st.set_page_config(page_title="Wine classifier", page_icon="🍷", layout="wide")

LABELS = {f.key: f.label for f in FEATURES}


# ---------------------------------------------------------------- caches
# cache_data: for *data*. The result is pickled once; every caller gets a
# fresh copy, so one session changing its DataFrame cannot change another's.
# cache_resource: for *objects* (models, connections). Every caller gets the
# same instance, so it must be safe to share between sessions and threads.


@st.cache_data(show_spinner=False)
def load_wines() -> pd.DataFrame:
    return wine_frame()


@st.cache_data(show_spinner=False)
def class_summary(feature: str) -> pd.DataFrame:
    """count, mean, std, min, quartiles and max of one feature, per class."""
    return load_wines().groupby("class")[feature].describe().round(3)


@st.cache_resource(show_spinner="Training the local fallback model...")
def local_model() -> LocalModel:
    return train_local_model()


# ttl: the answer is reused for 10 s, so reruns do not each send a request.
# The leading underscore tells Streamlit not to hash `_client`: the cache key
# is the URL alone.
@st.cache_data(ttl=10, show_spinner=False)
def api_status(url: str, _client: WineApiClient) -> ApiStatus:
    return _client.status()


# ---------------------------------------------------------------- settings
def read_secrets() -> dict[str, object]:
    """st.secrets as a dict, or {} when there is no secrets file at all.
    A secrets file that exists but cannot be parsed is an error, not {}."""
    try:
        return st.secrets.to_dict()
    except StreamlitSecretNotFoundError:
        if any(Path(p).exists() for p in st.get_option("secrets.files")):
            raise
        return {}


def load_settings() -> ApiSettings:
    try:
        return resolve(os.environ, read_secrets())
    except (SettingsError, StreamlitSecretNotFoundError) as exc:
        st.error(f"The app is misconfigured: {exc}")
        st.stop()  # ends this run here; nothing below is drawn


# ---------------------------------------------------------------- predictions
def predict(client: WineApiClient, wines: list[dict[str, float]]) -> list[Prediction] | None:
    """Ask the API; if it cannot be reached, say so, and use the local model
    only when the user turned that on. Returns None when there is no answer."""
    try:
        if len(wines) == 1:
            return [client.predict(wines[0])]
        return client.predict_batch(wines)
    except ApiUnreachable as exc:
        st.error(str(exc), icon="🔌")
        if st.session_state.get("use_fallback"):
            model = local_model()
            return [model.predict(w) for w in wines]
        st.info("To get answers while the API is down, turn on the local model in the sidebar.")
    except ApiError as exc:
        st.error(str(exc))
    return None


def show_source(prediction: Prediction) -> None:
    if prediction.model_version == LOCAL_MODEL_VERSION:
        st.warning(
            "These answers come from the **local fallback model**, trained inside this "
            "app on the bundled data, **not from the API's model**.",
            icon="⚠️",
        )
    else:
        st.caption(f"Answered by the API, model version {prediction.model_version}.")


# ---------------------------------------------------------------- the form
def widget_key(feature: str) -> str:
    return f"feature_{feature}"


def fill_form(values: dict[str, float]) -> None:
    """A button callback. Callbacks run *before* the script reruns, which is
    the only moment a widget's value may be set through st.session_state:
    once the widget has been drawn in a run, setting its key raises
    StreamlitAPIException."""
    for key, value in values.items():
        st.session_state[widget_key(key)] = value
    st.session_state.pop("prediction", None)


def predict_view(client: WineApiClient) -> None:
    # Defaults go into session_state once per session, and the widgets take
    # their values from there: passing value= as well would make Streamlit warn.
    for key, value in median_wine().items():
        st.session_state.setdefault(widget_key(key), value)

    st.write("Start from a wine of the data set, adjust the measurements, then predict.")
    presets = st.columns(4)
    presets[0].button("Median wine", on_click=fill_form, args=(median_wine(),))
    for column, name in zip(presets[1:], CLASS_NAMES, strict=True):
        column.button(f"Typical {name}", on_click=fill_form, args=(typical_wine(name),))

    ranges = training_ranges()
    # Inside a form, changing a number does not rerun the script; only the
    # submit button does, with all 13 values at once.
    with st.form("wine_form"):
        columns = st.columns(3)
        for i, f in enumerate(FEATURES):
            r = ranges[f.key]
            columns[i % 3].number_input(
                f.label,
                min_value=0.0,
                max_value=float(f.api_max),
                step=f.step,
                format=f"%.{f.decimals}f",
                key=widget_key(f.key),
                help=f"Training range {r.low:g} to {r.high:g}, median {r.median:g}.",
            )
        submitted = st.form_submit_button("Predict", type="primary")

    if submitted:
        st.session_state.pop("prediction", None)
        wine = {f.key: st.session_state[widget_key(f.key)] for f in FEATURES}
        findings = validate_wine(wine)
        for warning in findings.warnings:
            st.warning(warning)
        if findings.errors:
            st.error("Fix these values first:\n\n" + "\n".join(f"- {e}" for e in findings.errors))
        elif answers := predict(client, [wine]):
            st.session_state.prediction = answers[0]
            st.session_state.submitted_wine = wine

    # Drawn on every run, not only after a submit: session_state keeps the
    # answer while the user looks at other tabs or presses other buttons.
    if prediction := st.session_state.get("prediction"):
        st.subheader("Prediction")
        left, right = st.columns([1, 2])
        best = prediction.probabilities[prediction.class_name]
        left.metric("Predicted class", prediction.class_name)
        left.metric("Probability", f"{best:.1%}")
        with right:
            st.altair_chart(charts.probability_chart(prediction.probabilities), width="stretch")
        show_source(prediction)


# ---------------------------------------------------------------- batch
def batch_view(client: WineApiClient) -> None:
    st.write(
        f"Upload a CSV file with one wine per row and the 13 feature columns "
        f"(at most {MAX_BATCH_SIZE} rows). All rows go to the API in one request."
    )
    st.download_button(
        "Download a sample CSV",
        data=sample_csv(),
        file_name="wines-sample.csv",
        mime="text/csv",
        on_click="ignore",  # a download needs no rerun
    )
    upload = st.file_uploader("CSV file", type=["csv"], key="batch_file")
    if upload is None:
        return

    parsed = parse_batch_csv(upload.getvalue())
    for note in parsed.findings.notes:
        st.info(note)
    for warning in parsed.findings.warnings:
        st.warning(warning)
    if parsed.wines is None:
        problems = "\n".join(f"- {e}" for e in parsed.findings.errors)
        st.error(f"{upload.name} cannot be sent to the API:\n\n{problems}")
        return

    wines = parsed.wines
    # A button, not a call on upload: every interaction reruns the script,
    # and each rerun would send the whole batch again.
    if st.button(f"Predict {len(wines)} wines", type="primary"):
        st.session_state.pop("batch", None)
        if answers := predict(client, wines.to_dict("records")):
            st.session_state.batch = {"file_id": upload.file_id, "predictions": answers}

    batch = st.session_state.get("batch")
    if not batch or batch["file_id"] != upload.file_id:
        return  # no answer yet, or the answer belongs to another file
    predictions: list[Prediction] = batch["predictions"]
    results = wines.assign(
        predicted_class=[p.class_name for p in predictions],
        probability=[p.probabilities[p.class_name] for p in predictions],
    )
    st.subheader(f"Predictions for {len(results)} wines")
    left, right = st.columns([1, 2])
    with left:
        st.altair_chart(charts.class_count_chart(results["predicted_class"]), width="stretch")
    with right:
        st.dataframe(
            results[["predicted_class", "probability", *FEATURE_KEYS]],
            column_config={"probability": st.column_config.NumberColumn(format="percent")},
            height=300,
        )
    show_source(predictions[0])
    st.download_button(
        "Download the predictions",
        data=results.to_csv(index=False).encode(),
        file_name="wine-predictions.csv",
        mime="text/csv",
        on_click="ignore",
    )


# ---------------------------------------------------------------- dashboard
def explore_view() -> None:
    frame = load_wines()
    counts = frame["class"].value_counts()
    columns = st.columns(4)
    columns[0].metric("Wines", len(frame))
    for column, name in zip(columns[1:], CLASS_NAMES, strict=True):
        column.metric(name, int(counts[name]))

    feature = st.selectbox("Feature", FEATURE_KEYS, format_func=LABELS.get, key="explore_feature")
    marker = st.session_state.get("submitted_wine", {}).get(feature)
    st.altair_chart(charts.histogram(frame, feature, marker), width="stretch")
    if marker is not None:
        st.caption("The dashed line is the wine you last sent from the Predict tab.")
    st.dataframe(class_summary(feature))

    st.subheader("Two features at once")
    left, right = st.columns(2)
    x = left.selectbox("x axis", FEATURE_KEYS, index=9, format_func=LABELS.get, key="scatter_x")
    y = right.selectbox("y axis", FEATURE_KEYS, index=12, format_func=LABELS.get, key="scatter_y")
    st.altair_chart(charts.scatter(frame, x, y), width="stretch")
    with st.expander("All 178 wines"):
        st.dataframe(frame)


# ---------------------------------------------------------------- the page
settings = load_settings()
client = WineApiClient(settings)

with st.sidebar:
    st.header("Wine API")
    st.code(settings.url, language=None)
    st.caption(f"From: {settings.source}.")
    status = api_status(settings.url, client)
    if status.ready:
        st.success(f"Ready, model version {status.model_version}.")
    elif status.reachable:
        st.warning(status.detail)
    else:
        st.error(f"Not reachable: {status.detail}.")
    # A callback, so the cache is cleared before the rerun reads it again.
    st.button("Check again", on_click=api_status.clear)
    st.toggle(
        "Use a local model when the API is down",
        key="use_fallback",
        help="Trains the same kind of model inside this app. Its answers are labelled.",
    )

st.title("Wine classifier")
predict_tab, batch_tab, explore_tab = st.tabs(
    ["Predict", "Batch", "Explore the data"],
    key="view",
    # Track the open tab and rerun on a switch, so only the open tab's code
    # runs (by default every tab's code runs on every rerun).
    on_change="rerun",
    # Keep the open tab in the URL (?view=Batch): a link opens that tab.
    bind="query-params",
)
if predict_tab.open:
    with predict_tab:
        predict_view(client)
if batch_tab.open:
    with batch_tab:
        batch_view(client)
if explore_tab.open:
    with explore_tab:
        explore_view()
