"""The course's own workflows name files that exist.

A cache key built with `hashFiles('some/path')` of a path that is gone
hashes nothing: the key stops changing with what it was meant to follow,
and a build restores a stale cache. (The highlighter moved from
`highlight.rs` to a `highlight/` folder once, and the Pages cache key went
on hashing the old file.) Every pattern of every `hashFiles(...)` must
match at least one file of the project.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
OWN_WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))
HASH_FILES = re.compile(r"hashFiles\(([^)]*)\)")
QUOTED = re.compile(r"'([^']+)'")


def hash_patterns(text: str) -> list[tuple[int, str]]:
    """(line, pattern) of every pattern given to hashFiles in a workflow's text."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for call in HASH_FILES.finditer(line):
            found.extend((number, p) for p in QUOTED.findall(call.group(1)))
    return found


def matches_a_file(pattern: str) -> bool:
    # In Python before 3.13 a pattern ending in `**` yields folders only;
    # GitHub's `dir/**` means every file below dir.
    patterns = [pattern, f"{pattern}/*"] if pattern.endswith("**") else [pattern]
    return any(p.is_file() for pat in patterns for p in ROOT.glob(pat))


def test_patterns_are_found_in_a_workflow() -> None:
    text = "key: x-${{ hashFiles('Cargo.lock', 'src/**') }}-${{ hashFiles('labs/**') }}\n"
    assert hash_patterns(text) == [(1, "Cargo.lock"), (1, "src/**"), (1, "labs/**")]
    assert matches_a_file("labs/**") and matches_a_file("Cargo.lock")
    assert not matches_a_file("preprocessors/mdbook-labs/src/highlight.rs"), "the old file is gone"


@pytest.mark.parametrize("workflow", OWN_WORKFLOWS, ids=lambda p: p.name)
def test_every_hashfiles_pattern_matches_a_file(workflow: Path) -> None:
    missing = [
        f"{workflow.relative_to(ROOT)}:{number}: hashFiles('{pattern}') matches no file"
        for number, pattern in hash_patterns(workflow.read_text(encoding="utf-8"))
        if not matches_a_file(pattern)
    ]
    assert not missing, "\n".join(missing)
