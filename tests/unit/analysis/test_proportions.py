"""Unit and property tests of single proportions and two-group risk differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from dermsim.analysis.proportions import (
    PROPORTION_METHODS,
    RISK_DIFFERENCE_METHODS,
    compute_mn_restricted_risks,
    compute_proportion_ci,
    compute_risk_difference_ci,
    estimate_proportion,
    estimate_risk_difference,
)
from dermsim.errors import InvalidInputError


@st.composite
def count_n(draw, max_n: int = 200):
    n = draw(st.integers(1, max_n))
    return draw(st.integers(0, n)), n


@settings(max_examples=150, deadline=None)
@given(count_n(), st.sampled_from(PROPORTION_METHODS), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_proportion_ci_within_unit_interval_and_ordered(xn, method, level) -> None:
    x, n = xn
    r = estimate_proportion(x, n, method=method, conf_level=level)
    assert 0.0 <= r.ci_lower <= r.ci_upper <= 1.0
    if method in ("wilson", "wilson_cc", "clopper_pearson", "wald", "jeffreys"):
        assert r.ci_lower - 1e-12 <= r.estimate <= r.ci_upper + 1e-12


@settings(max_examples=150, deadline=None)
@given(count_n(80), count_n(80), st.sampled_from(RISK_DIFFERENCE_METHODS))
def test_risk_difference_ci_within_bounds_and_contains_estimate(a, b, method) -> None:
    r = estimate_risk_difference(a[0], a[1], b[0], b[1], method=method)
    assert -1.0 <= r.ci_lower <= r.ci_upper <= 1.0
    if method != "agresti_caffo":  # centred on the shifted estimate, not on the observed one
        assert r.ci_lower - 1e-9 <= r.estimate <= r.ci_upper + 1e-9


@settings(max_examples=60, deadline=None)
@given(count_n(60), count_n(60))
def test_mn_limits_are_roots_of_the_score_statistic(a, b) -> None:
    """At each MN limit strictly inside (-1, 1) the score statistic equals -+z."""
    x1, n1 = a
    x2, n2 = b
    d_hat = x1 / n1 - x2 / n2
    _, _, lo, hi = compute_risk_difference_ci(x1, n1, x2, n2, method="miettinen_nurminen")
    z = stats.norm.ppf(0.975)
    for limit, target in ((lo, z), (hi, -z)):
        if -0.999 < limit < 0.999:
            p1, p2 = compute_mn_restricted_risks(np.float64(x1), np.float64(n1), np.float64(x2),
                                                 np.float64(n2), np.float64(limit))
            var = (p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2) * (n1 + n2) / (n1 + n2 - 1)
            assert (d_hat - limit) / np.sqrt(var) == pytest.approx(target, abs=1e-6)


def test_restricted_mle_maximises_likelihood_under_constraint() -> None:
    x1, n1, x2, n2, delta = 7.0, 20.0, 3.0, 15.0, 0.1
    p1, p2 = compute_mn_restricted_risks(x1, n1, x2, n2, delta)
    assert p1 - p2 == pytest.approx(delta, abs=1e-12)
    grid = np.linspace(max(delta, 0) + 1e-6, min(1, 1 + delta) - 1e-6, 20001)
    ll = x1 * np.log(grid) + (n1 - x1) * np.log(1 - grid) + x2 * np.log(grid - delta) + (n2 - x2) * np.log(
        1 - grid + delta)
    assert p1 == pytest.approx(grid[np.argmax(ll)], abs=1e-4)


def test_arrays_broadcast_like_single_calls() -> None:
    x1 = np.array([0, 5, 30])
    n1 = np.array([10, 20, 30])
    for method in RISK_DIFFERENCE_METHODS:
        est, se, lo, hi = compute_risk_difference_ci(x1, n1, 4, 12, method=method)
        for i in range(3):
            r = estimate_risk_difference(int(x1[i]), int(n1[i]), 4, 12, method=method)
            assert (est[i], se[i], lo[i], hi[i]) == pytest.approx((r.estimate, r.se, r.ci_lower, r.ci_upper),
                                                                  abs=1e-15)


def test_clopper_pearson_matches_beta_quantiles() -> None:
    lo, hi = compute_proportion_ci(np.array(3), np.array(10), method="clopper_pearson")
    assert lo == pytest.approx(stats.beta.ppf(0.025, 3, 8), rel=1e-12)
    assert hi == pytest.approx(stats.beta.ppf(0.975, 4, 7), rel=1e-12)


@pytest.mark.parametrize("args,match", [
    ((5, 4), "x must not exceed n"),
    ((-1, 4), "x must hold whole numbers >= 0; got -1"),
    ((1.5, 4), "whole numbers"),
    ((0, 0), "n must be > 0"),
])
def test_bad_counts_name_the_field(args, match) -> None:
    with pytest.raises(InvalidInputError, match=match):
        compute_proportion_ci(np.array(args[0]), np.array(args[1]))


def test_bad_method_and_level() -> None:
    with pytest.raises(InvalidInputError, match="method must be one of"):
        estimate_risk_difference(1, 2, 1, 2, method="exact")
    with pytest.raises(InvalidInputError, match=r"conf_level must be within \(0, 1\); got 1.2"):
        estimate_proportion(1, 2, conf_level=1.2)


def test_ratio_cis_zero_cells_and_arrays() -> None:
    from dermsim.analysis.proportions import compute_ratio_ci, estimate_odds_ratio, estimate_relative_risk

    r = estimate_odds_ratio(0, 10, 3, 10)
    assert r.estimate == 0.0 and np.isnan(r.ci_lower) and np.isnan(r.ci_upper)
    h = estimate_odds_ratio(0, 10, 3, 10, haldane=True)
    assert h.estimate == pytest.approx(0.5 * 7.5 / (10.5 * 3.5), rel=1e-12)
    assert h.ci_lower < h.estimate < h.ci_upper
    est, lo, hi = compute_ratio_ci(np.array([5, 9]), np.array([20, 20]), 4, 20)
    one = estimate_relative_risk(9, 20, 4, 20)
    assert (est[1], lo[1], hi[1]) == pytest.approx((one.estimate, one.ci_lower, one.ci_upper), rel=1e-14)
    with pytest.raises(InvalidInputError, match="measure must be one of"):
        compute_ratio_ci(1, 2, 1, 2, measure="hazard_ratio")
