"""Send traffic through the router as many users and show what happened.

    uv run python -m wine_router.traffic --users 1000

Each user sends one request: a wine from the held-out test split with seeded
multiplicative noise (each feature times 1 + N(0, noise)), so the models
make some mistakes and the requests differ. The report shows:

- the share of users each variant got, against the share its weight
  promises, with the 99.9 % range a correct assignment lands in;
- stickiness: the first 50 users ask again and must get the same variant;
- in an A/B test with two variants, each one's accuracy (the true class is
  known here) and a two-proportion z-test of the difference;
- with a shadow, what the router's shadow did, once it has handled every
  copy (so a shadow report read afterwards sees them all).

With `--save FILE` the report is also written to FILE, to compare runs later.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

import httpx2
import numpy as np

from wine_router.abstats import share_interval, two_proportion_ztest
from wine_router.schemas import FEATURES
from wine_router.train import held_out


def wines(count: int, noise: float, seed: int) -> list[tuple[dict[str, float], str]]:
    """`count` request bodies with their true class names, deterministic for a seed."""
    x, y = held_out()
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        j = i % len(x)
        noisy = np.clip(x[j] * (1 + rng.normal(0, noise, size=x.shape[1])), 0, None)
        rows.append((dict(zip(FEATURES, map(float, noisy), strict=True)), f"class_{y[j]}"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8100")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--noise", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prefix", default="user", help="user ids are <prefix>-0, <prefix>-1, ...")
    parser.add_argument("--save", type=Path, metavar="FILE", help="also write the report to FILE")
    args = parser.parse_args(argv)

    with httpx2.Client(base_url=args.url, timeout=10) as client:
        status = client.get("/admin/status").raise_for_status().json()
        weights: dict[str, float] = status["weights"]
        assigned: dict[str, str] = {}
        correct: dict[str, int] = defaultdict(int)
        versions: dict[str, str] = {}
        failures: Counter[int] = Counter()
        rows = wines(args.users, args.noise, args.seed)
        for i, (wine, truth) in enumerate(rows):
            user = f"{args.prefix}-{i}"
            response = client.post("/predict", json=wine, headers={"X-User-Id": user})
            variant = response.headers.get("x-variant", "?")
            assigned[user] = variant
            if response.status_code != 200:
                failures[response.status_code] += 1
                continue
            body = response.json()
            versions[variant] = body["model_version"]
            correct[variant] += int(body["class_name"] == truth)

        # The same users again: a sticky assignment sends each one to the same variant.
        again = min(50, len(rows))
        sticky = 0
        for i, (wine, _) in enumerate(rows[:again]):
            user = f"{args.prefix}-{i}"
            response = client.post("/predict", json=wine, headers={"X-User-Id": user})
            sticky += response.headers.get("x-variant") == assigned[user]

        # Shadow copies are sent after the answers; wait for the last ones.
        shadow = None
        if status["shadow"] is not None:
            shadow = client.post("/admin/shadow/drain", timeout=30).raise_for_status().json()

    counts = Counter(assigned.values())
    total = sum(weights.values())
    n = len(assigned)
    lines = [f"split of {n} users (weights {weights}):"]
    for name, weight in weights.items():
        expected = weight / total
        low, high = share_interval(n, expected)
        share = counts[name] / n
        verdict = "ok" if low <= share <= high else "OUTSIDE the expected range"
        lines.append(
            f"  {name:8} {counts[name]:6} users  {share:7.2%}  expected {expected:7.2%} "
            f"(99.9 % range {max(low, 0):.2%}-{min(high, 1):.2%})  {verdict}"
            f"  model_version {versions.get(name, '-')}"
        )
    lines.append(f"sticky: {sticky} of {again} users got the same variant again")
    if failures:
        lines.append(f"failed requests by status: {dict(failures)}")
    live = [v for v in weights if counts[v]]
    if len(live) == 2:
        a, b = live
        test = two_proportion_ztest(correct[a], counts[a], correct[b], counts[b])
        lines.append(
            f"accuracy: {a} {test.rate_a:.2%}, {b} {test.rate_b:.2%}; "
            f"two-proportion z = {test.z:.2f}, p = {test.p_value:.3f}"
        )
    if shadow is not None:
        lines.append(
            f"shadow variant {shadow['variant']!r}: {shadow['sent']} copies sent, "
            f"{shadow['agreed']} agreed, "
            f"{shadow['disagreed']} disagreed, {shadow['failed']} failed, "
            f"{shadow['dropped']} dropped (totals since the router started)"
        )
    report = "\n".join(lines)
    print(report)
    if args.save is not None:
        args.save.write_text(report + "\n", encoding="utf-8")
    return 0 if not failures and sticky == again else 1


if __name__ == "__main__":
    raise SystemExit(main())
