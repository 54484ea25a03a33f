"""compare_images.py, driven by a stand-in `docker` command: the builds it
asks for, the table it prints, and the source file it must always restore."""

from __future__ import annotations

import json
import shutil
import stat
import sys
from pathlib import Path

import pytest

import compare_images
from compare_images import StepCount, count_steps, human_size

# The shape of BuildKit's `--progress=plain` output for this lab's Dockerfile
# after a code change (written for this test; abridged): a step header
# "#N [stage i/n] INSTRUCTION", then "#N CACHED" when the layer was reused.
PLAIN_PROGRESS = """\
#0 building with "default" instance using docker driver

#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 3.12kB done
#1 DONE 0.0s

#5 [uv 1/1] FROM ghcr.io/astral-sh/uv:0.13.9@sha256:0000
#5 DONE 0.0s

#6 [base 1/1] FROM docker.io/library/python:3.13-slim-trixie@sha256:1111
#6 DONE 0.0s

#8 [builder 1/7] COPY --from=uv /uv /bin/uv
#8 CACHED

#9 [builder 2/7] WORKDIR /app
#9 CACHED

#10 [builder 3/7] RUN --mount=type=cache,target=/root/.cache/uv     uv sync --locked
#10 CACHED

#11 [builder 4/7] COPY pyproject.toml uv.lock ./
#11 CACHED

#12 [builder 5/7] COPY src ./src
#12 DONE 0.0s

#13 [builder 6/7] RUN --mount=type=cache,target=/root/.cache/uv     uv sync --locked --no-editable
#13 0.312 Installed 1 package in 2ms
#13 DONE 0.9s

#14 [runtime 1/6] RUN groupadd --system --gid 10001 app
#14 CACHED

#15 [builder 7/7] RUN /app/.venv/bin/python -m wine_api.train --output /app/model/model.joblib
#15 2.021 test accuracy: 1.0000; model saved to /app/model/model.joblib
#15 DONE 2.3s

#16 [runtime 3/6] COPY --from=builder /app/.venv /app/.venv
#16 DONE 0.6s

#12 [builder 5/7] COPY src ./src
"""


def test_count_steps_reads_buildkits_plain_progress() -> None:
    # FROM lines only name bases: 9 steps remain, 5 of them CACHED.
    assert count_steps(PLAIN_PROGRESS) == StepCount(total=9, cached=5)


def test_count_steps_knows_unnamed_stages() -> None:
    text = "#7 [2/4] COPY . .\n#7 CACHED\n#8 [3/4] RUN pip install uv\n#8 DONE 9.1s\n"
    assert count_steps(text) == StepCount(total=2, cached=1)


@pytest.mark.parametrize(
    ("size", "text"),
    [(999, "999 B"), (1000, "1.0 kB"), (293_400_000, "293.4 MB"), (1_234_000_000, "1.23 GB")],
)
def test_sizes_use_decimal_units_like_docker(size: int, text: str) -> None:
    assert human_size(size) == text


FAKE_DOCKER = """\
#!{python}
# A stand-in for `docker`: records each call and what app.py held at the time.
import hashlib, json, os, sys
from pathlib import Path

args = sys.argv[1:]
app = Path("src/wine_api/app.py")
with open(os.environ["FAKE_DOCKER_CALLS"], "a") as f:
    f.write(json.dumps({{"args": args, "app": app.read_text() if app.exists() else None}}) + "\\n")
if args[0] == "version":
    print("29.1.3")
elif args[0] == "build":
    with open(os.environ["FAKE_DOCKER_CALLS"]) as f:
        builds = sum(json.loads(line)["args"][0] == "build" for line in f)
    if str(builds) == os.environ.get("FAKE_DOCKER_FAIL_AT"):
        print("ERROR: failed to build: failed to solve: no space left on device", file=sys.stderr)
        sys.exit(1)
    print("#7 [builder 2/4] COPY src ./src\\n#7 DONE 0.1s")
    print("#8 [builder 1/4] WORKDIR /app\\n#8 CACHED")
elif args[:2] == ["image", "inspect"]:
    print("293400000 12" if args[-1].endswith(":01") else "1234000000 9")
"""


@pytest.fixture
def fake_lab(tmp_path: Path, lab: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the lab's source, and a fake `docker` first on PATH."""
    root = tmp_path / "lab"
    shutil.copytree(lab / "src", root / "src")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER.format(python=sys.executable))
    docker.chmod(docker.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}")
    monkeypatch.setenv("FAKE_DOCKER_CALLS", str(tmp_path / "calls.jsonl"))
    return root


def calls(root: Path) -> list[dict[str, object]]:
    lines = (root.parent / "calls.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_it_builds_changes_a_line_rebuilds_and_restores_the_source(
    fake_lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = (fake_lab / "src/wine_api/app.py").read_text()
    assert compare_images.main([], root=fake_lab) == 0

    builds = [c for c in calls(fake_lab) if c["args"][0] == "build"]
    tags = [b["args"][b["args"].index("-t") + 1] for b in builds]
    files = [b["args"][b["args"].index("-f") + 1] for b in builds]
    assert tags == ["wine-api:naive", "wine-api:01"] * 3
    assert files == ["Dockerfile.naive", "Dockerfile"] * 3
    assert all("--progress=plain" in b["args"] and b["args"][-1] == "." for b in builds)
    changed = [b["app"] != original for b in builds]
    assert changed == [False, False, True, True, False, False]
    assert builds[2]["app"].startswith(original)  # one line added, nothing else touched
    assert (fake_lab / "src/wine_api/app.py").read_text() == original

    table = (fake_lab / "image-comparison.txt").read_text()
    assert "Docker Engine 29.1.3" in table
    assert "wine-api:naive  1.23 GB" in table
    assert "wine-api:01     293.4 MB" in table
    assert "(1 of 2 steps cached)" in table
    assert table in capsys.readouterr().out


def test_a_failed_rebuild_still_restores_the_source(
    fake_lab: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    original = (fake_lab / "src/wine_api/app.py").read_text()
    monkeypatch.setenv("FAKE_DOCKER_FAIL_AT", "4")  # the second rebuild
    assert compare_images.main([], root=fake_lab) == 1
    assert (fake_lab / "src/wine_api/app.py").read_text() == original
    err = capsys.readouterr().err
    assert "no space left on device" in err
    assert "compare-images.log" in err
    assert not (fake_lab / "image-comparison.txt").exists()


def test_no_cache_applies_to_the_first_builds_only(fake_lab: Path) -> None:
    assert compare_images.main(["--no-cache"], root=fake_lab) == 0
    builds = [c["args"] for c in calls(fake_lab) if c["args"][0] == "build"]
    assert ["--no-cache" in b for b in builds] == [True, True, False, False, False, False]


def test_without_an_engine_it_says_so(
    fake_lab: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    docker = Path(compare_images.shutil.which("docker"))
    docker.write_text(
        "#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock."
        " Is the docker daemon running?' >&2\nexit 1\n"
    )
    assert compare_images.main([], root=fake_lab) == 2
    assert "Cannot connect to the Docker daemon" in capsys.readouterr().err
