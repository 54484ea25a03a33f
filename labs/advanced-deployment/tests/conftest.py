"""Shared fixtures: the model variants trained once per session into a
temporary registry folder, backends built from it, and a router factory
that puts in-process backends (or deliberately broken fakes) behind the
variants' URLs through httpx transports."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sklearn.datasets import load_wine

from wine_router.backend import create_app as create_backend
from wine_router.config import RouterConfig
from wine_router.router import create_app as create_router
from wine_router.schemas import FEATURES
from wine_router.train import VARIANTS, train_variant


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    for variant in VARIANTS:
        train_variant(variant, folder)
    return folder


@pytest.fixture(scope="session")
def wines() -> list[tuple[dict[str, float], str]]:
    """Every row of the wine data as a request body, with its class name."""
    data = load_wine()
    return [
        (dict(zip(FEATURES, map(float, row), strict=True)), str(data.target_names[t]))
        for row, t in zip(data.data, data.target, strict=True)
    ]


@pytest.fixture
def wine(wines: list[tuple[dict[str, float], str]]) -> dict[str, float]:
    return dict(wines[0][0])


@pytest.fixture(scope="session")
def backend_transport(models_dir: Path) -> httpx2.ASGITransport:
    """One multi-model backend app, in process, reachable through httpx."""
    return httpx2.ASGITransport(app=create_backend(models_dir))


def variant(url: str, version: str) -> dict[str, str]:
    return {"url": url, "model": "wine", "version": version}


def ab_config(**overrides: Any) -> dict[str, Any]:
    """An A/B test of wine/1 (a) against wine/2 (b), shadowed by wine/3."""
    config: dict[str, Any] = {
        "mode": "ab",
        "timeout_s": 2.0,
        "variants": {
            "a": variant("http://a.test", "1"),
            "b": variant("http://b.test", "2"),
            "shadow": variant("http://shadow.test", "3"),
        },
        "ab": {"salt": "test-salt", "weights": {"a": 50, "b": 50}},
        "shadow": {"variant": "shadow", "timeout_s": 0.5, "workers": 2, "log": None},
    }
    config.update(overrides)
    return config


def canary_config(**canary: Any) -> dict[str, Any]:
    return {
        "mode": "canary",
        "variants": {
            "stable": variant("http://a.test", "1"),
            "canary": variant("http://b.test", "2"),
        },
        "canary": {
            "salt": "test-canary",
            "stable": "stable",
            "canary": "canary",
            "steps": [20, 50, 100],
            "min_requests": 5,
            **canary,
        },
    }


RouterFactory = Callable[..., Any]


@pytest.fixture
def router(backend_transport: httpx2.ASGITransport) -> RouterFactory:
    """`with router(config, shadow=transport) as client:` a TestClient for a
    router whose variants a, b (and stable, canary) are the real backend;
    each keyword replaces the transport of the variant with that host."""

    @contextmanager
    def make(
        config: Mapping[str, Any], **transports: httpx2.AsyncBaseTransport | None
    ) -> Iterator[TestClient]:
        mounts: dict[str, httpx2.AsyncBaseTransport] = {
            "http://a.test": backend_transport,
            "http://b.test": backend_transport,
            "http://shadow.test": backend_transport,
        }
        for host, transport in transports.items():
            if transport is None:
                mounts.pop(f"http://{host}.test")
            else:
                mounts[f"http://{host}.test"] = transport
        app = create_router(RouterConfig.model_validate(config), mounts=mounts)
        with TestClient(app) as client:  # `with` runs the lifespan: clients, shadow workers
            yield client

    return make
