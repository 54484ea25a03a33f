"""Run a real server for a test: a free loopback port, readiness polled
with a deadline (never a fixed sleep), and the process stopped by its own pid
when the test ends, also when it fails.

Only the standard library: copy this file into any project's tests/.

- `serve(command, ready_url=...)`: any server command you already gave a port.
- `mlflow_server(workdir)`: a real `mlflow server` (sqlite store, proxied
  artifacts, both under `workdir`); yields its tracking URI. Needs `mlflow` in
  the environment that runs the tests.
- `prometheus_server(workdir, targets)`: the real `prometheus` binary (found on
  PATH) scraping `host:port` targets; yields its base URL. `query` and
  `wait_for_series` read from it.

Every process runs in its own process group, and the whole group is stopped
(SIGTERM, then SIGKILL after 10 s) when the `with` block ends, however it ends.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
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
    """Start `command`, wait until `ready_url` answers, yield, then stop it.

    If it never gets ready, the error ends with the last lines of `log`.
    """
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    try:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one below
        )
    except OSError:  # e.g. no such program
        if log:
            out.close()  # type: ignore[union-attr]
        raise
    try:
        try:
            wait_for_http(ready_url, deadline_s=deadline_s, process=process)
        except (RuntimeError, TimeoutError) as exc:
            if not log:
                raise
            out.close()  # type: ignore[union-attr]
            raise type(exc)(f"{exc}\n--- last lines of {log} ---\n{_tail(log)}") from exc
        yield process
    finally:
        _stop_group(process)
        if log:
            out.close()  # type: ignore[union-attr]


# --- MLflow -----------------------------------------------------------------


@contextmanager
def mlflow_server(
    workdir: Path,
    *,
    deadline_s: float = 120.0,
    env: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """A real `mlflow server` on a free loopback port; yields its tracking URI.

    Runs are stored in `workdir/mlflow.db` (sqlite); artifacts are uploaded through
    the server (`mlflow-artifacts:/`) into `workdir/artifacts`; its output
    goes to `workdir/mlflow-server.log`. It runs with the interpreter that
    runs the tests (`python -m mlflow`), so `mlflow` must be installed there.
    Startup takes 10-60 s: start one per test module, not one per test.
    """
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)

    def command(port: int) -> list[str]:
        return [
            *(sys.executable, "-m", "mlflow", "server"),
            *("--backend-store-uri", f"sqlite:///{workdir / 'mlflow.db'}"),
            "--serve-artifacts",
            *("--artifacts-destination", str(workdir / "artifacts")),
            *("--host", LOOPBACK, "--port", str(port), "--workers", "1"),
        ]

    server_env = {
        # No network here: telemetry would only time out.
        "MLFLOW_DISABLE_TELEMETRY": "true",
        # The job runner (GenAI judges, trace rollups) adds 8 processes and
        # leaves a folder in /dev/shm per start; tracking does not need it.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        **(env or {}),
    }
    with _serve_on_free_port(
        command,
        ready_path="/health",
        cwd=workdir,  # a stray ./mlruns or ./mlartifacts lands here, not in the repo
        env=server_env,
        deadline_s=deadline_s,
        log=workdir / "mlflow-server.log",
    ) as (base_url, _process):
        yield base_url


# --- Prometheus -------------------------------------------------------------


@contextmanager
def prometheus_server(
    workdir: Path,
    targets: list[str],
    *,
    scrape_interval: str = "1s",
    rule_files: Sequence[Path] = (),
    deadline_s: float = 60.0,
) -> Iterator[str]:
    """The real `prometheus` binary scraping `targets` (each `host:port`,
    path /metrics, job "live"); yields its base URL, e.g. http://127.0.0.1:PORT.

    It writes `workdir/prometheus.yml`, keeps its TSDB in `workdir/data` and
    its output in `workdir/prometheus.log`. Rules are evaluated every
    `scrape_interval`. A bad config or rule file fails at once, with
    Prometheus's own message.
    """
    binary = shutil.which("prometheus")
    if binary is None:
        raise FileNotFoundError(
            "no `prometheus` on PATH: install it (Debian: apt-get install prometheus)"
        )
    for target in targets:
        host, sep, port = target.rpartition(":")
        if not (host and sep and port.isdigit()) or "/" in target:
            raise ValueError(f"a target is host:port, not {target!r}")
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "prometheus.yml"
    settings = {
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval},
        "rule_files": [str(Path(f).resolve()) for f in rule_files],
        "scrape_configs": [{"job_name": "live", "static_configs": [{"targets": list(targets)}]}],
    }
    # JSON is YAML: no YAML library needed.
    config.write_text("# Written by live.py\n" + json.dumps(settings, indent=2) + "\n")

    def command(port: int) -> list[str]:
        return [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address={LOOPBACK}:{port}",
        ]

    with _serve_on_free_port(
        command,
        ready_path="/-/ready",
        cwd=workdir,
        deadline_s=deadline_s,
        log=workdir / "prometheus.log",
    ) as (base_url, _process):
        yield base_url


def query(base_url: str, promql: str, *, timeout_s: float = 5.0) -> list[Any]:
    """The `result` of an instant query: for a vector, one
    {"metric": {...}, "value": [time, "text"]} per series (empty: no data yet).
    A query Prometheus rejects raises ValueError with its message."""
    url = f"{base_url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 (loopback)
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        with exc:  # it holds the open response: close it
            body = json.load(exc) if exc.code in (400, 422) else {}
        raise ValueError(f"{promql!r}: HTTP {exc.code}: {body.get('error', exc.reason)}") from exc
    if body.get("status") != "success":
        raise ValueError(f"{promql!r}: {body.get('error', body)}")
    return list(body["data"]["result"])


def wait_for_series(base_url: str, promql: str, deadline_s: float = 30.0) -> list[Any]:
    """Poll `query` until it returns data, and return it. A filter waits for
    a value: `requests_total >= 5`. On timeout, the error tells each
    target's scrape health (the usual cause: a target that is down)."""
    deadline = time.monotonic() + deadline_s
    while True:
        result = query(base_url, promql)
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"{promql!r} returned no data within {deadline_s} s; "
                f"targets: {_targets_health(base_url)}"
            )
        time.sleep(0.2)


# --- internals --------------------------------------------------------------


@contextmanager
def _serve_on_free_port(
    command: Callable[[int], Sequence[str]],
    *,
    ready_path: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    deadline_s: float,
    log: Path,
    tries: int = 3,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`serve` on a port from `free_port`, with another port if that one was
    taken in between (another test session may have got it too): the server
    then either fails with "address already in use", or the answer to
    `ready_path` came from a socket that is not its own."""
    deadline = time.monotonic() + deadline_s
    for attempt in range(1, tries + 1):
        port = free_port()
        base_url = f"http://{LOOPBACK}:{port}"
        with ExitStack() as stack:
            try:
                process = stack.enter_context(
                    serve(
                        command(port),
                        ready_url=base_url + ready_path,
                        cwd=cwd,
                        env=env,
                        deadline_s=max(deadline - time.monotonic(), 1.0),
                        log=log,
                    )
                )
            except RuntimeError as exc:
                if attempt < tries and "address already in use" in str(exc).lower():
                    continue
                raise
            if _group_listens_on(process.pid, port) is False:
                if attempt < tries:
                    continue  # leaving the `with` stops ours
                raise RuntimeError(f"port {port} answered, but not from {command(port)[0]}")
            yield base_url, process
            return
    raise AssertionError("unreachable")  # pragma: no cover


def _tail(log: Path, lines: int = 20) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError as exc:
        return f"(cannot read it: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


def _targets_health(base_url: str) -> str:
    try:
        with urllib.request.urlopen(f"{base_url}/api/v1/targets", timeout=5) as response:  # noqa: S310
            active = json.load(response)["data"]["activeTargets"]
    except (OSError, ValueError, KeyError) as exc:
        return f"(cannot read /api/v1/targets: {exc})"
    return (
        "; ".join(
            f"{t['scrapeUrl']} {t['health']}" + (f" ({t['lastError']})" if t["lastError"] else "")
            for t in active
        )
        or "none"
    )


def _stop_group(process: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    """SIGTERM the process group led by `process`, wait until every member
    (not only the leader: e.g. `mlflow server` runs uvicorn as a child) is
    gone, SIGKILL whatever is left after `grace_s`."""
    deadline = time.monotonic() + grace_s
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
        while _group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
    except subprocess.TimeoutExpired:
        pass
    if process.poll() is None or _group_alive(process.pid):
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 5  # SIGKILL is not refused; only a hung kernel call waits
        while _group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)


def _signal_group(pgid: int, signum: int) -> None:
    with suppress(ProcessLookupError):  # already gone
        os.killpg(pgid, signum)


def _group_pids(pgid: int) -> list[int] | None:
    """The live (not zombie) processes of group `pgid`; None without /proc."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return None
    pids = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it ended meanwhile
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and ")".
        state, _ppid, pgrp = stat.rpartition(")")[2].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            pids.append(int(entry.name))
    return pids


def _group_alive(pgid: int) -> bool:
    pids = _group_pids(pgid)
    if pids is not None:
        return bool(pids)
    try:  # no /proc (macOS): ask the kernel; a zombie counts as alive here
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _group_listens_on(pgid: int, port: int) -> bool | None:
    """Whether the socket listening on loopback `port` belongs to a process of
    group `pgid`; None when it cannot be told (no /proc, e.g. macOS)."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            rows = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rpartition(":")[2], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{inode}]")
    pids = _group_pids(pgid)
    if not inodes or pids is None:
        return None
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            fds = list(fd_dir.iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in inodes:
                    return True
            except OSError:
                continue
    return False
