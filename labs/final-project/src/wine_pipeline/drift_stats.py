"""The drift statistics: PSI on the reference's quantile bins, and the
two-sample KS test. Pure functions of two arrays of one feature.

Module 09's pipeline carries this file byte for byte (the course's
verify/copies.toml lists it), so both drift jobs bin a value the same way.

PSI, for bins i = 1..B with reference (expected) shares e_i and batch
(actual) shares a_i:

    PSI = sum_i (a_i - e_i) * ln(a_i / e_i)

The inner bin edges are the reference's quantiles, so each e_i is about 1/B;
the outer bins are open-ended, so every batch value lands in one. An empty
bin would make ln(a_i / e_i) infinite: shares are clipped to at least
EPSILON first.

Ties: a value equal to an edge goes to the bin BELOW it, the bins being
(-inf, e0], (e0, e1], ..., (e_last, inf). That is the quantile's own
definition (the q-quantile x has P(X <= x) >= q). Sending ties to the bin
above instead breaks features with repeated values: with 90 % of the
reference at 1.0 every edge is 1.0, and a batch of 1.0s and a batch of 2.0s
would fall in the same bin, so PSI could not tell them apart.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import ks_2samp

EPSILON = 1e-4


def bin_edges(reference: np.ndarray, bins: int) -> np.ndarray:
    """Inner bin edges at the reference's quantiles (deciles for 10 bins).
    Repeated values give repeated quantiles; those are merged, so there may
    be fewer than `bins` bins."""
    reference = np.asarray(reference, dtype=np.float64)
    return np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))


def shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of `values` in each bin: (-inf, e0], (e0, e1], ..., (e_last, inf)."""
    values = np.asarray(values, dtype=np.float64)
    counts = np.bincount(np.searchsorted(edges, values, side="left"), minlength=len(edges) + 1)
    return counts / len(values)


def psi_from_shares(expected: np.ndarray, actual: np.ndarray, eps: float = EPSILON) -> float:
    """PSI of two vectors of bin shares (each sums to 1)."""
    e = np.clip(np.asarray(expected, dtype=np.float64), eps, None)
    a = np.clip(np.asarray(actual, dtype=np.float64), eps, None)
    return float(np.sum((a - e) * np.log(a / e)))


def psi(reference: np.ndarray, batch: np.ndarray, bins: int, eps: float = EPSILON) -> float:
    """PSI of one feature, binned on the reference's quantiles."""
    if len(reference) == 0 or len(batch) == 0:
        raise ValueError("PSI needs rows in both the reference and the batch")
    edges = bin_edges(reference, bins)
    return psi_from_shares(shares(reference, edges), shares(batch, edges), eps)


def ks_test(reference: np.ndarray, batch: np.ndarray) -> tuple[float, float]:
    """(D, p-value) of the two-sided two-sample KS test. scipy computes the
    exact p-value for small samples and the asymptotic one for large ones."""
    result = ks_2samp(np.asarray(reference, dtype=np.float64), np.asarray(batch, dtype=np.float64))
    return float(result.statistic), float(result.pvalue)
