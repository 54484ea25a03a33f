"""`serve` itself: a failing server fails fast and clearly, and whatever
happens, the whole process group is gone afterwards."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from observe import port_is_free, processes_of

import live
from live import free_port, serve


def http_server(port: int) -> list[str]:
    return [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]


def test_a_server_that_exits_at_once_fails_fast_with_its_output(tmp_path: Path) -> None:
    crash = [sys.executable, "-c", "import sys; print('cannot open model.joblib'); sys.exit(3)"]
    log = tmp_path / "server.log"
    started = time.monotonic()
    with (
        pytest.raises(RuntimeError, match="exited with 3") as failed,
        serve(crash, ready_url=f"http://127.0.0.1:{free_port()}/", deadline_s=60, log=log),
    ):
        pytest.fail("never ready: the block must not run")
    assert time.monotonic() - started < 10  # not the 60 s deadline
    assert "cannot open model.joblib" in str(failed.value)  # the log's tail is in the error


def test_a_missing_program_raises_at_once(tmp_path: Path) -> None:
    with (
        pytest.raises(FileNotFoundError),
        serve(
            [str(tmp_path / "no-such-server")],
            ready_url="http://127.0.0.1:1/",
            log=tmp_path / "log",
        ),
    ):
        pytest.fail("never started")


def test_without_a_log_the_error_is_the_plain_one() -> None:
    crash = [sys.executable, "-c", "raise SystemExit(2)"]
    with (
        pytest.raises(RuntimeError, match=r"^the server exited with 2 before http"),
        serve(crash, ready_url=f"http://127.0.0.1:{free_port()}/", deadline_s=60),
    ):
        pytest.fail("never ready")


def test_a_server_that_never_answers_times_out_and_is_stopped(tmp_path: Path) -> None:
    # The comment makes its command line name tmp_path, for processes_of().
    code = f"import time; print('loading…', flush=True); time.sleep(600)  # {tmp_path}"
    silent = [sys.executable, "-c", code]
    started = time.monotonic()
    with (
        pytest.raises(TimeoutError, match="did not answer within 1.5 s") as timed_out,
        serve(
            silent,
            ready_url=f"http://127.0.0.1:{free_port()}/",
            deadline_s=1.5,
            log=tmp_path / "log",
        ),
    ):
        pytest.fail("never ready")
    assert time.monotonic() - started < 10
    assert "loading…" in str(timed_out.value)
    assert processes_of(tmp_path) == []


def test_an_exception_in_the_block_stops_the_whole_group(tmp_path: Path) -> None:
    """The leader (a shell) and its child (the HTTP server) are both gone,
    and the port is free, as soon as the `with` has ended."""
    port = free_port()
    shell = ["sh", "-c", f"{' '.join(http_server(port))} & wait"]
    ready = f"http://127.0.0.1:{port}/"
    with (  # noqa: PT012 (the block is what is tested)
        pytest.raises(ZeroDivisionError),
        serve(shell, ready_url=ready, log=tmp_path / "log") as process,
    ):
        group = live._group_pids(process.pid)
        assert group is not None
        assert len(group) == 2  # sh and python
        _ = 1 / 0
    assert process.poll() is not None
    assert live._group_pids(process.pid) == []
    assert port_is_free(port)


def test_a_server_that_ignores_sigterm_is_killed(tmp_path: Path) -> None:
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(600)",
    ]
    log = tmp_path / "log"
    with log.open("wb") as out:
        process = subprocess.Popen(stubborn, stdout=out, start_new_session=True)
        while b"ready" not in log.read_bytes():  # SIGTERM is ignored from then on
            assert process.poll() is None
            time.sleep(0.05)
        started = time.monotonic()
        live._stop_group(process, grace_s=0.5)
    assert process.returncode == -9  # SIGKILL
    assert time.monotonic() - started < 5
    assert live._group_pids(process.pid) == []


def test_a_second_server_gets_another_port_and_each_owns_its_own(tmp_path: Path) -> None:
    a = free_port()
    with serve(http_server(a), ready_url=f"http://127.0.0.1:{a}/", log=tmp_path / "a.log") as pa:
        b = free_port()  # a is taken now: never handed out again while it is
        assert b != a
        with serve(
            http_server(b), ready_url=f"http://127.0.0.1:{b}/", log=tmp_path / "b.log"
        ) as pb:
            assert live._group_listens_on(pa.pid, a) is True
            assert live._group_listens_on(pb.pid, b) is True
            assert live._group_listens_on(pa.pid, b) is False
    assert port_is_free(a)
    assert port_is_free(b)
