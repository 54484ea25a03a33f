"""The app's idea of the API (wine_app.features) against the API's own schema
(the copy of module 03's wine_api in tests/). If the API changes a field, a
bound or the batch limit, these fail before a user meets a 422."""

from __future__ import annotations

from wine_api.schemas import MAX_BATCH_SIZE as API_MAX_BATCH_SIZE
from wine_api.schemas import WineFeatures
from wine_api.train import feature_key as api_feature_key
from wine_app.features import FEATURE_KEYS, FEATURES, MAX_BATCH_SIZE, feature_key, wine_frame


def bounds(field: str) -> tuple[float | None, float | None]:
    metadata = WineFeatures.model_fields[field].metadata
    ge = next((m.ge for m in metadata if hasattr(m, "ge")), None)
    le = next((m.le for m in metadata if hasattr(m, "le")), None)
    return ge, le


def test_the_fields_and_their_order_match_the_api() -> None:
    assert list(FEATURE_KEYS) == list(WineFeatures.model_fields)


def test_the_bounds_match_the_api() -> None:
    for f in FEATURES:
        assert bounds(f.key) == (0, f.api_max), f.key


def test_the_batch_limit_matches_the_api() -> None:
    assert MAX_BATCH_SIZE == API_MAX_BATCH_SIZE


def test_column_names_are_mapped_like_the_api_does() -> None:
    name = "od280/od315_of_diluted_wines"
    assert feature_key(name) == api_feature_key(name)
    assert list(wine_frame().columns) == [*FEATURE_KEYS, "class"]
