"""A small load test for the wine API: N requests, C at a time.

Run it against a running API (either app: the endpoints are the same):

    uv run python -m wine_api.loadtest --url http://127.0.0.1:8000 --requests 2000 --concurrency 8

Add `--json loadtest.json` to also write the numbers as JSON, for a script,
a CI job or a comparison between runs.

Each of C worker threads keeps one HTTP/1.1 connection open and sends its
next request as soon as the previous answer arrived (a closed loop, like C
busy clients). It prints the throughput, latency percentiles and the count
of each status, and exits 1 if any request failed (a non-2xx answer, a
timeout or a connection error), so a script or CI job can use it as a gate.

Only the standard library: copy it anywhere. Point it only at servers you
run: it is a load generator.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wine_api.schemas import EXAMPLE_WINE


@dataclass
class Result:
    """What the workers measured."""

    latencies_s: list[float] = field(default_factory=list)  # of successful requests
    # "200", "503", "ConnectionRefusedError": how each request ended
    outcomes: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    stopped_early: bool = False

    @property
    def completed(self) -> int:
        return sum(self.outcomes.values())

    @property
    def errors(self) -> int:
        return self.completed - len(self.latencies_s)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile: the smallest value that at least p % of
    the values are less than or equal to. Needs sorted, non-empty input."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def request_body(batch_size: int) -> tuple[str, bytes]:
    """The path and JSON body: one wine, or a batch of copies of it."""
    if batch_size == 1:
        return "/predict", json.dumps(EXAMPLE_WINE).encode()
    return "/predict/batch", json.dumps({"instances": [EXAMPLE_WINE] * batch_size}).encode()


def run(
    url: str,
    requests: int,
    concurrency: int,
    batch_size: int = 1,
    timeout_s: float = 10.0,
    max_seconds: float = 60.0,
) -> Result:
    """Send `requests` POSTs with `concurrency` workers; stop after
    `max_seconds` even if not all were sent."""
    target = urlsplit(url)
    if target.scheme != "http" or not target.hostname:
        raise ValueError(f"--url must be http://host:port, not {url!r}")
    path, body = request_body(batch_size)
    headers = {"Content-Type": "application/json"}
    result = Result()
    lock = threading.Lock()
    sent = 0
    deadline = time.monotonic() + max_seconds

    def take_ticket() -> bool:
        """Whether a request is left to send (the workers share the count)."""
        nonlocal sent
        with lock:
            sent += 1
            return sent <= requests

    def worker() -> None:
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=timeout_s)
        try:
            while take_ticket():
                if time.monotonic() > deadline:
                    result.stopped_early = True
                    return
                started = time.perf_counter()
                try:
                    connection.request("POST", path, body=body, headers=headers)
                    response = connection.getresponse()
                    response.read()  # the whole answer is part of the latency
                    outcome = str(response.status)
                    ok = 200 <= response.status < 300
                except (OSError, http.client.HTTPException) as exc:
                    connection.close()  # reconnects on the next request
                    outcome, ok = type(exc).__name__, False
                latency = time.perf_counter() - started
                with lock:
                    result.outcomes[outcome] += 1
                    if ok:
                        result.latencies_s.append(latency)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed_s = time.perf_counter() - started
    return result


def report(result: Result, url: str, concurrency: int, batch_size: int) -> str:
    path, _ = request_body(batch_size)
    ok = len(result.latencies_s)
    wines = f" of {batch_size} wines" if batch_size > 1 else ""
    lines = [
        f"target      POST {url.rstrip('/')}{path}{wines}",
        f"requests    {result.completed} at concurrency {concurrency}, "
        f"{result.errors} failed{' (stopped at --max-seconds)' if result.stopped_early else ''}",
        f"duration    {result.elapsed_s:.2f} s",
        # Only successful requests count: a server that fails fast is not fast.
        f"throughput  {ok / result.elapsed_s:.1f} successful requests/s"
        + (f" ({ok * batch_size / result.elapsed_s:.0f} wines/s)" if wines else ""),
    ]
    if result.latencies_s:
        ms = sorted(1000 * s for s in result.latencies_s)
        lines.append(
            "latency ms  "
            + "  ".join(f"p{p} {percentile(ms, p):.1f}" for p in (50, 95, 99))
            + f"  max {ms[-1]:.1f}  (successful requests)"
        )
    lines.append(
        "status      " + ", ".join(f"{k}: {v}" for k, v in sorted(result.outcomes.items()))
    )
    return "\n".join(lines)


def summary(result: Result, url: str, concurrency: int, batch_size: int) -> dict[str, Any]:
    """The report's numbers as a JSON-ready dict (latencies in ms, None when
    no request succeeded)."""
    path, _ = request_body(batch_size)
    ok = len(result.latencies_s)
    ms = sorted(1000 * s for s in result.latencies_s)
    return {
        "target": f"{url.rstrip('/')}{path}",
        "batch_size": batch_size,
        "concurrency": concurrency,
        "requests": result.completed,
        "failed": result.errors,
        "stopped_early": result.stopped_early,
        "duration_s": round(result.elapsed_s, 3),
        "throughput_rps": round(ok / result.elapsed_s, 1) if result.elapsed_s else 0.0,
        "latency_ms": (
            {f"p{p}": round(percentile(ms, p), 1) for p in (50, 95, 99)} | {"max": round(ms[-1], 1)}
            if ms
            else None
        ),
        "status": dict(sorted(result.outcomes.items())),
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write `data` to `path` whole or not at all: a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m wine_api.loadtest", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="default: %(default)s")
    parser.add_argument("--requests", "-n", type=positive, default=1000, help="default: 1000")
    parser.add_argument("--concurrency", "-c", type=positive, default=8, help="default: 8")
    parser.add_argument(
        "--batch-size",
        type=positive,
        default=1,
        help="wines per request; more than 1 uses /predict/batch (default: 1)",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="stop after this long")
    parser.add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        help="also write the results to FILE as JSON (written even when requests failed)",
    )
    args = parser.parse_args(argv)

    result = run(
        args.url, args.requests, args.concurrency, args.batch_size, args.timeout, args.max_seconds
    )
    print(report(result, args.url, args.concurrency, args.batch_size))
    if args.json is not None:
        write_json(args.json, summary(result, args.url, args.concurrency, args.batch_size))
    return 0 if result.errors == 0 and not result.stopped_early else 1


if __name__ == "__main__":
    raise SystemExit(main())
