"""Reading what an AppTest run drew: tabs, messages and chart data."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest


def show_tab(at: AppTest, label: str) -> AppTest:
    """Open a tab. The tabs track their state under the key "view", so a test
    opens one the way a click does: by changing that state, then rerunning."""
    at.session_state["view"] = label
    return at.run()


def texts(elements: Iterable[Any]) -> list[str]:
    """The text of every element of a list such as `at.error` or `at.warning`."""
    return [str(e.value) for e in elements]


def charts(at: AppTest) -> list[tuple[dict[str, Any], list[pd.DataFrame]]]:
    """Every Vega-Lite chart (st.altair_chart and friends) as its spec and
    the data sent with it, decoded from Arrow."""
    found = []
    for element in at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        frames = [
            pa.ipc.open_stream(dataset.data.data).read_pandas()
            for dataset in element.proto.datasets
        ]
        found.append((spec, frames))
    return found
