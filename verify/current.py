"""Re-resolve the labs' Python pins against the newest releases, and date
only what was checked. Used by .github/workflows/current.yml:

    python3 verify/current.py upgrade STATE.json   # before the labs' tests
    python3 verify/current.py stamp STATE.json     # after they all passed

`upgrade`, in each labs/<id> with a pyproject.toml:
1. loosens every exact pin (`"mlflow==3.17.2"` -> `"mlflow>=3.17.2"`) of
   [project] dependencies and [dependency-groups], except pins whose comment
   reason starts with `hold:` (a person decided to stay; they keep their date);
2. `uv lock --upgrade`: the newest releases that fit;
3. pins each loosened package again, exactly, at the version the lock chose
   (a package the lock holds at two versions, one per Python, keeps its old
   pin), and `uv lock` once more so the lock matches the pins.
It writes what it re-resolved to STATE.json and prints old -> new.

`stamp` sets `# pin (checked TODAY)` on the comment of every pin `upgrade`
re-resolved, and on no other: an image, an action or a held pin that nobody
re-checked keeps the day someone last did. Standard library only.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# One dependency string on its own line, as `course check` wants pins written.
PIN_LINE = re.compile(
    r'^(?P<indent>\s*)"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<extras>\[[^\]]*\])?'
    r"==(?P<version>[^\";,\s]+)(?P<marker>\s*;[^\"]*)?\"(?P<tail>,?\s*)$"
)
LOOSE_LINE = re.compile(
    r'^(?P<indent>\s*)"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<extras>\[[^\]]*\])?'
    r">=(?P<version>[^\";,\s]+)(?P<marker>\s*;[^\"]*)?\"(?P<tail>,?\s*)$"
)
COMMENT = re.compile(r"^(?P<indent>\s*)# pin \(checked (?P<date>\d{4}-\d{2}-\d{2})\): (?P<why>.*)$")
SECTION = re.compile(r"^\[(?P<name>[^\]]+)\]\s*$")
PINNED_SECTIONS = {"project", "dependency-groups", "project.optional-dependencies"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_lines(lines: list[str]) -> list[int]:
    """Indexes of the exact pins `upgrade` may move: inside the dependency
    tables, with a `# pin` comment above whose reason is not `hold:`."""
    found, section = [], ""
    for i, line in enumerate(lines):
        header = SECTION.match(line)
        if header:
            section = header["name"]
            continue
        if section not in PINNED_SECTIONS or not PIN_LINE.match(line):
            continue
        comment = COMMENT.match(lines[i - 1]) if i else None
        if comment and comment["why"].lower().startswith("hold:"):
            continue
        found.append(i)
    return found


def loosen(text: str) -> tuple[str, list[str]]:
    """The pyproject with its movable exact pins turned into floors, and the
    names of the packages loosened."""
    lines = text.split("\n")
    names = []
    for i in pinned_lines(lines):
        match = PIN_LINE.match(lines[i])
        names.append(normalise(match["name"]))
        lines[i] = lines[i].replace(f"=={match['version']}", f">={match['version']}", 1)
    return "\n".join(lines), names


def resolved(lock_text: str) -> dict[str, list[str]]:
    """Every version of every package in a uv.lock (two when it splits by Python)."""
    versions: dict[str, list[str]] = {}
    for package in tomllib.loads(lock_text).get("package", []):
        if "version" in package:
            versions.setdefault(normalise(package["name"]), []).append(package["version"])
    return versions


def repin(text: str, names: list[str], versions: dict[str, list[str]]) -> tuple[str, list[dict]]:
    """Floors back to exact pins at the locked version. Returns the text and
    one record per package: name, old, new (new == old when nothing moved)."""
    lines = text.split("\n")
    records = []
    for i, line in enumerate(lines):
        match = LOOSE_LINE.match(line)
        if not match or normalise(match["name"]) not in names:
            continue
        old = match["version"]
        found = sorted(set(versions.get(normalise(match["name"]), [])))
        new = found[0] if len(found) == 1 else old
        lines[i] = line.replace(f">={old}", f"=={new}", 1)
        records.append({"line": i + 1, "name": match["name"], "old": old, "new": new})
    return "\n".join(lines), records


def stamp(text: str, lines_checked: list[int], today: str) -> str:
    """Today's date on the `# pin` comment above each re-resolved pin line (1-based)."""
    lines = text.split("\n")
    for number in lines_checked:
        above = number - 2
        comment = COMMENT.match(lines[above]) if above >= 0 else None
        if comment:
            lines[above] = f"{comment['indent']}# pin (checked {today}): {comment['why']}"
    return "\n".join(lines)


def uv(lab: Path, *args: str) -> None:
    print(f"$ (cd {lab.relative_to(ROOT)} && uv {' '.join(args)})", flush=True)
    subprocess.run(["uv", *args], cwd=lab, check=True)


def upgrade(state_path: Path) -> None:
    state = {}
    for project in sorted(ROOT.glob("labs/*/pyproject.toml")):
        lab = project.parent
        original = project.read_text(encoding="utf-8")
        loose, names = loosen(original)
        if not names:
            continue
        project.write_text(loose, encoding="utf-8")
        uv(lab, "lock", "--upgrade")
        versions = resolved((lab / "uv.lock").read_text(encoding="utf-8"))
        pinned, records = repin(loose, names, versions)
        project.write_text(pinned, encoding="utf-8")
        uv(lab, "lock")
        state[str(project.relative_to(ROOT))] = records
        for r in records:
            moved = "" if r["old"] == r["new"] else f" -> {r['new']}"
            print(f"{lab.name}: {r['name']} {r['old']}{moved}")
    state_path.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


def stamp_all(state_path: Path) -> None:
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    for rel, records in json.loads(state_path.read_text(encoding="utf-8")).items():
        project = ROOT / rel
        text = project.read_text(encoding="utf-8")
        project.write_text(stamp(text, [r["line"] for r in records], today), encoding="utf-8")
        print(f"{rel}: {len(records)} pins checked {today}")


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in {"upgrade", "stamp"}:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    (upgrade if argv[1] == "upgrade" else stamp_all)(Path(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
