"""Build both images of this lab and compare them on your machine.

    python3 compare_images.py              # the first builds may use your build cache
    python3 compare_images.py --no-cache   # the first builds start from nothing (slow)

For each Dockerfile it measures the build time, then changes one line of
src/wine_api/app.py (a comment), rebuilds, and measures again: the rebuild
is what you wait for many times a day. Then it restores the file, rebuilds
from the cache so the tags match your files again, and reads each image's
size and layer count from `docker image inspect`.

The table goes to the terminal and to image-comparison.txt; the full build
output (BuildKit's plain progress, with a CACHED line for every reused step)
goes to compare-images.log. Needs a Docker engine with BuildKit; only the
standard library, so any Python 3.11+ runs it.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Relative to the lab folder, which is also the build context.
CHANGED_FILE = Path("src/wine_api/app.py")
TABLE_FILE = Path("image-comparison.txt")
LOG_FILE = Path("compare-images.log")


@dataclass(frozen=True)
class Variant:
    name: str
    dockerfile: str
    tag: str


VARIANTS = (
    Variant("naive", "Dockerfile.naive", "wine-api:naive"),
    Variant("multi-stage", "Dockerfile", "wine-api:01"),
)

# BuildKit's plain progress names each Dockerfile step like
#   #12 [builder 4/6] COPY src ./src      (a named stage)
#   #7 [2/4] COPY . .                      (an unnamed stage)
# and prints "#12 CACHED" when it reused the step's layer from the cache.
STEP = re.compile(r"^#(\d+) \[(?:[\w.-]+ )?\d+/\d+\] (\S+)")
CACHED = re.compile(r"^#(\d+) CACHED\s*$")


@dataclass(frozen=True)
class StepCount:
    """Steps that make layers (FROM only names a base, so it is not counted)."""

    total: int
    cached: int


def count_steps(build_output: str) -> StepCount:
    """How many Dockerfile steps a build had, and how many came from the cache."""
    steps: set[str] = set()
    cached: set[str] = set()
    for line in build_output.splitlines():
        if match := STEP.match(line):
            if match.group(2) != "FROM":
                steps.add(match.group(1))
        elif match := CACHED.match(line):
            cached.add(match.group(1))
    return StepCount(total=len(steps), cached=len(steps & cached))


@dataclass(frozen=True)
class Build:
    seconds: float
    steps: StepCount


@dataclass(frozen=True)
class Result:
    variant: Variant
    first: Build
    rebuild: Build
    size_bytes: int
    layers: int


class DockerError(RuntimeError):
    """A docker command failed; the message says which and why."""


def docker(*args: str, cwd: Path, log: Path | None = None) -> str:
    """Run `docker ARGS` in `cwd`; return its output (stdout and stderr), append it to `log`."""
    completed = subprocess.run(
        ["docker", *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    output = completed.stdout + completed.stderr
    if log is not None:
        with log.open("a", encoding="utf-8") as f:
            f.write(f"$ docker {' '.join(args)}\n{output}\n")
    if completed.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-15:])
        raise DockerError(f"`docker {' '.join(args)}` failed:\n{tail}")
    return output


def build(variant: Variant, root: Path, *, no_cache: bool = False) -> Build:
    args = ["build", "--progress=plain", "-f", variant.dockerfile, "-t", variant.tag]
    if no_cache:
        args.append("--no-cache")
    started = time.monotonic()
    output = docker(*args, ".", cwd=root, log=root / LOG_FILE)
    return Build(seconds=time.monotonic() - started, steps=count_steps(output))


def inspect(tag: str, root: Path) -> tuple[int, int]:
    """The image's size in bytes and its number of layers, as Docker reports them."""
    fmt = "{{.Size}} {{len .RootFS.Layers}}"
    out = docker("image", "inspect", "--format", fmt, tag, cwd=root)
    size, layers = out.split()
    return int(size), int(layers)


def human_size(n: int) -> str:
    """Decimal units, like `docker image ls`."""
    for unit in ("B", "kB", "MB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.2f} GB"


def table(results: list[Result]) -> str:
    header = ("image", "size", "layers", "build", "rebuild after a code change")
    rows = [header] + [
        (
            r.variant.tag,
            human_size(r.size_bytes),
            str(r.layers),
            f"{r.first.seconds:.1f} s",
            f"{r.rebuild.seconds:.1f} s ({r.rebuild.steps.cached} of "
            f"{r.rebuild.steps.total} steps cached)",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def compare(root: Path, *, no_cache: bool = False) -> list[Result]:
    """Build, change a line, rebuild, restore; `root` is the lab folder."""
    changed = root / CHANGED_FILE
    original = changed.read_bytes()
    first = {v.name: build(v, root, no_cache=no_cache) for v in VARIANTS}
    try:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        changed.write_bytes(original + f"# compare_images.py was here {stamp}\n".encode())
        rebuild = {v.name: build(v, root) for v in VARIANTS}
    finally:
        changed.write_bytes(original)
    for v in VARIANTS:
        build(v, root)  # from the cache: the tags point at images of your files again
    results = []
    for v in VARIANTS:
        size, layers = inspect(v.tag, root)
        results.append(Result(v, first[v.name], rebuild[v.name], size, layers))
    return results


def main(argv: list[str] | None = None, root: Path = HERE) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-cache", action="store_true", help="build the first images without the build cache"
    )
    args = parser.parse_args(argv)
    if shutil.which("docker") is None:
        print("no `docker` command found: install Docker first", file=sys.stderr)
        return 2
    try:
        server = docker("version", "--format", "{{.Server.Version}}", cwd=root).strip()
    except DockerError as exc:
        print(f"{exc}\nIs the Docker engine running, and may you use it?", file=sys.stderr)
        return 2
    print(f"Docker Engine {server}: 3 builds of each image follow; this takes a while.")
    (root / LOG_FILE).write_text("", encoding="utf-8")
    try:
        results = compare(root, no_cache=args.no_cache)
    except DockerError as exc:
        print(exc, file=sys.stderr)
        print(f"The whole output is in {LOG_FILE.name}.", file=sys.stderr)
        return 1
    first = "without the build cache" if args.no_cache else "with the build cache you had"
    report = (
        f"Docker Engine {server}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"first builds {first}.\n\n{table(results)}\n"
    )
    (root / TABLE_FILE).write_text(report, encoding="utf-8")
    print(f"\n{report}\nSaved to {TABLE_FILE.name}; build output in {LOG_FILE.name}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
