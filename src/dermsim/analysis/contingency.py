"""Fisher's exact test and Pearson chi-square for two-way tables (scipy, which is right here).

``test_fisher_exact`` covers 2 x 2 (scipy's conditional test, two-sided p as R ``fisher.test``
and SAS ``EXACT FISHER``) and R x C by full enumeration of the tables with the observed margins
(p = total probability of tables no more likely than the observed one, as R ``fisher.test``).
scipy's R x C path is a Monte Carlo permutation test, so the exact enumeration is written here;
it refuses tables with more than ``max_tables`` partial tables rather than run for hours.
``test_chi_square`` is Pearson's X2, with Yates' correction on 2 x 2 tables when asked
(SAS ``CHISQ``: "Chi-Square" and "Continuity Adj. Chi-Square").
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from scipy import special, stats

from dermsim.analysis.results import TestResult
from dermsim.errors import InvalidInputError

__all__ = ["test_chi_square", "test_fisher_exact"]


def _table(table: object) -> np.ndarray:
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] < 2 or t.shape[1] < 2:
        raise InvalidInputError(f"table must be a 2-D array with at least 2 rows and 2 columns; got "
                                f"shape {t.shape}.")
    if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(t != np.round(t)):
        raise InvalidInputError("table must hold whole counts >= 0; got a negative, fractional or "
                                "non-finite value.")
    return t


def _compositions(total: int, parts: int) -> np.ndarray:
    """All vectors of ``parts`` whole numbers >= 0 summing to ``total`` (stars and bars)."""
    if parts == 1:
        return np.array([[total]])
    bars = np.array(list(combinations(range(total + parts - 1), parts - 1)))
    edges = np.concatenate([np.full((len(bars), 1), -1), bars,
                            np.full((len(bars), 1), total + parts - 1)], axis=1)
    return np.diff(edges, axis=1) - 1


def _fisher_rxc_p(t: np.ndarray, max_tables: int) -> tuple[float, float]:
    """Exact R x C Fisher p by column-wise enumeration; returns (p, probability of observed)."""
    rows = t.sum(axis=1).astype(int)
    cols = t.sum(axis=0).astype(int)
    n = int(rows.sum())
    const = special.gammaln(rows + 1).sum() + special.gammaln(cols + 1).sum() - special.gammaln(n + 1)
    log_obs = const - special.gammaln(t + 1).sum()
    caps = rows[None, :]
    acc = np.zeros(1)
    for c in cols[:-1]:
        comp = _compositions(int(c), len(rows))
        ok = np.all(comp[None, :, :] <= caps[:, None, :], axis=2)
        si, ci = np.nonzero(ok)
        if si.size > max_tables:
            raise InvalidInputError(f"table is too large for exact R x C enumeration (over {max_tables} "
                                    f"partial tables); use test_chi_square or a 2 x 2 collapse.")
        caps = caps[si] - comp[ci]
        acc = acc[si] - special.gammaln(comp[ci] + 1).sum(axis=1)
    log_p = const + acc - special.gammaln(caps + 1).sum(axis=1)  # last column is what remains
    # R's relative tolerance 1e-7 for "no more likely than the observed table"
    sel = log_p <= log_obs + np.log1p(1e-7)
    return float(min(1.0, np.exp(log_p[sel]).sum())), float(np.exp(log_obs))


def test_fisher_exact(table: object, *, alternative: str = "two-sided",
                      max_tables: int = 5_000_000) -> TestResult:
    """Fisher's exact test; ``statistic`` is the conditional-free sample odds ratio for 2 x 2
    tables and the probability of the observed table otherwise; ``df`` is NaN (exact test)."""
    t = _table(table)
    # rows or columns with no subjects carry no information and make scipy's R x C path fail
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        return TestResult(statistic=float("nan"), df=float("nan"), p_value=1.0, method="fisher_exact")
    ti = t.astype(np.int64)
    if t.shape == (2, 2):
        res = stats.fisher_exact(ti, alternative=alternative)
    else:
        if alternative != "two-sided":
            raise InvalidInputError(f"alternative must be 'two-sided' for an R x C table; "
                                    f"got {alternative!r}.")
        p, p_obs = _fisher_rxc_p(t, max_tables)
        return TestResult(statistic=p_obs, df=float("nan"), p_value=p, method="fisher_exact")
    return TestResult(statistic=float(res.statistic), df=float("nan"), p_value=float(res.pvalue),
                      method="fisher_exact")


def test_chi_square(table: object, *, correction: bool = False) -> TestResult:
    """Pearson chi-square test of independence; ``correction=True`` applies Yates' continuity
    correction (2 x 2 tables only, as SAS and R ``chisq.test``)."""
    t = _table(table)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        return TestResult(statistic=0.0, df=0.0, p_value=1.0, method="chi_square")
    res = stats.chi2_contingency(t, correction=bool(correction) and t.shape == (2, 2))
    method = "chi_square_yates" if correction and t.shape == (2, 2) else "chi_square"
    return TestResult(statistic=float(res.statistic), df=float(res.dof), p_value=float(res.pvalue),
                      method=method)


test_fisher_exact.__test__ = False  # type: ignore[attr-defined]  # statistics, not pytest tests
test_chi_square.__test__ = False  # type: ignore[attr-defined]
