"""The simulation: seeded batches, the documented drift, a split that never moves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wine_pipeline.data import (
    DRIFT,
    FEATURES,
    ID,
    SOURCE,
    TARGET,
    append_predictions,
    apply_drift,
    is_eval,
    load_training_data,
    main,
    make_batch,
    read_labelled,
    read_recent,
    wine_frame,
    write_labelled,
)


def test_the_reference_is_the_bundled_wine_data() -> None:
    wines = wine_frame()
    assert len(wines) == 178
    assert list(wines.columns) == [ID, *FEATURES, TARGET]
    assert "od280_od315_of_diluted_wines" in FEATURES  # the "/" is gone
    assert wines[ID].is_unique


def test_a_batch_is_the_same_for_the_same_seed() -> None:
    pd.testing.assert_frame_equal(make_batch(50, seed=7), make_batch(50, seed=7))
    assert not make_batch(50, seed=7).equals(make_batch(50, seed=8))


def test_a_drifted_batch_differs_exactly_by_the_documented_drift() -> None:
    normal = make_batch(200, seed=3)
    drifted = make_batch(200, seed=3, drifted=True)
    assert (normal[ID] == drifted[ID]).all()
    assert (normal[TARGET] == drifted[TARGET]).all()  # the cultivars did not change
    for feature in FEATURES:
        if feature not in DRIFT:
            assert np.allclose(normal[feature], drifted[feature]), feature
    for feature, (operation, amount) in DRIFT.items():
        expected = normal[feature] * amount if operation == "multiply" else normal[feature] + amount
        # Batches are rounded to 3 decimals after the drift, hence the tolerance.
        assert np.allclose(drifted[feature], expected.clip(lower=0), atol=2e-3), feature


def test_drift_never_makes_a_measurement_negative() -> None:
    wines = wine_frame()[FEATURES]
    assert (apply_drift(wines) >= 0).all().all()


def test_the_split_holds_out_about_a_quarter_and_never_changes() -> None:
    ids = wine_frame()[ID]
    held_out = is_eval(ids)
    assert 0.2 < held_out.mean() < 0.3
    # crc32 of the id, not Python's salted hash(): the same answer in any process.
    assert is_eval(["wine-000", "wine-004", "wine-006"]).tolist() == [False, True, True]


def test_a_batch_row_is_split_like_the_wine_it_was_drawn_from() -> None:
    batch = make_batch(300, seed=1)
    reference = wine_frame()
    eval_wines = set(reference[ID][is_eval(reference[ID])])
    assert set(batch[ID][is_eval(batch[ID])]) <= eval_wines


def test_training_data_combines_the_reference_and_labelled_batches(tmp_path: Path) -> None:
    write_labelled(make_batch(100, seed=1), tmp_path, "batch-001")
    write_labelled(make_batch(100, seed=2, drifted=True), tmp_path, "batch-002")
    data = load_training_data(tmp_path)
    assert data.sources == ["reference", "batch-001", "batch-002"]
    assert len(data.train) + len(data.eval) == 178 + 200
    assert set(data.train[SOURCE]) == set(data.eval[SOURCE]) == set(data.sources)
    # No wine is on both sides, in any form (reference, noisy copy, drifted copy).
    assert not set(data.train[ID]) & set(data.eval[ID])


def test_reference_only_when_nothing_is_labelled(tmp_path: Path) -> None:
    assert load_training_data(tmp_path / "missing").sources == ["reference"]
    assert load_training_data(None).sources == ["reference"]


def test_a_labelled_file_without_its_labels_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    make_batch(5).drop(columns=[TARGET]).to_csv(path, index=False)
    with pytest.raises(ValueError, match="missing columns \\['target'\\]"):
        read_labelled(path)


def test_the_prediction_log_keeps_the_latest_rows(tmp_path: Path) -> None:
    log = tmp_path / "data" / "predictions.jsonl"
    assert read_recent(log, 10).empty  # no log yet
    rows = make_batch(30, seed=5)[FEATURES].to_dict(orient="records")
    append_predictions(log, rows[:20], ["class_0"] * 20, "1")
    append_predictions(log, rows[20:], ["class_1"] * 10, "2")
    assert len(log.read_text().splitlines()) == 30
    recent = read_recent(log, 15)
    assert list(recent.columns) == FEATURES
    pd.testing.assert_frame_equal(recent, pd.DataFrame(rows[15:], columns=FEATURES))


def test_sending_without_an_api_says_so_and_stores_no_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert main(["send", "--name", "batch-001", "--api-url", "http://127.0.0.1:9"]) == 2
    assert "cannot reach the API at http://127.0.0.1:9" in capsys.readouterr().out
    assert not (tmp_path / "labelled").exists()  # no labels for wines nobody scored
