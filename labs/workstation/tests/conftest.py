"""Fixtures: a PATH that holds only small stub programs written by the test.

Each stub is a two-line shell script that prints what the real tool prints
(outputs copied from real runs) and exits with the code the test chooses, so
every outcome of the checker can be produced on any machine without Docker,
kubectl, kind or helm installed.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

# What each tool prints when it is healthy. The docker stub answers the three
# commands the checker runs: the client, the engine and the Compose plugin.
HEALTHY = {
    "python3": 'printf "Python 3.12.3\\n"',
    "uv": 'printf "uv 0.13.9 (x86_64-unknown-linux-gnu)\\n"',
    "git": 'printf "git version 2.47.3\\n"',
    "docker": """case "$1" in
  --version) printf "Docker version 28.2.2, build e6534b4\\n" ;;
  version) printf "28.2.2\\n" ;;
  compose) printf "Docker Compose version v2.39.1\\n" ;;
  *) exit 2 ;;
esac""",
    "kubectl": 'printf "Client Version: v1.34.1\\nKustomize Version: v5.7.1\\n"',
    "kind": 'printf "kind v0.31.0 go1.25.5 linux/amd64\\n"',
    "helm": 'printf "v4.0.1+g12500dd\\n"',
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
