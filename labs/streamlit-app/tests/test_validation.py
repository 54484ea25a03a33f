"""Checks before the API is called: the form's values and uploaded CSV files."""

from __future__ import annotations

import pytest

from wine_app.features import FEATURE_KEYS, median_wine, sample_csv, wine_frame
from wine_app.validation import MAX_MESSAGES, parse_batch_csv, validate_wine

HEADER = ",".join(FEATURE_KEYS)


def row(**changes: str) -> str:
    values = {k: f"{v:g}" for k, v in median_wine().items()} | changes
    return ",".join(values[k] for k in FEATURE_KEYS)


def test_the_median_wine_is_valid_and_unremarkable() -> None:
    findings = validate_wine(median_wine())
    assert (findings.errors, findings.warnings) == ([], [])


def test_every_form_problem_is_reported_at_once() -> None:
    wine = median_wine() | {"alcohol": 150.0, "hue": float("nan"), "ash": None, "proline": 5000.0}
    findings = validate_wine(wine)
    assert findings.errors == [
        "Alcohol (% vol): 150 is outside 0-100, which the API refuses.",
        "Ash: enter a value.",
        "Hue: nan is not a number.",
    ]
    assert findings.warnings == [
        "Proline: 5000 is outside the training range 278-1680; the prediction is an extrapolation."
    ]


def test_the_sample_csv_parses_in_the_apis_column_order() -> None:
    parsed = parse_batch_csv(sample_csv())
    assert parsed.findings.ok
    assert parsed.wines is not None
    assert list(parsed.wines.columns) == list(FEATURE_KEYS)
    assert len(parsed.wines) == 20
    assert parsed.wines.dtypes.map(str).eq("float64").all()


def test_spreadsheet_exports_are_accepted() -> None:
    # A byte order mark, columns in another order, in title case with
    # spaces, the data set's slash, and stray spaces around numbers.
    names = [k.replace("_", " ").title() for k in reversed(FEATURE_KEYS)]
    names[0] = "Proline"
    names[1] = "OD280/OD315 of diluted wines"
    values = [f" {v:g} " for v in reversed(median_wine().values())]
    data = ("\ufeff" + ",".join(names) + "\r\n" + ",".join(values) + "\r\n").encode()
    parsed = parse_batch_csv(data)
    assert parsed.findings.errors == []
    assert parsed.wines is not None
    assert parsed.wines.iloc[0].to_dict() == median_wine()


def test_bad_cells_are_reported_with_line_and_column() -> None:
    lines = [HEADER, row(), row(alcohol="", hue="high"), row(), row(proline="inf")]
    parsed = parse_batch_csv("\n".join(lines).encode())
    assert parsed.wines is None
    assert parsed.findings.errors == [
        "line 3, alcohol: the cell is empty.",
        "line 3, hue: 'high' is not a number.",
        "line 5, proline: inf is outside 0-100000, which the API refuses.",
    ]


def test_a_flood_of_bad_cells_is_summarised() -> None:
    lines = [HEADER] + [row(magnesium="x")] * 50
    errors = parse_batch_csv("\n".join(lines).encode()).findings.errors
    assert len(errors) == MAX_MESSAGES + 1
    assert errors[-1] == f"... and {50 - MAX_MESSAGES} more bad cells."


def test_unusual_values_warn_without_blocking() -> None:
    parsed = parse_batch_csv(f"{HEADER}\n{row(proline='3000', hue='0.1')}\n".encode())
    assert parsed.findings.ok
    assert parsed.findings.warnings == [
        "2 value(s) lie outside the training range of their feature; "
        "those predictions are extrapolations."
    ]


def test_a_column_given_twice_is_an_error() -> None:
    parsed = parse_batch_csv(f"{HEADER},Alcohol\n{row()},13\n".encode())
    assert "The column alcohol appears twice." in parsed.findings.errors


@pytest.mark.parametrize("rows", [1, 1000])
def test_the_batch_limit_is_inclusive(rows: int) -> None:
    frame = wine_frame()[list(FEATURE_KEYS)]
    data = frame.sample(rows, replace=True, random_state=0).to_csv(index=False).encode()
    parsed = parse_batch_csv(data)
    assert parsed.findings.ok
    assert parsed.wines is not None
    assert len(parsed.wines) == rows
