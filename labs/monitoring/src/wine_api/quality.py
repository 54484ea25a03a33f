"""Model quality once the labels arrive: join the predictions in the API's
JSON log with the true labels, by request id.

Run it from the lab folder, after sending traffic:

    uv run python -m wine_api.quality --log logs/api.log --labels data/labels.jsonl

With --report PATH it also writes the numbers as JSON, for a dashboard or
a job that compares them over time.

Labels come late and only for some predictions, so report two numbers
together: the accuracy over the predictions that have a label, and the
coverage (how many of the predictions that is). An accuracy over 3 % of
the traffic, or over last week's traffic only, says little about today.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Quality:
    predictions: int  # prediction events in the log
    labelled: int  # of those, how many have a label
    correct: int

    @property
    def coverage(self) -> float:
        return self.labelled / self.predictions if self.predictions else 0.0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.labelled if self.labelled else None


def predictions_from_log(lines: Iterable[str]) -> dict[str, str]:
    """request_id -> predicted class, from the log's `prediction` events.
    Lines that are not JSON (a traceback, another program's output) are skipped."""
    predicted = {}
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("event") == "prediction" and "request_id" in entry:
            predicted[entry["request_id"]] = entry["class_name"]
    return predicted


def labels_from(lines: Iterable[str]) -> dict[str, str]:
    """request_id -> true class, from JSON lines {"request_id": ..., "label": ...}."""
    labels = {}
    for line in lines:
        if line.strip():
            entry = json.loads(line)
            labels[entry["request_id"]] = entry["label"]
    return labels


def join(predicted: dict[str, str], labels: dict[str, str]) -> Quality:
    labelled = [rid for rid in predicted if rid in labels]
    correct = sum(predicted[rid] == labels[rid] for rid in labelled)
    return Quality(predictions=len(predicted), labelled=len(labelled), correct=correct)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, default=Path("logs/api.log"))
    parser.add_argument("--labels", type=Path, default=Path("data/labels.jsonl"))
    parser.add_argument("--report", type=Path, help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)

    with args.log.open(encoding="utf-8") as log, args.labels.open(encoding="utf-8") as labels:
        quality = join(predictions_from_log(log), labels_from(labels))
    print(f"predictions logged: {quality.predictions}")
    print(f"with a label:       {quality.labelled} (coverage {quality.coverage:.1%})")
    if quality.accuracy is None:
        print("accuracy:           unknown (no label yet)")
    else:
        print(f"accuracy:           {quality.accuracy:.3f} ({quality.correct}/{quality.labelled})")
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        report = {
            "predictions": quality.predictions,
            "labelled": quality.labelled,
            "correct": quality.correct,
            "coverage": quality.coverage,
            "accuracy": quality.accuracy,
        }
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"report written to {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
