"""What compose.yaml promises, checked without Docker: ports on loopback only,
health-gated start order, MLflow's data on a named volume, and healthcheck
commands that really pass and fail."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from dockerfile import stages
from live import LOOPBACK, free_port

SPEC_TOP_LEVEL = {"name", "services", "networks", "volumes", "configs", "secrets", "include"}


@pytest.fixture(scope="module")
def compose(lab: Path) -> dict[str, Any]:
    return yaml.safe_load((lab / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def mlflow(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]["mlflow"]


def option(command: list[str], name: str) -> str:
    """The value of `--name=value` in a command list."""
    values = [a.split("=", 1)[1] for a in command if a.startswith(f"--{name}=")]
    assert len(values) == 1, f"expected one --{name}=... in {command}"
    return values[0]


def test_the_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    assert "version" not in compose, "the Compose Specification has no `version:`"
    assert set(compose) <= SPEC_TOP_LEVEL
    assert set(compose["services"]) == {"api", "mlflow"}


def test_ports_are_published_on_loopback_only_and_follow_the_course_plan(
    compose: dict[str, Any], lab: Path
) -> None:
    published = {}
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            host_ip, host_port, _container_port = str(port).split(":")
            assert host_ip == "127.0.0.1", f"{name} publishes {port} on every interface"
            published[int(host_port)] = name
    # The course gives every service a port of its own, so labs can run together.
    assert published == {8000: "api", 5000: "mlflow"}
    # In the course repository, the lab's manifest must declare the same ports
    # (a downloaded copy of the lab has no lab.yaml).
    manifest = lab / "lab.yaml"
    if manifest.exists():
        declared = {p["port"] for p in yaml.safe_load(manifest.read_text())["ports"]}
        assert declared == set(published)


def test_images_are_pinned(compose: dict[str, Any], mlflow: dict[str, Any]) -> None:
    assert re.fullmatch(r"ghcr\.io/mlflow/mlflow:v\d+\.\d+\.\d+", mlflow["image"])
    # The API's image is built here and tagged the way the lab's steps run it.
    assert compose["services"]["api"]["image"] == "wine-api:01"


def test_the_api_is_built_from_this_labs_dockerfile(compose: dict[str, Any], lab: Path) -> None:
    build = compose["services"]["api"]["build"]
    assert (lab / build["context"] / build["dockerfile"]).resolve() == lab / "Dockerfile"


def test_the_api_starts_only_once_mlflow_is_healthy(compose: dict[str, Any]) -> None:
    depends = compose["services"]["api"]["depends_on"]
    assert depends == {"mlflow": {"condition": "service_healthy"}}


def test_every_service_has_a_healthcheck(
    compose: dict[str, Any], mlflow: dict[str, Any], lab: Path
) -> None:
    # The API's comes from its Dockerfile; compose may leave it alone.
    api = compose["services"]["api"]
    assert "healthcheck" in api or stages(lab / api["build"]["dockerfile"])[-1].all("HEALTHCHECK")
    check = mlflow["healthcheck"]
    assert check["test"][0] == "CMD"
    port = option(mlflow["command"], "port")
    assert f"http://127.0.0.1:{port}/health" in " ".join(check["test"])
    assert {"interval", "timeout", "retries", "start_period"} <= set(check)


def test_mlflow_keeps_its_data_in_a_named_volume(
    compose: dict[str, Any], mlflow: dict[str, Any]
) -> None:
    (mount,) = mlflow["volumes"]
    volume, target = mount.split(":")
    assert volume in compose["volumes"], "a named volume, declared at the top level"
    store = option(mlflow["command"], "backend-store-uri")
    assert store == f"sqlite:///{target}/mlflow.db"
    assert option(mlflow["command"], "artifacts-destination").startswith(f"{target}/")


def test_mlflow_accepts_requests_addressed_to_its_service_name(mlflow: dict[str, Any]) -> None:
    allowed = option(mlflow["command"], "allowed-hosts").split(",")
    port = option(mlflow["command"], "port")
    assert f"mlflow:{port}" in allowed
    # ... and still from this machine, through the published port.
    assert {"localhost:*", "127.0.0.1:*"} <= set(allowed)
    assert option(mlflow["command"], "host") == "0.0.0.0"


def test_the_api_container_is_locked_down(compose: dict[str, Any]) -> None:
    api = compose["services"]["api"]
    assert api["read_only"] is True
    assert api["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in api["security_opt"]


class Health(BaseHTTPRequestHandler):
    """Answers GET /health with 200 OK, like MLflow; anything else 404."""

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[int]:
    server = HTTPServer((LOOPBACK, 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def run_check(test: list[str], port_in_file: str, port: int) -> int:
    """Run a compose healthcheck `test` here, against `port` instead."""
    assert test[0] == "CMD"
    assert test[1] == "python"
    command = [sys.executable, *(a.replace(f":{port_in_file}/", f":{port}/") for a in test[2:])]
    return subprocess.run(command, capture_output=True, timeout=30, check=False).returncode


def test_the_mlflow_healthcheck_passes_on_200_and_fails_when_nothing_answers(
    mlflow: dict[str, Any], health_server: int
) -> None:
    test = mlflow["healthcheck"]["test"]
    port_in_file = option(mlflow["command"], "port")
    assert run_check(test, port_in_file, health_server) == 0
    assert run_check(test, port_in_file, free_port()) != 0
