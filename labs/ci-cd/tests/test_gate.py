"""The validation gate without a registry: the rule, the messages, the exit
codes, and what it tells GitHub Actions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from wine_api.gate import FAIL, PASS, UNDECIDED, GateError, Scores, decide, main
from wine_api.train import TrainResult, train

DIGEST = "sha256:" + "ab" * 32


def scores(accuracy: float, log_loss: float = 0.1, digest: str | None = DIGEST) -> Scores:
    return Scores("test", {"accuracy": accuracy, "log_loss": log_loss}, eval_digest=digest)


def write_metrics(path: Path, accuracy: float, digest: str = DIGEST) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"metrics": {"accuracy": accuracy, "log_loss": 0.2}, "eval_digest": digest}
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


# --- the rule ------------------------------------------------------------------


def test_a_candidate_that_loses_fails_and_says_by_how_much() -> None:
    verdict = decide(scores(0.912), scores(0.933), tolerance=0.005)
    assert not verdict.passed
    assert verdict.message == (
        "candidate accuracy 0.912 is 0.021 below the champion's 0.933 (tolerance 0.005)"
    )


def test_a_candidate_that_wins_passes() -> None:
    verdict = decide(scores(0.956), scores(0.933))
    assert verdict.passed
    assert verdict.message == (
        "candidate accuracy 0.956 is 0.023 above the champion's 0.933 (tolerance 0.005)"
    )


def test_a_tie_passes() -> None:
    verdict = decide(scores(1.0), scores(1.0))
    assert verdict.passed
    assert "equals the champion's 1.000" in verdict.message


@pytest.mark.parametrize(
    ("candidate", "passed"),
    [(0.928, True), (0.9279, False)],
    ids=["exactly-the-tolerance-below", "just-beyond-it"],
)
def test_the_tolerance_is_inclusive(candidate: float, passed: bool) -> None:
    assert decide(scores(candidate), scores(0.933), tolerance=0.005).passed is passed


def test_for_log_loss_lower_is_better() -> None:
    worse = decide(scores(1.0, log_loss=0.12), scores(1.0, log_loss=0.09), metric="log_loss")
    assert not worse.passed
    assert worse.message == (
        "candidate log_loss 0.120 is 0.030 above the champion's 0.090 (tolerance 0.005)"
    )
    assert decide(scores(1.0, log_loss=0.05), scores(1.0, log_loss=0.09), metric="log_loss").passed


def test_the_floor_applies_even_without_a_champion() -> None:
    assert decide(scores(0.95), None, floor=0.9).passed
    verdict = decide(scores(0.85), None, floor=0.9)
    assert not verdict.passed
    assert verdict.message == "candidate accuracy 0.850 misses the minimum of 0.900"


def test_the_floor_applies_even_when_the_champion_is_worse() -> None:
    assert not decide(scores(0.85), scores(0.80), floor=0.9).passed


def test_scores_from_different_evaluation_data_are_not_compared() -> None:
    other = "sha256:" + "cd" * 32
    with pytest.raises(GateError, match="different evaluation data"):
        decide(scores(0.99), scores(0.95, digest=other))


def test_a_missing_metric_is_an_error_not_a_pass() -> None:
    with pytest.raises(GateError, match="has no 'f1_macro' metric"):
        decide(scores(0.99), scores(0.95), metric="f1_macro")


def test_a_negative_tolerance_is_refused() -> None:
    with pytest.raises(GateError, match="must not be negative"):
        decide(scores(0.99), scores(0.95), tolerance=-0.01)


# --- the command line, on files written by the training script -------------------


# Real models from the training script, with explicit C values, so these tests
# do not change meaning when someone changes the default in train.py.
@pytest.fixture(scope="module")
def strong(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """The lab's default model (C=1.0, accuracy 1.0 on the fixed split)."""
    return train(tmp_path_factory.mktemp("strong") / "model.joblib", c=1.0)


@pytest.fixture(scope="module")
def weak(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """A real candidate that loses: heavy regularisation (accuracy 0.9333)."""
    return train(tmp_path_factory.mktemp("weak") / "model.joblib", c=0.003)


def test_cli_passes_a_candidate_as_good_as_the_champion(
    strong: TrainResult, capsys: pytest.CaptureFixture[str]
) -> None:
    champion = strong.metrics_path
    assert main(["--candidate", str(champion), "--champion", str(champion)]) == PASS
    assert capsys.readouterr().out.startswith("gate: PASS: candidate accuracy 1.000 equals")


def test_cli_fails_a_real_weaker_candidate_with_the_numbers(
    strong: TrainResult, weak: TrainResult, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--candidate", str(weak.metrics_path), "--champion", str(strong.metrics_path)]
    assert main(argv) == FAIL
    assert capsys.readouterr().out == (
        "gate: FAIL: candidate accuracy 0.933 is 0.067 below the champion's 1.000"
        " (tolerance 0.005)\n"
    )


def test_cli_cannot_decide_without_a_champion_file(
    strong: TrainResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--candidate", str(strong.metrics_path), "--champion", str(tmp_path / "nope.json")]
    assert main(argv) == UNDECIDED
    assert "no metrics file at" in capsys.readouterr().err


def test_cli_cannot_decide_without_any_champion_source(
    strong: TrainResult, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--candidate", str(strong.metrics_path)]) == UNDECIDED
    assert "set MLFLOW_TRACKING_URI or --champion" in capsys.readouterr().err


def test_cli_refuses_a_file_that_is_not_metrics(tmp_path: Path) -> None:
    bad = tmp_path / "metrics.json"
    bad.write_text('{"accuracy": 0.9}', encoding="utf-8")
    assert main(["--candidate", str(bad), "--champion", str(bad)]) == UNDECIDED


def test_promote_replaces_the_champion_file_only_on_a_pass(
    strong: TrainResult, weak: TrainResult, tmp_path: Path
) -> None:
    champion = tmp_path / "champion" / "metrics.json"
    champion.parent.mkdir()
    shutil.copyfile(strong.metrics_path, champion)
    before = champion.read_text()

    argv = ["--candidate", str(weak.metrics_path), "--champion", str(champion), "--promote"]
    assert main(argv) == FAIL
    assert champion.read_text() == before

    better = write_metrics(tmp_path / "better" / "metrics.json", 1.0, strong.metrics["eval_digest"])
    assert main(["--candidate", str(better), "--champion", str(champion), "--promote"]) == PASS
    assert champion.read_text() == better.read_text()


def test_the_committed_champion_was_scored_on_todays_test_set(strong: TrainResult) -> None:
    # champion/metrics.json ships with the lab: it must stay comparable with
    # what the training code scores now, or every gate run is undecided.
    committed = Path(__file__).parent.parent / "champion" / "metrics.json"
    record = json.loads(committed.read_text(encoding="utf-8"))
    assert record["eval_digest"] == strong.metrics["eval_digest"]
    assert set(record["metrics"]) == set(strong.metrics["metrics"])


# --- GitHub Actions ------------------------------------------------------------------


def test_under_github_actions_a_failure_is_an_error_annotation_and_a_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    candidate = write_metrics(tmp_path / "candidate.json", 0.912)
    champion = write_metrics(tmp_path / "champion.json", 0.933)

    assert main(["--candidate", str(candidate), "--champion", str(champion)]) == FAIL
    message = "candidate accuracy 0.912 is 0.021 below the champion's 0.933 (tolerance 0.005)"
    assert f"::error title=Validation gate::{message}\n" in capsys.readouterr().out
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("### Validation gate: FAILED\n")
    assert "| accuracy | 0.912 | 0.933 |" in text


def test_under_github_actions_an_undecided_gate_is_an_error_annotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    candidate = write_metrics(tmp_path / "candidate.json", 0.95)
    champion = write_metrics(tmp_path / "champion.json", 0.93, digest="sha256:" + "00" * 32)
    assert main(["--candidate", str(candidate), "--champion", str(champion)]) == UNDECIDED
    assert "::error title=Validation gate::gate: cannot decide:" in capsys.readouterr().out


def test_outside_github_actions_there_are_no_annotations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    candidate = write_metrics(tmp_path / "candidate.json", 0.95)
    assert main(["--candidate", str(candidate), "--champion", str(candidate)]) == PASS
    assert "::" not in capsys.readouterr().out
