"""Where the wine API is, and how to authenticate to it.

Looked up in this order, first match wins:

1. environment variables `WINE_API_URL` and `WINE_API_TOKEN`: what a
   container, a CI job or a process manager sets;
2. the `[wine_api]` table of Streamlit's secrets (`.streamlit/secrets.toml`,
   never committed; see `.streamlit/secrets.toml.example`);
3. the default: the API of module 03 on http://127.0.0.1:8000, no token.

The course's API checks no token. In a real deployment a gateway in front of
the API would, and a token is exactly what belongs in secrets, not in code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

DEFAULT_API_URL = "http://127.0.0.1:8000"
URL_ENV = "WINE_API_URL"
TOKEN_ENV = "WINE_API_TOKEN"
SECRETS_SECTION = "wine_api"


class SettingsError(ValueError):
    """The configuration is unusable; the message says which value and where."""


@dataclass(frozen=True)
class ApiSettings:
    url: str
    source: str  # where the URL came from, shown in the sidebar
    # repr=False: a settings object printed in a log or an error never shows it.
    token: str | None = field(default=None, repr=False)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


def _clean_url(url: str, source: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            f"{source}: {url!r} is not an http(s) URL; expected e.g. {DEFAULT_API_URL}"
        )
    return url


def resolve(env: Mapping[str, str], secrets: Mapping[str, Any]) -> ApiSettings:
    """Pick the URL and token from `env` (os.environ) and `secrets`
    (st.secrets, or {} when there is no secrets file)."""
    section = secrets.get(SECRETS_SECTION, {})
    if env.get(URL_ENV):
        url, source = env[URL_ENV], f"environment variable {URL_ENV}"
    elif section.get("url"):
        url, source = str(section["url"]), f"secrets [{SECRETS_SECTION}] url"
    else:
        url, source = DEFAULT_API_URL, "default"
    token = env.get(TOKEN_ENV) or section.get("token") or None
    return ApiSettings(url=_clean_url(url, source), source=source, token=token)
