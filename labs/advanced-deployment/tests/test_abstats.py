"""The A/B statistics against an independent implementation (scipy, which
scikit-learn installs) and against their own definitions."""

from __future__ import annotations

import math

import pytest
from scipy.stats import chi2_contingency

from wine_router.abstats import power_of, sample_size, two_proportion_ztest


@pytest.mark.parametrize(
    ("xa", "na", "xb", "nb"), [(120, 1000, 150, 1000), (45, 400, 40, 380), (900, 1000, 930, 1000)]
)
def test_the_z_test_equals_a_chi_square_test_without_continuity_correction(
    xa: int, na: int, xb: int, nb: int
) -> None:
    test = two_proportion_ztest(xa, na, xb, nb)
    table = [[xa, na - xa], [xb, nb - xb]]
    chi2, p_value, dof, _ = chi2_contingency(table, correction=False)
    assert dof == 1
    assert test.chi2 == pytest.approx(chi2, rel=1e-9)
    assert test.p_value == pytest.approx(p_value, rel=1e-6)


def test_the_z_test_has_the_right_sign_and_rates() -> None:
    test = two_proportion_ztest(100, 1000, 130, 1000)
    assert (test.rate_a, test.rate_b) == (0.1, 0.13)
    assert test.z > 0
    assert test.p_value < 0.05
    assert two_proportion_ztest(50, 50, 50, 50).p_value == 1.0


@pytest.mark.parametrize(("baseline", "mde"), [(0.10, 0.02), (0.50, 0.05), (0.90, -0.03)])
def test_the_sample_size_is_the_smallest_with_the_wanted_power(baseline: float, mde: float) -> None:
    n = sample_size(baseline, mde, alpha=0.05, power=0.8)
    assert power_of(baseline, mde, n) >= 0.8
    assert power_of(baseline, mde, n - 1) < 0.8


def test_a_smaller_effect_needs_quadratically_more_users() -> None:
    # Halving the detectable effect needs about four times the users.
    ratio = sample_size(0.10, 0.01) / sample_size(0.10, 0.02)
    assert 3.5 < ratio < 4.5
    assert sample_size(0.10, 0.02) == math.ceil(sample_size(0.10, 0.02))


def test_impossible_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        sample_size(0.99, 0.05)
