"""The statistics of an A/B test on a rate (a conversion, an accuracy):
how many users each group needs, and whether the observed difference is
more than chance. Standard library only (statistics.NormalDist).

Both use the normal approximation to the binomial, which holds when each
group has at least about 10 successes and 10 failures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

_N = NormalDist()


def sample_size(baseline: float, mde: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Users needed *per group* to detect an absolute change of `mde` from
    `baseline` with a two-sided test at level `alpha` and the given power.

        n = (z(1-alpha/2) * sqrt(2 p(1-p)) + z(power) * sqrt(p1(1-p1) + p2(1-p2)))^2 / mde^2

    with p1 = baseline, p2 = baseline + mde, p = (p1 + p2) / 2.
    """
    p1, p2 = baseline, baseline + mde
    if not (0 < p1 < 1 and 0 < p2 < 1) or mde == 0:
        raise ValueError("baseline and baseline + mde must lie strictly between 0 and 1")
    p = (p1 + p2) / 2
    z_alpha = _N.inv_cdf(1 - alpha / 2)
    z_power = _N.inv_cdf(power)
    n = (
        z_alpha * math.sqrt(2 * p * (1 - p)) + z_power * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    ) ** 2 / mde**2
    return math.ceil(n)


def power_of(baseline: float, mde: float, n: int, alpha: float = 0.05) -> float:
    """The power of the same test with `n` users per group (the inverse of sample_size)."""
    p1, p2 = baseline, baseline + mde
    p = (p1 + p2) / 2
    z_alpha = _N.inv_cdf(1 - alpha / 2)
    se_null = math.sqrt(2 * p * (1 - p) / n)
    se_alt = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n)
    return _N.cdf((abs(mde) - z_alpha * se_null) / se_alt)


@dataclass(frozen=True)
class ZTest:
    rate_a: float
    rate_b: float
    z: float
    p_value: float

    @property
    def chi2(self) -> float:
        """The chi-square statistic of the 2x2 table without Yates' correction: z squared."""
        return self.z**2


def two_proportion_ztest(successes_a: int, n_a: int, successes_b: int, n_b: int) -> ZTest:
    """Two-sided test of H0: both groups have the same rate.

    z = (p_b - p_a) / sqrt(p (1 - p) (1/n_a + 1/n_b)), p = pooled rate.
    Run it ONCE, at the sample size fixed in advance: looking at the p-value
    every day and stopping at the first p < 0.05 makes false positives far
    more likely than 5 %.
    """
    if min(n_a, n_b) <= 0:
        raise ValueError("both groups need at least one observation")
    rate_a, rate_b = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:  # both groups all successes or all failures: no evidence of a difference
        return ZTest(rate_a, rate_b, 0.0, 1.0)
    z = (rate_b - rate_a) / se
    return ZTest(rate_a, rate_b, z, 2 * (1 - _N.cdf(abs(z))))


def share_interval(n: int, weight_share: float, z: float = 3.29) -> tuple[float, float]:
    """The range the observed share of one variant should fall in, out of `n`
    users, if the assignment really gives it `weight_share`: the normal
    approximation to the binomial, +-z standard errors (3.29: 99.9 %)."""
    half = z * math.sqrt(weight_share * (1 - weight_share) / n)
    return weight_share - half, weight_share + half
