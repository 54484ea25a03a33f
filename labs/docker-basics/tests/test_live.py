"""The image's own start command and HEALTHCHECK, run here without Docker: a
real uvicorn on a free port, started with the Dockerfile's CMD and ENV, and
the HEALTHCHECK's command run against it, as Docker would run it."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from dockerfile import Stage, stages
from live import free_port, serve


@pytest.fixture(scope="module")
def final(lab: Path) -> Stage:
    return stages(lab / "Dockerfile")[-1]


def image_command(final: Stage, port: int) -> list[str]:
    """The Dockerfile's CMD with this environment's Python, on 127.0.0.1:port."""
    command = final.all("CMD")[-1].exec_form()
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    assert command[0] == "uvicorn"
    return [sys.executable, "-m", *command]


def healthcheck(final: Stage, port: int) -> subprocess.CompletedProcess[str]:
    """The HEALTHCHECK command, aimed at `port`; Docker calls exit 0 healthy."""
    (instruction,) = final.all("HEALTHCHECK")
    command = instruction.exec_form()
    assert command[0] == "python"
    args = [a.replace("127.0.0.1:8000/", f"127.0.0.1:{port}/") for a in command[1:]]
    timeout = int(instruction.flags()["timeout"].removesuffix("s"))
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def image_server(
    final: Stage, model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    port = free_port()
    log = tmp_path_factory.mktemp("uvicorn") / "uvicorn.log"
    # MODEL_PATH as the image sets it, pointing at the test's model instead.
    env_line = " ".join(e.args for e in final.all("ENV"))
    assert "MODEL_PATH=/app/model/model.joblib" in env_line
    with serve(
        image_command(final, port),
        ready_url=f"http://127.0.0.1:{port}/health",
        env={"MODEL_PATH": str(model_path)},
        log=log,
    ):
        yield port


def test_the_image_command_serves_predictions(image_server: int, wine: dict[str, float]) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{image_server}/predict",
        data=json.dumps(wine).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
        assert json.load(response)["class_name"] == "class_0"


def test_the_healthcheck_passes_when_the_api_is_ready(final: Stage, image_server: int) -> None:
    result = healthcheck(final, image_server)
    assert result.returncode == 0, result.stderr


def test_the_healthcheck_fails_when_nothing_listens(final: Stage) -> None:
    result = healthcheck(final, free_port())
    assert result.returncode != 0
    assert "Connection refused" in result.stderr


def test_a_live_api_without_a_model_is_alive_but_unhealthy(final: Stage, tmp_path: Path) -> None:
    """The `unhealthy` case: the process answers /health, /ready says 503."""
    port = free_port()
    env = {"MODEL_PATH": str(tmp_path / "none.joblib")}
    with serve(image_command(final, port), ready_url=f"http://127.0.0.1:{port}/health", env=env):
        result = healthcheck(final, port)
    assert result.returncode != 0
    assert "HTTP Error 503: Service Unavailable" in result.stderr
