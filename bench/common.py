"""Helpers shared by the benchmark scripts (Python 3.11 standard library only).

Nothing here is a test: the scripts print numbers for a person to read.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COURSE_BIN = ROOT / "target" / "release" / "course"

# Generated or local-only folders never copied into a temporary project.
SKIP_NAMES = {".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "node_modules", ".git", "mlruns", "target"}


def find_mdbook(explicit: str | None) -> str:
    """The stock mdbook binary: --mdbook, else ~/.cargo/bin/mdbook, else PATH."""
    if explicit:
        return explicit
    home = Path.home() / ".cargo" / "bin" / "mdbook"
    if home.is_file():
        return str(home)
    found = shutil.which("mdbook")
    if not found:
        sys.exit("error: stock mdbook not found; pass --mdbook PATH")
    return found


def build_course(timeout: float = 3600.0) -> None:
    """Builds the `course` CLI once, in release mode."""
    cmd = ["cargo", "build", "--release", "-p", "course"]
    print(f"Building `course` once: {' '.join(cmd)}  (in {ROOT})", flush=True)
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, timeout=timeout)
    except subprocess.TimeoutExpired:
        sys.exit(f"error: the release build took longer than {timeout:.0f} s")
    if proc.returncode != 0:
        sys.exit(f"error: `{' '.join(cmd)}` failed with exit code {proc.returncode}")
    if not COURSE_BIN.is_file():
        sys.exit(f"error: {COURSE_BIN} is missing after the build")
    print(f"  done in {time.perf_counter() - start:.1f} s", flush=True)


def ensure_course(no_cargo: bool) -> None:
    """Uses the existing release `course` with --no-cargo, else builds it once."""
    if not no_cargo:
        build_course()
        return
    if not COURSE_BIN.is_file():
        sys.exit(f"error: {COURSE_BIN} is missing; run without --no-cargo")
    print(f"Using the existing {COURSE_BIN} (--no-cargo)")


def copy_tree(src: Path, dst: Path, skip_rel: tuple[str, ...] = ()) -> None:
    """Copies src to dst without caches, virtualenvs and the given relative paths."""
    skip_rel_paths = {src / r for r in skip_rel}

    def ignore(directory: str, names: list[str]) -> set[str]:
        d = Path(directory)
        return {n for n in names if n in SKIP_NAMES or d / n in skip_rel_paths}

    shutil.copytree(src, dst, ignore=ignore, symlinks=True)


def strip_labs_preprocessor(book_toml: Path) -> None:
    """Removes the `[preprocessor.labs]` table from book.toml, so stock mdbook
    leaves `{{#lab …}}` text as it is and never runs cargo."""
    lines = book_toml.read_text(encoding="utf-8").splitlines(keepends=True)
    out: list[str] = []
    skipping = False
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    for line in lines:
        m = header.match(line)
        if m:
            name = m.group(1).replace('"', "").replace("'", "")
            skipping = name == "preprocessor.labs" or name.startswith("preprocessor.labs.")
        if not skipping:
            out.append(line)
    text = "".join(out)
    parsed = tomllib.loads(text)
    if "labs" in parsed.get("preprocessor", {}):
        sys.exit(f"error: could not remove [preprocessor.labs] from {book_toml}")
    book_toml.write_text(text, encoding="utf-8")


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def percentile(xs: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    s = sorted(xs)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))
    return s[int(k)]


def rm(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def stop(proc: subprocess.Popen | None, name: str, grace: float = 5.0) -> None:
    """Stops one process we started, by its pid: SIGTERM, then SIGKILL."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.terminate()
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        print(f"  {name} (pid {proc.pid}) ignored SIGTERM for {grace:.0f} s; killing it", file=sys.stderr)
        proc.kill()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            print(f"  {name} (pid {proc.pid}) is still running after SIGKILL", file=sys.stderr)
    except ProcessLookupError:
        pass


def tail(path: Path, n: int = 30) -> str:
    try:
        return "".join(path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)[-n:])
    except OSError:
        return "(no log)"


os.environ.setdefault("PYTHONUNBUFFERED", "1")
