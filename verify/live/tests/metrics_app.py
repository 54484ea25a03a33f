"""A tiny API that counts its requests for Prometheus, as a lab's API would."""

from __future__ import annotations

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

# Exposed as live_demo_requests_total, at 0 from the start (no labels).
REQUESTS = Counter("live_demo_requests", "Requests answered by /work.")

app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/work")
def work() -> dict[str, str]:
    REQUESTS.inc()
    return {"status": "done"}


@app.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
