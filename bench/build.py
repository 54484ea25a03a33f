#!/usr/bin/env python3
"""Benchmark: `course build` of the whole course ÷ plain `mdbook build` of the
same book with the lab directives left unexpanded.

Target (DESIGN.md, "Numbers to reach"): ratio of medians ≤ 1.25 with the
highlighting cache filled, ≤ 1.5 with it emptied (--cold-cache, a fresh
clone's first build), measured side by side in one run. This is a benchmark, never a test.

Method:
  * `cargo build --release -p course`, once.
  * A temporary copy of book/ whose book.toml has no [preprocessor.labs]
    table, so stock mdbook leaves `{{#lab …}}` text as it is and never runs
    cargo.
  * N rounds; each round runs both builds, alternating which goes first:
        mdbook build <copy> -d <tmp>
        target/release/course --book book build --dest <tmp2>
    Every run is a new process writing into a folder that does not exist
    yet, so neither has an in-memory cache. One untimed warm-up of each
    (default) fills the OS file cache for both alike.
  * --baseline BIN times another `course` binary (say, a copy of
    target/release/course from before a change) in the same rounds, so a
    before/after comparison shares one machine state.

Usage: python3 bench/build.py [--rounds 10] [--warmup 1] [--no-cargo] [--mdbook PATH]
                              [--cold-cache] [--baseline BIN]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import COURSE_BIN, ROOT, copy_tree, ensure_course, find_mdbook, median, rm, strip_labs_preprocessor  # noqa: E402

TARGET = 1.25
# DESIGN.md: a cold first build (empty highlighting cache) <= 1.5x, on the way to 1.25x.
COLD_TARGET = 1.5
RUN_TIMEOUT = 600.0  # seconds, per single build


def children_cpu() -> float:
    """User + system CPU seconds of every finished child process so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str], cwd: Path, label: str) -> tuple[float, float]:
    """Runs a build; returns its wall-clock and CPU (user + system) seconds."""
    cpu_before = children_cpu()
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        sys.exit(f"error: {label} took longer than {RUN_TIMEOUT:.0f} s: {' '.join(cmd)}")
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(
            f"error: {label} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
        )
    return elapsed, children_cpu() - cpu_before


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", "-n", type=int, default=10, help="timed rounds (default 10)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    ap.add_argument("--no-cargo", action="store_true", help="use the existing target/release/course")
    ap.add_argument("--mdbook", help="stock mdbook binary (default ~/.cargo/bin/mdbook)")
    ap.add_argument(
        "--cold-cache",
        action="store_true",
        help="empty the highlighting cache (target/labs-cache) before every course run, so every file is highlighted anew",
    )
    ap.add_argument(
        "--baseline",
        metavar="BIN",
        help="another course binary (e.g. a copy of target/release/course from before a change), timed in the same rounds",
    )
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    baseline = Path(args.baseline).resolve() if args.baseline else None
    if baseline and not baseline.is_file():
        ap.error(f"--baseline {baseline}: no such file")

    mdbook = find_mdbook(args.mdbook)
    ensure_course(args.no_cargo)

    version = subprocess.run([mdbook, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    book = ROOT / "book"
    tmp = Path(tempfile.mkdtemp(prefix="course-bench-build-"))
    try:
        plain = tmp / "plain-book"
        copy_tree(book, plain, skip_rel=("build", "src/labs"))
        strip_labs_preprocessor(plain / "book.toml")
        mdbook_out = tmp / "out-mdbook"
        course_out = tmp / "out-course"
        runs = {
            "mdbook": (lambda: [mdbook, "build", str(plain), "-d", str(mdbook_out)], mdbook_out),
            "course": (lambda: [str(COURSE_BIN), "--book", "book", "build", "--dest", str(course_out)], course_out),
        }
        if baseline:
            base_out = tmp / "out-baseline"
            runs["baseline"] = (lambda: [str(baseline), "--book", "book", "build", "--dest", str(base_out)], base_out)

        print(f"stock: {version} ({mdbook}) on a copy of book/ without [preprocessor.labs]")
        print(f"ours:  {COURSE_BIN.relative_to(ROOT)} --book book build")
        if baseline:
            print(f"baseline: {baseline} --book book build")
        cache = "emptied before every course run" if args.cold_cache else "kept between runs (filled by the warm-up)"
        print(f"highlighting cache: {cache}")
        print(f"rounds: {args.rounds} timed (+{args.warmup} warm-up), {'alternating' if len(runs) == 2 else 'rotating'} order, each run a new process into a new folder")

        times: dict[str, list[float]] = {name: [] for name in runs}
        cpus: dict[str, list[float]] = {name: [] for name in runs}
        total = args.warmup + args.rounds
        names = list(runs)
        for i in range(total):
            # Each build goes first in turn (two builds: alternating).
            shift = i % len(names)
            order = names[shift:] + names[:shift]
            row = []
            for name in order:
                cmd, out = runs[name]
                rm(out)
                if name != "mdbook" and args.cold_cache:
                    rm(ROOT / "target" / "labs-cache")
                t, cpu = timed(cmd(), ROOT, name)
                if i == 0:
                    check_output(name, out)
                rm(out)
                if i >= args.warmup:
                    times[name].append(t)
                    cpus[name].append(cpu)
                row.append(f"{name} {t * 1000:7.1f} ms")
            tag = "warm-up" if i < args.warmup else f"round {i - args.warmup + 1:>2}"
            print(f"  {tag:>8}: " + "   ".join(row), flush=True)

        m_md, m_co = median(times["mdbook"]), median(times["course"])
        n_md, n_co = min(times["mdbook"]), min(times["course"])
        ratio = m_co / m_md
        labels = {"mdbook": "mdbook build (plain)", "course": "course build (full)", "baseline": "baseline build (full)"}
        print()
        print(f"{'':26}{'median':>10}{'min':>10}{'CPU median':>13}")
        for name in runs:
            print(
                f"{labels[name]:26}{median(times[name]) * 1000:8.1f}ms{min(times[name]) * 1000:8.1f}ms"
                f"{median(cpus[name]) * 1000:11.1f}ms"
            )
        print()
        for name in [n for n in ("baseline", "course") if n in runs]:
            print(
                f"ratio {name}/mdbook: wall medians {median(times[name]) / m_md:.3f}"
                f"   (mins: {min(times[name]) / n_md:.3f}; CPU medians: {median(cpus[name]) / median(cpus['mdbook']):.3f})"
            )
        target = COLD_TARGET if args.cold_cache else TARGET
        verdict = "PASS" if ratio <= target else "FAIL"
        print(f"{verdict}: target ratio of medians <= {target}{' (cold)' if args.cold_cache else ''}")
        return 0
    finally:
        rm(tmp)


def check_output(name: str, out: Path) -> None:
    """Once, makes sure each build wrote the pages we think it did."""
    page = out / "03-model-serving" / "index.html"
    if not page.is_file():
        sys.exit(f"error: {name} wrote no {page.relative_to(out)} into {out}")
    html = page.read_text(encoding="utf-8", errors="replace")
    unexpanded = "{{#lab" in html
    if name == "mdbook" and not unexpanded:
        print("  note: the plain mdbook page has no literal {{#lab …}}: was the directive expanded?", file=sys.stderr)
    if name != "mdbook" and unexpanded:
        sys.exit("error: `course build` left a {{#lab …}} directive unexpanded")


if __name__ == "__main__":
    sys.exit(main())
