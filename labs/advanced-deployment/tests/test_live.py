"""The lab as you run it: real uvicorn processes on real sockets. One
backend serves the A/B variants (wine/1 and wine/2, multi-model), a second
backend is the shadow and sleeps 3 s per prediction (SIMULATED_DELAY_S),
and the router sits in front. The caller's timeout is 1 s: the slow shadow
must not make a single request miss it."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
from live import free_port, serve

pytestmark = pytest.mark.live


def uvicorn(app: str, port: int) -> list[str]:
    # A short graceful shutdown: the slow shadow still has 3 s sleeps in flight.
    return [
        *(sys.executable, "-m", "uvicorn", app),
        *("--host", "127.0.0.1", "--port", str(port), "--timeout-graceful-shutdown", "1"),
    ]


def post(url: str, body: dict, user: str, timeout: float) -> tuple[int, dict, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-User-Id": user},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback)
        return response.status, dict(response.headers), json.load(response)


@pytest.fixture(scope="module")
def stack(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("live")
    backend, shadow, router = free_port(), free_port(), free_port()
    (work / "router.toml").write_text(
        f"""
mode = "ab"
timeout_s = 2.0
[variants.a]
url = "http://127.0.0.1:{backend}"
model = "wine"
version = "1"
[variants.b]
url = "http://127.0.0.1:{backend}"
model = "wine"
version = "2"
[variants.shadow]
url = "http://127.0.0.1:{shadow}"
model = "wine"
version = "3"
[ab]
salt = "live"
weights = {{ a = 1, b = 1 }}
[shadow]
variant = "shadow"
timeout_s = 0.5
log = "{work / "shadow.jsonl"}"
"""
    )
    backend_env = {"MODELS_DIR": str(models_dir)}
    processes = [
        # The backend for a and b (multi-model), with both versions preloaded.
        (
            backend,
            "wine_router.backend:app",
            "/ready",
            {**backend_env, "PRELOAD_MODELS": "wine/1,wine/2"},
        ),
        # The shadow: 3 s per prediction.
        (
            shadow,
            "wine_router.backend:app",
            "/ready",
            {**backend_env, "PRELOAD_MODELS": "wine/3", "SIMULATED_DELAY_S": "3"},
        ),
        (router, "wine_router.router:app", "/health", {"ROUTER_CONFIG": str(work / "router.toml")}),
    ]

    def start(port: int, app: str, path: str, env: dict[str, str]) -> ExitStack:
        started = ExitStack()
        started.enter_context(
            serve(
                uvicorn(app, port),
                ready_url=f"http://127.0.0.1:{port}{path}",
                env=env,
                log=work / f"{port}.log",
            )
        )
        return started

    # Started side by side: each cold start imports numpy and FastAPI.
    with ExitStack() as stack, ThreadPoolExecutor(len(processes)) as pool:
        futures = [pool.submit(start, *p) for p in processes]
        errors = []
        for future in futures:
            try:
                stack.enter_context(future.result())
            except (RuntimeError, TimeoutError) as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
        yield f"http://127.0.0.1:{router}"


def test_the_router_answers_in_time_despite_a_slow_shadow(
    stack: str, wines: list[tuple[dict[str, float], str]]
) -> None:
    variants = set()
    slowest = 0.0
    for i in range(20):
        started = time.perf_counter()
        status, headers, body = post(f"{stack}/predict", wines[i][0], f"user-{i}", timeout=1.0)
        slowest = max(slowest, time.perf_counter() - started)
        assert status == 200
        assert body["class_name"] == wines[i][1]
        assert headers["x-variant"] == body["variant"]
        assert headers["x-model-version"] == body["model_version"]
        variants.add(body["variant"])
    assert variants == {"a", "b"}
    assert slowest < 1.0  # the shadow sleeps 3 s per copy

    with urllib.request.urlopen(f"{stack}/admin/status", timeout=5) as response:  # noqa: S310
        shadow = json.load(response)["shadow"]
    # Copies are sent and fail by timeout, or wait in the queue; none was returned.
    assert shadow["sent"] >= 1
    assert shadow["agreed"] == shadow["disagreed"] == 0
