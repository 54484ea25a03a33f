"""The router's configuration, read from a TOML file and validated.

TOML because Python reads it without a dependency (tomllib, Python 3.11+),
and it has comments, unlike JSON. Every mistake is reported at start-up,
never at the first request: an unknown variant name, a negative weight,
a canary that is also the stable variant.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Variant(_Strict):
    """A backend URL and the model version it should answer with."""

    url: HttpUrl
    model: str = Field(min_length=1)
    version: str = Field(min_length=1)

    @property
    def predict_url(self) -> str:
        base = str(self.url).rstrip("/")
        return f"{base}/models/{self.model}/versions/{self.version}/predict"


class Split(_Strict):
    """An A/B test: fixed weights over two or more variants."""

    salt: str = Field(min_length=1)
    weights: dict[str, float] = Field(min_length=2)


class Canary(_Strict):
    """A canary release: `canary` gets steps[step] % of users, `stable` the rest."""

    salt: str = Field(min_length=1)
    stable: str
    canary: str
    steps: list[float] = Field(default=[5, 25, 50, 100], min_length=1)
    # Promotion needs at least this many canary requests since the last change...
    min_requests: int = Field(default=50, ge=1)
    # ...and the canary within these bounds; out of them it is rolled back.
    max_error_rate: float = Field(default=0.02, ge=0, le=1)
    max_p95_latency_ms: float = Field(default=500, gt=0)

    @model_validator(mode="after")
    def _check(self) -> Canary:
        if self.stable == self.canary:
            raise ValueError("stable and canary must be different variants")
        if any(not 0 < s <= 100 for s in self.steps) or self.steps != sorted(set(self.steps)):
            raise ValueError("steps must rise strictly, each in (0, 100]")
        if self.steps[-1] != 100:
            raise ValueError("the last step must be 100: a finished canary takes all traffic")
        return self


class Shadow(_Strict):
    """A variant that gets a copy of the traffic; its answers are only logged."""

    variant: str
    timeout_s: float = Field(default=1.0, gt=0)
    queue_size: int = Field(default=1000, ge=1)
    workers: int = Field(default=4, ge=1)
    log: Path | None = Path("shadow.jsonl")


class RouterConfig(_Strict):
    mode: Literal["ab", "canary"]
    timeout_s: float = Field(default=2.0, gt=0)
    variants: dict[str, Variant] = Field(min_length=1)
    ab: Split | None = None
    canary: Canary | None = None
    shadow: Shadow | None = None

    @model_validator(mode="after")
    def _check(self) -> RouterConfig:
        routed: list[str]
        if self.mode == "ab":
            if self.ab is None:
                raise ValueError("mode = 'ab' needs an [ab] table")
            routed = list(self.ab.weights)
            if any(w < 0 for w in self.ab.weights.values()) or sum(self.ab.weights.values()) <= 0:
                raise ValueError("[ab] weights must be >= 0 with a positive sum")
        else:
            if self.canary is None:
                raise ValueError("mode = 'canary' needs a [canary] table")
            routed = [self.canary.stable, self.canary.canary]
        if self.shadow is not None:
            routed.append(self.shadow.variant)
            if self.shadow.variant in routed[:-1]:
                raise ValueError("the shadow variant must not also answer live traffic")
        unknown = sorted(set(routed) - set(self.variants))
        if unknown:
            raise ValueError(
                f"unknown variant(s) {unknown}; [variants] has {sorted(self.variants)}"
            )
        return self


def load_config(path: Path | str) -> RouterConfig:
    with Path(path).open("rb") as f:
        return RouterConfig.model_validate(tomllib.load(f))
