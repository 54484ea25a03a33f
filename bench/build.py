#!/usr/bin/env python3
"""Benchmark: `course build` of the whole course ÷ plain `mdbook build` of the
same book with the lab directives left unexpanded.

Target (DESIGN.md, "Numbers to reach"): ratio of medians ≤ 1.25, cold,
measured side by side in one run. This is a benchmark, never a test.

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

Usage: python3 bench/build.py [--rounds 10] [--warmup 1] [--no-cargo] [--mdbook PATH]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import COURSE_BIN, ROOT, copy_tree, ensure_course, find_mdbook, median, rm, strip_labs_preprocessor  # noqa: E402

TARGET = 1.25
RUN_TIMEOUT = 600.0  # seconds, per single build


def timed(cmd: list[str], cwd: Path, label: str) -> float:
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
    return elapsed


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
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")

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

        print(f"stock: {version} ({mdbook}) on a copy of book/ without [preprocessor.labs]")
        print(f"ours:  {COURSE_BIN.relative_to(ROOT)} --book book build")
        cache = "emptied before every course run" if args.cold_cache else "kept between runs (filled by the warm-up)"
        print(f"highlighting cache: {cache}")
        print(f"rounds: {args.rounds} timed (+{args.warmup} warm-up), alternating order, each run a new process into a new folder")

        times: dict[str, list[float]] = {"mdbook": [], "course": []}
        total = args.warmup + args.rounds
        for i in range(total):
            order = ["mdbook", "course"] if i % 2 == 0 else ["course", "mdbook"]
            row = []
            for name in order:
                cmd, out = runs[name]
                rm(out)
                if name == "course" and args.cold_cache:
                    rm(ROOT / "target" / "labs-cache")
                t = timed(cmd(), ROOT, name)
                if i == 0:
                    check_output(name, out)
                rm(out)
                if i >= args.warmup:
                    times[name].append(t)
                row.append(f"{name} {t * 1000:7.1f} ms")
            tag = "warm-up" if i < args.warmup else f"round {i - args.warmup + 1:>2}"
            print(f"  {tag:>8}: " + "   ".join(row), flush=True)

        m_md, m_co = median(times["mdbook"]), median(times["course"])
        n_md, n_co = min(times["mdbook"]), min(times["course"])
        ratio = m_co / m_md
        print()
        print(f"{'':26}{'median':>10}{'min':>10}")
        print(f"{'mdbook build (plain)':26}{m_md * 1000:8.1f}ms{n_md * 1000:8.1f}ms")
        print(f"{'course build (full)':26}{m_co * 1000:8.1f}ms{n_co * 1000:8.1f}ms")
        print()
        print(f"ratio course/mdbook (medians): {ratio:.3f}   (mins: {n_co / n_md:.3f})")
        verdict = "PASS" if ratio <= TARGET else "FAIL"
        print(f"{verdict}: target ratio of medians <= {TARGET}")
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
    if name == "course" and unexpanded:
        sys.exit("error: `course build` left a {{#lab …}} directive unexpanded")


if __name__ == "__main__":
    sys.exit(main())
