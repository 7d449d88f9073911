"""Unit tests of Fisher exact and chi-square."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from dermsim.analysis.contingency import test_chi_square, test_fisher_exact
from dermsim.errors import InvalidInputError


def test_fisher_2x2_is_scipy() -> None:
    t = [[8, 2], [1, 5]]
    assert test_fisher_exact(t).p_value == pytest.approx(stats.fisher_exact(t).pvalue, rel=1e-14)


def test_fisher_rxc_on_2x2_margins_equals_2x2_test() -> None:
    """The R x C enumeration on a 2 x 3 table with an empty column equals the 2 x 2 test."""
    t = np.array([[8, 2, 0], [1, 5, 0]])
    assert test_fisher_exact(t).p_value == pytest.approx(stats.fisher_exact(t[:, :2]).pvalue, rel=1e-12)


def test_fisher_rxc_probabilities_sum_to_one() -> None:
    """A table at least as likely as every other has p = 1 only if it is the mode; p is in (0, 1]."""
    p = test_fisher_exact([[2, 2, 2], [2, 2, 2], [2, 2, 2]]).p_value
    assert 0 < p <= 1
    assert p == pytest.approx(1.0, abs=1e-12)


def test_fisher_rxc_too_large_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="too large for exact R x C"):
        test_fisher_exact(np.full((4, 5), 30), max_tables=10_000)


def test_chi_square_yates_only_on_2x2() -> None:
    t3 = [[10, 5, 7], [3, 9, 8]]
    assert test_chi_square(t3, correction=True).statistic == pytest.approx(
        stats.chi2_contingency(t3, correction=False).statistic, rel=1e-14)
    with pytest.raises(InvalidInputError, match="whole counts"):
        test_chi_square([[1.5, 2], [3, 4]])


def test_trend_is_cmh_correlation_rescaled() -> None:
    """Cochran-Armitage Z^2 times (N - 1) / N is the one-stratum CMH correlation statistic."""
    from dermsim.analysis.cmh import test_cmh
    from dermsim.analysis.contingency import test_trend

    x = np.array([5, 9, 14])
    n = np.array([30, 31, 29])
    z = test_trend(x, n, [0, 1, 2]).statistic
    q = test_cmh(np.stack([x, n - x], -1)[None], row_scores=[0, 1, 2]).correlation.statistic
    assert z ** 2 * (n.sum() - 1) / n.sum() == pytest.approx(q, rel=1e-12)
    with pytest.raises(InvalidInputError, match="one value per group"):
        test_trend(x, n, [0, 1])
