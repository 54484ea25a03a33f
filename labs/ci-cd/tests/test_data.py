"""Data tests: what the training code assumes about its data, checked
before any model is trained. When one fails, the data changed, not the model."""

from __future__ import annotations

import numpy as np

from wine_api.schemas import WineFeatures
from wine_api.train import Split, eval_digest, load_split


def test_the_data_has_the_expected_shape(split: Split) -> None:
    assert split.x_train.shape[1] == split.x_test.shape[1] == 13
    assert len(split.x_train) + len(split.x_test) == 178
    assert split.class_names == ["class_0", "class_1", "class_2"]


def test_no_value_is_missing_or_negative(split: Split) -> None:
    x = np.vstack([split.x_train, split.x_test])
    assert np.isfinite(x).all()
    # Concentrations, ratios and intensities: a negative value is a broken row.
    assert (x >= 0).all()


def test_the_columns_are_the_fields_the_api_accepts(split: Split) -> None:
    # The API builds model input in its schema's field order; training must match it.
    assert split.feature_names == list(WineFeatures.model_fields)


def test_the_split_is_stratified(split: Split) -> None:
    train_share = np.bincount(split.y_train) / len(split.y_train)
    test_share = np.bincount(split.y_test) / len(split.y_test)
    assert np.abs(train_share - test_share).max() < 0.02
    assert len(split.x_test) == 45


def test_the_split_is_the_same_every_time(split: Split) -> None:
    # The gate compares scores across runs: that is only fair on the same wines.
    again = load_split()
    assert eval_digest(split.x_test, split.y_test) == eval_digest(again.x_test, again.y_test)


def test_the_digest_notices_a_single_changed_label(split: Split) -> None:
    labels = split.y_test.copy()
    labels[0] = (labels[0] + 1) % 3
    assert eval_digest(split.x_test, labels) != eval_digest(split.x_test, split.y_test)
