"""Run a real server for a test: a free loopback port, readiness polled
with a deadline (never a fixed sleep), and the process stopped by its own pid
when the test ends, also when it fails.

Only the standard library: copy this file into any project's tests/.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_http(url: str, *, deadline_s: float, process: subprocess.Popen[bytes]) -> None:
    """Poll `url` until it answers 2xx; fail early if the process dies."""
    deadline = time.monotonic() + deadline_s
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (loopback only)
                if 200 <= response.status < 300:
                    return
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the open response (e.g. a 503 while starting)
            last_error = f"HTTP {exc.code}"
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last_error = str(exc)
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {deadline_s} s ({last_error})")


@contextmanager
def serve(
    command: Sequence[str],
    *,
    ready_url: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    deadline_s: float = 60.0,
    log: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `command`, wait until `ready_url` answers, yield, then stop it."""
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, stopped as one below
    )
    try:
        wait_for_http(ready_url, deadline_s=deadline_s, process=process)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if log:
            out.close()  # type: ignore[union-attr]
