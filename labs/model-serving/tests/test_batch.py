"""The batch CLI: predictions, rejected rows with reasons, chunking, exit codes."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from wine_api import batch
from wine_api.model import FEATURES, LoadedModel, load_model
from wine_api.train import TrainResult

LAB = Path(__file__).resolve().parents[1]
SAMPLE = LAB / "data" / "wines.csv"


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run_cli(trained: TrainResult, *args: str | Path) -> int:
    return batch.main([*map(str, args), "--model-path", str(trained.model_path)])


def test_the_sample_file(
    trained: TrainResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "predictions.csv"
    assert run_cli(trained, SAMPLE, output, "--chunk-size", "4") == batch.EXIT_OK

    predictions = read(output)
    assert len(predictions) == 12
    # Every good row of the sample is a real wine whose id is its row in
    # load_wine (wine-000 is row 0): rows 0-58 are class_0, 59-129 class_1.
    for p in predictions:
        index = int(p["sample_id"].removeprefix("wine-"))
        expected = "class_0" if index < 59 else "class_1" if index < 130 else "class_2"
        assert p["class_name"] == expected, p
        probabilities = [float(p[f"probability_class_{i}"]) for i in range(3)]
        assert sum(probabilities) == pytest.approx(1.0)
        assert p["model_version"] == "test-1"

    rejected = read(tmp_path / "predictions.rejected.csv")
    assert [(r["line"], r["sample_id"]) for r in rejected] == [
        ("5", "wine-020"),
        ("9", "wine-075"),
        ("13", "wine-140"),
        ("16", "wine-160"),
    ]
    reasons = [r["errors"] for r in rejected]
    assert reasons[0] == "alcohol: Input should be greater than or equal to 0 (got '-14.06')"
    assert reasons[1].startswith("magnesium: Input should be a valid number")
    assert "hue: " in reasons[1]  # every problem of a row, not only the first
    assert reasons[2] == "proline: missing"
    assert reasons[3] == "13 values, but the header has 14 columns"

    report = capsys.readouterr().out
    assert f"read      16 rows from {SAMPLE} in 4 chunk(s) of at most 4" in report
    assert "predicted 12 rows" in report
    assert "rejected  4 rows" in report
    assert "  line 13: proline: missing" in report


@pytest.mark.parametrize("chunk_size", [1, 3, 1000])
def test_the_chunk_size_changes_nothing_but_the_memory(
    trained: TrainResult, tmp_path: Path, chunk_size: int
) -> None:
    reference = tmp_path / "reference.csv"
    output = tmp_path / "chunked.csv"
    assert run_cli(trained, SAMPLE, reference, "--chunk-size", "16") == batch.EXIT_OK
    assert run_cli(trained, SAMPLE, output, "--chunk-size", str(chunk_size)) == batch.EXIT_OK
    chunked, whole = read(output), read(reference)
    assert [(r["line"], r["class_name"]) for r in chunked] == [
        (r["line"], r["class_name"]) for r in whole
    ]
    # Only the last digits of a probability may differ: the maths runs on
    # matrices of another shape.
    for a, b in zip(chunked, whole, strict=True):
        assert float(a["probability_class_0"]) == pytest.approx(float(b["probability_class_0"]))


def test_one_model_call_per_chunk(trained: TrainResult, tmp_path: Path) -> None:
    model = load_model(trained.model_path)
    calls: list[int] = []

    class Spy:
        classes_ = model.pipeline.classes_

        def predict_proba(self, x: Any) -> Any:
            calls.append(len(x))
            return model.pipeline.predict_proba(x)

    spied = LoadedModel(Spy(), model.version, model.class_names)
    out, bad = tmp_path / "out.csv", tmp_path / "bad.csv"
    report = batch.run(SAMPLE, out, bad, spied, chunk_size=4)
    # 16 rows in chunks of 4; the rejected rows fall in chunks 2, 3 and 4.
    assert calls == [3, 3, 3, 3]
    assert (report.rows_read, report.rows_predicted, report.rows_rejected) == (16, 12, 4)


def test_every_row_rejected_exits_1(
    trained: TrainResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path / "bad.csv", FEATURES, [["-1"] * 13, ["x"] * 13])
    output = tmp_path / "out.csv"
    assert run_cli(trained, bad, output) == batch.EXIT_NOTHING_PREDICTED
    assert read(output) == []  # written, with its header only
    assert len(read(tmp_path / "out.rejected.csv")) == 2
    assert "error: no row was predicted" in capsys.readouterr().err


def test_a_header_without_rows_exits_1(trained: TrainResult, tmp_path: Path) -> None:
    empty = write(tmp_path / "empty.csv", FEATURES, [])
    assert run_cli(trained, empty, tmp_path / "out.csv") == batch.EXIT_NOTHING_PREDICTED


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot open"),
        (b"", "it is empty (no header row)"),
        (b"alcohol,ash\n13.2,2.1\n", "missing columns: malic_acid, alcalinity_of_ash"),
        (",".join([*FEATURES, "ash"]).encode() + b"\n", "duplicate columns: ash"),
        (",".join(FEATURES).encode() + b"\n" + b"\xff\xfe,1\n", "is not a UTF-8 CSV file"),
    ],
    ids=["missing file", "empty file", "missing columns", "duplicate columns", "not UTF-8"],
)
def test_an_unreadable_input_exits_2_and_writes_nothing(
    trained: TrainResult,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    message: str,
) -> None:
    source = tmp_path / "input.csv"
    if content is not None:
        source.write_bytes(content)
    assert run_cli(trained, source, tmp_path / "out.csv") == batch.EXIT_BAD_INPUT
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == (
        ["input.csv"] if content is not None else []
    )


def test_a_file_that_breaks_halfway_leaves_no_partial_output(
    trained: TrainResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Longer than the reader's first block, so the header reads fine and the
    # bad bytes are met only while the rows are being predicted.
    header, *rows = SAMPLE.read_bytes().splitlines(keepends=True)
    broken = tmp_path / "broken.csv"
    broken.write_bytes(header + b"".join(rows) * 20 + b"wine-999," + b"\xff" * 10 + b"\n")
    output = tmp_path / "out.csv"
    assert run_cli(trained, broken, output, "--chunk-size", "2") == batch.EXIT_BAD_INPUT
    assert "(no output written)" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.csv"]


def test_no_model_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none.joblib"
    code = batch.main([str(SAMPLE), str(tmp_path / "out.csv"), "--model-path", str(missing)])
    assert code == batch.EXIT_NO_MODEL
    assert "error: no model: FileNotFoundError" in capsys.readouterr().err


def test_the_command_of_the_lab_step(trained: TrainResult, tmp_path: Path) -> None:
    output = tmp_path / "predictions.csv"
    command = [sys.executable, "-m", "wine_api.batch", str(SAMPLE), str(output)]
    done = subprocess.run(
        [*command, "--chunk-size", "4"],
        env={**os.environ, "MODEL_PATH": str(trained.model_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "predicted 12 rows" in done.stdout
    assert (tmp_path / "predictions.rejected.csv").is_file()
