"""Fisher's exact test and Pearson chi-square for two-way tables (scipy, which is right here).

``test_fisher_exact`` covers 2 x 2 (scipy's conditional test, two-sided p as R ``fisher.test``
and SAS ``EXACT FISHER``) and R x C by full enumeration of the tables with the observed margins
(p = total probability of tables no more likely than the observed one, as R ``fisher.test``).
scipy's R x C path is a Monte Carlo permutation test, so the exact enumeration is written here;
it refuses tables with more than ``max_tables`` partial tables rather than run for hours.
``test_chi_square`` is Pearson's X2, with Yates' correction on 2 x 2 tables when asked
(SAS ``CHISQ``: "Chi-Square" and "Continuity Adj. Chi-Square"). ``test_trend`` is the
Cochran-Armitage test for a trend in proportions over ordered groups (SAS ``TREND``), e.g.
vehicle, 0.75 % and 1.5 % cream.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from scipy import special, stats

from dermsim.analysis.results import TestResult
from dermsim.errors import InvalidInputError

__all__ = ["test_chi_square", "test_fisher_exact", "test_trend"]


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


def _merge(caps: np.ndarray, acc: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, ...]:
    """Merge partial tables whose remaining row totals agree as a multiset (rows are exchangeable
    for what is left to fill) and whose partial log-probabilities agree to 1e-9, adding counts."""
    caps = np.sort(caps, axis=1)
    key = np.column_stack([caps, np.round(acc * 1e9)])
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return caps[first], acc[first], np.bincount(inverse.ravel(), weights=count, minlength=len(first))


def _fisher_rxc_p(t: np.ndarray, max_tables: int) -> tuple[float, float]:
    """Exact R x C Fisher p by column-wise enumeration; returns (p, probability of observed).

    The network idea of Mehta & Patel (R's FEXACT) without its bounds: partial tables are merged
    after each column (see :func:`_merge`); the last free column is summed chunk by chunk without
    being stored. ``max_tables`` bounds the number of (partial table, column filling) pairs.
    """
    rows = t.sum(axis=1).astype(int)
    cols = np.sort(t.sum(axis=0).astype(int))
    n = int(rows.sum())
    const = special.gammaln(rows + 1).sum() + special.gammaln(cols + 1).sum() - special.gammaln(n + 1)
    log_obs = const - special.gammaln(t + 1).sum()
    threshold = log_obs + np.log1p(1e-7)  # R's relative tolerance for "no more likely"
    caps = np.sort(rows)[None, :]
    acc = np.zeros(1)
    count = np.ones(1)
    work = 0
    free = cols[:-1]
    for j, c in enumerate(free):
        comp = _compositions(int(c), len(rows))
        lg_comp = special.gammaln(comp + 1).sum(axis=1)
        work += len(caps) * len(comp)
        if work > max_tables:
            raise InvalidInputError(f"table is too large for exact R x C enumeration (over {max_tables} "
                                    f"partial tables); use test_chi_square or a 2 x 2 collapse.")
        chunk = max(1, 2_000_000 // len(comp))
        last = j == len(free) - 1
        parts = []
        stored = 0
        p_sum = 0.0
        for start in range(0, len(caps), chunk):
            cs = caps[start:start + chunk]
            si, ci = np.nonzero(np.all(comp[None, :, :] <= cs[:, None, :], axis=2))
            new_caps = cs[si] - comp[ci]
            new_acc = acc[start:start + chunk][si] - lg_comp[ci]
            new_count = count[start:start + chunk][si]
            if last:  # the last column is what remains: complete the tables and sum
                log_p = const + new_acc - special.gammaln(new_caps + 1).sum(axis=1)
                sel = log_p <= threshold
                p_sum += float((new_count[sel] * np.exp(log_p[sel])).sum())
            else:
                parts.append(_merge(new_caps, new_acc, new_count))
                stored += len(parts[-1][0])
                if stored > max_tables // 20:  # memory: partial tables kept for the next column
                    raise InvalidInputError(f"table is too large for exact R x C enumeration (over "
                                            f"{max_tables // 20} partial tables kept); use "
                                            f"test_chi_square or a 2 x 2 collapse.")
        if last:
            return min(1.0, p_sum), float(np.exp(log_obs))
        caps, acc, count = _merge(*(np.concatenate([q[k] for q in parts]) for k in range(3)))
    raise AssertionError("unreachable: a table has at least two columns")  # pragma: no cover


def test_fisher_exact(table: object, *, alternative: str = "two-sided",
                      max_tables: int = 50_000_000) -> TestResult:
    """Fisher's exact test; ``statistic`` is the sample odds ratio (as scipy) for 2 x 2
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


def test_trend(responders: object, totals: object, scores: object | None = None) -> TestResult:
    """Cochran-Armitage trend test of responder proportions over ordered groups (SAS ``TREND``:
    ``Z = sum_i x_i (s_i - s_bar) / sqrt(p (1 - p) sum_i n_i (s_i - s_bar)^2)``, two-sided p;
    ``statistic`` is Z, ``df`` is NaN). Scores default to 1, 2, ... (table scores)."""
    x = np.asarray(responders, dtype=float)
    n = np.asarray(totals, dtype=float)
    if x.ndim != 1 or x.shape != n.shape or x.size < 2:
        raise InvalidInputError(f"responders and totals must be 1-D arrays over at least 2 groups; got "
                                f"shapes {x.shape} and {n.shape}.")
    if np.any(x < 0) or np.any(x > n) or np.any(n <= 0):
        raise InvalidInputError("responders must be within [0, totals] and totals > 0 in every group.")
    s = np.arange(1.0, x.size + 1) if scores is None else np.asarray(scores, dtype=float)
    if s.shape != x.shape:
        raise InvalidInputError(f"scores must have one value per group ({x.size}); got {s.size}.")
    big_n = n.sum()
    p = x.sum() / big_n
    s_bar = (n * s).sum() / big_n
    var = p * (1 - p) * (n * (s - s_bar) ** 2).sum()
    z = float((x * (s - s_bar)).sum() / np.sqrt(var)) if var > 0 else float("nan")
    return TestResult(statistic=z, df=float("nan"), p_value=float(2 * special.ndtr(-abs(z))),
                      method="cochran_armitage")


test_trend.__test__ = False
test_fisher_exact.__test__ = False  # statistics, not pytest tests
test_chi_square.__test__ = False
