"""The GPU variant, checked without a GPU: Dockerfile.gpu keeps every promise
of ./Dockerfile (pins, layer order, user, health, command) on a CUDA runtime
base, and compose.gpu.yaml reserves the GPU the way the chapter says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from dockerfile import Stage, stages

GPU_IMAGE = "wine-api:01-gpu"


@pytest.fixture(scope="module")
def gpu(lab: Path) -> dict[str, Stage]:
    return {s.name or s.image: s for s in stages(lab / "Dockerfile.gpu")}


@pytest.fixture(scope="module")
def cpu(lab: Path) -> dict[str, Stage]:
    return {s.name or s.image: s for s in stages(lab / "Dockerfile")}


def test_the_base_is_a_pinned_cuda_runtime_image(gpu: dict[str, Stage]) -> None:
    base = gpu["base"].image
    match = re.fullmatch(r"nvidia/cuda:(\d+)\.(\d+)\.(\d+)-runtime-ubuntu(\d+\.\d+)", base)
    assert match, f"{base}: want nvidia/cuda:X.Y.Z-runtime-ubuntuNN.NN (not devel, not base)"
    assert int(match.group(1)) >= 13, "CUDA 12 images are for drivers older than R580"
    assert gpu["builder"].image == gpu["runtime"].image == "base"


def test_uv_and_python_match_the_cpu_image(gpu: dict[str, Stage], cpu: dict[str, Stage]) -> None:
    assert gpu["uv"].image == cpu["uv"].image
    python = re.match(r"python:(\d+\.\d+)-", cpu["base"].image).group(1)
    runs = [r.args for r in gpu["builder"].all("RUN")]
    assert f"uv python install {python}" in runs
    syncs = [r for r in runs if "uv sync" in r]
    assert len(syncs) == 2
    assert all(f"--python {python}" in r and "--locked --no-dev" in r for r in syncs)


def test_the_builder_installs_dependencies_before_copying_code(gpu: dict[str, Stage]) -> None:
    steps = gpu["builder"].instructions
    deps = next(i for i, s in enumerate(steps) if "--no-install-project" in s.args)
    code = next(i for i, s in enumerate(steps) if s.keyword == "COPY" and s.args.startswith("src"))
    assert deps < code


def test_the_runtime_gets_the_interpreter_the_venv_and_the_model(gpu: dict[str, Stage]) -> None:
    copies = [c.args for c in gpu["runtime"].all("COPY")]
    assert copies == [
        "--from=builder /opt/python /opt/python",
        "--from=builder /app/.venv /app/.venv",
        "--from=builder /app/model /app/model",
    ]
    env = " ".join(e.args for e in gpu["builder"].all("ENV"))
    assert "UV_PYTHON_INSTALL_DIR=/opt/python" in env


def test_user_health_and_command_are_the_cpu_image_s(
    gpu: dict[str, Stage], cpu: dict[str, Stage]
) -> None:
    for keyword in ("USER", "HEALTHCHECK", "CMD", "EXPOSE"):
        assert [i.args for i in gpu["runtime"].all(keyword)] == [
            i.args for i in cpu["runtime"].all(keyword)
        ], keyword


def test_the_toolkit_is_asked_for_compute_and_nvidia_smi(gpu: dict[str, Stage]) -> None:
    env = " ".join(e.args for e in gpu["runtime"].all("ENV"))
    capabilities = re.search(r"NVIDIA_DRIVER_CAPABILITIES=(\S+)", env)
    assert capabilities, "without it the toolkit mounts only what the base image asks for"
    assert {"compute", "utility"} <= set(capabilities.group(1).split(","))


def test_compose_reserves_every_nvidia_gpu_for_the_api(lab: Path) -> None:
    override = yaml.safe_load((lab / "compose.gpu.yaml").read_text())
    base = yaml.safe_load((lab / "compose.yaml").read_text())
    assert set(override["services"]) == {"api"} <= set(base["services"])
    api = override["services"]["api"]
    assert api["build"] == {"dockerfile": "Dockerfile.gpu"}
    assert api["image"] == GPU_IMAGE
    (device,) = api["deploy"]["resources"]["reservations"]["devices"]
    assert device == {"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}


def test_the_header_commands_build_and_check_the_compose_image(lab: Path) -> None:
    header = (lab / "Dockerfile.gpu").read_text()
    assert f"-t {GPU_IMAGE} ." in header
    assert f"--gpus all {GPU_IMAGE} nvidia-smi" in header
