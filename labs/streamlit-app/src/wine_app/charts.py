"""The app's charts, as Altair (Vega-Lite) specifications.

Plain functions from data to a chart, with no Streamlit in them, so they can
be tested and reused; the app hands them to st.altair_chart. Every chart
colours the classes the same way, so class_2 is one colour on every tab.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd

from wine_app.features import CLASS_NAMES

CLASS_COLOUR = alt.Color(
    "class:N", scale=alt.Scale(domain=list(CLASS_NAMES)), legend=alt.Legend(title="class")
)


def probability_chart(probabilities: Mapping[str, float]) -> alt.LayerChart:
    """One horizontal bar per class, from 0 to 100 %, labelled with its value."""
    data = pd.DataFrame(
        {"class": list(probabilities), "probability": [float(p) for p in probabilities.values()]}
    )
    base = alt.Chart(data).encode(
        y=alt.Y("class:N", sort=list(CLASS_NAMES), title=None),
        x=alt.X(
            "probability:Q",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format="%"),
            title="probability",
        ),
        tooltip=["class:N", alt.Tooltip("probability:Q", format=".1%")],
    )
    bars = base.mark_bar().encode(color=CLASS_COLOUR)
    labels = base.mark_text(align="left", dx=4).encode(text=alt.Text("probability:Q", format=".1%"))
    return (bars + labels).properties(height=150)


def class_count_chart(classes: pd.Series) -> alt.Chart:
    """How many wines of a batch fell into each class."""
    counts = (
        classes.value_counts()
        .reindex(list(CLASS_NAMES), fill_value=0)
        .rename_axis("class")
        .reset_index(name="wines")
    )
    return (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=alt.X("class:N", sort=list(CLASS_NAMES), title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("wines:Q", title="wines", axis=alt.Axis(tickMinStep=1)),
            color=CLASS_COLOUR,
            tooltip=["class:N", "wines:Q"],
        )
        .properties(height=220)
    )


def histogram(frame: pd.DataFrame, feature: str, marker: float | None = None) -> alt.Chart:
    """The distribution of one feature, stacked by class. `marker`, when
    given, draws a rule at that value: where the user's wine sits."""
    chart = (
        alt.Chart(frame)
        .mark_bar(opacity=0.85)
        .encode(
            x=alt.X(f"{feature}:Q", bin=alt.Bin(maxbins=30), title=feature),
            y=alt.Y("count():Q", title="wines", stack=True),
            color=CLASS_COLOUR,
            tooltip=["class:N", alt.Tooltip("count():Q", title="wines")],
        )
    )
    if marker is None:
        return chart.properties(height=280)
    rule = (
        alt.Chart(pd.DataFrame({feature: [marker], "label": ["your wine"]}))
        .mark_rule(strokeWidth=2, strokeDash=[6, 3])
        .encode(x=f"{feature}:Q", tooltip=["label:N", f"{feature}:Q"])
    )
    return (chart + rule).properties(height=280)


def scatter(frame: pd.DataFrame, x: str, y: str) -> alt.Chart:
    """Two features against each other, one point per wine."""
    return (
        alt.Chart(frame)
        .mark_circle(size=50, opacity=0.8)
        .encode(
            x=alt.X(f"{x}:Q", scale=alt.Scale(zero=False)),
            y=alt.Y(f"{y}:Q", scale=alt.Scale(zero=False)),
            color=CLASS_COLOUR,
            tooltip=["class:N", f"{x}:Q", f"{y}:Q"],
        )
        .properties(height=320)
    )
