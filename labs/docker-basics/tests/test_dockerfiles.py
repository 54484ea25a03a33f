"""What the Dockerfiles promise, checked without Docker: pinned bases, the
layer order that keeps rebuilds fast, a non-root user, a HEALTHCHECK on the
port the server listens on, a build context without local clutter."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest
from dockerfile import Instruction, Stage, stages

DOCKERFILES = ["Dockerfile", "Dockerfile.naive"]
# The GPU variant has no python: base (tests/test_gpu.py checks the rest of it).
EVERY_DOCKERFILE = [*DOCKERFILES, "Dockerfile.gpu"]
PIN_COMMENT = re.compile(r"# pin \(checked \d{4}-\d{2}-\d{2}\): \S.*")
SECRET_NAME = re.compile(r"secret|token|passw(or)?d|api_?key|credential|private_?key", re.I)


@pytest.fixture(scope="module")
def final(lab: Path) -> Stage:
    """The stage `docker build` turns into the image: the last one."""
    return stages(lab / "Dockerfile")[-1]


def image_parts(reference: str) -> tuple[str, str | None, str | None]:
    """`name[:tag][@sha256:digest]` -> (name, tag, digest)."""
    rest, _, digest = reference.partition("@")
    name, _, tag = rest.rpartition(":") if ":" in rest.rsplit("/", 1)[-1] else (rest, "", "")
    return name, tag or None, digest or None


def cmd_port(command: list[str]) -> int:
    return int(command[command.index("--port") + 1])


@pytest.mark.parametrize("name", EVERY_DOCKERFILE)
def test_every_base_image_is_pinned(lab: Path, name: str) -> None:
    earlier: set[str] = set()
    for stage in stages(lab / name):
        if stage.image not in earlier:
            _, tag, digest = image_parts(stage.image)
            if digest is not None:
                assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), stage.image
            else:
                assert tag not in (None, "latest"), f"{name}: {stage.image} floats"
                assert re.search(r"\d", tag), f"{name}: {stage.image} names no version"
        if stage.name:
            earlier.add(stage.name)


def test_uv_is_the_same_version_everywhere(lab: Path) -> None:
    """The uv that builds the image is the one the project's build backend expects."""
    pyproject = tomllib.loads((lab / "pyproject.toml").read_text())
    backend = pyproject["build-system"]["requires"][0]
    low = re.search(r">=([\d.]+)", backend).group(1)
    uv_image = next(s.image for s in stages(lab / "Dockerfile") if "astral-sh/uv" in s.image)
    naive_install = next(i.args for i in stages(lab / "Dockerfile.naive")[0].all("RUN"))
    assert image_parts(uv_image)[1] == low
    assert f"uv=={low}" in naive_install


@pytest.mark.parametrize("name", DOCKERFILES)
def test_the_image_python_satisfies_requires_python(lab: Path, name: str) -> None:
    pyproject = tomllib.loads((lab / "pyproject.toml").read_text())
    minimum = tuple(int(p) for p in pyproject["project"]["requires-python"][2:].split("."))
    pythons = [s.image for s in stages(lab / name) if s.image.startswith("python:")]
    assert pythons, f"{name} has no python base image"
    for image in pythons:
        tag = image_parts(image)[1]
        version = tuple(int(p) for p in re.match(r"(\d+)\.(\d+)", tag).groups())
        assert version >= minimum, image


def test_both_variants_run_the_same_python(lab: Path) -> None:
    """Otherwise the comparison would measure Python versions, not structure."""

    def minor(name: str) -> set[str]:
        return {
            re.match(r"\d+\.\d+", image_parts(s.image)[1]).group()
            for s in stages(lab / name)
            if s.image.startswith("python:")
        }

    assert minor("Dockerfile") == minor("Dockerfile.naive") == {"3.13"}


def test_builder_and_runtime_start_from_one_base(lab: Path) -> None:
    by_name = {s.name: s for s in stages(lab / "Dockerfile")}
    assert by_name["builder"].image == by_name["runtime"].image == "base"


def test_dependencies_are_installed_before_the_code_is_copied(lab: Path) -> None:
    builder = next(s for s in stages(lab / "Dockerfile") if s.name == "builder")
    steps = builder.instructions
    deps = next(i for i, s in enumerate(steps) if "--no-install-project" in s.args)
    code = next(i for i, s in enumerate(steps) if s.keyword == "COPY" and s.args.startswith("src"))
    assert deps < code
    install = steps[deps].args
    assert "uv sync --locked --no-dev" in install
    assert "--mount=type=cache,target=/root/.cache/uv" in install
    for lock_file in ("uv.lock", "pyproject.toml"):
        assert f"--mount=type=bind,source={lock_file},target={lock_file}" in install


def test_the_runtime_stage_gets_only_the_venv_and_the_model(final: Stage) -> None:
    copies = [c.args for c in final.all("COPY")]
    assert copies == [
        "--from=builder /app/.venv /app/.venv",
        "--from=builder /app/model /app/model",
    ]
    assert not any("uv" in r.args.split()[0] for r in final.all("RUN"))


def test_the_image_runs_as_an_unprivileged_numeric_user(final: Stage) -> None:
    user = final.all("USER")[-1].args
    assert re.fullmatch(r"\d+:\d+", user), f"USER {user}: use numeric uid:gid"
    uid, gid = user.split(":")
    assert uid != "0"
    assert gid != "0"
    created = " ".join(r.args for r in final.all("RUN"))
    assert f"--uid {uid}" in created
    assert f"--gid {gid}" in created
    # USER comes before CMD, so the server itself runs as that user.
    assert final.instructions.index(final.all("USER")[-1]) < final.instructions.index(
        final.all("CMD")[-1]
    )


def test_the_healthcheck_probes_readiness_on_the_served_port(final: Stage) -> None:
    (healthcheck,) = final.all("HEALTHCHECK")
    command = " ".join(healthcheck.exec_form())
    port = cmd_port(final.all("CMD")[-1].exec_form())
    assert f"http://127.0.0.1:{port}/ready" in command
    assert final.all("EXPOSE")[-1].args == str(port)
    assert set(healthcheck.flags()) >= {"interval", "timeout", "start-period", "retries"}


def test_the_server_starts_in_exec_form_listening_on_all_interfaces(final: Stage) -> None:
    command = final.all("CMD")[-1].exec_form()
    assert command[0] == "uvicorn"
    assert command[command.index("--host") + 1] == "0.0.0.0"


@pytest.mark.parametrize("name", EVERY_DOCKERFILE)
def test_every_from_says_why_and_when_it_was_pinned(lab: Path, name: str) -> None:
    """The line above each FROM of an image: `# pin (checked DATE): reason`."""
    lines = (lab / name).read_text().splitlines()
    names: set[str] = set()
    for number, line in enumerate(lines):
        if not line.startswith("FROM "):
            continue
        words = line.split()
        if words[1] not in names:
            above = lines[number - 1] if number else ""
            assert PIN_COMMENT.fullmatch(above), f"{name}:{number + 1}: no pin comment above it"
        if len(words) >= 4 and words[2].upper() == "AS":
            names.add(words[3])


@pytest.mark.parametrize("name", EVERY_DOCKERFILE)
def test_no_secret_is_baked_into_arg_or_env(lab: Path, name: str) -> None:
    for stage in stages(lab / name):
        for instruction in stage.all("ENV") + stage.all("ARG"):
            keys = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", instruction.args) or [
                instruction.args.split()[0]
            ]
            leaking = [k for k in keys if SECRET_NAME.search(k)]
            assert not leaking, f"{name}:{instruction.line}: {leaking} would stay in the image"


def test_the_naive_variant_differs_as_its_header_says(lab: Path) -> None:
    (only,) = stages(lab / "Dockerfile.naive")
    assert "slim" not in only.image
    steps = only.instructions
    copy_all = next(i for i, s in enumerate(steps) if s.keyword == "COPY" and s.args == ". .")
    install = next(i for i, s in enumerate(steps) if "uv sync" in s.args)
    assert copy_all < install, "the naive file copies everything before installing"
    assert not only.all("USER")
    assert not only.all("HEALTHCHECK")


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore drops `path` (or a folder above it). Covers the
    pattern forms this lab uses: names, globs, `**/` prefixes, trailing `/`."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw.removeprefix("!").rstrip("/")
        tails = pattern.removeprefix("**/") if pattern.startswith("**/") else None
        hit = any(
            fnmatch.fnmatchcase(c, pattern)
            or (tails is not None and fnmatch.fnmatchcase(c.rsplit("/", 1)[-1], tails))
            for c in candidates
        )
        if hit:
            excluded = not negate
    return excluded


def context_sources(instruction: Instruction) -> list[str]:
    """Files a COPY or RUN --mount=type=bind takes from the build context."""
    if instruction.keyword == "COPY" and "from" not in instruction.flags():
        words = [w for w in instruction.args.split() if not w.startswith("--")]
        return [w for w in words[:-1] if w != "."]
    if instruction.keyword == "RUN":
        return re.findall(r"--mount=type=bind,source=([^,\s]+)", instruction.args)
    return []


def test_the_dockerignore_drops_clutter_and_keeps_what_the_builds_need(lab: Path) -> None:
    patterns = [
        line.strip()
        for line in (lab / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for clutter in (".venv/bin/python", "model/model.joblib", ".env", ".git/HEAD", "tests/x.py"):
        assert ignored(clutter, patterns), f"{clutter} would be sent to the builder"
    needed = {"pyproject.toml", "uv.lock", "src/wine_api/app.py", "src/wine_api/train.py"}
    for name in EVERY_DOCKERFILE:
        for stage in stages(lab / name):
            for instruction in stage.instructions:
                needed.update(context_sources(instruction))
    for path in sorted(needed):
        assert (lab / path).exists(), f"the build needs {path}"
        assert not ignored(path, patterns), f".dockerignore drops {path}, which a build copies"
