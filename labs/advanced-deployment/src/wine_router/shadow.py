"""Shadow traffic: the shadow variant gets a copy of each request after the
caller has its answer. The shadow's answer is compared and logged, never
returned, and nothing it does can delay or fail the caller:

- the request handler only puts a job on a bounded queue (put_nowait: it
  never waits); when the queue is full the copy is dropped and counted;
- separate worker tasks send the copies, each with its own timeout;
- the shadow has its own HTTP client, so a slow shadow holding connections
  cannot use up the pool the live traffic needs;
- every failure (timeout, refused connection, 500) is caught and recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from wine_router.config import Shadow, Variant

logger = logging.getLogger("wine_router.shadow")


@dataclass(frozen=True)
class ShadowJob:
    user_id: str
    body: bytes
    primary_variant: str
    primary: dict[str, Any]  # the live answer's JSON


class ShadowRunner:
    def __init__(self, settings: Shadow, variant: Variant, client: httpx2.AsyncClient) -> None:
        self.settings = settings
        self.url = variant.predict_url
        self.client = client
        self.queue: asyncio.Queue[ShadowJob] = asyncio.Queue(maxsize=settings.queue_size)
        self.counts = {"sent": 0, "agreed": 0, "disagreed": 0, "failed": 0, "dropped": 0}
        self._tasks: list[asyncio.Task[None]] = []

    def submit(self, job: ShadowJob) -> None:
        """Called in the request path: never blocks, never raises."""
        try:
            self.queue.put_nowait(job)
        except asyncio.QueueFull:
            self.counts["dropped"] += 1

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self.settings.workers)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait until every queued copy is handled (tests and the traffic command use it)."""
        await asyncio.wait_for(self.queue.join(), timeout_s)

    def stats(self) -> dict[str, Any]:
        compared = self.counts["agreed"] + self.counts["disagreed"]
        return {
            "variant": self.settings.variant,
            **self.counts,
            "queued": self.queue.qsize(),
            "agreement": round(self.counts["agreed"] / compared, 4) if compared else None,
        }

    async def _work(self) -> None:
        while True:
            job = await self.queue.get()
            try:
                await self._shadow(job)
            except Exception:  # a bug here must not kill the worker
                logger.exception("shadow worker error")
            finally:
                self.queue.task_done()

    async def _shadow(self, job: ShadowJob) -> None:
        self.counts["sent"] += 1
        started = time.perf_counter()
        record: dict[str, Any] = {
            "user_id": job.user_id,
            "primary": {
                "variant": job.primary_variant,
                "model_version": job.primary.get("model_version"),
                "class_name": job.primary.get("class_name"),
            },
        }
        shadow: dict[str, Any] = {"variant": self.settings.variant}
        try:
            response = await self.client.post(
                self.url,
                content=job.body,
                headers={"content-type": "application/json"},
                timeout=self.settings.timeout_s,
            )
            shadow["status"] = response.status_code
            if response.status_code == 200:
                answer = response.json()
                shadow["model_version"] = answer.get("model_version")
                shadow["class_name"] = answer.get("class_name")
            else:
                shadow["error"] = f"HTTP {response.status_code}"
        except httpx2.TimeoutException:
            shadow["error"] = f"timeout after {self.settings.timeout_s} s"
        except httpx2.HTTPError as exc:
            shadow["error"] = f"{type(exc).__name__}: {exc}"
        shadow["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
        record["shadow"] = shadow
        if "class_name" in shadow:
            record["agree"] = shadow["class_name"] == record["primary"]["class_name"]
            self.counts["agreed" if record["agree"] else "disagreed"] += 1
        else:
            record["agree"] = None
            self.counts["failed"] += 1
        if self.settings.log is not None:
            _append_jsonl(self.settings.log, record)


def _append_jsonl(path: Path, record: dict[str, Any]) -> None:
    # One short line per write in append mode: lines from several workers do
    # not interleave on Linux and macOS.
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
