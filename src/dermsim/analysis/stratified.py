"""Stratified 2 x 2 analyses (SAS PROC FREQ ``CMH`` and ``COMMONRISKDIFF`` for K strata).

* common risk difference: Mantel-Haenszel weights with the Sato (1989) variance, the summary
  score estimate (Agresti 2013 p. 231: inverse-variance weights from the stratum
  Miettinen-Nurminen intervals), stratified Newcombe (Yan & Su 2010, MH weights);
* Mantel-Haenszel common odds ratio (Robins-Breslow-Greenland CI), logit (Woolf) common odds
  ratio, Mantel-Haenszel relative risk (Greenland-Robins CI), Breslow-Day test.

The ``compute_*`` cores take arrays whose last axis is the stratum (any leading shape: one trial
or many), so :mod:`dermsim.analysis.batched` runs the very same code; the ``estimate_*`` and
``test_*`` functions take one trial. Group 1 is the first row (the difference is group 1 minus
group 2); the event is column 1. statsmodels' ``StratifiedTable`` supplies the single-trial
odds-ratio interval and Breslow-Day; it has no common risk difference and no batched form, which
is why the rest is written here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np
from scipy import special

from dermsim._validate import check_choice
from dermsim.analysis.proportions import (
    _BISECT_STEPS,
    _z,
    compute_mn_restricted_risks,
    compute_risk_difference_ci,
    validate_counts,
)
from dermsim.analysis.results import CommonRiskDifferenceResult, RatioResult, TestResult
from dermsim.errors import InvalidInputError, NotEstimableError

if TYPE_CHECKING:
    from statsmodels.stats.contingency_tables import StratifiedTable

__all__ = [
    "COMMON_RISK_DIFFERENCE_METHODS",
    "compute_common_risk_difference",
    "estimate_common_odds_ratio",
    "estimate_common_relative_risk",
    "estimate_common_risk_difference",
    "estimate_exact_common_odds_ratio",
    "stratified_counts",
    "test_breslow_day",
    "test_exact_common_odds_ratio",
    "test_mantel_haenszel",
]

COMMON_RISK_DIFFERENCE_METHODS = ("mh_sato", "summary_score", "stratified_newcombe", "stratified_mn")


def stratified_counts(count1, n1, count2, n2) -> tuple[np.ndarray, ...]:
    """Validate four count arrays with strata on the last axis; return them as float arrays."""
    x1, m1 = validate_counts("count1", count1, "n1", n1, allow_empty=True)
    x2, m2 = validate_counts("count2", count2, "n2", n2, allow_empty=True)
    x1, m1, x2, m2 = np.broadcast_arrays(x1, m1, x2, m2)
    if x1.ndim == 0:
        x1, m1, x2, m2 = (a[None] for a in (x1, m1, x2, m2))
    bad = (m1.sum(axis=-1) == 0) | (m2.sum(axis=-1) == 0)
    if np.any(bad):
        which = "n1" if np.any(m1.sum(axis=-1) == 0) else "n2"
        # an empty group (a tiny trial) is not estimable: a plan run reports the statistic as
        # missing; NotEstimableError is an InvalidInputError for direct callers
        raise NotEstimableError(f"{which} must have subjects in at least one stratum; got 0 in all "
                                f"strata.")
    return x1, m1, x2, m2


def _div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), 0.0)


def _mh_sato(x1, n1, x2, n2, z):
    # Strata missing one of the groups get weight 0 (SAS: they carry no information on the
    # difference) and contribute nothing to P and Q either.
    big_n = n1 + n2
    w = _div(n1 * n2, big_n)
    d_h = _div(x1, n1) - _div(x2, n2)
    sw = w.sum(axis=-1)
    # no stratum holds both groups (sw = 0): the estimate is NaN, reported as not estimable
    with np.errstate(divide="ignore", invalid="ignore"):
        est = (w * d_h).sum(axis=-1) / sw
    p = _div(n1 ** 2 * x2 - n2 ** 2 * x1 + n1 * n2 * (n2 - n1) / 2.0, big_n ** 2)
    q = _div(x1 * (n2 - x2) + x2 * (n1 - x1), 2.0 * big_n)
    var = (est * p.sum(axis=-1) + q.sum(axis=-1)) / sw ** 2
    se = np.sqrt(np.maximum(var, 0.0))
    return est, se, est - z * se, est + z * se


def _summary_score(x1, n1, x2, n2, z, conf_level):
    use = (n1 > 0) & (n2 > 0)
    s1 = np.where(use, n1, 1.0)
    s2 = np.where(use, n2, 1.0)
    _, _, lo, hi = compute_risk_difference_ci(np.where(use, x1, 0.0), s1, np.where(use, x2, 0.0), s2,
                                              method="miettinen_nurminen", conf_level=conf_level)
    mid = 0.5 * (lo + hi)
    half_over_z = (hi - lo) / (2.0 * z)
    w = np.where(use, 1.0 / half_over_z ** 2, 0.0)
    sw = w.sum(axis=-1)
    est = (w * mid).sum(axis=-1) / sw
    se = np.sqrt(1.0 / sw)
    return est, se, est - z * se, est + z * se


def _stratified_wilson(x, n, w, z):
    """Yan & Su (2010) stratified Wilson limits of ``sum_h w_h p_h`` (weights sum to 1 per trial):
    stratum Wilson limits at an adjusted quantile, averaged with the weights (as in R tern's
    ``prop_strat_wilson`` with fixed weights)."""
    p = _div(x, n)
    v = _div(p * (1 - p), n)
    num = np.sqrt((w ** 2 * v).sum(axis=-1))
    den = (w * np.sqrt(v)).sum(axis=-1)
    z_adj = np.where(den > 0, z * _div(num, den), z)[..., None]
    nn = np.where(n > 0, n, 1.0)
    centre = (p + z_adj ** 2 / (2 * nn)) / (1 + z_adj ** 2 / nn)
    half = z_adj * np.sqrt(p * (1 - p) / nn + z_adj ** 2 / (4 * nn * nn)) / (1 + z_adj ** 2 / nn)
    lo = (w * np.clip(centre - half, 0, 1)).sum(axis=-1)
    hi = (w * np.clip(centre + half, 0, 1)).sum(axis=-1)
    return (w * p).sum(axis=-1), lo, hi


def _stratified_newcombe(x1, n1, x2, n2, z):
    # Yan & Su (2010): MH weights; stratified Wilson limits (L_i, U_i) of each group's weighted
    # risk; the difference's limits use the binomial variance at those limits with the effective
    # sample sizes 1 / lambda_i, lambda_i = sum_h w_h^2 / n_hi (as R tern::prop_diff_strat_nc).
    # This reproduces SAS COMMONRISKDIFF(CL=NEWCOMBE); the plain Newcombe square-root form
    # (p_i - L_i)^2 does not once the stratum Wilson quantile is adjusted.
    w = _div(n1 * n2, n1 + n2)
    w = w / w.sum(axis=-1, keepdims=True)
    p1, l1, u1 = _stratified_wilson(x1, n1, w, z)
    p2, l2, u2 = _stratified_wilson(x2, n2, w, z)
    lam1 = _div(w ** 2, n1).sum(axis=-1)
    lam2 = _div(w ** 2, n2).sum(axis=-1)
    est = p1 - p2
    lo = est - z * np.sqrt(lam1 * l1 * (1 - l1) + lam2 * u2 * (1 - u2))
    hi = est + z * np.sqrt(lam1 * u1 * (1 - u1) + lam2 * l2 * (1 - l2))
    return est, np.full_like(est, np.nan), lo, hi


def _stratified_mn(x1, n1, x2, n2, z):
    """Miettinen & Nurminen (1985) stratified score interval with MH weights: the deltas where
    ``sum_h w_h (d_h - delta) / sqrt(sum_h w_h^2 V_h(delta)) = +-z`` (V_h the restricted MN
    variance with its ``N_h / (N_h - 1)`` factor); the estimate is the root at 0. Bisection,
    vectorised over trials (the score decreases in delta)."""
    use = (n1 > 0) & (n2 > 0)
    s1 = np.where(use, n1, 1.0)
    s2 = np.where(use, n2, 1.0)
    y1 = np.where(use, x1, 0.0)
    y2 = np.where(use, x2, 0.0)
    w = np.where(use, s1 * s2 / (s1 + s2), 0.0)
    d_h = y1 / s1 - y2 / s2
    factor = (s1 + s2) / np.maximum(s1 + s2 - 1.0, 1.0)

    def score(delta):
        dd = delta[..., None]
        p1, p2 = compute_mn_restricted_risks(y1, s1, y2, s2, dd)
        var = ((w ** 2) * (p1 * (1 - p1) / s1 + p2 * (1 - p2) / s2) * factor).sum(axis=-1)
        num = (w * (d_h - dd)).sum(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = num / np.sqrt(var)
        return np.where(var > 0, out, np.where(num > 0, np.inf, np.where(num < 0, -np.inf, 0.0)))

    def solve(target):
        lo = np.full(d_h.shape[:-1], -1.0)
        hi = np.full(d_h.shape[:-1], 1.0)
        for _ in range(_BISECT_STEPS):
            mid = 0.5 * (lo + hi)
            above = score(mid) > target
            lo = np.where(above, mid, lo)
            hi = np.where(above, hi, mid)
        return 0.5 * (lo + hi)

    est = solve(0.0)
    return est, np.full_like(est, np.nan), solve(z), solve(-z), score(np.zeros_like(est))


def compute_common_risk_difference(count1, n1, count2, n2, *, method: str = "mh_sato",
                                   conf_level: float = 0.95) -> dict[str, np.ndarray]:
    """Common risk difference over strata (last axis) on arrays.

    Returns a dict of arrays ``estimate, se, ci_lower, ci_upper, statistic, p_value`` with the
    leading shape of the inputs. ``statistic`` is the Z test of a zero difference
    (``estimate / se``; the stratified score statistic at 0 for ``stratified_mn``; NaN for
    stratified Newcombe, which has no SE). ``stratified_mn`` is the Miettinen-Nurminen stratified
    score interval with MH weights (the CAMIS-recommended stratified MN; R
    ``ratesci::scoreci(stratified = TRUE, weighting = "MH", skew = FALSE)``), checked here by its
    one-stratum reduction to the two-group MN interval, not against an external number.
    """
    check_choice("method", method, COMMON_RISK_DIFFERENCE_METHODS)
    x1, m1, x2, m2 = stratified_counts(count1, n1, count2, n2)
    z = _z(conf_level)
    if method == "mh_sato":
        est, se, lo, hi = _mh_sato(x1, m1, x2, m2, z)
    elif method == "summary_score":
        est, se, lo, hi = _summary_score(x1, m1, x2, m2, z, conf_level)
    elif method == "stratified_newcombe":
        est, se, lo, hi = _stratified_newcombe(x1, m1, x2, m2, z)
    else:
        est, se, lo, hi, stat0 = _stratified_mn(x1, m1, x2, m2, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = stat0 if method == "stratified_mn" else est / se
    p = 2.0 * special.ndtr(-np.abs(stat))
    return {"estimate": est, "se": se, "ci_lower": np.clip(lo, -1, 1), "ci_upper": np.clip(hi, -1, 1),
            "statistic": stat, "p_value": p}


def estimate_common_risk_difference(count1, n1, count2, n2, *, method: str = "mh_sato",
                                    conf_level: float = 0.95) -> CommonRiskDifferenceResult:
    """Common risk difference for one trial: 1-D arrays over strata of group-1 and group-2
    responders and totals (SAS ``COMMONRISKDIFF(CL=MH|SCORE|NEWCOMBE)``, and ``stratified_mn``)."""
    for name, a in (("count1", count1), ("n1", n1), ("count2", count2), ("n2", n2)):
        if np.ndim(a) != 1:
            raise InvalidInputError(f"{name} must be a 1-D array over strata; got shape {np.shape(a)}.")
    r = compute_common_risk_difference(count1, n1, count2, n2, method=method, conf_level=conf_level)
    return CommonRiskDifferenceResult(method=method, conf_level=conf_level,
                                      **{k: float(np.asarray(v).reshape(-1)[0]) for k, v in r.items()})


# ------------------------------------------------------------------------------------------
# odds ratio, relative risk, homogeneity

def _tables(count1, n1, count2, n2) -> np.ndarray:
    x1, m1, x2, m2 = stratified_counts(count1, n1, count2, n2)
    if x1.ndim != 1:
        raise InvalidInputError(f"count1 must be a 1-D array over strata; got shape {x1.shape}.")
    # statsmodels wants shape (2, 2, K): rows = groups, columns = event / no event
    return np.array([[x1, m1 - x1], [x2, m2 - x2]], dtype=float)


def _stratified_table(t: np.ndarray) -> StratifiedTable:
    """statsmodels' ``StratifiedTable`` of ``t`` (2, 2, K). statsmodels here, scipy.stats and
    scipy.optimize in the two exact-inference helpers are imported on first use, not with the
    module: together they take about a second to import, and the batched design statistics, which
    every design run loads, need only this module's array functions."""
    from statsmodels.stats.contingency_tables import StratifiedTable

    return StratifiedTable(t)


def estimate_common_odds_ratio(count1, n1, count2, n2, *, method: str = "mantel_haenszel",
                               conf_level: float = 0.95) -> RatioResult:
    """Common odds ratio of group 1 vs group 2 over strata.

    ``mantel_haenszel``: MH estimate with the Robins-Breslow-Greenland CI (statsmodels, as SAS);
    ``logit``: Woolf's inverse-variance pooled log odds ratio, 0.5 added to every cell of a
    stratum with a zero cell (SAS ``logit`` adjusted estimate).
    """
    check_choice("method", method, ("mantel_haenszel", "logit"))
    t = _tables(count1, n1, count2, n2)
    if method == "mantel_haenszel":
        st = _stratified_table(t)
        lo, hi = st.oddsratio_pooled_confint(alpha=1 - conf_level)
        return RatioResult(estimate=float(st.oddsratio_pooled), ci_lower=float(lo), ci_upper=float(hi),
                           method=method, conf_level=conf_level)
    keep = t.sum(axis=(0, 1)) > 0
    t = t[:, :, keep]
    t = t + 0.5 * np.any(t == 0, axis=(0, 1))[None, None, :]
    log_or = np.log(t[0, 0] * t[1, 1] / (t[0, 1] * t[1, 0]))
    w = 1.0 / (1 / t[0, 0] + 1 / t[0, 1] + 1 / t[1, 0] + 1 / t[1, 1])
    est = (w * log_or).sum() / w.sum()
    se = 1.0 / np.sqrt(w.sum())
    z = _z(conf_level)
    return RatioResult(estimate=float(np.exp(est)), ci_lower=float(np.exp(est - z * se)),
                       ci_upper=float(np.exp(est + z * se)), method=method, conf_level=conf_level)


def estimate_common_relative_risk(count1, n1, count2, n2, *, conf_level: float = 0.95) -> RatioResult:
    """Mantel-Haenszel common relative risk (column 1: risk of group 1 over group 2) with the
    Greenland-Robins (1985) variance of its log, as SAS ``CMH`` prints it."""
    x1, m1, x2, m2 = stratified_counts(count1, n1, count2, n2)
    big_n = m1 + m2
    r = _div(x1 * m2, big_n).sum()
    s = _div(x2 * m1, big_n).sum()
    var = _div(m1 * m2 * (x1 + x2) - x1 * x2 * big_n, big_n ** 2).sum() / (r * s)
    est = r / s
    z = _z(conf_level)
    se = np.sqrt(var)
    return RatioResult(estimate=float(est), ci_lower=float(est * np.exp(-z * se)),
                       ci_upper=float(est * np.exp(z * se)), method="mantel_haenszel",
                       conf_level=conf_level)


def test_breslow_day(count1, n1, count2, n2, *, tarone: bool = False) -> TestResult:
    """Breslow-Day test of equal odds ratios over strata (statsmodels ``test_equal_odds``),
    optionally with Tarone's adjustment (SAS ``BDT``)."""
    st = _stratified_table(_tables(count1, n1, count2, n2))
    res = st.test_equal_odds(adjust=tarone)
    k = int(np.sum(st.table.sum(axis=(0, 1)) > 0))
    return TestResult(statistic=float(res.statistic), df=float(k - 1), p_value=float(res.pvalue),
                      method="breslow_day_tarone" if tarone else "breslow_day")


def test_mantel_haenszel(count1, n1, count2, n2, *, correction: bool = False) -> TestResult:
    """Mantel-Haenszel chi-square for 2 x 2 x K (statsmodels ``test_null_odds``); with
    ``correction=True`` the continuity correction of R ``mantelhaen.test`` (its default)."""
    st = _stratified_table(_tables(count1, n1, count2, n2))
    res = st.test_null_odds(correction=correction)
    return TestResult(statistic=float(res.statistic), df=1.0, p_value=float(res.pvalue),
                      method="mantel_haenszel_cc" if correction else "mantel_haenszel")


# ------------------------------------------------------------------------------------------
# exact conditional inference on the common odds ratio (R mantelhaen.test(exact = TRUE))

def _conditional_log_counts(count1, n1, count2, n2) -> tuple[np.ndarray, int, int]:
    """log c(t) of T = sum_h a_h given all margins (a convolution of hypergeometric supports),
    with the support ``lo..hi`` and the observed ``t``. The null pmf is ``c(t)`` normalised and the
    pmf at common odds ratio psi is proportional to ``c(t) psi^t``."""
    from scipy.stats import hypergeom  # see _stratified_table

    t_obs = 0
    lo = 0
    log_c = np.zeros(1)
    for a, m1, x2, m2 in zip(*stratified_counts(count1, n1, count2, n2), strict=True):
        col = int(a + x2)
        k_lo, k_hi = max(0, col - int(m2)), min(int(m1), col)
        ks = np.arange(k_lo, k_hi + 1)
        pmf = hypergeom.pmf(ks, int(m1 + m2), int(m1), col)
        shift = log_c.max()
        log_c = np.log(np.convolve(np.exp(log_c - shift), pmf)) + shift
        lo += k_lo
        t_obs += int(a)
    return log_c, lo, t_obs


def _pmf(log_c: np.ndarray, support: np.ndarray, log_psi: float) -> np.ndarray:
    z = log_c + support * log_psi
    return np.exp(z - special.logsumexp(z))


def _solve_log_psi(f, target: float) -> float:
    from scipy.optimize import brentq  # see _stratified_table

    # brentq returns the root alone without full_output (its stub also types the full_output tuple)
    return cast(float, brentq(lambda lp: f(lp) - target, -50.0, 50.0, xtol=1e-12, rtol=1e-12))


def estimate_exact_common_odds_ratio(count1, n1, count2, n2, *,
                                     conf_level: float = 0.95) -> RatioResult:
    """Conditional maximum-likelihood common odds ratio with the exact conditional CI (the
    distribution of the total of the (1, 1) cells given all margins), as R
    ``mantelhaen.test(exact = TRUE)`` and SAS ``EXACT COMOR``."""
    log_c, lo, t_obs = _conditional_log_counts(count1, n1, count2, n2)
    support = np.arange(lo, lo + len(log_c))
    hi = int(support[-1])
    alpha = 1.0 - conf_level
    mean = lambda lp: float(np.dot(support, _pmf(log_c, support, lp)))  # noqa: E731
    upper_tail = lambda lp: float(_pmf(log_c, support, lp)[support >= t_obs].sum())  # noqa: E731
    lower_tail = lambda lp: float(_pmf(log_c, support, lp)[support <= t_obs].sum())  # noqa: E731
    est = 0.0 if t_obs == lo else np.inf if t_obs == hi else float(np.exp(_solve_log_psi(mean, t_obs)))
    ci_lo = 0.0 if t_obs == lo else float(np.exp(_solve_log_psi(upper_tail, alpha / 2)))
    ci_hi = np.inf if t_obs == hi else float(np.exp(_solve_log_psi(lower_tail, alpha / 2)))
    return RatioResult(estimate=est, ci_lower=ci_lo, ci_upper=ci_hi, method="exact_conditional",
                       conf_level=conf_level)


def test_exact_common_odds_ratio(count1, n1, count2, n2) -> TestResult:
    """Exact conditional test of a common odds ratio of 1 (two-sided: the probability of totals no
    more likely than the observed one, R ``mantelhaen.test(exact = TRUE)``). ``statistic`` is the
    observed total of the (1, 1) cells; ``df`` is NaN."""
    log_c, lo, t_obs = _conditional_log_counts(count1, n1, count2, n2)
    d = _pmf(log_c, np.arange(lo, lo + len(log_c)), 0.0)
    p = float(min(1.0, d[d <= d[t_obs - lo] * (1 + 1e-7)].sum()))
    return TestResult(statistic=float(t_obs), df=float("nan"), p_value=p, method="exact_conditional")


test_exact_common_odds_ratio.__test__ = False
test_mantel_haenszel.__test__ = False
test_breslow_day.__test__ = False  # a statistic, not a pytest test
