"""Send prediction requests to a running API, like a client would, and
record the true labels of some of them, like ground truth arriving later.

Run it from the lab folder while the API runs:

    uv run python -m wine_api.traffic                           # 200 wines, no drift
    uv run python -m wine_api.traffic --batch data/drifted.csv  # the drifted batch

Each request carries its own X-Request-ID. For a share of the answered
requests (--label-share, default 0.6) the true class is appended to
data/labels.jsonl as {"request_id": ..., "label": ...}: in production,
labels come days later (a lab result, a customer's complaint), and only for
some predictions. wine_api.quality joins them with the API's log.

A share of the requests (--invalid, default 0.05) is deliberately invalid
(a negative alcohol content), so the dashboards show 4xx responses too.
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from wine_api.simulate import Batch, production_batch, read_csv


def post(url: str, body: dict[str, float], request_id: str, timeout: float = 10.0) -> int:
    """POST a JSON body; the HTTP status (an error status is an answer too)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Request-ID": request_id},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        with error:  # it holds the open response: close it
            return int(error.code)


def send(
    base_url: str,
    batch: Batch,
    *,
    n: int,
    invalid_share: float,
    label_share: float,
    labels_path: Path | None,
    seed: int,
) -> Counter[int]:
    """Send `n` rows of `batch` (cycling if it is shorter) to /predict; the
    count of each status code."""
    rng = np.random.default_rng(seed)
    statuses: Counter[int] = Counter()
    labels_file = None
    if labels_path is not None:
        labels_path.parent.mkdir(parents=True, exist_ok=True)
        labels_file = labels_path.open("a", encoding="utf-8")
    try:
        for i in range(n):
            row = i % len(batch.x)
            body = dict(zip(batch.features, map(float, batch.x[row]), strict=True))
            if rng.random() < invalid_share:
                body["alcohol"] = -1.0
            request_id = uuid.uuid4().hex
            status = post(f"{base_url}/predict", body, request_id)
            statuses[status] += 1
            if status == 200 and labels_file and batch.labels and rng.random() < label_share:
                record = {"request_id": request_id, "label": batch.labels[row]}
                labels_file.write(json.dumps(record) + "\n")
    finally:
        if labels_file:
            labels_file.close()
    return statuses


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the API's base URL")
    parser.add_argument(
        "--batch", type=Path, help="a CSV from wine_api.simulate (default: a fresh batch)"
    )
    parser.add_argument("-n", "--requests", type=int, default=200)
    parser.add_argument("--invalid", type=float, default=0.05, help="share of invalid requests")
    parser.add_argument("--label-share", type=float, default=0.6)
    parser.add_argument("--labels", type=Path, default=Path("data/labels.jsonl"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    batch = read_csv(args.batch) if args.batch else production_batch(args.requests, args.seed)
    start = time.perf_counter()
    try:
        statuses = send(
            args.url.rstrip("/"),
            batch,
            n=args.requests,
            invalid_share=args.invalid,
            label_share=args.label_share,
            labels_path=args.labels,
            seed=args.seed,
        )
    except urllib.error.URLError as exc:
        print(f"cannot reach {args.url}: {exc.reason}. Is the API running?")
        return 1
    elapsed = time.perf_counter() - start
    summary = ", ".join(f"{count} x {code}" for code, count in sorted(statuses.items()))
    print(f"sent {args.requests} requests in {elapsed:.1f} s: {summary}")
    print(f"labels appended to {args.labels}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
