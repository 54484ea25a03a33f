"""The app as you run it: a real `streamlit run` process on a free port.

AppTest runs the script without a server; these tests check what a
deployment relies on: the health endpoint, the settings in
.streamlit/config.toml, and serving under a base path behind a proxy.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from pathlib import Path

from conftest import LAB
from live import free_port, serve


def streamlit_run(port: int) -> list[str]:
    """The command of the lab's serve step, on another port."""
    return [
        *(sys.executable, "-m", "streamlit", "run", "streamlit_app.py"),
        *("--server.address", "127.0.0.1", "--server.port", str(port)),
    ]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback only)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:  # it holds the open response: close it
            return error.code, ""


def test_the_health_endpoint_answers_ok(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # cwd=LAB: Streamlit reads .streamlit/config.toml from the folder it starts in.
    with serve(
        streamlit_run(port),
        ready_url=f"{base}/_stcore/health",
        cwd=LAB,
        log=tmp_path / "streamlit.log",
        deadline_s=120,
    ):
        assert get(f"{base}/_stcore/health") == (200, "ok")
        # The page itself is a JavaScript shell; the app runs over a WebSocket.
        status, html = get(f"{base}/")
        assert status == 200
        assert '<div id="root"></div>' in html
        # Prometheus-format metrics: sessions now, cache sizes once sessions ran.
        status, metrics = get(f"{base}/_stcore/metrics")
        assert status == 200
        assert "active_sessions" in metrics
    log = (tmp_path / "streamlit.log").read_text()
    # config.toml was read: with gatherUsageStats = false, Streamlit does not
    # print "Collecting usage statistics. To deactivate, set ...".
    assert "usage statistics" not in log


def test_a_base_path_moves_every_route_under_it(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with serve(
        streamlit_run(port),
        ready_url=f"{base}/wine/_stcore/health",
        cwd=LAB,
        # Any option, as an environment variable: what a container or proxy setup sets.
        env={"STREAMLIT_SERVER_BASE_URL_PATH": "wine"},
        log=tmp_path / "streamlit.log",
        deadline_s=120,
    ):
        assert get(f"{base}/wine/_stcore/health") == (200, "ok")
        assert get(f"{base}/_stcore/health")[0] == 404
        status, _ = get(f"{base}/wine/")
        assert status == 200
