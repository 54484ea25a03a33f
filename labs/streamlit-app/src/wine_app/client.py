"""A small client for the wine API of module 03.

It turns every way a call can fail into one of three exceptions, each with a
message a person can act on, so the app never shows a raw traceback:

- `ApiUnreachable`: nothing answered (not started, wrong URL, a firewall);
- `ApiRejected`: the API answered 4xx; the request must change (422 lists
  the fields it refused);
- `ApiFailed`: the API answered 5xx (503: no model loaded) or something that
  is not the wine API's JSON.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from wine_app.settings import ApiSettings

# Connect fast and fail fast: a user waiting on a spinner for a dead server
# is worse than an error message. Reading allows for a full batch of 1000.
CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 15.0

START_HINT = (
    "Start the API of module 03: in the model-serving lab folder, run "
    "`uv run uvicorn wine_api.app:app --host 127.0.0.1 --port 8000`. "
    "If it runs elsewhere, point the app at it with the environment variable WINE_API_URL."
)


class ApiError(Exception):
    """Base class: str(error) is the message for the user."""


class ApiUnreachable(ApiError):
    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"Cannot reach the wine API at {url} ({reason}). {START_HINT}")
        self.url = url
        self.reason = reason


class ApiRejected(ApiError):
    def __init__(self, status: int, problems: list[str]) -> None:
        super().__init__(f"The API refused the request ({status}): " + "; ".join(problems))
        self.status = status
        self.problems = problems


class ApiFailed(ApiError):
    pass


@dataclass(frozen=True)
class Prediction:
    class_id: int
    class_name: str
    probabilities: dict[str, float]
    model_version: str


@dataclass(frozen=True)
class ApiStatus:
    reachable: bool
    ready: bool
    detail: str
    model_version: str | None = None


def _reason(exc: BaseException) -> str:
    """A short cause for a connection failure, found in the exception chain
    (requests wraps urllib3's error, which wraps the socket's)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused: nothing listens on that port"
        if isinstance(seen, socket.gaierror):
            return "the host name does not resolve"
        if isinstance(seen, requests.ReadTimeout):
            return f"connected, but no answer within {READ_TIMEOUT_S:g} s"
        if isinstance(seen, requests.Timeout | TimeoutError):
            return f"no connection within {CONNECT_TIMEOUT_S:g} s"
        seen = seen.__cause__ or seen.__context__
    return type(exc).__name__


def _problems(body: Any) -> list[str]:
    """FastAPI's error body: {"detail": "text"} or {"detail": [{"loc": [...], "msg": ...}]}."""
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        problems = []
        for error in detail:
            # loc is e.g. ["body", "instances", 3, "alcohol"]: drop "body".
            where = ".".join(str(part) for part in error.get("loc", [])[1:])
            problems.append(f"{where}: {error.get('msg', '?')}" if where else error.get("msg", "?"))
        return problems or ["no details given"]
    return [str(detail) if detail else "no details given"]


class WineApiClient:
    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings

    def _call(self, method: str, path: str, body: object | None = None) -> Any:
        url = f"{self.settings.url}{path}"
        try:
            response = requests.request(
                method,
                url,
                json=body,
                headers=self.settings.headers(),
                timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ApiUnreachable(self.settings.url, _reason(exc)) from exc
        try:
            payload = response.json()
        except ValueError:
            payload = None
        status = response.status_code
        base = self.settings.url
        # A 404, or an error that is not JSON, comes from something that is
        # not the wine API: a wrong port, a wrong path, a proxy's error page.
        if status == 404 or (status >= 400 and not isinstance(payload, dict)):
            raise ApiFailed(f"{url} answered {status} {response.reason}. Is {base} the wine API?")
        if status == 503:
            problems = "; ".join(_problems(payload))
            raise ApiFailed(f"The wine API at {base} is up but not ready (503): {problems}")
        if status >= 500:
            problems = "; ".join(_problems(payload))
            raise ApiFailed(f"The wine API at {base} failed ({status}): {problems}")
        if status >= 400:
            raise ApiRejected(status, _problems(payload))
        if not isinstance(payload, dict):
            raise ApiFailed(f"{url} did not answer with JSON. Is {base} the wine API?")
        return payload

    def status(self) -> ApiStatus:
        """GET /ready: is the API up, and is its model loaded?"""
        try:
            body = self._call("GET", "/ready")
        except ApiUnreachable as exc:
            return ApiStatus(reachable=False, ready=False, detail=exc.reason)
        except ApiError as exc:
            return ApiStatus(reachable=True, ready=False, detail=str(exc))
        version = str(body.get("model_version"))
        return ApiStatus(reachable=True, ready=True, detail="ready", model_version=version)

    def predict(self, wine: Mapping[str, float]) -> Prediction:
        body = self._call("POST", "/predict", dict(wine))
        return _prediction(body, body.get("model_version"))

    def predict_batch(self, wines: Sequence[Mapping[str, float]]) -> list[Prediction]:
        body = self._call("POST", "/predict/batch", {"instances": [dict(w) for w in wines]})
        predictions = body.get("predictions")
        if not isinstance(predictions, list) or len(predictions) != len(wines):
            raise ApiFailed(f"The API sent {predictions!r:.80} for {len(wines)} wines.")
        return [_prediction(p, body.get("model_version")) for p in predictions]


def _prediction(body: Any, model_version: object) -> Prediction:
    """Read one prediction, checking the fields the app uses (the contract)."""
    try:
        return Prediction(
            class_id=int(body["class_id"]),
            class_name=str(body["class_name"]),
            probabilities={str(k): float(v) for k, v in body["probabilities"].items()},
            model_version=str(model_version),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ApiFailed(f"Unexpected answer from the API: {body!r:.200}") from exc
