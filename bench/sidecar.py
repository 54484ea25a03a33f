#!/usr/bin/env python3
"""Benchmark: the sidecar under 1,000 watching pages (DESIGN.md, "Numbers to reach").

Measured in one run against `course sidecar` (release build) serving a
temporary fixture course with one lab, `bench-lab`, whose two checks count
every time they run:

1. Coalescing: 1,000 SSE clients watch the lab for ~20 s while status is
   polled too; each check must still run at most once per check interval.
2. Cached status latency: sequential `GET /api/labs/bench-lab/status` while
   the 1,000 watchers are connected; p50 / p99 / max, target p99 <= 5 ms.
3. Memory: the sidecar's VmRSS idle, with 1,000 watchers, after they leave.

A benchmark for a person to read, never a test: nothing depends on its exit
code. Python 3.11 standard library only. bench/sidecar_load.py holds the
fixture course, the child processes' entry points, the sidecar process and
the SSE clients; this file runs them, measures, and prints the report.

    python3 bench/sidecar.py                 # builds `course` (release) once first
    python3 bench/sidecar.py --no-cargo      # reuses target/release/course
"""

from __future__ import annotations

import argparse
import asyncio
import json
import queue
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import COURSE_BIN, ROOT, build_course, median, percentile, rm, stop, tail  # noqa: E402
from sidecar_load import (  # noqa: E402
    LAB,
    Client,
    Sidecar,
    hit_server_main,
    latency_main,
    open_fds,
    read_stamps,
    sse_client,
    write_fixture,
)

# The check interval is not a CLI option: it is `Limits::default()`'s
# `check_interval`. Read it from the source so the benchmark follows it.
STATE_RS = ROOT / "crates" / "course-sidecar" / "src" / "state.rs"
FALLBACK_INTERVAL = 2.0


def check_interval() -> tuple[float, str]:
    try:
        text = STATE_RS.read_text(encoding="utf-8")
    except OSError:
        return FALLBACK_INTERVAL, f"default {FALLBACK_INTERVAL:g} s ({STATE_RS} unreadable)"
    m = re.search(r"check_interval:\s*Duration::from_(secs|millis)\((\d+)\)", text)
    if not m:
        return FALLBACK_INTERVAL, f"default {FALLBACK_INTERVAL:g} s (not found in {STATE_RS.name})"
    value = float(m.group(2)) / (1000.0 if m.group(1) == "millis" else 1.0)
    return value, f"Limits::default().check_interval in {STATE_RS.relative_to(ROOT)}"


# ---------------------------------------------------------------- analysis


def max_in_window(stamps: list[float], width: float) -> int:
    """Most timestamps in any half-open window [t, t+width)."""
    s = sorted(stamps)
    best, j = 0, 0
    for i in range(len(s)):
        while s[i] - s[j] >= width:
            j += 1
        best = max(best, i - j + 1)
    return best


def between(stamps: list[float], a: float, b: float) -> list[float]:
    return [t for t in stamps if a <= t < b]


def fmt_mib(k: int | None) -> str:
    return "?" if k is None else f"{k / 1024:.1f} MiB"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# ---------------------------------------------------------------- the run


def run_latency(port: int, n: int, mode: str, warmup: int) -> dict:
    cmd = [sys.executable, __file__, "--latency-worker", str(port), str(n), mode, str(warmup)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        return {"lat_ms": [], "errors": {"worker timed out (180 s)": 1}, "sample": None}
    if out.returncode != 0:
        return {"lat_ms": [], "errors": {f"worker exited {out.returncode}: {out.stderr[-300:]}": 1}, "sample": None}
    return json.loads(out.stdout)


def latency_line(name: str, res: dict, target: float | None) -> str:
    lat = res["lat_ms"]
    if not lat:
        return f"  {name:<34} no successful requests; errors: {res['errors']}"
    p50, p99, mx = median(lat), percentile(lat, 99), max(lat)
    line = f"  {name:<34} n={len(lat):<5} p50 {p50:6.3f} ms   p99 {p99:6.3f} ms   max {mx:7.3f} ms"
    if res["errors"]:
        line += f"   errors {res['errors']}"
    if target is not None:
        line += f"   -> {verdict(p99 <= target and not res['errors'])} (p99 <= {target:g} ms)"
    return line


async def watch_phase(args: argparse.Namespace, sc: Sidecar, interval: float, t: dict, mem: dict, lat: dict) -> list[Client]:
    clients = [Client() for _ in range(args.clients)]
    leave = asyncio.Event()
    gate = asyncio.Semaphore(args.connect_parallel)
    t["ramp_start"] = time.time()
    tasks = [asyncio.ensure_future(sse_client(sc.port, c, gate, leave)) for c in clients]
    # Wait until every client has its response head (or failed), bounded.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if all(c.status or c.error for c in clients):
            break
        await asyncio.sleep(0.05)
    t["all_connected"] = time.time()
    ok = sum(1 for c in clients if c.status == 200 and not c.error)
    print(f"  {ok}/{len(clients)} streams open after {t['all_connected'] - t['ramp_start']:.2f} s", flush=True)
    # The first status events of every client: wait (bounded) for them.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(c.status == 200 and c.statuses == 0 and not c.error for c in clients):
        await asyncio.sleep(0.05)

    # Hold the watchers. Meanwhile: sample memory, then measure status latency
    # from a separate process (so this event loop's work never delays it).
    hold_end = time.monotonic() + args.hold
    peak = 0
    loop = asyncio.get_running_loop()
    await asyncio.sleep(1.0)
    m = sc.memory()
    mem["watching"] = m
    latency_job = loop.run_in_executor(
        None,
        lambda: {
            mode: run_latency(sc.port, args.requests, mode, args.warmup) for mode in ("keep-alive", "fresh")
        },
    )
    while True:
        m = sc.memory()
        peak = max(peak, m["rss"] or 0)
        if latency_job.done() and time.monotonic() >= hold_end:
            break
        if time.monotonic() > hold_end + 200:  # the worker bounds itself; this is a backstop
            break
        await asyncio.sleep(0.5)
    if latency_job.done():
        lat.update(latency_job.result())
    mem["watching_end"] = sc.memory()
    mem["watching_peak_rss"] = peak
    t["leave"] = time.time()
    leave.set()
    await asyncio.wait(tasks, timeout=30)
    t["left"] = time.time()
    return clients


async def wave(args: argparse.Namespace, port: int) -> int:
    """Opens the same number of streams again for a short while, then closes
    them (to see whether memory keeps growing wave after wave)."""
    clients = [Client() for _ in range(args.clients)]
    leave = asyncio.Event()
    gate = asyncio.Semaphore(args.connect_parallel)
    tasks = [asyncio.ensure_future(sse_client(port, c, gate, leave)) for c in clients]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(c.status or c.error for c in clients):
        await asyncio.sleep(0.05)
    await asyncio.sleep(args.wave_hold)
    leave.set()
    await asyncio.wait(tasks, timeout=30)
    return sum(1 for c in clients if c.status == 200 and c.statuses >= 1)


def wait_fds(pid: int, target: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fds = open_fds(pid)
        if fds is not None and fds <= target:
            return True
        time.sleep(0.1)
    return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-cargo", action="store_true", help="reuse target/release/course")
    ap.add_argument("--course", metavar="PATH", type=Path, help="benchmark this `course` binary (implies --no-cargo)")
    ap.add_argument("--clients", type=int, default=1000, help="SSE clients watching the lab (default 1000)")
    ap.add_argument("--hold", type=float, default=20.0, help="seconds to keep them connected at least (default 20)")
    ap.add_argument("--requests", type=int, default=2000, help="timed status requests per client method (default 2000)")
    ap.add_argument("--warmup", type=int, default=50, help="untimed status requests first (default 50)")
    ap.add_argument("--connect-parallel", type=int, default=200, help="connections in their handshake at once")
    ap.add_argument("--waves", type=int, default=3,
                    help="at the end, open and close the streams N more times to see whether memory keeps growing (default 3)")
    ap.add_argument("--wave-hold", type=float, default=1.0, metavar="S", help="seconds each extra wave stays (default 1)")
    ap.add_argument("--settle", type=float, default=25.0, help="most seconds to wait for checks to stop after the clients leave")
    # Internal: the helper processes.
    ap.add_argument("--hit-server", metavar="LOG", help=argparse.SUPPRESS)
    ap.add_argument("--latency-worker", nargs=4, metavar=("PORT", "N", "MODE", "WARMUP"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.hit_server:
        hit_server_main(args.hit_server)
        return
    if args.latency_worker:
        p, n, mode, w = args.latency_worker
        latency_main(int(p), int(n), mode, int(w))
        return

    interval, interval_src = check_interval()
    watchers = args.clients + 100
    need_fds = args.clients + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need_fds:
        new = need_fds if hard == resource.RLIM_INFINITY else min(hard, max(need_fds, soft))
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        print(f"Raised the open-file limit from {soft} to {new} (hard {hard})")
        soft = new
    if soft != resource.RLIM_INFINITY and soft < need_fds:
        sys.exit(f"error: the open-file limit is {soft}; {need_fds} are needed (raise the hard limit)")

    binary = args.course or COURSE_BIN
    if not (args.no_cargo or args.course):
        build_course()
    if not binary.is_file():
        sys.exit(f"error: {binary} is missing; run without --no-cargo")

    tmp = Path(tempfile.mkdtemp(prefix="course-bench-sidecar-"))
    hit_log = tmp / "hits.log"
    hit_log.touch()
    helper: subprocess.Popen | None = None
    sc: Sidecar | None = None
    try:
        helper = subprocess.Popen(
            [sys.executable, __file__, "--hit-server", str(hit_log)],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        )
        port_q: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: port_q.put(helper.stdout.readline()), daemon=True).start()  # type: ignore[union-attr]
        try:
            hit_port = int(port_q.get(timeout=15).strip())
        except (queue.Empty, ValueError):
            sys.exit("error: the counting HTTP server did not start within 15 s")
        counter = f"http://127.0.0.1:{hit_port}"
        book = write_fixture(tmp / "course", counter)
        workspace = tmp / "workspace"

        print(f"Check interval: {interval:g} s ({interval_src})")
        print(f"Counting HTTP server: {counter}/ (pid {helper.pid})")
        sc = Sidecar(binary, book, workspace, watchers, tmp / "sidecar.log")
        sc.wait_banner()
        print(f"Sidecar: http://127.0.0.1:{sc.port}/ (pid {sc.proc.pid})", flush=True)
        code, body = sc.request("POST", f"/api/labs/{LAB}/export", token=True)
        if code != 201:
            sys.exit(f"error: export answered {code}: {body[:300]!r}")
        time.sleep(1.0)
        t: dict[str, float] = {"start": time.time()}
        mem: dict = {"idle": sc.memory()}
        lat: dict = {}

        print(f"\nOpening {args.clients} event streams on {LAB} ({args.connect_parallel} handshakes at a time), "
              f"holding them >= {args.hold:g} s; meanwhile {args.requests} status requests keep-alive, then {args.requests} fresh ...",
              flush=True)
        clients = asyncio.run(watch_phase(args, sc, interval, t, mem, lat))
        if sc.proc.poll() is not None:
            print(f"\nwarning: the sidecar exited ({sc.proc.returncode}) during the run:\n{tail(sc.log)}")

        # After they leave: when does the sidecar let go of their connections
        # (its open fds back to the idle count), and when do the background
        # checks stop?
        settle_deadline = time.monotonic() + args.settle
        quiet_needed = 2 * interval + 1.0
        idle_fds = mem["idle"]["fds"] or 0
        fds_trace: list[tuple[float, int]] = []
        while time.monotonic() < settle_deadline:
            fds = open_fds(sc.proc.pid)
            if fds is not None and (not fds_trace or fds_trace[-1][1] != fds):
                fds_trace.append((time.time() - t["leave"], fds))
            if fds is not None and fds <= idle_fds and "released" not in t:
                t["released"] = time.time()
            last = max(read_stamps(hit_log) + [t["left"]])
            if "released" in t and time.time() - last >= quiet_needed:
                break
            time.sleep(0.1)
        t["settled"] = time.time()
        mem["after"] = sc.memory()
        # A baseline for the latency: no watcher at all (these polls alone
        # trigger refreshes, also coalesced).
        lat["baseline"] = run_latency(sc.port, min(args.requests, 1000), "keep-alive", args.warmup)
        t["baseline_done"] = time.time()
        waves: list[tuple[int, dict]] = []
        for _ in range(args.waves):
            opened_n = asyncio.run(wave(args, sc.port))
            wait_fds(sc.proc.pid, idle_fds, 30)
            waves.append((opened_n, sc.memory()))

        # ---------------------------------------------------------- report
        cmd_stamps, hit_stamps = read_stamps(hit_log, "/command"), read_stamps(hit_log, "/http")
        hold_s = t["leave"] - t["all_connected"]
        print("\n== 1. Coalescing: each check runs at most once per interval ==")
        print(f"  watch window: {hold_s:.1f} s with every stream open (= {hold_s / interval:.1f} intervals of {interval:g} s); "
              f"streams ramped up in {t['all_connected'] - t['ramp_start']:.2f} s")
        n_status = sum(len(v.get("lat_ms", [])) for k, v in lat.items() if k != "baseline")
        print(f"  triggers in that window: {args.clients} watchers + ~{n_status + 2 * args.warmup} status requests "
              "(each would run both checks without coalescing)")
        coalesce_ok = True
        for name, stamps in (("command check", cmd_stamps), ("http check", hit_stamps)):
            before = between(stamps, 0, t["ramp_start"])
            ramp = between(stamps, t["ramp_start"], t["all_connected"])
            window = between(stamps, t["all_connected"], t["leave"])
            watched = between(stamps, t["ramp_start"], t["leave"])
            per_interval = len(window) / (hold_s / interval) if hold_s > 0 else float("nan")
            most = max_in_window(watched, interval)
            gaps = [b - a for a, b in zip(watched, watched[1:])]
            allowed = int(hold_s // interval) + 1
            ok = most <= 2 and len(window) <= allowed
            coalesce_ok &= ok
            gap_txt = (f"gap between runs min {min(gaps):.3f} s, median {median(gaps):.3f} s, max {max(gaps):.3f} s"
                       if gaps else "no two runs")
            print(f"  {name:<14} runs: before watchers {len(before)}, during ramp-up {len(ramp)}, "
                  f"watch window {len(window)} (<= {allowed} allowed) -> {per_interval:.2f} per interval; "
                  f"most in any {interval:g} s window {most} (<= 1, +1 slack for the first refresh); {gap_txt} "
                  f"-> {verdict(ok)}")
        # Every client got its initial status events?
        opened = [c for c in clients if c.status == 200]
        got1 = sum(1 for c in opened if c.statuses >= 1)
        got_all = sum(1 for c in opened if c.statuses >= 2)
        passing = sum(1 for c in opened if c.last_state.get("counted-command") == "pass" and c.last_state.get("counted-http") == "pass")
        firsts = [c.first_status_at - c.connected_at for c in opened if c.first_status_at and c.connected_at]
        errors: dict[str, int] = {}
        for c in clients:
            if c.error:
                errors[c.error] = errors.get(c.error, 0) + 1
        print(f"  streams: {len(opened)}/{args.clients} answered 200; {got1} got >= 1 `event: status` "
              f"({got_all} got both checks' events; {passing} ended with both checks `pass`)"
              + (f"; time to first status event p50 {median(firsts) * 1000:.1f} ms, max {max(firsts) * 1000:.1f} ms" if firsts else ""))
        if errors:
            print(f"  client errors: {errors}")
        streams_ok = got1 == args.clients
        print(f"  every client received its initial status events -> {verdict(streams_ok)}")
        after_leave = sorted(between(cmd_stamps + hit_stamps, t["leave"], t["settled"]))
        stopped = t["settled"] - max(after_leave + [t["left"]]) >= quiet_needed
        offsets = ", ".join(f"+{s - t['leave']:.1f}" for s in after_leave)
        print(f"  after every client closed its connection (t=0): {len(after_leave)} more check runs"
              + (f" (both checks together) at {offsets} s" if after_leave else "")
              + ("; then none (the background checks stopped)" if stopped else f"; still running at +{t['settled'] - t['leave']:.0f} s"))
        released = t.get("released")
        print("  sidecar's open fds after they closed (s: fds): "
              + ", ".join(f"+{a:.1f}: {n}" for a, n in fds_trace[:12])
              + ("" if len(fds_trace) <= 12 else ", ...")
              + (f"; back to idle ({idle_fds}) at +{released - t['leave']:.1f} s" if released else f"; not back to idle ({idle_fds}) within {args.settle:g} s"))
        polled = between(cmd_stamps + hit_stamps, t["settled"], t["baseline_done"] + 1)
        print(f"  baseline polling with no watcher ({t['baseline_done'] - t['settled']:.1f} s): {len(polled)} check runs (both checks together)")
        print(f"  coalescing -> {verdict(coalesce_ok and streams_ok)}")

        print(f"\n== 2. Cached status latency (GET /api/labs/{LAB}/status, sequential, loopback, "
              f"client in its own process, raw sockets, {args.warmup} untimed first) ==")
        print(latency_line(f"{args.clients} watchers, keep-alive", lat.get("keep-alive", {"lat_ms": [], "errors": {"not run": 1}}), 5.0))
        print(latency_line(f"{args.clients} watchers, fresh connection", lat.get("fresh", {"lat_ms": [], "errors": {"not run": 1}}), 5.0))
        print(latency_line("no watchers, keep-alive (baseline)", lat["baseline"], None))
        print("  keep-alive reuses one connection (as a page's fetch does); fresh opens and closes a TCP connection per "
              "request, so its numbers include connect and accept")
        sample = (lat.get("keep-alive") or {}).get("sample")
        if sample:
            print(f"  a sample answer: {sample[:160]}{'...' if len(sample) > 160 else ''}")

        print("\n== 3. Memory (sidecar VmRSS from /proc/PID/status) ==")
        rows = [
            ("idle (exported, no watcher)", mem["idle"]),
            (f"{args.clients} watchers, 1 s after ramp-up", mem["watching"]),
            (f"{args.clients} watchers, end of hold", mem["watching_end"]),
            ("after they disconnected", mem["after"]),
        ]
        for name, m in rows:
            print(f"  {name:<36} RSS {fmt_mib(m['rss']):>10}   threads {m['threads']}   open fds {m['fds']}")
        print(f"  peak RSS sampled while watched: {fmt_mib(mem['watching_peak_rss'])}; VmHWM (process peak) {fmt_mib(mem['after']['hwm'])}")
        if mem["idle"]["rss"] and mem["watching_end"]["rss"]:
            per = (mem["watching_end"]["rss"] - mem["idle"]["rss"]) / max(1, len(opened))
            print(f"  ~{per:.1f} KiB per watcher")
        if waves:
            print(f"  {len(waves)} more waves of {args.clients} streams ({args.wave_hold:g} s each), RSS after each closed: "
                  + ", ".join(f"{fmt_mib(m['rss'])}" for _, m in waves)
                  + f"; fds {waves[-1][1]['fds']}; VmHWM {fmt_mib(waves[-1][1]['hwm'])}; "
                  + f"streams that got status events in each wave: {', '.join(str(n) for n, _ in waves)} of {args.clients}")
            print("  (RSS not falling back after a wave is the allocator keeping freed pages; "
                  "growth that never levels off over many waves (--waves 25) would be a leak)")
    finally:
        if sc is not None:
            sc.close()
        stop(helper, "the counting HTTP server")
        rm(tmp)


if __name__ == "__main__":
    main()
