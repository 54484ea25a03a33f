"""verify/current.py, which .github/workflows/current.yml runs weekly: it moves
exact pins to the newest releases, keeps held ones, and dates only the pins
it re-resolved. Its text edits are tested here; `uv lock --upgrade` itself
runs only in the workflow (it needs the newest releases from PyPI)."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "current.py"
spec = importlib.util.spec_from_file_location("current", SCRIPT)
assert spec is not None
assert spec.loader is not None
current = importlib.util.module_from_spec(spec)
spec.loader.exec_module(current)

PYPROJECT = """\
[project]
name = "lab"
# pin (checked 2026-01-01): NumPy needs it
requires-python = ">=3.11"
dependencies = [
    # pin (checked 2026-01-01): the newest MLflow
    "mlflow==3.17.2",
    # pin (checked 2026-01-01): hold: pandas 3 breaks MLflow's digests
    "pandas==2.3.3",
    # pin (checked 2026-01-01): the server
    "uvicorn[standard]==0.55.0",
    # pin (checked 2026-01-01): only on Linux
    "uvloop==0.22.0; sys_platform == 'linux'",
]

[dependency-groups]
dev = [
    # pin (checked 2026-01-01): newest pytest
    "pytest==9.2.0",
]

[tool.other]
not-a-pin = [
    "thing==1.0",
]
"""

LOCK = """\
version = 1
[[package]]
name = "mlflow"
version = "3.19.0"
[[package]]
name = "pandas"
version = "2.3.3"
[[package]]
name = "uvicorn"
version = "0.56.1"
[[package]]
name = "uvloop"
version = "0.22.0"
[[package]]
name = "pytest"
version = "9.3.0"
[[package]]
name = "pytest"
version = "9.2.0"
"""


def test_exact_pins_become_floors_except_held_ones() -> None:
    loose, names = current.loosen(PYPROJECT)
    assert names == ["mlflow", "uvicorn", "uvloop", "pytest"]
    assert '"mlflow>=3.17.2",' in loose
    assert '"uvicorn[standard]>=0.55.0",' in loose
    assert "\"uvloop>=0.22.0; sys_platform == 'linux'\"," in loose
    assert '"pandas==2.3.3",' in loose  # held
    assert '"thing==1.0",' in loose  # not a dependency table
    tomllib.loads(loose)


def test_floors_are_pinned_again_at_the_locked_version() -> None:
    loose, names = current.loosen(PYPROJECT)
    pinned, records = current.repin(loose, names, current.resolved(LOCK))
    assert '"mlflow==3.19.0",' in pinned
    assert '"uvicorn[standard]==0.56.1",' in pinned
    # Held at two versions (one per Python): the old pin stays.
    assert '"pytest==9.2.0",' in pinned
    assert ">=" not in pinned.split("[tool.other]")[0].replace('">=3.11"', "")
    moved = {r["name"]: (r["old"], r["new"]) for r in records}
    assert moved == {
        "mlflow": ("3.17.2", "3.19.0"),
        "uvicorn": ("0.55.0", "0.56.1"),
        "uvloop": ("0.22.0", "0.22.0"),
        "pytest": ("9.2.0", "9.2.0"),
    }
    tomllib.loads(pinned)


def test_only_the_re_resolved_pins_get_todays_date() -> None:
    loose, names = current.loosen(PYPROJECT)
    pinned, records = current.repin(loose, names, current.resolved(LOCK))
    stamped = current.stamp(pinned, [r["line"] for r in records], "2026-12-07")
    lines = stamped.splitlines()
    dated = {lines[i + 1].strip() for i, line in enumerate(lines) if "2026-12-07" in line}
    assert dated == {
        '"mlflow==3.19.0",',
        '"uvicorn[standard]==0.56.1",',
        "\"uvloop==0.22.0; sys_platform == 'linux'\",",
        '"pytest==9.2.0",',
    }
    # The held pin and requires-python keep the day a person checked them.
    assert "# pin (checked 2026-01-01): hold: pandas 3" in stamped
    assert "# pin (checked 2026-01-01): NumPy needs it" in stamped


@pytest.mark.parametrize("name", ["Scikit_Learn", "scikit.learn", "scikit-learn"])
def test_package_names_compare_as_pip_does(name: str) -> None:
    assert current.normalise(name) == "scikit-learn"


def test_every_lab_pyproject_parses_and_keeps_its_pins() -> None:
    root = SCRIPT.parents[1]
    for project in sorted(root.glob("labs/*/pyproject.toml")):
        text = project.read_text(encoding="utf-8")
        loose, names = current.loosen(text)
        tomllib.loads(loose)
        pinned, _ = current.repin(loose, names, {})
        assert pinned == text, project
