"""What the labs ask of a Docker engine, read from their files.

    python3 scripts/containers/labs.py bases     # every image a lab pulls: IMAGE<TAB>FILE
    python3 scripts/containers/labs.py files     # every Dockerfile and compose file: KIND<TAB>LAB<TAB>FILE

Nothing is hard-coded: a new lab's Dockerfile or compose file is found and its
bases are reported, so standins.sh fails loudly ("no stand-in for ...") instead
of the container tier silently skipping it. Standard library only; compose
files are read through `docker compose config --format json`, which resolves
them exactly as Compose will.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LABS = ROOT / "labs"
COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
# Folders a lab may hold that are not the lab's own files (a learner's venv, caches).
SKIP_DIRS = {".venv", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache"}
# Files the tier cannot build here, each with the reason it prints. They are
# still found and listed (tier.py reports each as "not built", never as passed),
# but their bases are not asked of standins.sh. `course lab test` still lints them.
NOT_BUILT = {
    ("docker-basics", "Dockerfile.gpu"): (
        "needs nvidia/cuda (no stand-in: no NVIDIA registry is reachable) and a GPU "
        "with the NVIDIA Container Toolkit; hadolint and tests/test_gpu.py check it"
    ),
    ("docker-basics", "compose.gpu.yaml"): (
        "an override for Dockerfile.gpu that reserves NVIDIA GPUs; tests/test_gpu.py checks it"
    ),
}


@dataclass(frozen=True)
class LabFile:
    kind: str  # "dockerfile" or "compose"
    lab: str
    path: Path

    @property
    def not_built(self) -> str | None:
        """Why the tier does not build this file, or None."""
        return NOT_BUILT.get((self.lab, self.path.name))


def _walk(lab: Path) -> list[Path]:
    found = []
    for p in sorted(lab.rglob("*")):
        if any(part in SKIP_DIRS for part in p.relative_to(lab).parts):
            continue
        if p.is_file():
            found.append(p)
    return found


def lab_files() -> list[LabFile]:
    out = []
    for lab in sorted(p for p in LABS.iterdir() if (p / "lab.yaml").is_file()):
        for p in _walk(lab):
            if p.name == "Dockerfile" or p.name.startswith("Dockerfile."):
                out.append(LabFile("dockerfile", lab.name, p))
            elif p.name in COMPOSE_NAMES or (lab.name, p.name) in NOT_BUILT:
                out.append(LabFile("compose", lab.name, p))
    return out


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def dockerfile_bases(dockerfile: Path) -> list[str]:
    """Images a build pulls: FROM images and COPY --from= images, not stage names."""
    stages: set[str] = set()
    images: list[str] = []
    for word, rest in instructions(dockerfile):
        if word == "FROM":
            args = [a for a in shlex.split(rest) if not a.startswith("--")]
            if not args:
                raise SystemExit(f"{dockerfile}: FROM without an image")
            image = args[0]
            if len(args) >= 3 and args[1].lower() == "as":
                stages.add(args[2].lower())
            if image.lower() not in stages and image != "scratch":
                images.append(image)
        elif word in ("COPY", "ADD"):
            m = re.search(r"--from=(\S+)", rest)
            if m and m.group(1).lower() not in stages and not m.group(1).isdigit():
                images.append(m.group(1))
        elif word == "RUN":
            for m in re.finditer(r"--mount=\S*\bfrom=([^,\s]+)", rest):
                if m.group(1).lower() not in stages:
                    images.append(m.group(1))
    return images


def compose_config(compose: Path) -> dict:
    """The resolved compose file, as `docker compose config` prints it."""
    cmd = ["docker", "compose", "-f", str(compose), "config", "--format", "json"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise SystemExit("labs.py: no `docker` client on PATH (eval \"$(scripts/containers/engine.sh env)\")")
    if done.returncode != 0:
        raise SystemExit(f"labs.py: {' '.join(cmd)} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def compose_bases(compose: Path) -> list[str]:
    """Images of services that are pulled, not built."""
    services = compose_config(compose).get("services", {})
    return [s["image"] for s in services.values() if "image" in s and "build" not in s]


def main(argv: list[str]) -> int:
    if argv[1:] == ["files"]:
        for f in lab_files():
            print(f"{f.kind}\t{f.lab}\t{f.path.relative_to(ROOT)}")
        return 0
    if argv[1:] == ["bases"]:
        seen: dict[str, str] = {}
        for f in lab_files():
            if f.not_built:
                continue
            bases = dockerfile_bases(f.path) if f.kind == "dockerfile" else compose_bases(f.path)
            for image in bases:
                seen.setdefault(image, str(f.path.relative_to(ROOT)))
        for image, source in seen.items():
            print(f"{image}\t{source}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
