"""Where the app finds the API: environment, then secrets, then the default."""

from __future__ import annotations

import tomllib

import pytest
import streamlit as st
from conftest import APP, RUN_TIMEOUT_S
from helpers import texts
from streamlit.testing.v1 import AppTest

from wine_app.settings import DEFAULT_API_URL, SettingsError, resolve

SECRETS = {"wine_api": {"url": "http://api.internal:8000/", "token": "from-secrets"}}


def test_the_default_is_the_api_of_module_03() -> None:
    settings = resolve({}, {})
    assert (settings.url, settings.source, settings.token) == (DEFAULT_API_URL, "default", None)
    assert settings.headers() == {}


def test_secrets_come_before_the_default() -> None:
    settings = resolve({}, SECRETS)
    assert settings.url == "http://api.internal:8000"  # trailing slash removed
    assert settings.source == "secrets [wine_api] url"
    assert settings.headers() == {"Authorization": "Bearer from-secrets"}


def test_the_environment_comes_before_secrets() -> None:
    env = {"WINE_API_URL": "https://wine.example.org", "WINE_API_TOKEN": "from-env"}
    settings = resolve(env, SECRETS)
    assert settings.url == "https://wine.example.org"
    assert settings.source == "environment variable WINE_API_URL"
    assert settings.token == "from-env"


def test_the_token_never_shows_in_a_repr() -> None:
    assert "from-secrets" not in repr(resolve({}, SECRETS))


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "ftp://host/", "http://", "localhost"])
def test_a_url_that_is_not_http_is_refused_with_its_source(url: str) -> None:
    with pytest.raises(SettingsError, match="environment variable WINE_API_URL: .* not an http"):
        resolve({"WINE_API_URL": url}, {})


def test_the_app_reads_the_url_from_secrets(monkeypatch: pytest.MonkeyPatch, api_url: str) -> None:
    monkeypatch.delenv("WINE_API_URL", raising=False)
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT_S)
    at.secrets["wine_api"] = {"url": api_url}
    at.run()
    assert not at.exception
    assert at.sidebar.code[0].value == api_url
    assert texts(at.sidebar.caption) == ["From: secrets [wine_api] url."]
    assert texts(at.sidebar.success) == ["Ready, model version test-1."]


def test_a_bad_url_stops_the_app_with_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINE_API_URL", "localhost:8000")
    at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT_S).run()
    assert not at.exception
    (error,) = texts(at.error)
    assert error.startswith("The app is misconfigured: environment variable WINE_API_URL")
    # st.stop() ended the run: no tabs, no form.
    assert not at.tabs
    assert not at.number_input


def test_secrets_never_reach_git_or_an_image() -> None:
    lab = APP.parent
    for ignore_file in (".gitignore", ".dockerignore"):
        assert ".streamlit/secrets.toml" in (lab / ignore_file).read_text().splitlines()
    # The example is valid TOML, read the same way, and holds no real secret.
    example = tomllib.loads((lab / ".streamlit" / "secrets.toml.example").read_text())
    settings = resolve({}, example)
    assert settings.url == DEFAULT_API_URL
    assert settings.token == "replace-me"
