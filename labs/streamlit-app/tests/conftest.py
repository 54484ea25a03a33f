"""Shared fixtures: the real wine API on a free port, a URL where nothing
listens, and a factory for AppTest runs of the app.

The API is module 03's, unchanged: `tests/wine_api/` is a copy of
`labs/model-serving/src/wine_api/`, started with uvicorn in its own process,
with a model trained into a temporary folder. The app under test talks to it
over a real socket, exactly as it talks to the API you start yourself.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from live import free_port, serve
from streamlit.testing.v1 import AppTest

from wine_api.train import train

LAB = Path(__file__).resolve().parents[1]
APP = LAB / "streamlit_app.py"
TESTS = Path(__file__).resolve().parent

# The first run of a test session imports Streamlit, pandas, Altair and
# scikit-learn; on a busy 2-core machine that took close to a minute.
RUN_TIMEOUT_S = 120


@pytest.fixture(scope="session")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a real wine API (uvicorn + FastAPI), model version test-1."""
    model = train(tmp_path_factory.mktemp("model") / "model.joblib", model_version="test-1")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        *(sys.executable, "-m", "uvicorn", "wine_api.app:app"),
        *("--app-dir", str(TESTS)),  # where the copy of the API lives
        *("--host", "127.0.0.1", "--port", str(port)),
    ]
    log = tmp_path_factory.mktemp("uvicorn") / "uvicorn.log"
    with serve(
        command,
        ready_url=f"{base}/ready",
        env={"MODEL_PATH": str(model.model_path)},
        log=log,
        deadline_s=120,
    ):
        yield base


@pytest.fixture
def down_url() -> str:
    """A loopback URL on a port nothing listens on: connection refused."""
    return f"http://127.0.0.1:{free_port()}"


AppFactory = Callable[[str], AppTest]


@pytest.fixture
def make_app(monkeypatch: pytest.MonkeyPatch) -> AppFactory:
    """`make_app(url)` runs the app once, pointed at `url`, and returns it.

    AppTest runs the script in this process, so the environment variable
    reaches it. Streamlit's caches live in the process too: they are cleared,
    so no test sees another test's cached API status or model.
    """

    def make(url: str) -> AppTest:
        monkeypatch.setenv("WINE_API_URL", url)
        monkeypatch.delenv("WINE_API_TOKEN", raising=False)
        st.cache_data.clear()
        st.cache_resource.clear()
        return AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT_S).run()

    return make
