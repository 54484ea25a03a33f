"""Check what a user typed or uploaded before it goes to the API.

The API validates every request too, and it stays the authority. Checking
here first gives the user a message that points at the form field or the CSV
line, without a round trip, and keeps obviously broken requests off the API.

Two kinds of finding:
- an *error* blocks the request: a missing column, a word where a number
  belongs, an empty cell, a value the API would refuse (below 0 or over its
  upper bound), too many rows;
- a *warning* does not: a value outside the range the model was trained on is
  possible (that is what drift looks like), but the answer is an
  extrapolation, so the user should know.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from wine_app.features import FEATURE_KEYS, FEATURES, MAX_BATCH_SIZE, feature_key, training_ranges

# A file with thousands of bad cells would bury the user in messages.
MAX_MESSAGES = 8


@dataclass
class Findings:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _fmt(value: float) -> str:
    return f"{value:g}"


def validate_wine(values: Mapping[str, float | None]) -> Findings:
    """Check one wine from the form: every field present, finite and within
    the API's bounds (errors); inside the training range (warnings)."""
    findings = Findings()
    ranges = training_ranges()
    for f in FEATURES:
        value = values.get(f.key)
        if value is None:
            findings.errors.append(f"{f.label}: enter a value.")
        elif not math.isfinite(value):
            findings.errors.append(f"{f.label}: {value} is not a number.")
        elif not 0 <= value <= f.api_max:
            findings.errors.append(
                f"{f.label}: {_fmt(value)} is outside 0-{_fmt(f.api_max)}, which the API refuses."
            )
        elif not ranges[f.key].low <= value <= ranges[f.key].high:
            r = ranges[f.key]
            findings.warnings.append(
                f"{f.label}: {_fmt(value)} is outside the training range "
                f"{_fmt(r.low)}-{_fmt(r.high)}; the prediction is an extrapolation."
            )
    return findings


@dataclass
class BatchInput:
    """A parsed upload: `wines` holds the API's 13 columns in the API's order,
    one row per wine, or is None when there are errors."""

    findings: Findings
    wines: pd.DataFrame | None = None


def _line(row: int) -> str:
    # Row 0 of the data is line 2 of the file: line 1 is the header.
    return f"line {row + 2}"


def _limited(messages: list[str], total: int, what: str) -> list[str]:
    if total > len(messages):
        messages.append(f"... and {total - len(messages)} more {what}.")
    return messages


def parse_batch_csv(data: bytes) -> BatchInput:
    """Parse and check an uploaded CSV of wines.

    The header names the columns, in any order. Names are matched the way
    `feature_key` normalises them, so both the data set's
    `od280/od315_of_diluted_wines` and the API's `od280_od315_of_diluted_wines`
    work. Other columns (an id, a known class) are ignored, with a note.
    """
    findings = Findings()
    try:
        # utf-8-sig drops the byte order mark that spreadsheet programs add.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        findings.errors.append("The file is not UTF-8 text. Save it as CSV (UTF-8).")
        return BatchInput(findings)
    if not text.strip():
        findings.errors.append("The file is empty.")
        return BatchInput(findings)
    try:
        # Every cell as a string: numbers are converted below, cell by cell,
        # so a bad cell can be reported with its line and column.
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        findings.errors.append(f"This is not a valid CSV file: {exc}")
        return BatchInput(findings)

    columns: dict[str, str] = {}
    for name in raw.columns:
        key = feature_key(str(name))
        if key in columns:
            findings.errors.append(f"The column {key} appears twice.")
        columns[key] = str(name)
    missing = [k for k in FEATURE_KEYS if k not in columns]
    if missing:
        findings.errors.append(
            f"Missing column(s): {', '.join(missing)}. The header needs all 13 features; "
            "download the sample CSV to see it."
        )
    ignored = [name for key, name in columns.items() if key not in FEATURE_KEYS]
    if ignored:
        findings.notes.append(f"Ignored column(s): {', '.join(ignored)}.")
    if raw.empty:
        findings.errors.append("The file has a header but no rows.")
    elif len(raw) > MAX_BATCH_SIZE:
        findings.errors.append(
            f"The file has {len(raw)} rows; the API takes at most {MAX_BATCH_SIZE} "
            "per request. Split it into smaller files."
        )
    if findings.errors:
        return BatchInput(findings)

    text_cells = raw[[columns[k] for k in FEATURE_KEYS]].set_axis(list(FEATURE_KEYS), axis=1)
    wines = text_cells.apply(lambda column: pd.to_numeric(column.str.strip(), errors="coerce"))
    _check_cells(text_cells, wines, findings)
    return BatchInput(findings, wines if findings.ok else None)


def _check_cells(text_cells: pd.DataFrame, wines: pd.DataFrame, findings: Findings) -> None:
    """Errors for empty, non-numeric and out-of-bounds cells (also "inf",
    which is a number but above every bound, and "nan", which is not a
    number); one warning for values outside the training range."""
    bad: list[str] = []
    bad_total = 0
    unusual = 0
    ranges = training_ranges()
    for f in FEATURES:
        cells, numbers = text_cells[f.key].str.strip(), wines[f.key]
        for row in range(len(cells)):
            cell, number = cells.iloc[row], numbers.iloc[row]
            if cell == "":
                problem = "the cell is empty."
            elif pd.isna(number):
                problem = f"{cell!r} is not a number."
            elif not 0 <= number <= f.api_max:
                problem = f"{_fmt(number)} is outside 0-{_fmt(f.api_max)}, which the API refuses."
            else:
                unusual += not ranges[f.key].low <= number <= ranges[f.key].high
                continue
            bad_total += 1
            if len(bad) < MAX_MESSAGES:
                bad.append(f"{_line(row)}, {f.key}: {problem}")
    findings.errors.extend(_limited(bad, bad_total, "bad cells"))
    if not bad_total and unusual:
        findings.warnings.append(
            f"{unusual} value(s) lie outside the training range of their feature; "
            "those predictions are extrapolations."
        )
