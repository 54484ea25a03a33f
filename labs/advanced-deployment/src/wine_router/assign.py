"""Sticky assignment of users to variants by hashing.

A user must see the same variant on every request: otherwise one person's
experience mixes both models, their outcomes cannot be attributed to either,
and a user who retries lands somewhere else. Picking at random per request
gives the right *proportions* and none of these properties. Hashing the user
id gives both, with no table of assignments to store or share between router
replicas: every replica computes the same answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping


def bucket(user_id: str, salt: str) -> float:
    """A number in [0, 1) that depends only on `salt` and `user_id`.

    SHA-256 spreads any ids (sequential, similar, numeric) uniformly. The
    first 8 bytes as an integer divided by 2**64 give a float in [0, 1)
    without modulo bias. The salt is per experiment: with a new salt, users
    are reshuffled, so the same people are not always the treated group in
    every experiment. Never use Python's hash(): it is randomised per process
    (PYTHONHASHSEED), so two replicas would disagree.
    """
    digest = hashlib.sha256(f"{salt}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def choose(user_id: str, salt: str, weights: Mapping[str, float]) -> str:
    """The variant for `user_id`: variant i owns a slice of [0, 1) as wide as
    its share of the total weight, in the order of `weights`.

    Put the variant that grows (a canary) first: raising its weight then only
    moves users from the others into it, never the other way round, so a user
    already on the canary stays there as it is promoted.
    """
    total = sum(weights.values())
    if total <= 0 or any(w < 0 for w in weights.values()):
        raise ValueError(f"weights must be >= 0 with a positive sum, not {dict(weights)}")
    point = bucket(user_id, salt) * total
    upper = 0.0
    last = ""
    for name, weight in weights.items():
        if weight == 0:
            continue
        upper += weight
        last = name
        if point < upper:
            return name
    return last  # only reached through float rounding at the very top
