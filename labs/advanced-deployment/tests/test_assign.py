"""Sticky hashed assignment: the split matches the weights statistically,
every user always gets the same variant, and a canary keeps its users as it
grows. Checked on 10 000 ids, against a binomial bound that a correct
assignment breaks about once in a thousand runs (and a biased one always)."""

from __future__ import annotations

import hashlib
import random

import pytest

from wine_router.abstats import share_interval
from wine_router.assign import bucket, choose

USERS = [f"user-{i}" for i in range(10_000)]


@pytest.mark.parametrize(
    "weights",
    [{"a": 50, "b": 50}, {"a": 90, "b": 10}, {"canary": 5, "stable": 95}, {"a": 1, "b": 1, "c": 2}],
)
def test_the_observed_split_is_within_a_binomial_bound_of_the_weights(
    weights: dict[str, float],
) -> None:
    counts = dict.fromkeys(weights, 0)
    for user in USERS:
        counts[choose(user, "exp-1", weights)] += 1
    total = sum(weights.values())
    for name, weight in weights.items():
        low, high = share_interval(len(USERS), weight / total)
        assert low <= counts[name] / len(USERS) <= high, (name, counts)


def test_a_user_gets_the_same_variant_on_every_request() -> None:
    weights = {"a": 50, "b": 50}
    first = {user: choose(user, "exp-1", weights) for user in USERS[:1000]}
    for _ in range(3):
        for user in random.sample(USERS[:1000], 1000):
            assert choose(user, "exp-1", weights) == first[user]


def test_buckets_are_uniform_on_0_1() -> None:
    values = [bucket(user, "exp-1") for user in USERS]
    assert all(0 <= v < 1 for v in values)
    # Ten equal bins, each within the binomial bound of 10 %.
    low, high = share_interval(len(values), 0.1)
    for b in range(10):
        share = sum(b / 10 <= v < (b + 1) / 10 for v in values) / len(values)
        assert low <= share <= high, b


def test_a_new_salt_reshuffles_the_users() -> None:
    weights = {"a": 50, "b": 50}
    same = sum(choose(u, "exp-1", weights) == choose(u, "exp-2", weights) for u in USERS)
    # Independent experiments: about half the users land in the same group by chance.
    low, high = share_interval(len(USERS), 0.5)
    assert low <= same / len(USERS) <= high


def test_a_growing_canary_keeps_its_users() -> None:
    on_canary: set[str] = set()
    for weight in (5, 25, 50, 100):
        now = {u for u in USERS if choose(u, "c", {"canary": weight, "stable": 100 - weight})}
        now = {
            u
            for u in USERS
            if choose(u, "c", {"canary": weight, "stable": 100 - weight}) == "canary"
        }
        assert on_canary <= now, f"users left the canary at {weight} %"
        on_canary = now
    assert len(on_canary) == len(USERS)


def test_a_zero_weight_variant_gets_nobody() -> None:
    assert {choose(u, "s", {"canary": 0, "stable": 100}) for u in USERS[:2000]} == {"stable"}


def test_the_statistical_check_catches_a_biased_hash() -> None:
    """The classic mistake: one hash byte modulo 100. 256 is not a multiple of
    100, so buckets 0-55 get three byte values each and 56-99 only two: a
    "50 %" group gets 150 of 256 byte values, 58.6 %."""

    def biased(user: str) -> str:
        byte = hashlib.sha256(f"exp-1:{user}".encode()).digest()[0]
        return "a" if byte % 100 < 50 else "b"

    share = sum(biased(u) == "a" for u in USERS) / len(USERS)
    low, high = share_interval(len(USERS), 0.5)
    assert not low <= share <= high
    assert share == pytest.approx(150 / 256, abs=0.02)


def test_invalid_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="weights"):
        choose("u", "s", {"a": 0, "b": 0})
    with pytest.raises(ValueError, match="weights"):
        choose("u", "s", {"a": -1, "b": 2})
