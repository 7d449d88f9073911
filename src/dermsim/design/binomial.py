"""The binomial-only design (fixed response rates, no model) and its analytic power.

Counts are drawn per replicate block from one Generator (see :mod:`dermsim.design.replicate` for
the stream layout), and analysed by the same batched statistics as the model-based designs, so
agreement of simulated and analytic power checks the replicate machinery, the test and the
summaries together (the simulated test is the MH chi-square, (N-1)/N times the pooled one: at
N >= 200 its power differs from the pooled test's by well under 0.1 point). The analytic side is
the normal approximation of the two-sided pooled-variance
test of two proportions, which is what R ``rpact::getPowerRates(groups = 2, sided = 2)``
computes for a fixed design (reference numbers in ``tests/reference/r/design_power_rates.R``).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from dermsim._validate import check_int, check_range
from dermsim.design.spec import BinomialDesign
from dermsim.errors import InvalidInputError

__all__ = ["compute_power_two_proportions", "compute_sample_size_two_proportions", "sample_binomial_counts"]


def sample_binomial_counts(
    design: BinomialDesign,
    seq: np.random.SeedSequence,
    n_rep: int,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Responders and totals of shape (n_rep, 1, arms) per endpoint, from one block stream."""
    g = np.random.default_rng(seq)
    sizes = np.asarray(design.arm_sizes, dtype=np.int64)
    totals = np.broadcast_to(sizes, (n_rep, 1, sizes.size)).astype(float)
    out = {}
    for ep in sorted(design.rates):  # sorted: the draw order never depends on dict order
        x = g.binomial(sizes[None, :], np.asarray(design.rates[ep])[None, :], size=(n_rep, sizes.size))
        out[ep] = (x[:, None, :].astype(float), totals)
    return out


def compute_power_two_proportions(
    p_treatment: float, p_control: float, n_treatment: int, n_control: int, *, alpha: float = 0.05
) -> float:
    """Power of the two-sided pooled-variance z test (= uncorrected chi-square) by the normal
    approximation: both rejection tails, SE under H0 from the pooled rate, under H1 unpooled."""
    p1 = check_range("p_treatment", p_treatment, 0.0, 1.0)
    p2 = check_range("p_control", p_control, 0.0, 1.0)
    n1 = check_int("n_treatment", n_treatment, minimum=1)
    n2 = check_int("n_control", n_control, minimum=1)
    check_range("alpha", alpha, 0.0, 1.0, low_open=True, high_open=True)
    pbar = (n1 * p1 + n2 * p2) / (n1 + n2)
    s0 = np.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n2))
    s1 = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    if s1 == 0:
        return float(abs(p1 - p2) > 0)
    z = -special.ndtri(alpha / 2)
    d = p1 - p2
    return float(special.ndtr((d - z * s0) / s1) + special.ndtr((-d - z * s0) / s1))


def compute_sample_size_two_proportions(
    p_treatment: float, p_control: float, *, power: float = 0.9, alpha: float = 0.05, allocation: float = 1.0
) -> int:
    """Smallest total N (n_treatment = allocation x n_control) with analytic power >= ``power``."""
    check_range("power", power, 0.0, 1.0, low_open=True, high_open=True)
    check_range("allocation", allocation, 0.0, 1e6, low_open=True)
    lo, hi = 2, 4

    def pw(n_total: int) -> float:
        n2 = max(1, round(n_total / (1 + allocation)))
        n1 = max(1, n_total - n2)
        return compute_power_two_proportions(p_treatment, p_control, n1, n2, alpha=alpha)

    while pw(hi) < power:
        lo, hi = hi, hi * 2
        if hi > 10**9:
            raise InvalidInputError(
                "p_treatment and p_control must differ for a sample size; no N below 1e9 "
                f"reaches power {power:g}."
            )
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if pw(mid) >= power else (mid, hi)
    return hi
