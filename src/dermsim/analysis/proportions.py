"""Binomial proportions and two-group risk differences, with the confidence intervals of SAS
PROC FREQ (``BINOMIAL`` and ``RISKDIFF(CL=...)``).

The ``compute_*`` functions work on arrays of any shape (NumPy broadcasting: one trial or 10,000
at once); the ``estimate_*`` functions take one table and return frozen results. Written here
rather than taken from statsmodels because statsmodels' ``confint_proportions_2indep`` has no
Mee, Hauck-Anderson or continuity-corrected Newcombe interval and works on one table at a time,
and the batched design layer needs the same code on arrays.

Conventions follow SAS: the difference is group 1 minus group 2; the Miettinen-Nurminen score
interval carries the ``n / (n - 1)`` variance factor, the Mee interval does not; ``se`` is the
unrestricted Wald ASE.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from dermsim._validate import check_choice, check_range
from dermsim.analysis.results import ProportionResult, RatioResult, RiskDifferenceResult
from dermsim.errors import InvalidInputError

__all__ = [
    "PROPORTION_METHODS",
    "RISK_DIFFERENCE_METHODS",
    "compute_mn_restricted_risks",
    "compute_proportion_ci",
    "compute_ratio_ci",
    "compute_risk_difference_ci",
    "estimate_odds_ratio",
    "estimate_proportion",
    "estimate_relative_risk",
    "estimate_risk_difference",
    "validate_counts",
]

PROPORTION_METHODS = ("wilson", "wilson_cc", "clopper_pearson", "wald", "agresti_coull", "jeffreys")
RISK_DIFFERENCE_METHODS = ("wald", "wald_cc", "agresti_caffo", "newcombe", "newcombe_cc",
                           "miettinen_nurminen", "mee", "hauck_anderson")

_BISECT_STEPS = 64  # [-1, 1] halved 64 times is below double resolution


def validate_counts(name_x: str, x: np.ndarray, name_n: str, n: np.ndarray, *,
                    allow_empty: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Check count arrays: whole numbers, ``0 <= x <= n``, and ``n > 0`` unless ``allow_empty``."""
    xa = np.asarray(x, dtype=float)
    na = np.asarray(n, dtype=float)
    for name, a in ((name_x, xa), (name_n, na)):
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)) or np.any(a < 0):
            bad = a[~(np.isfinite(a) & (a == np.round(a)) & (a >= 0))].ravel()[0]
            raise InvalidInputError(f"{name} must hold whole numbers >= 0; got {bad}.")
    if np.any(xa > na):
        i = np.argwhere(np.broadcast_to(xa > na, np.broadcast_shapes(xa.shape, na.shape)))[0]
        xb, nb = np.broadcast_arrays(xa, na)
        raise InvalidInputError(f"{name_x} must not exceed {name_n}; got {xb[tuple(i)]:g} > "
                                f"{nb[tuple(i)]:g} at index {tuple(int(k) for k in i)}.")
    if not allow_empty and np.any(na == 0):
        raise InvalidInputError(f"{name_n} must be > 0 (a group without subjects has no proportion); "
                                f"got 0.")
    return xa, na


def _z(conf_level: float) -> float:
    check_range("conf_level", conf_level, 0.0, 1.0, low_open=True, high_open=True)
    return float(special.ndtri(0.5 + conf_level / 2.0))


# ------------------------------------------------------------------------------------------
# one proportion

def _wilson(x: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    p = x / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _wilson_cc(x: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    # Newcombe (1998) method 4 / SAS BINOMIAL(CL=WILSON(CORRECT)).
    p = x / n
    z2 = z * z
    den = 2 * (n + z2)
    with np.errstate(invalid="ignore"):
        lo = (2 * n * p + z2 - 1 - z * np.sqrt(z2 - 2 - 1 / n + 4 * p * (n * (1 - p) + 1))) / den
        hi = (2 * n * p + z2 + 1 + z * np.sqrt(z2 + 2 - 1 / n + 4 * p * (n * (1 - p) - 1))) / den
    lo = np.where(x == 0, 0.0, np.clip(lo, 0.0, 1.0))
    hi = np.where(x == n, 1.0, np.clip(hi, 0.0, 1.0))
    return lo, hi


def compute_proportion_ci(x: np.ndarray, n: np.ndarray, *, method: str = "wilson",
                          conf_level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Confidence limits for ``x / n`` (arrays broadcast). Methods: :data:`PROPORTION_METHODS`."""
    check_choice("method", method, PROPORTION_METHODS)
    xa, na = validate_counts("x", x, "n", n)
    z = _z(conf_level)
    alpha = 1.0 - conf_level
    p = xa / na
    if method == "wilson":
        return _wilson(xa, na, z)
    if method == "wilson_cc":
        return _wilson_cc(xa, na, z)
    if method in ("clopper_pearson", "jeffreys"):
        from scipy import stats  # here, not at the top: 0.5 s, and design runs load this module without it

        # Beta quantiles: the exact interval's (x, n - x + 1) and (x + 1, n - x), or the Jeffreys
        # posterior's (x + 1/2, n - x + 1/2) at both ends
        if method == "clopper_pearson":
            ab_lo, ab_hi = (xa, na - xa + 1), (xa + 1, na - xa)
        else:
            ab_lo = ab_hi = (xa + 0.5, na - xa + 0.5)
        lo = np.where(xa == 0, 0.0, stats.beta.ppf(alpha / 2, *ab_lo))
        hi = np.where(xa == na, 1.0, stats.beta.ppf(1 - alpha / 2, *ab_hi))
        return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    if method == "agresti_coull":
        nt = na + z * z
        pt = (xa + z * z / 2) / nt
        half = z * np.sqrt(pt * (1 - pt) / nt)
        return np.clip(pt - half, 0.0, 1.0), np.clip(pt + half, 0.0, 1.0)
    half = z * np.sqrt(p * (1 - p) / na)  # wald
    return np.clip(p - half, 0.0, 1.0), np.clip(p + half, 0.0, 1.0)


def estimate_proportion(count: int, n: int, *, method: str = "wilson",
                        conf_level: float = 0.95) -> ProportionResult:
    """Proportion ``count / n`` with a confidence interval (SAS ``BINOMIAL(CL=...)``)."""
    lo, hi = compute_proportion_ci(np.asarray(count), np.asarray(n), method=method,
                                   conf_level=conf_level)
    return ProportionResult(count=int(count), n=int(n), estimate=count / n, ci_lower=float(lo),
                            ci_upper=float(hi), method=method, conf_level=conf_level)


# ------------------------------------------------------------------------------------------
# two proportions

def compute_mn_restricted_risks(x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray,
                                delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood risks ``(p1, p2)`` under the constraint ``p1 - p2 = delta``.

    Closed-form root of the likelihood cubic (Miettinen & Nurminen 1985; Farrington & Manning
    1990), vectorised.
    """
    p1h = x1 / n1
    p2h = x2 / n2
    theta = n2 / n1
    a = 1.0 + theta
    b = -(1.0 + theta + p1h + theta * p2h + delta * (theta + 2.0))
    c = delta * delta + delta * (2.0 * p1h + theta + 1.0) + p1h + theta * p2h
    d = -p1h * delta * (1.0 + delta)
    v = b ** 3 / (27.0 * a ** 3) - b * c / (6.0 * a * a) + d / (2.0 * a)
    u = np.sign(v) * np.sqrt(np.maximum(b * b / (9.0 * a * a) - c / (3.0 * a), 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(u == 0, 0.0, v / u ** 3)
    w = (np.pi + np.arccos(np.clip(ratio, -1.0, 1.0))) / 3.0
    p1 = np.clip(2.0 * u * np.cos(w) - b / (3.0 * a), 0.0, 1.0)
    p2 = np.clip(p1 - delta, 0.0, 1.0)
    return p1, p2


def _score_var(x1, n1, x2, n2, delta, factor):
    p1, p2 = compute_mn_restricted_risks(x1, n1, x2, n2, delta)
    return (p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2) * factor


def _score_limits(x1, n1, x2, n2, z, *, mn: bool):
    """Score interval: the deltas where ``(d_hat - delta) / sqrt(V(delta)) = +-z``, by bisection
    (the score statistic decreases in delta), vectorised over all tables at once."""
    d_hat = x1 / n1 - x2 / n2
    factor = (n1 + n2) / (n1 + n2 - 1.0) if mn else np.ones_like(d_hat)

    def score(delta):
        var = _score_var(x1, n1, x2, n2, delta, factor)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = (d_hat - delta) / np.sqrt(var)
        # zero variance away from d_hat: the statistic is infinite with the sign of d_hat - delta
        inf = np.where(d_hat > delta, np.inf, np.where(d_hat < delta, -np.inf, 0.0))
        return np.where(var > 0, s, inf)

    def solve(lo, hi, target):
        # find delta in [lo, hi] with score(delta) = target; score is decreasing.
        for _ in range(_BISECT_STEPS):
            mid = 0.5 * (lo + hi)
            above = score(mid) > target
            lo = np.where(above, mid, lo)
            hi = np.where(above, hi, mid)
        return 0.5 * (lo + hi)

    lower = solve(np.full_like(d_hat, -1.0), d_hat.copy(), z)
    upper = solve(d_hat.copy(), np.full_like(d_hat, 1.0), -z)
    return lower, upper


def compute_risk_difference_ci(x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray, *,
                               method: str = "wald", conf_level: float = 0.95,
                               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Risk difference ``x1/n1 - x2/n2`` on arrays: ``(estimate, se, ci_lower, ci_upper)``.

    Methods (:data:`RISK_DIFFERENCE_METHODS`) as SAS ``RISKDIFF(CL=...)``: ``wald``,
    ``wald_cc`` (correction ``(1/n1 + 1/n2)/2``), ``agresti_caffo`` (one success and one failure
    added per group), ``newcombe`` (hybrid score from Wilson limits), ``newcombe_cc`` (from
    continuity-corrected Wilson limits), ``miettinen_nurminen`` (score, ``n/(n-1)`` factor),
    ``mee`` (score without the factor), ``hauck_anderson``.
    """
    check_choice("method", method, RISK_DIFFERENCE_METHODS)
    x1, n1 = validate_counts("x1", x1, "n1", n1)
    x2, n2 = validate_counts("x2", x2, "n2", n2)
    x1, n1, x2, n2 = np.broadcast_arrays(x1, n1, x2, n2)
    z = _z(conf_level)
    p1 = x1 / n1
    p2 = x2 / n2
    est = p1 - p2
    se = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    if method in ("wald", "wald_cc"):
        cc = 0.5 * (1 / n1 + 1 / n2) if method == "wald_cc" else 0.0
        lo, hi = est - z * se - cc, est + z * se + cc
    elif method == "agresti_caffo":
        q1 = (x1 + 1) / (n1 + 2)
        q2 = (x2 + 1) / (n2 + 2)
        half = z * np.sqrt(q1 * (1 - q1) / (n1 + 2) + q2 * (1 - q2) / (n2 + 2))
        lo, hi = q1 - q2 - half, q1 - q2 + half
    elif method in ("newcombe", "newcombe_cc"):
        wil = _wilson_cc if method == "newcombe_cc" else _wilson
        l1, u1 = wil(x1, n1, z)
        l2, u2 = wil(x2, n2, z)
        lo = est - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        hi = est + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    elif method in ("miettinen_nurminen", "mee"):
        lo, hi = _score_limits(x1, n1, x2, n2, z, mn=method == "miettinen_nurminen")
    else:  # hauck_anderson
        # a group of one subject has p(1 - p) = 0: its variance term is 0, not 0/0
        v1 = np.where(n1 > 1, p1 * (1 - p1) / np.maximum(n1 - 1, 1), 0.0)
        v2 = np.where(n2 > 1, p2 * (1 - p2) / np.maximum(n2 - 1, 1), 0.0)
        half = 1.0 / (2.0 * np.minimum(n1, n2)) + z * np.sqrt(v1 + v2)
        lo, hi = est - half, est + half
    return est, se, np.clip(lo, -1.0, 1.0), np.clip(hi, -1.0, 1.0)


def estimate_risk_difference(count1: int, n1: int, count2: int, n2: int, *, method: str = "wald",
                             conf_level: float = 0.95) -> RiskDifferenceResult:
    """Risk difference group 1 minus group 2 with the chosen interval (SAS ``RISKDIFF(CL=...)``)."""
    est, se, lo, hi = compute_risk_difference_ci(np.asarray(count1), np.asarray(n1),
                                                 np.asarray(count2), np.asarray(n2),
                                                 method=method, conf_level=conf_level)
    return RiskDifferenceResult(count1=int(count1), n1=int(n1), count2=int(count2), n2=int(n2),
                                risk1=count1 / n1, risk2=count2 / n2, estimate=float(est),
                                se=float(se), ci_lower=float(lo), ci_upper=float(hi), method=method,
                                conf_level=conf_level)


# ------------------------------------------------------------------------------------------
# two-group ratios (SAS RELRISK: "Case-Control (Odds Ratio)" and "Cohort (Col1 Risk)")

def compute_ratio_ci(x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray, *,
                     measure: str = "relative_risk", conf_level: float = 0.95,
                     haldane: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relative risk ``(x1/n1) / (x2/n2)`` or odds ratio of group 1 vs group 2 with the Wald CI on
    the log scale (Katz for the relative risk, Woolf for the odds ratio), on arrays.

    A zero cell leaves the CI undefined (NaN, as SAS prints no limits) unless ``haldane=True``,
    which adds 0.5 to every cell of that table first (Haldane-Anscombe).
    """
    check_choice("measure", measure, ("relative_risk", "odds_ratio"))
    x1, n1 = validate_counts("x1", x1, "n1", n1)
    x2, n2 = validate_counts("x2", x2, "n2", n2)
    x1, n1, x2, n2 = np.broadcast_arrays(x1, n1, x2, n2)
    z = _z(conf_level)
    a, b, c, d = x1, n1 - x1, x2, n2 - x2
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    if haldane:
        add = np.where(zero, 0.5, 0.0)
        a, b, c, d = a + add, b + add, c + add, d + add
        zero = np.zeros_like(zero)
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "odds_ratio":
            est = a * d / (b * c)
            var = 1 / a + 1 / b + 1 / c + 1 / d
        else:
            est = (a / (a + b)) / (c / (c + d))
            var = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
        half = z * np.sqrt(var)
        lo = np.where(zero, np.nan, est * np.exp(-half))
        hi = np.where(zero, np.nan, est * np.exp(half))
    return est, lo, hi


def estimate_relative_risk(count1: int, n1: int, count2: int, n2: int, *, conf_level: float = 0.95,
                           haldane: bool = False) -> RatioResult:
    """Relative risk group 1 / group 2 with the Wald (log) CI, SAS ``RELRISK`` "Cohort (Col1 Risk)"."""
    est, lo, hi = compute_ratio_ci(np.asarray(count1), np.asarray(n1), np.asarray(count2), np.asarray(n2),
                                   measure="relative_risk", conf_level=conf_level, haldane=haldane)
    return RatioResult(estimate=float(est), ci_lower=float(lo), ci_upper=float(hi), method="wald_log",
                       conf_level=conf_level)


def estimate_odds_ratio(count1: int, n1: int, count2: int, n2: int, *, conf_level: float = 0.95,
                        haldane: bool = False) -> RatioResult:
    """Odds ratio group 1 vs group 2 with the Woolf (log) CI, SAS ``RELRISK`` "Case-Control".
    For the exact conditional estimate and CI use
    :func:`dermsim.analysis.stratified.estimate_exact_common_odds_ratio` with one stratum."""
    est, lo, hi = compute_ratio_ci(np.asarray(count1), np.asarray(n1), np.asarray(count2), np.asarray(n2),
                                   measure="odds_ratio", conf_level=conf_level, haldane=haldane)
    return RatioResult(estimate=float(est), ci_lower=float(lo), ci_upper=float(hi), method="woolf",
                       conf_level=conf_level)
