"""Reading and comparing versions: the rule the course pages' checks use.

The cases mirror the unit tests of the course's own `min_version` check, so
the script and the page agree on every tool's output.
"""

from __future__ import annotations

import pytest

from check_workstation import at_least, find_version, parse_version


@pytest.mark.parametrize(
    ("output", "version"),
    [
        ("Python 3.11.7", "3.11.7"),
        ("Docker version 28.2.2, build e6534b4", "28.2.2"),
        ("Docker Compose version v2.29.1", "2.29.1"),
        ("uv 0.9.5 (d5f39331a 2025-10-21)", "0.9.5"),
        ("kind v0.27.0 go1.23.6 linux/amd64", "0.27.0"),
        ("git version 2.39.5 (Apple Git-154)", "2.39.5"),
        # kubectl: the client line comes first, a build suffix is not part of it.
        ("Client Version: v1.32.4-dispatcher\nKustomize Version: v5.5.0", "1.32.4"),
        # helm --short: the build metadata after + is not part of it.
        ("v4.0.1+g12500dd", "4.0.1"),
        # docker version --format {{.Server.Version}}: the number alone.
        ("28.2.2\n", "28.2.2"),
        # A trailing full stop ends a sentence, not the version.
        ("version 1.2.", "1.2"),
    ],
)
def test_finds_the_first_version_in_tool_output(output: str, version: str) -> None:
    assert find_version(output) == version


@pytest.mark.parametrize(
    "output",
    [
        "no digits here",
        "",
        "Client Version: unknown",
        # Numbers without a dot are not versions; x86_64 is glued to letters.
        "build 42 for x86_64",
    ],
)
def test_output_without_a_version(output: str) -> None:
    assert find_version(output) is None


def test_digits_glued_to_letters_do_not_start_a_version() -> None:
    # "go1.25.5": the 1 follows a letter, so the scan resumes after it and
    # the first version it can start is the one after the dot, as the
    # course's check does. Tools print their own version before such words.
    assert find_version("built with go1.25.5") == "25.5"
    assert find_version("kind v0.31.0 go1.25.5") == "0.31.0"


def test_compares_numerically_not_as_text() -> None:
    assert at_least("3.11", "3.9")
    assert not at_least("3.9.18", "3.11")
    assert at_least("3.11", "3.11.0")
    assert at_least("3.11.0", "3.11")
    assert at_least("1.30.2", "1.30")
    assert not at_least("0.9.5", "0.13")
    assert at_least("10.0", "9.99.99")


@pytest.mark.parametrize(("text", "parsed"), [("3.11", (3, 11)), ("v1.32.4", (1, 32, 4))])
def test_parses_versions(text: str, parsed: tuple[int, ...]) -> None:
    assert parse_version(text) == parsed


@pytest.mark.parametrize("text", ["", "v", "3.x", "1..2", "1.2.3.4.5.6.7", "３.11"])
def test_refuses_what_is_not_a_version(text: str) -> None:
    assert parse_version(text) is None


def test_comparing_a_non_version_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a version"):
        at_least("3.x", "3.11")
