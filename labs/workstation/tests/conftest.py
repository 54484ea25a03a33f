"""Fixtures: a PATH that holds only small stub programs written by the test.

Each stub is a small shell script that prints what the real tool prints (in
the format of real runs; the versions are examples) and exits with the code the test chooses, so
every outcome of the checker can be produced on any machine without Docker,
kubectl, kind, Helm, Prometheus or Rust installed.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

# What each tool prints when it is healthy. The docker stub answers the four
# commands the checker runs: the client, the engine, buildx and Compose.
HEALTHY = {
    "python3": 'printf "Python 3.12.3\\n"',
    "uv": 'printf "uv 0.13.9 (x86_64-unknown-linux-gnu)\\n"',
    "git": 'printf "git version 2.47.3\\n"',
    "curl": 'printf "curl 8.14.1 (x86_64-pc-linux-gnu) libcurl/8.14.1 OpenSSL/3.5.1\\n"',
    "docker": """case "$1" in
  --version) printf "Docker version 28.2.2, build e6534b4\\n" ;;
  version) printf "28.2.2\\n" ;;
  buildx) printf "github.com/docker/buildx v0.29.1 a32761aeb3debd39be1eca514af3693af0db334b\\n" ;;
  compose) printf "Docker Compose version v2.39.1\\n" ;;
  *) exit 2 ;;
esac""",
    "kubectl": 'printf "Client Version: v1.37.0\\nKustomize Version: v5.8.0\\n"',
    "kind": 'printf "kind v0.33.0 go1.26.3 linux/amd64\\n"',
    "helm": 'printf "v4.0.1+g12500dd\\n"',
    "gh": 'printf "gh version 2.83.1 (2025-11-13)\\n'
    'https://github.com/cli/cli/releases/tag/v2.83.1\\n"',
    "prometheus": 'printf "prometheus, version 3.8.0 (branch: HEAD, revision: 1ce8d5a)\\n"',
    "promtool": 'printf "promtool, version 3.8.0 (branch: HEAD, revision: 1ce8d5a)\\n"',
    "amtool": 'printf "amtool, version 0.33.1 (branch: HEAD, revision: 7bcf9a5)\\n"',
    "rustc": 'printf "rustc 1.91.1 (ed61e7d7e 2025-11-07)\\n"',
    "cargo": 'printf "cargo 1.91.1 (ea2d97820 2025-10-10)\\n"',
}


class FakePath:
    """A folder of stub programs that is the whole of PATH."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def add(self, name: str, body: str) -> Path:
        """Writes an executable stub `name` that runs the shell `body`."""
        stub = self.folder / name
        stub.write_text(f"#!/bin/sh\n{body}\n")
        stub.chmod(stub.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return stub

    def add_healthy(self, *names: str) -> None:
        """Adds working stubs for `names`, or for every tool if none given."""
        for name in names or HEALTHY:
            self.add(name, HEALTHY[name])

    def remove(self, name: str) -> None:
        (self.folder / name).unlink()


@pytest.fixture
def fake_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakePath:
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return FakePath(folder)
