#!/usr/bin/env python3
"""Following the labs: how long each lab's follow takes, and how long one
refresh of each lab's checks takes right after export, with nothing started.

The refresh is what a lab page costs the learner's machine every 2 s while
it is open, so it must stay cheap: the target is <= 0.5 s per lab. The follow
time is reported per lab and in total (no target: it is what CI spends).

    python3 bench/follow.py                   # every lab
    python3 bench/follow.py --labs a,b        # some labs
    python3 bench/follow.py --no-follow       # only the refresh times
    python3 bench/follow.py --course PATH     # another `course` binary

It uses the debug build by default (`cargo build -p course`; the refresh is
I/O and process start-up, not our code), or --release.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFRESH_TARGET_S = 0.5


def course_binary(args: argparse.Namespace) -> list[str]:
    if args.course:
        return [args.course]
    profile = "release" if args.release else "debug"
    cmd = ["cargo", "build", "-q", "-p", "course"] + (["--release"] if args.release else [])
    subprocess.run(cmd, cwd=ROOT, check=True)
    return [str(ROOT / "target" / profile / "course")]


def lab_ids(course: list[str]) -> list[str]:
    out = subprocess.run(course + ["lab", "list"], cwd=ROOT, check=True, capture_output=True, text=True)
    return [line.split()[0] for line in out.stdout.splitlines() if line.strip()]


def refresh_time(course: list[str], lab: str, workdir: Path) -> float:
    """Seconds one refresh of the lab's checks took in a fresh export (as
    `course lab status` measures it in process)."""
    dest = workdir / lab
    subprocess.run(course + ["lab", "export", lab, str(dest)], cwd=ROOT, check=True, capture_output=True)
    out = subprocess.run(course + ["lab", "status", lab, "--dir", str(dest)], cwd=ROOT, capture_output=True, text=True)
    m = re.search(r"the refresh took ([0-9.]+) s", out.stdout)
    if not m:
        sys.exit(f"error: `course lab status {lab}` printed no time:\n{out.stdout}{out.stderr}")
    return float(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--labs", help="comma-separated lab ids (default: every lab)")
    ap.add_argument("--no-follow", action="store_true", help="only measure the check refreshes")
    ap.add_argument("--release", action="store_true", help="use a release build of `course`")
    ap.add_argument("--course", help="path of a `course` binary to use as it is")
    args = ap.parse_args()
    course = course_binary(args)
    labs = args.labs.split(",") if args.labs else lab_ids(course)

    print(f"Check refresh right after export (target <= {REFRESH_TARGET_S} s per lab)")
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="bench-follow-") as tmp:
        for lab in labs:
            t = refresh_time(course, lab, Path(tmp))
            worst = max(worst, t)
            verdict = "PASS" if t <= REFRESH_TARGET_S else "FAIL"
            print(f"  {lab:<22} {t:7.3f} s   {t / REFRESH_TARGET_S:5.2f} x target   {verdict}", flush=True)
    print(f"  worst lab: {worst:.3f} s = {worst / REFRESH_TARGET_S:.2f} x the target")

    if args.no_follow:
        return
    print("\nFollowing each lab (course lab follow)")
    total = 0.0
    for lab in labs:
        start = time.perf_counter()
        out = subprocess.run(course + ["lab", "follow", lab], cwd=ROOT, capture_output=True, text=True)
        took = time.perf_counter() - start
        total += took
        tally = next((l for l in out.stdout.splitlines() if l.startswith("follow:")), "follow: (no tally)")
        print(f"  {lab:<22} {took:7.1f} s   {tally.removeprefix('follow: ')}", flush=True)
        if out.returncode != 0:
            for line in out.stdout.splitlines():
                if line.startswith("FAIL") or line.startswith("      |"):
                    print(f"      {line}")
    print(f"  total: {total:.1f} s ({total / 60:.1f} min) for {len(labs)} labs")


if __name__ == "__main__":
    main()
