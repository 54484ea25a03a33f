"""Read a Dockerfile into stages and instructions, enough for the tests to
check what the file promises. Not a full parser: no heredocs, no escape
directive, no ARG expansion (this lab's Dockerfiles use none of them)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    args: str  # the rest of the instruction, continuation lines joined
    line: int  # where it starts in the file, for messages

    def exec_form(self) -> list[str]:
        """The JSON list of CMD/ENTRYPOINT (or HEALTHCHECK ... CMD [...])."""
        text = self.args
        if self.keyword == "HEALTHCHECK":
            text = text[text.index(" CMD ") + len(" CMD ") :]
        value = json.loads(text)
        assert isinstance(value, list), f"line {self.line}: not the exec form: {self.args}"
        return [str(v) for v in value]

    def flags(self) -> dict[str, str]:
        """`--name=value` options at the start (HEALTHCHECK, COPY, FROM ...)."""
        found = {}
        for word in self.args.split():
            if not word.startswith("--"):
                break
            name, _, value = word[2:].partition("=")
            found[name] = value
        return found


@dataclass
class Stage:
    image: str  # what FROM names: an image reference or an earlier stage
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def instructions(path: Path) -> list[Instruction]:
    result: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        # Comment lines end nothing, even inside a continued instruction.
        if not line or line.startswith("#"):
            continue
        if not pending:
            start = number
        continued = line.endswith("\\")
        pending.append(line.removesuffix("\\").strip())
        if not continued:
            keyword, _, args = " ".join(pending).partition(" ")
            result.append(Instruction(keyword.upper(), args.strip(), start))
            pending = []
    assert not pending, f"{path}: the last instruction ends with a backslash"
    return result


def stages(path: Path) -> list[Stage]:
    result: list[Stage] = []
    for instruction in instructions(path):
        if instruction.keyword == "FROM":
            words = [w for w in instruction.args.split() if not w.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            result.append(Stage(image=words[0], name=name))
        else:
            assert result, f"{path}:{instruction.line}: an instruction before the first FROM"
            result[-1].instructions.append(instruction)
    return result
