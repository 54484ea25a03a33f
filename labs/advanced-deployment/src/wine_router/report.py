"""Summarise a shadow log: how often the shadow agreed with the live model,
where they disagreed, how often it failed and how slow it was.

    uv run python -m wine_router.report shadow.jsonl

With `--save FILE` the summary is also written to FILE.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    compared = [r for r in records if r["agree"] is not None]
    agreed = sum(r["agree"] for r in compared)
    latencies = sorted(r["shadow"]["latency_ms"] for r in records)
    return {
        "copies": len(records),
        "compared": len(compared),
        "agreed": agreed,
        "agreement": agreed / len(compared) if compared else None,
        "failed": Counter(r["shadow"].get("error", "") for r in records if r["agree"] is None),
        "disagreements": Counter(
            (r["primary"]["class_name"], r["shadow"]["class_name"])
            for r in compared
            if not r["agree"]
        ),
        "versions": Counter(
            (r["primary"]["model_version"], r["shadow"].get("model_version")) for r in compared
        ),
        "p50_ms": latencies[math.ceil(0.50 * len(latencies)) - 1] if latencies else None,
        "p95_ms": latencies[math.ceil(0.95 * len(latencies)) - 1] if latencies else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path, nargs="?", default=Path("shadow.jsonl"))
    parser.add_argument("--save", type=Path, metavar="FILE", help="also write the summary to FILE")
    args = parser.parse_args(argv)
    if not args.log.is_file():
        print(f"{args.log}: no such file; send traffic through a router with a [shadow] table")
        return 1
    records = args.log.read_text(encoding="utf-8").splitlines()
    s = summarise([json.loads(line) for line in records if line.strip()])
    out = [f"shadow copies: {s['copies']}, compared: {s['compared']}"]
    for (live, shadow), count in s["versions"].most_common():
        out.append(f"  live model_version {live} vs shadow model_version {shadow}: {count}")
    if s["agreement"] is not None:
        out.append(f"agreement: {s['agreement']:.2%} ({s['agreed']} of {s['compared']})")
    for (live, shadow), count in s["disagreements"].most_common():
        out.append(f"  live said {live}, shadow said {shadow}: {count}")
    for error, count in s["failed"].most_common():
        out.append(f"failed: {count} ({error})")
    if s["p50_ms"] is not None:
        out.append(f"shadow latency: p50 {s['p50_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms")
    summary = "\n".join(out)
    print(summary)
    if args.save is not None:
        args.save.write_text(summary + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
