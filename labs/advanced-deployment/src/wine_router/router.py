"""The router: one URL for clients, several model variants behind it.

    ROUTER_CONFIG=router.toml uv run uvicorn wine_router.router:app --host 127.0.0.1 --port 8100

    POST /predict                  a prediction; send the user id in X-User-Id
    GET  /health                   liveness
    GET  /admin/status             mode, weights, requests per variant, shadow counts
    GET  /admin/canary             the canary's weight and its analysis (canary mode)
    POST /admin/canary/promote     next step, if the analysis allows it
    POST /admin/canary/rollback    all traffic back to stable

Every answer says who answered: the JSON body gets a `variant` field, and the
headers X-Variant and X-Model-Version repeat it with the model's version.
The admin endpoints change live traffic: in production, expose them only
inside the cluster or behind authentication.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx2
from fastapi import FastAPI, Header, Request, Response, status
from fastapi.responses import JSONResponse

from wine_router.assign import choose
from wine_router.canary import CanaryRelease
from wine_router.config import RouterConfig, load_config
from wine_router.shadow import ShadowJob, ShadowRunner

logger = logging.getLogger("wine_router.router")


def create_app(
    config: RouterConfig | None = None,
    *,
    mounts: Mapping[str, httpx2.AsyncBaseTransport] | None = None,
) -> FastAPI:
    """Build the router. Without a config, ROUTER_CONFIG (default router.toml)
    is read at start-up. `mounts` lets tests put in-process apps or fakes
    behind the variants' URLs."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        cfg = config or load_config(os.environ.get("ROUTER_CONFIG", "router.toml"))
        app.state.config = cfg
        app.state.canary = (
            CanaryRelease(cfg.canary) if cfg.mode == "canary" and cfg.canary else None
        )
        app.state.requests = Counter()
        app.state.errors = Counter()
        # One client for live traffic, one for shadow copies: separate
        # connection pools, so shadow requests can never queue live ones.
        async with (
            httpx2.AsyncClient(timeout=cfg.timeout_s, mounts=mounts) as live,
            httpx2.AsyncClient(
                mounts=mounts,
                limits=httpx2.Limits(max_connections=cfg.shadow.workers if cfg.shadow else 1),
            ) as shadow_client,
        ):
            app.state.client = live
            app.state.shadow = None
            if cfg.shadow is not None:
                runner = ShadowRunner(cfg.shadow, cfg.variants[cfg.shadow.variant], shadow_client)
                runner.start()
                app.state.shadow = runner
            logger.info("routing in %s mode: %s", cfg.mode, current_weights(app))
            yield
            if app.state.shadow is not None:
                await app.state.shadow.stop()

    app = FastAPI(title="Wine model router", lifespan=lifespan)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/predict")
    async def predict(
        request: Request,
        x_user_id: Annotated[str | None, Header(max_length=200)] = None,
    ) -> Response:
        if not x_user_id:
            return JSONResponse(
                status_code=status.HTTP_400_BAD_REQUEST,
                content={
                    "detail": "send the user id in the X-User-Id header: variants are per user"
                },
            )
        cfg: RouterConfig = request.app.state.config
        salt = cfg.ab.salt if cfg.mode == "ab" and cfg.ab else cfg.canary.salt  # type: ignore[union-attr]
        name = choose(x_user_id, salt, current_weights(request.app))
        variant = cfg.variants[name]
        body = await request.body()

        started = time.perf_counter()
        failure: str | None = None
        try:
            upstream = await request.app.state.client.post(
                variant.predict_url, content=body, headers={"content-type": "application/json"}
            )
        except httpx2.TimeoutException:
            failure, code = (
                f"did not answer within {cfg.timeout_s} s",
                status.HTTP_504_GATEWAY_TIMEOUT,
            )
        except httpx2.HTTPError as exc:
            failure, code = (
                f"could not be reached ({type(exc).__name__})",
                status.HTTP_502_BAD_GATEWAY,
            )
        latency_ms = (time.perf_counter() - started) * 1000

        # Only server-side failures count against a variant; a 422 is the client's.
        server_error = failure is not None or upstream.status_code >= 500
        request.app.state.requests[name] += 1
        request.app.state.errors[name] += int(server_error)
        if request.app.state.canary is not None:
            request.app.state.canary.record(name, latency_ms, server_error)

        headers = {"X-Variant": name}
        if failure is not None:
            logger.warning(
                "variant=%s model=%s/%s %s", name, variant.model, variant.version, failure
            )
            return JSONResponse(
                status_code=code,
                content={"detail": f"variant {name!r} {failure}", "variant": name},
                headers=headers,
            )
        if upstream.status_code != 200:
            return Response(
                content=upstream.content,
                status_code=upstream.status_code,
                media_type=upstream.headers.get("content-type"),
                headers=headers,
            )
        answer: dict[str, Any] = upstream.json()
        answer["variant"] = name
        headers["X-Model-Version"] = str(answer.get("model_version"))
        logger.info(
            "user=%s variant=%s model=%s/%s model_version=%s class=%s latency_ms=%.1f",
            x_user_id,
            name,
            variant.model,
            variant.version,
            answer.get("model_version"),
            answer.get("class_name"),
            latency_ms,
        )
        if request.app.state.shadow is not None:
            request.app.state.shadow.submit(ShadowJob(x_user_id, body, name, answer))
        return JSONResponse(content=answer, headers=headers)

    @app.get("/admin/status")
    def admin_status(request: Request) -> dict[str, Any]:
        state = request.app.state
        cfg: RouterConfig = state.config
        return {
            "mode": cfg.mode,
            "weights": current_weights(request.app),
            "variants": {
                name: {
                    "model": f"{v.model}/{v.version}",
                    "url": str(v.url),
                    "requests": state.requests[name],
                    "errors": state.errors[name],
                }
                for name, v in cfg.variants.items()
            },
            "shadow": state.shadow.stats() if state.shadow else None,
            "canary": state.canary.status() if state.canary else None,
        }

    @app.post("/admin/shadow/drain")
    async def drain_shadow(request: Request) -> dict[str, Any]:
        """Wait until every queued shadow copy is handled, then report."""
        if request.app.state.shadow is None:
            return _no("shadow", "this router has no [shadow] table")
        await request.app.state.shadow.drain()
        return request.app.state.shadow.stats()

    @app.get("/admin/canary")
    def canary_status(request: Request) -> Any:
        canary: CanaryRelease | None = request.app.state.canary
        return canary.status() if canary else _no("canary", "the router is not in canary mode")

    @app.post("/admin/canary/promote")
    def promote(request: Request) -> Any:
        canary: CanaryRelease | None = request.app.state.canary
        if canary is None:
            return _no("canary", "the router is not in canary mode")
        done, why = canary.promote()
        logger.info("canary %s", why)
        body = canary.status()
        return body if done else JSONResponse(status_code=409, content={"detail": why, **body})

    @app.post("/admin/canary/rollback")
    def rollback(request: Request) -> Any:
        canary: CanaryRelease | None = request.app.state.canary
        if canary is None:
            return _no("canary", "the router is not in canary mode")
        logger.warning("canary rolled back: %s", canary.rollback("manual"))
        return canary.status()

    return app


def current_weights(app: FastAPI) -> dict[str, float]:
    cfg: RouterConfig = app.state.config
    if app.state.canary is not None:
        return app.state.canary.weights()
    assert cfg.ab is not None
    return dict(cfg.ab.weights)


def _no(what: str, why: str) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_404_NOT_FOUND, content={"detail": f"no {what}: {why}"}
    )


logging.basicConfig(
    level=os.environ.get("LOG_LEVEL", "INFO").upper(),
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
app = create_app()
