"""Batch prediction: score a CSV file of wines, chunk by chunk.

Run it from the lab folder, after training a model:

    uv run python -m wine_api.batch data/wines.csv predictions.csv --chunk-size 4

The input has a header row with the 13 feature columns (the API's field
names, in any order); other columns, such as an id, are copied to the
output. Each row is validated with the API's own request model. Valid rows
are predicted, one vectorised model call per chunk, and written to OUTPUT;
invalid rows are written, with the reasons, to a second file (default:
OUTPUT with `.rejected` before the suffix). A summary goes to stdout.

The model comes from the same place as the API's (wine_api.model): MODEL_URI
or MODEL_PATH, or --model-uri / --model-path.

Exit codes: 0 some rows predicted (rejected rows are in the report),
1 no row predicted (every row rejected, or no rows), 2 the input could not
be read (missing, not UTF-8, not CSV, missing columns), 3 no model.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from wine_api.model import FEATURES, LoadedModel, load_from, model_source
from wine_api.schemas import WineFeatures

EXIT_OK, EXIT_NOTHING_PREDICTED, EXIT_BAD_INPUT, EXIT_NO_MODEL = 0, 1, 2, 3
DEFAULT_CHUNK_SIZE = 1000
SHOWN_REJECTIONS = 10  # in the summary; the rejected file has all of them


class InputError(Exception):
    """The input file cannot be read as a CSV of wines."""


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str


@dataclass
class BatchReport:
    """What a run did: the numbers the summary prints."""

    rows_read: int = 0
    rows_predicted: int = 0
    chunks: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        return len(self.rejections)


def default_rejected_path(output: Path) -> Path:
    """predictions.csv -> predictions.rejected.csv"""
    return output.with_name(f"{output.stem}.rejected{output.suffix or '.csv'}")


def describe(error: dict[str, Any]) -> str:
    """One pydantic error as `field: message (got 'value')`."""
    where = ".".join(str(part) for part in error["loc"])
    if error["type"] == "missing":
        return f"{where}: missing"
    return f"{where}: {error['msg']} (got {error['input']!r})"


def validate_row(row: dict[str | None, Any]) -> WineFeatures | str:
    """The row as WineFeatures, or why not.

    CSV holds only text, so the row is validated in pydantic's string mode:
    "13.2" becomes 13.2, while "n/a", "nan" and "-1" fail exactly as they do
    in the API. An empty cell counts as missing.
    """
    # csv.DictReader puts surplus values in a list under the key None, and
    # gives None (not "") for the columns of a row that ends too early.
    if None in row or None in row.values():
        header = len(row) - (None in row)
        values = sum(v is not None for k, v in row.items() if k is not None)
        values += len(row.get(None) or [])
        return f"{values} values, but the header has {header} columns"
    values = {name: row[name] for name in FEATURES if row.get(name) not in (None, "")}
    try:
        return WineFeatures.model_validate_strings(values)
    except ValidationError as exc:
        return "; ".join(describe(e) for e in exc.errors(include_url=False))


def chunks(reader: csv.DictReader[str], size: int) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """Lists of (line number, row), `size` rows at most: only one chunk is in
    memory at a time, however large the file."""
    while True:
        chunk = [(reader.line_num, row) for row in itertools.islice(reader, size)]
        if not chunk:
            return
        yield chunk


def open_input(path: Path) -> tuple[TextIO, csv.DictReader[str]]:
    """Open `path` and check its header; InputError says what is wrong."""
    try:
        # utf-8-sig: a byte-order mark (spreadsheets write one) is not part
        # of the first column's name. newline="": the csv module's rule.
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot open {path}: {exc.strerror}") from exc
    reader = csv.DictReader(handle)
    try:
        header = reader.fieldnames
    except (UnicodeDecodeError, csv.Error) as exc:
        handle.close()
        raise InputError(f"{path} is not a UTF-8 CSV file: {exc}") from exc
    problems = []
    if not header:
        problems.append("it is empty (no header row)")
    else:
        if duplicates := sorted(n for n, c in Counter(header).items() if c > 1):
            problems.append(f"duplicate columns: {', '.join(duplicates)}")
        if missing := [n for n in FEATURES if n not in header]:
            problems.append(f"missing columns: {', '.join(missing)}")
    if problems:
        handle.close()
        raise InputError(f"{path}: {'; '.join(problems)}")
    return handle, reader


def run(
    input_path: Path,
    output: Path,
    rejected: Path,
    model: LoadedModel,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> BatchReport:
    """Score `input_path` into `output` and `rejected`, and report.

    Both files are written to temporary names and renamed at the end, so a
    run that fails halfway never leaves a file that looks complete.
    """
    handle, reader = open_input(input_path)
    extra = [c for c in reader.fieldnames or [] if c not in FEATURES]
    report = BatchReport()
    with handle, _atomic(output) as out, _atomic(rejected) as bad:
        predictions = csv.writer(out)
        predictions.writerow(
            [*extra, "line", "class_id", "class_name"]
            + [f"probability_{name}" for name in model.class_names]
            + ["model_version"]
        )
        rejects = csv.writer(bad)
        rejects.writerow(["line", *(reader.fieldnames or []), "errors"])
        try:
            for chunk in chunks(reader, chunk_size):
                report.chunks += 1
                report.rows_read += len(chunk)
                valid: list[tuple[int, dict[str, Any], WineFeatures]] = []
                for line, row in chunk:
                    result = validate_row(row)
                    if isinstance(result, str):
                        report.rejections.append(Rejection(line, result))
                        cells = [row.get(c) or "" for c in reader.fieldnames or []]
                        rejects.writerow([line, *cells, result])
                    else:
                        valid.append((line, row, result))
                if not valid:
                    continue
                results = model.predict([wine for _, _, wine in valid])
                for (line, row, _), p in zip(valid, results, strict=True):
                    predictions.writerow(
                        [row[c] for c in extra]
                        + [line, p.class_id, p.class_name]
                        + [p.probabilities[name] for name in model.class_names]
                        + [model.version]
                    )
                    report.classes[p.class_name] += 1
                report.rows_predicted += len(valid)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise InputError(f"{input_path}, line {reader.line_num}: {exc}") from exc
    return report


@contextmanager
def _atomic(path: Path) -> Iterator[TextIO]:
    """Write a text file under a temporary name; rename it into place only if
    the `with` block succeeds, delete it otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            yield handle
    except BaseException:
        os.unlink(tmp)
        raise
    os.replace(tmp, path)


def summary(report: BatchReport, args: argparse.Namespace, model: LoadedModel) -> str:
    lines = [
        f"read      {report.rows_read} rows from {args.input} "
        f"in {report.chunks} chunk(s) of at most {args.chunk_size}",
        f"predicted {report.rows_predicted} rows -> {args.output} (model version {model.version})",
    ]
    if report.classes:
        counts = ", ".join(f"{name} {n}" for name, n in sorted(report.classes.items()))
        lines.append(f"          {counts}")
    lines.append(f"rejected  {report.rows_rejected} rows -> {args.rejected}")
    for rejection in report.rejections[:SHOWN_REJECTIONS]:
        lines.append(f"  line {rejection.line}: {rejection.reason}")
    if report.rows_rejected > SHOWN_REJECTIONS:
        lines.append(f"  ... and {report.rows_rejected - SHOWN_REJECTIONS} more in {args.rejected}")
    return "\n".join(lines)


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m wine_api.batch", description=__doc__.splitlines()[0]
    )
    parser.add_argument("input", type=Path, help="CSV file with a header row")
    parser.add_argument("output", type=Path, help="CSV file for the predictions")
    parser.add_argument(
        "--rejected", type=Path, help="CSV file for rejected rows (default: OUTPUT.rejected.csv)"
    )
    parser.add_argument(
        "--chunk-size",
        type=positive,
        default=DEFAULT_CHUNK_SIZE,
        help="rows read, validated and predicted at a time (default: %(default)s)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model-path", type=Path, help="joblib model (default: $MODEL_PATH)")
    source.add_argument("--model-uri", help="registry model, e.g. models:/wine-classifier@champion")
    args = parser.parse_args(argv)
    args.rejected = args.rejected or default_rejected_path(args.output)

    # Check the input before loading the model: a wrong file name should fail
    # in a second, not after a model download.
    try:
        open_input(args.input)[0].close()
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        model = load_from(model_source(args.model_path, args.model_uri))
    except Exception as exc:  # any reason at all: report it and stop
        print(f"error: no model: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_NO_MODEL
    try:
        report = run(args.input, args.output, args.rejected, model, args.chunk_size)
    except InputError as exc:
        print(f"error: {exc} (no output written)", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(summary(report, args, model))
    if report.rows_predicted == 0:
        print("error: no row was predicted", file=sys.stderr)
        return EXIT_NOTHING_PREDICTED
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
