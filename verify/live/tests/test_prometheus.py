"""A real Prometheus scraping a real API under uvicorn; port clashes and bad
rule files are handled the way a test author needs."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from observe import enter_in, port_is_free, processes_of

import live
from live import free_port, prometheus_server, query, serve, wait_for_series

TESTS = Path(__file__).parent


def uvicorn(port: int) -> list[str]:
    app = ["metrics_app:app", "--app-dir", str(TESTS)]
    return [sys.executable, "-m", "uvicorn", *app, "--host", "127.0.0.1", "--port", str(port)]


def get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback only)
        return dict(json.load(response))


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


def test_prometheus_scrapes_the_counter_of_the_api(tmp_path: Path) -> None:
    api_port = free_port()
    api = f"127.0.0.1:{api_port}"
    prom_dir = tmp_path / "prometheus"
    with (
        serve(uvicorn(api_port), ready_url=f"http://{api}/health", log=tmp_path / "api.log") as app,
        prometheus_server(prom_dir, [api], rule_files=[TESTS / "demo_rules.yml"]) as prom,
    ):
        assert processes_of(prom_dir)  # observe.py sees it while it runs
        # Scraped once before any request: the counter's first sample is 0.
        wait_for_series(prom, 'up{job="live"} == 1', deadline_s=15)
        for _ in range(5):
            assert get_json(f"http://{api}/work") == {"status": "done"}

        [total] = wait_for_series(prom, "live_demo_requests_total >= 5", deadline_s=15)
        assert total["metric"]["instance"] == api
        assert float(total["value"][1]) == 5  # /metrics itself is not counted

        [rate] = wait_for_series(prom, "rate(live_demo_requests_total[1m]) > 0", deadline_s=15)
        assert float(rate["value"][1]) > 0
        [recorded] = wait_for_series(prom, "live:demo_requests:sum >= 5", deadline_s=15)
        assert float(recorded["value"][1]) == 5  # the rule file is loaded and evaluated

        with pytest.raises(ValueError, match="parse error"):
            query(prom, "rate(live_demo_requests_total[1m]")
        assert query(prom, "no_such_metric") == []

    assert app.poll() is not None
    assert port_is_free(api_port)
    assert port_is_free(port_of(prom))
    assert processes_of(prom_dir) == []


def test_wait_for_series_times_out_telling_why(tmp_path: Path) -> None:
    nobody = f"127.0.0.1:{free_port()}"
    with prometheus_server(tmp_path, [nobody]) as prom:
        wait_for_series(prom, f'up{{instance="{nobody}"}} == 0', deadline_s=15)
        started = time.monotonic()
        with pytest.raises(TimeoutError, match=f"no data within 1 s.*{nobody}/metrics down"):
            wait_for_series(prom, "live_demo_requests_total", deadline_s=1)
        assert time.monotonic() - started < 5


def test_two_prometheus_started_at_once_get_different_ports(tmp_path: Path) -> None:
    """Started from two threads at the same moment, as two test sessions
    would: each gets its own port, config and data."""
    targets = {name: f"127.0.0.1:{free_port()}" for name in ("a", "b")}
    servers = {name: prometheus_server(tmp_path / name, [t]) for name, t in targets.items()}
    with ExitStack() as stack:
        with ThreadPoolExecutor(max_workers=2) as pool:
            urls = dict(zip(servers, pool.map(enter_in(stack), servers.values()), strict=True))
        assert port_of(urls["a"]) != port_of(urls["b"])
        for name, url in urls.items():
            [up] = wait_for_series(url, "up", deadline_s=15)
            assert up["metric"]["instance"] == targets[name]  # its own config, not the other's
    assert all(port_is_free(port_of(url)) for url in urls.values())
    assert processes_of(tmp_path) == []


@contextmanager
def squatter(port: int, *, answers: bool) -> Iterator[None]:
    """Another program on `port`: silent, or answering 200 to everything (as
    another test session's Prometheus would answer /-/ready)."""

    class Always200(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    if answers:
        with ThreadingHTTPServer(("127.0.0.1", port), Always200) as server:
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                yield
            finally:
                server.shutdown()
                thread.join()
    else:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
            s.listen()
            yield


@pytest.mark.parametrize("answers", [False, True], ids=["silent", "answering"])
def test_a_port_taken_in_between_is_replaced_by_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answers: bool
) -> None:
    """free_port() is only a guess: another session may take the port before
    Prometheus binds it. Then Prometheus fails to bind ("address already in
    use"), or the ready answer comes from the other program: either way the
    fixture starts again on another port."""
    taken = free_port()
    ports = iter([taken])
    monkeypatch.setattr(live, "free_port", lambda: next(ports, None) or free_port())
    with squatter(taken, answers=answers), prometheus_server(tmp_path, []) as prom:
        assert port_of(prom) != taken
        build = get_json(f"{prom}/api/v1/status/buildinfo")
        assert str(build["data"]["version"]).startswith("3.")  # type: ignore[index]
    assert processes_of(tmp_path) == []


def test_a_bad_rule_file_fails_at_once_with_prometheus_message(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(
        "groups:\n  - name: broken\n    rules:\n      - record: x\n        expr: sum(up\n"
    )
    started = time.monotonic()
    # Prometheus 2 exited with 1 on a bad rule file, Prometheus 3 exits with 2.
    with pytest.raises(RuntimeError, match="exited with [1-9]") as failed:  # noqa: SIM117
        with prometheus_server(tmp_path / "prom", [], rule_files=[rules], deadline_s=60):
            pytest.fail("never ready")
    assert time.monotonic() - started < 10
    assert "rules.yml" in str(failed.value)
    assert "parse error" in str(failed.value)


def test_prometheus_must_be_on_path_and_targets_be_host_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="host:port"):  # noqa: SIM117
        with prometheus_server(tmp_path, ["http://127.0.0.1:8000/metrics"]):
            pytest.fail("not started")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no `prometheus` on PATH"):  # noqa: SIM117
        with prometheus_server(tmp_path, ["127.0.0.1:8000"]):
            pytest.fail("not started")
