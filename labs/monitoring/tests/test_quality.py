"""Accuracy once labels arrive: the join of the API's log with the labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wine_api import quality

LOG = [
    '{"event": "prediction", "request_id": "a", "class_name": "class_0"}',
    '{"event": "request", "request_id": "a", "status": 200}',
    '{"event": "prediction", "request_id": "b", "class_name": "class_1"}',
    '{"event": "prediction", "request_id": "c", "class_name": "class_2"}',
    '{"event": "prediction", "request_id": "d", "class_name": "class_2"}',
    "Traceback (most recent call last):",  # not JSON: skipped
    "[1, 2]",  # JSON, but not an event
]
LABELS = [
    '{"request_id": "a", "label": "class_0"}',
    '{"request_id": "b", "label": "class_2"}',
    '{"request_id": "c", "label": "class_2"}',
    '{"request_id": "zzz", "label": "class_1"}',  # its prediction is not in this log
]


def test_the_join_counts_only_predictions_that_have_a_label() -> None:
    result = quality.join(quality.predictions_from_log(LOG), quality.labels_from(LABELS))
    assert (result.predictions, result.labelled, result.correct) == (4, 3, 2)
    assert result.accuracy == pytest.approx(2 / 3)
    assert result.coverage == 0.75


def test_no_labels_yet_means_unknown_accuracy_not_zero() -> None:
    result = quality.join(quality.predictions_from_log(LOG), {})
    assert result.accuracy is None
    assert result.coverage == 0


def test_the_command_prints_accuracy_and_coverage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "api.log").write_text("\n".join(LOG) + "\n")
    (tmp_path / "labels.jsonl").write_text("\n".join(LABELS) + "\n")
    args = ["--log", str(tmp_path / "api.log"), "--labels", str(tmp_path / "labels.jsonl")]
    assert quality.main(args) == 0
    out = capsys.readouterr().out
    assert "coverage 75.0%" in out
    assert "accuracy:           0.667 (2/3)" in out


def test_labels_are_json_lines() -> None:
    with pytest.raises(json.JSONDecodeError):
        quality.labels_from(["request_id,label"])
