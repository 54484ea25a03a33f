"""A canary release's state and its automated analysis.

The canary gets `steps[step]` % of users, the stable variant the rest. Every
answer is recorded for the variant that gave it; the analysis looks at the
canary's answers since the last change of weight (the window) and says
"promote", "wait" or "rollback". A promotion is refused unless the analysis
says "promote"; a rollback happens on its own as soon as it says "rollback".
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from wine_router.config import Canary


@dataclass
class Window:
    """One variant's answers since the last weight change."""

    requests: int = 0
    errors: int = 0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))

    def p95_ms(self) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        # Nearest-rank percentile: the smallest value >= 95 % of the samples.
        return ordered[math.ceil(0.95 * len(ordered)) - 1]

    def summary(self) -> dict[str, Any]:
        p95 = self.p95_ms()
        return {
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": round(self.errors / self.requests, 4) if self.requests else None,
            "p95_latency_ms": round(p95, 1) if p95 is not None else None,
        }


class CanaryRelease:
    def __init__(self, settings: Canary) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self.step = 0  # index into settings.steps; -1 once rolled back
        self.last_action = "start"
        self.reason = "started at the first step"
        self._windows = {settings.stable: Window(), settings.canary: Window()}

    @property
    def canary_weight(self) -> float:
        return 0.0 if self.step < 0 else self.settings.steps[self.step]

    def weights(self) -> dict[str, float]:
        """Canary first, so that raising its weight only ever moves users onto it."""
        w = self.canary_weight
        return {self.settings.canary: w, self.settings.stable: 100.0 - w}

    def record(self, variant: str, latency_ms: float, error: bool) -> None:
        """Count one answer; roll back at once if the canary breaks its bounds."""
        with self._lock:
            window = self._windows.get(variant)
            if window is None:
                return
            window.requests += 1
            window.errors += int(error)
            window.latencies_ms.append(latency_ms)
            if variant == self.settings.canary and self.step >= 0:
                verdict, why = self._analyse()
                if verdict == "rollback":
                    self._rollback(f"automatic: {why}")

    def _analyse(self) -> tuple[str, str]:
        s = self.settings
        c = self._windows[s.canary]
        if self.step < 0:
            return "rolled back", self.reason
        if self.canary_weight >= 100:
            return "done", "the canary takes all traffic"
        # Errors are judged against at least a full window: two failures in
        # the first three requests already break a 2 % budget over 50.
        if c.errors / max(c.requests, s.min_requests) > s.max_error_rate:
            return "rollback", (
                f"canary error rate {c.errors}/{c.requests} exceeds {s.max_error_rate:.1%}"
            )
        if c.requests < s.min_requests:
            return "wait", f"{c.requests} of {s.min_requests} canary requests since the last change"
        p95 = c.p95_ms()
        if p95 is not None and p95 > s.max_p95_latency_ms:
            return (
                "rollback",
                f"canary p95 latency {p95:.0f} ms exceeds {s.max_p95_latency_ms:.0f} ms",
            )
        return "promote", "error rate and latency within bounds"

    def _reset_windows(self) -> None:
        self._windows = {self.settings.stable: Window(), self.settings.canary: Window()}

    def _rollback(self, reason: str) -> None:
        self.step = -1
        self.last_action = "rollback"
        self.reason = reason
        self._reset_windows()

    def promote(self) -> tuple[bool, str]:
        """Move to the next step if the analysis allows it; (done?, why)."""
        with self._lock:
            verdict, why = self._analyse()
            if verdict != "promote":
                return False, f"not promoted ({verdict}): {why}"
            self.step += 1
            self.last_action = "promote"
            self.reason = f"promoted to {self.canary_weight:g} %: {why}"
            self._reset_windows()
            return True, self.reason

    def rollback(self, reason: str = "manual") -> str:
        with self._lock:
            self._rollback(reason)
            return self.reason

    def status(self) -> dict[str, Any]:
        with self._lock:
            verdict, why = self._analyse()
            return {
                "stable": self.settings.stable,
                "canary": self.settings.canary,
                "canary_weight": self.canary_weight,
                "steps": self.settings.steps,
                "last_action": self.last_action,
                "reason": self.reason,
                "analysis": {"verdict": verdict, "why": why},
                "window": {name: w.summary() for name, w in self._windows.items()},
            }
