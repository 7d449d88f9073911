"""Batched statistics equal the single-trial functions, trial by trial."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.contingency_tables import StratifiedTable

from dermsim.analysis import (
    COMMON_RISK_DIFFERENCE_METHODS,
    RISK_DIFFERENCE_METHODS,
    BatchedEstimate,
    compute_batched_common_odds_ratio,
    compute_batched_common_risk_difference,
    compute_batched_proportion,
    compute_batched_risk_difference,
    estimate_common_risk_difference,
    estimate_proportion,
    estimate_risk_difference,
    test_batched_cmh,
    test_batched_mantel_haenszel,
    test_cmh,
)
from dermsim.errors import InvalidInputError


@st.composite
def trials(draw):
    t = draw(st.integers(1, 4))
    s = draw(st.integers(1, 4))
    a = draw(st.integers(2, 3))
    n = np.array(draw(st.lists(st.integers(1, 25), min_size=t * s * a, max_size=t * s * a))).reshape(t, s, a)
    frac = np.array(draw(st.lists(st.floats(0, 1), min_size=t * s * a, max_size=t * s * a))).reshape(t, s, a)
    return np.floor(frac * n).astype(float), n.astype(float)


@pytest.mark.slow  # tens of seconds on a busy 2-core machine (make test --durations)
@settings(max_examples=60, deadline=None)
@given(trials())
def test_batched_common_rd_equals_single(xn) -> None:
    x, n = xn
    for m in COMMON_RISK_DIFFERENCE_METHODS:
        b = compute_batched_common_risk_difference(x, n, treatment=1, control=0, method=m)
        for i in range(x.shape[0]):
            one = estimate_common_risk_difference(x[i, :, 1], n[i, :, 1], x[i, :, 0], n[i, :, 0], method=m)
            assert b.estimate[i] == pytest.approx(one.estimate, rel=1e-12, abs=1e-15)
            assert b.ci_lower[i] == pytest.approx(one.ci_lower, rel=1e-12, abs=1e-15)
            assert b.ci_upper[i] == pytest.approx(one.ci_upper, rel=1e-12, abs=1e-15)
            assert -1 <= b.ci_lower[i] <= b.ci_upper[i] <= 1
            if np.isfinite(b.estimate[i]):
                assert b.ci_lower[i] - 1e-9 <= b.estimate[i] <= b.ci_upper[i] + 1e-9, m


@settings(max_examples=60, deadline=None)
@given(trials())
def test_batched_cmh_equals_general_rxc_code(xn) -> None:
    x, n = xn
    b = test_batched_cmh(x, n)
    for i in range(x.shape[0]):
        one = test_cmh(np.stack([x[i], n[i] - x[i]], -1)).general_association
        if np.isfinite(one.statistic) and one.df == b.df[i]:
            assert b.statistic[i] == pytest.approx(one.statistic, rel=1e-9, abs=1e-12)
            assert b.p_value[i] == pytest.approx(one.p_value, rel=1e-9, abs=1e-12)


def test_two_arm_batched_equals_statsmodels() -> None:
    rng = np.random.default_rng(11)
    n = rng.integers(5, 40, size=(50, 4, 3)).astype(float)
    x = rng.binomial(n.astype(int), 0.4).astype(float)
    cmh = test_batched_cmh(x, n, arms=[2, 0])
    mh = test_batched_mantel_haenszel(x, n, treatment=2, control=0)
    odds = compute_batched_common_odds_ratio(x, n, treatment=2, control=0)
    for i in range(50):
        st_ = StratifiedTable(np.array([[x[i, :, 2], n[i, :, 2] - x[i, :, 2]],
                                        [x[i, :, 0], n[i, :, 0] - x[i, :, 0]]]))
        ref = st_.test_null_odds(correction=False)
        assert cmh.statistic[i] == pytest.approx(ref.statistic, rel=1e-10)
        assert mh.statistic[i] == pytest.approx(ref.statistic, rel=1e-10)
        assert cmh.p_value[i] == pytest.approx(ref.pvalue, rel=1e-9)
        lo, hi = st_.oddsratio_pooled_confint()
        assert (odds.estimate[i], odds.ci_lower[i], odds.ci_upper[i]) == pytest.approx(
            (st_.oddsratio_pooled, lo, hi), rel=1e-10)


def test_unstratified_batched_equals_single() -> None:
    rng = np.random.default_rng(2)
    n = rng.integers(5, 40, size=(20, 3, 2)).astype(float)
    x = rng.binomial(n.astype(int), 0.3).astype(float)
    for m in RISK_DIFFERENCE_METHODS:
        b = compute_batched_risk_difference(x, n, treatment=1, control=0, method=m)
        for i in range(20):
            one = estimate_risk_difference(int(x[i, :, 1].sum()), int(n[i, :, 1].sum()),
                                           int(x[i, :, 0].sum()), int(n[i, :, 0].sum()), method=m)
            assert (b.ci_lower[i], b.ci_upper[i]) == pytest.approx((one.ci_lower, one.ci_upper), abs=1e-14)
    p = compute_batched_proportion(x, n, arm=1, method="clopper_pearson")
    one = estimate_proportion(int(x[0, :, 1].sum()), int(n[0, :, 1].sum()), method="clopper_pearson")
    assert p.ci_lower[0] == pytest.approx(one.ci_lower, rel=1e-12)


def test_round_trip_and_errors() -> None:
    x = np.ones((2, 2, 2))
    n = np.full((2, 2, 2), 4.0)
    b = compute_batched_common_risk_difference(x, n, treatment=1, control=0)
    again = BatchedEstimate.from_dict(b.to_dict())
    np.testing.assert_array_equal(again.estimate, b.estimate)
    with pytest.raises(InvalidInputError, match=r"shape \(trials, strata, arms\)"):
        test_batched_cmh(x[0], n[0])
    with pytest.raises(InvalidInputError, match="treatment must be an arm index below 2; got 5"):
        compute_batched_common_risk_difference(x, n, treatment=5, control=0)
    with pytest.raises(InvalidInputError, match="within \\[0, totals\\]"):
        test_batched_cmh(n + 1, n)


def test_empty_arm_in_a_stratum_and_degenerate_trials() -> None:
    """A stratum without control subjects carries no weight; a trial with no variance at all
    (every subject a responder) gives NaN statistics rather than an error."""
    n = np.array([[[10, 0, 10], [8, 9, 7]], [[5, 5, 5], [5, 5, 5]]], dtype=float)
    x = np.array([[[4, 0, 6], [2, 3, 4]], [[5, 5, 5], [5, 5, 5]]], dtype=float)
    rd = compute_batched_common_risk_difference(x, n, treatment=2, control=1)
    one = estimate_common_risk_difference([4], [7], [3], [9])  # only stratum 2 has both arms
    assert rd.estimate[0] == pytest.approx(one.estimate, rel=1e-12)
    cmh = test_batched_cmh(x, n, arms=[2, 1])
    assert np.isfinite(cmh.statistic[0]) and np.isnan(cmh.statistic[1])


def test_batched_marginal_risk_difference_equals_single_trial_glm() -> None:
    """IRLS on all trials at once gives the statsmodels-GLM g-computation numbers, trial by trial,
    including trials of unequal size (padding masked out)."""
    import pandas as pd

    from dermsim.analysis import compute_batched_marginal_risk_difference, estimate_marginal_risk_difference

    rng = np.random.default_rng(4)
    t, n = 6, 120
    trt = (rng.random((t, n)) < 0.5).astype(float)
    x = rng.normal(size=(t, n, 2))
    eta = -0.4 + 0.8 * trt + 0.6 * x[..., 0] - 0.3 * x[..., 1]
    y = (rng.random((t, n)) < 1 / (1 + np.exp(-eta))).astype(float)
    valid = np.ones((t, n), dtype=bool)
    valid[2, 100:] = False
    b = compute_batched_marginal_risk_difference(y, trt, x, valid=valid)
    for i in range(t):
        keep = valid[i]
        d = pd.DataFrame({"Y": y[i, keep], "T": trt[i, keep], "X1": x[i, keep, 0], "X2": x[i, keep, 1]})
        one = estimate_marginal_risk_difference(d, response="Y", treatment="T", active=1.0, control=0.0,
                                                covariates=["X1", "X2"])
        assert b.estimate[i] == pytest.approx(one.estimate, abs=1e-10)
        # statsmodels' covariance uses the IRLS weights of its last iteration, not of the final
        # coefficients: agreement to ~1e-8, not to rounding
        assert b.se[i] == pytest.approx(one.se, rel=1e-7)
        assert b.p_value[i] == pytest.approx(one.p_value, rel=1e-6)


def test_batched_marginal_risk_difference_separation_gives_nan() -> None:
    from dermsim.analysis import compute_batched_marginal_risk_difference

    trt = np.tile(np.r_[np.ones(20), np.zeros(20)], (2, 1))
    y = trt.copy()  # complete separation in trial 0
    y[1, [0, 5, 25, 30]] = 1 - y[1, [0, 5, 25, 30]]
    b = compute_batched_marginal_risk_difference(y, trt)
    assert np.isnan(b.estimate[0]) and np.isfinite(b.estimate[1])
    with pytest.raises(InvalidInputError, match="0 or 1"):
        compute_batched_marginal_risk_difference(y * 2, trt)
