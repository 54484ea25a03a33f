"""The lab's server commands on a port of the test's choosing, and a small
JSON client for talking to them over a real socket (standard library only)."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Any


def uvicorn_command(port: int) -> list[str]:
    """The serve step: the FastAPI app under uvicorn."""
    app = "wine_api.app:app"
    return [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]


def flask_command(port: int) -> list[str]:
    """The flask step: the Flask app under Flask's development server."""
    return [
        *(sys.executable, "-m", "flask", "--app", "wine_api.flask_app", "run"),
        *("--host", "127.0.0.1", "--port", str(port)),
    ]


def gunicorn_command(port: int) -> list[str]:
    """The Flask app as the chapter runs it in production: gunicorn, 2 workers."""
    return [
        *(sys.executable, "-m", "gunicorn", "--workers", "2"),
        *("--bind", f"127.0.0.1:{port}", "wine_api.flask_app:create_app()"),
    ]


def request(url: str, body: object = None) -> tuple[int, Any]:
    """GET `url`, or POST `body` as JSON to it: the status and the JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    method = "GET" if body is None else "POST"
    headers = {"Content-Type": "application/json"}
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310 (loopback only)
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        with error:  # an HTTPError holds the open response: close it
            return error.code, json.load(error)
