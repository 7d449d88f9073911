"""Unit tests of the stratified 2 x 2 statistics (common RD, MH OR/RR, Breslow-Day)."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import StratifiedTable

from dermsim.analysis.proportions import estimate_risk_difference
from dermsim.analysis.stratified import (
    COMMON_RISK_DIFFERENCE_METHODS,
    compute_common_risk_difference,
    estimate_common_odds_ratio,
    estimate_common_relative_risk,
    estimate_common_risk_difference,
    test_breslow_day,
    test_mantel_haenszel,
)
from dermsim.errors import InvalidInputError

C = {"count1": np.array([12, 5, 9]), "n1": np.array([30, 14, 20]),
     "count2": np.array([6, 2, 5]), "n2": np.array([28, 15, 22])}


def test_one_stratum_mh_equals_two_group_wald() -> None:
    """With one stratum the MH weight cancels and the Sato variance is the Wald variance."""
    r = estimate_common_risk_difference([12], [30], [6], [28], method="mh_sato")
    w = estimate_risk_difference(12, 30, 6, 28, method="wald")
    assert r.estimate == pytest.approx(w.estimate, rel=1e-12)
    assert r.se == pytest.approx(w.se, rel=1e-12)


def test_one_stratum_summary_score_uses_mn_interval() -> None:
    r = estimate_common_risk_difference([12], [30], [6], [28], method="summary_score")
    mn = estimate_risk_difference(12, 30, 6, 28, method="miettinen_nurminen")
    assert r.ci_lower == pytest.approx(mn.ci_lower, rel=1e-9)
    assert r.ci_upper == pytest.approx(mn.ci_upper, rel=1e-9)


def test_stratum_without_one_group_is_ignored() -> None:
    """A stratum with no control subjects has MH weight 0 for every method."""
    base = {k: v[:2] for k, v in C.items()}
    extra = {k: np.append(v[:2], 7 if k != "n2" and k != "count2" else 0) for k, v in C.items()}
    extra["count1"][-1], extra["n1"][-1] = 3, 7
    for m in COMMON_RISK_DIFFERENCE_METHODS:
        a = estimate_common_risk_difference(**base, method=m)
        b = estimate_common_risk_difference(**extra, method=m)
        assert b.estimate == pytest.approx(a.estimate, rel=1e-12), m
        assert b.ci_lower == pytest.approx(a.ci_lower, rel=1e-12), m


def test_odds_ratio_and_breslow_day_agree_with_statsmodels() -> None:
    t = np.array([[C["count1"], C["n1"] - C["count1"]], [C["count2"], C["n2"] - C["count2"]]], dtype=float)
    st = StratifiedTable(t)
    assert estimate_common_odds_ratio(**C).estimate == pytest.approx(st.oddsratio_pooled, rel=1e-12)
    assert estimate_common_relative_risk(**C).estimate == pytest.approx(st.riskratio_pooled, rel=1e-12)
    assert test_breslow_day(**C).statistic == pytest.approx(st.test_equal_odds().statistic, rel=1e-12)
    assert test_mantel_haenszel(**C).statistic == pytest.approx(st.test_null_odds().statistic, rel=1e-12)


def test_logit_or_adds_half_to_strata_with_a_zero_cell() -> None:
    r = estimate_common_odds_ratio([0, 4], [10, 10], [3, 2], [10, 10], method="logit")
    t = np.array([[0.5, 10.5, 3.5, 7.5], [4, 6, 2, 8]])
    lor = np.log(t[:, 0] * t[:, 3] / (t[:, 1] * t[:, 2]))
    w = 1 / (1 / t).sum(axis=1)
    assert r.estimate == pytest.approx(np.exp((w * lor).sum() / w.sum()), rel=1e-12)


def test_arrays_over_trials_equal_single_trials() -> None:
    stack = {k: np.stack([v, v[::-1]]) for k, v in C.items()}
    for m in COMMON_RISK_DIFFERENCE_METHODS:
        arr = compute_common_risk_difference(**stack, method=m)
        for i in range(2):
            one = estimate_common_risk_difference(**{k: v[i] for k, v in stack.items()}, method=m)
            assert arr["ci_upper"][i] == pytest.approx(one.ci_upper, rel=1e-14)


def test_errors_name_the_field() -> None:
    with pytest.raises(InvalidInputError, match="count1 must not exceed n1"):
        estimate_common_risk_difference([5], [4], [1], [4])
    with pytest.raises(InvalidInputError, match="n2 must have subjects in at least one stratum"):
        estimate_common_risk_difference([1, 1], [4, 4], [0, 0], [0, 0])
    with pytest.raises(InvalidInputError, match="1-D array over strata"):
        estimate_common_risk_difference([[1]], [[4]], [[1]], [[4]])


def test_exact_conditional_limits_have_the_stated_tail_probabilities() -> None:
    """At the exact limits the conditional tail probability of the observed total is alpha/2,
    and at the conditional MLE the expected total equals the observed one."""
    from scipy import special

    from dermsim.analysis.stratified import _conditional_log_counts, estimate_exact_common_odds_ratio

    log_c, lo, t_obs = _conditional_log_counts(**C)
    support = np.arange(lo, lo + len(log_c))

    def pmf(psi: float) -> np.ndarray:
        z = log_c + support * np.log(psi)
        return np.exp(z - special.logsumexp(z))

    r = estimate_exact_common_odds_ratio(**C)
    assert pmf(r.ci_lower)[support >= t_obs].sum() == pytest.approx(0.025, abs=1e-9)
    assert pmf(r.ci_upper)[support <= t_obs].sum() == pytest.approx(0.025, abs=1e-9)
    assert np.dot(support, pmf(r.estimate)) == pytest.approx(t_obs, abs=1e-8)
    # the null conditional distribution is a proper pmf
    assert pmf(1.0).sum() == pytest.approx(1.0, abs=1e-12)


def test_exact_or_at_support_edge_is_zero_or_infinite() -> None:
    from dermsim.analysis.stratified import estimate_exact_common_odds_ratio

    r = estimate_exact_common_odds_ratio([0, 0], [5, 6], [3, 2], [5, 6])
    assert r.estimate == 0.0 and r.ci_lower == 0.0 and np.isfinite(r.ci_upper)


def test_stratified_mn_one_stratum_is_the_two_group_mn_interval() -> None:
    r = estimate_common_risk_difference([12], [30], [6], [28], method="stratified_mn")
    mn = estimate_risk_difference(12, 30, 6, 28, method="miettinen_nurminen")
    assert (r.ci_lower, r.ci_upper) == pytest.approx((mn.ci_lower, mn.ci_upper), abs=1e-12)


def test_stratified_mn_estimate_is_mh_and_score_at_zero_is_cmh() -> None:
    """With MH weights the score root is the MH estimate, and the squared score statistic at 0 is
    the Mantel-Haenszel chi-square (the restricted MLE at 0 is the pooled stratum rate)."""
    r = estimate_common_risk_difference(**C, method="stratified_mn")
    mh = estimate_common_risk_difference(**C, method="mh_sato")
    assert r.estimate == pytest.approx(mh.estimate, abs=1e-12)
    assert r.statistic ** 2 == pytest.approx(test_mantel_haenszel(**C).statistic, rel=1e-10)
    assert r.ci_lower < r.estimate < r.ci_upper
