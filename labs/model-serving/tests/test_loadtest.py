"""The load test: its percentiles, and short runs against the real uvicorn
(`live_api`), a port where nothing listens and a stub that answers 503."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from live import free_port

from wine_api import loadtest


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert loadtest.percentile(values, 50) == 50
    assert loadtest.percentile(values, 95) == 95
    assert loadtest.percentile(values, 99) == 99
    assert loadtest.percentile(values, 100) == 100
    assert loadtest.percentile([7.0], 99) == 7.0
    assert loadtest.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0


def latencies(report: str) -> dict[str, float]:
    line = next(line for line in report.splitlines() if line.startswith("latency ms"))
    return {k: float(v) for k, v in re.findall(r"(p\d+|max) ([\d.]+)", line)}


@pytest.mark.live
def test_against_the_real_api(
    live_api: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "loadtest.json"
    code = loadtest.main(
        ["--url", live_api, "--requests", "60", "--concurrency", "4", "--json", str(out)]
    )
    report = capsys.readouterr().out
    assert code == 0, report
    assert "requests    60 at concurrency 4, 0 failed" in report
    assert "status      200: 60" in report
    ms = latencies(report)
    assert 0 < ms["p50"] <= ms["p95"] <= ms["p99"] <= ms["max"]
    # The JSON holds the same numbers as the printed report.
    data = json.loads(out.read_text())
    assert data["target"] == f"{live_api}/predict"
    assert (data["requests"], data["failed"], data["concurrency"]) == (60, 0, 4)
    assert data["status"] == {"200": 60}
    assert data["stopped_early"] is False
    assert data["latency_ms"] == pytest.approx(ms, abs=0.051)
    assert data["throughput_rps"] > 0


@pytest.mark.live
def test_batches_against_the_real_api(live_api: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = loadtest.main(["--url", live_api, "-n", "8", "-c", "2", "--batch-size", "50"])
    report = capsys.readouterr().out
    assert code == 0, report
    assert "/predict/batch of 50 wines" in report
    assert "wines/s" in report


@pytest.mark.live
def test_the_command_of_the_lab_step(live_api: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wine_api.loadtest", "--url", live_api, "-n", "20", "-c", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "p99" in done.stdout


def test_connection_errors_are_counted_and_fail_the_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert loadtest.main(["--url", url, "-n", "5", "-c", "1"]) == 1
    report = capsys.readouterr().out
    assert "5 failed" in report
    assert "ConnectionRefusedError: 5" in report
    assert "latency" not in report  # no successful request to measure
    assert "throughput  0.0 successful requests/s" in report


def test_json_report_is_written_when_requests_fail(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    out = tmp_path / "loadtest.json"
    assert loadtest.main(["--url", url, "-n", "3", "-c", "1", "--json", str(out)]) == 1
    data = json.loads(out.read_text())
    assert data["target"] == f"{url}/predict"
    assert (data["requests"], data["failed"]) == (3, 3)
    assert data["status"] == {"ConnectionRefusedError": 3}
    assert data["latency_ms"] is None  # no successful request to measure
    assert data["throughput_rps"] == 0.0
    assert list(tmp_path.iterdir()) == [out]  # no partial file left behind


def test_json_report_names_the_batch_endpoint(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    out = tmp_path / "report.json"
    args = ["--url", url + "/", "-n", "1", "-c", "1", "--batch-size", "5", "--json", str(out)]
    assert loadtest.main(args) == 1
    data = json.loads(out.read_text())
    assert data["target"] == f"{url}/predict/batch"
    assert data["batch_size"] == 5


class _Unavailable(BaseHTTPRequestHandler):
    """Answers every POST with 503, after `delay` seconds."""

    protocol_version = "HTTP/1.1"  # keep-alive, like uvicorn
    delay = 0.0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(self.delay)
        body = b'{"detail":"The model is not loaded; GET /ready says why."}'
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet


@pytest.fixture
def unavailable() -> Iterator[tuple[str, type[_Unavailable]]]:
    handler = type("Handler", (_Unavailable,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_non_2xx_answers_are_errors(
    unavailable: tuple[str, type[_Unavailable]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = unavailable
    assert loadtest.main(["--url", url, "-n", "6", "-c", "2"]) == 1
    report = capsys.readouterr().out
    assert "6 failed" in report
    assert "status      503: 6" in report


def test_max_seconds_bounds_the_run(
    unavailable: tuple[str, type[_Unavailable]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, handler = unavailable
    handler.delay = 0.1
    started = time.monotonic()
    code = loadtest.main(["--url", url, "-n", "100000", "-c", "2", "--max-seconds", "0.5"])
    assert time.monotonic() - started < 5
    assert code == 1
    assert "(stopped at --max-seconds)" in capsys.readouterr().out
