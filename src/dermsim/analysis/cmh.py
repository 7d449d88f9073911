"""Generalized Cochran-Mantel-Haenszel statistics for R x C x K tables, as SAS PROC FREQ ``CMH``.

For stratum h with table ``n_h`` (R x C), row proportions ``p_r``, column proportions ``p_c`` and
total ``N_h``, the expected table is ``N_h p_r p_c'`` and, under conditional independence,
``Cov(vec n_h) = N_h^2 / (N_h - 1) (D(p_r) - p_r p_r') (x) (D(p_c) - p_c p_c')``. With
``B = R (x) C`` the statistic is ``Q = G' (sum_h B V_h B')^-1 G``, ``G = sum_h B (n_h - m_h)``:

* nonzero correlation: ``R`` = row scores', ``C`` = column scores' (df 1);
* row mean scores differ: ``R = [I_{R-1}, 0]``, ``C`` = column scores' (df R - 1);
* general association: ``R = [I_{R-1}, 0]``, ``C = [I_{C-1}, 0]`` (df (R - 1)(C - 1)).

Sums run over strata before the inverse, so sparse strata (a stratum lacking some rows or columns)
just contribute less; strata with fewer than two subjects have no variance and are left out, as in
SAS. Scores (SAS ``SCORES=``): ``table`` (default; numeric levels score as their values, text
levels 1, 2, ... in sorted order), or the rank-type ``rank`` (midranks), ``ridit`` (midrank / N_h)
and ``modridit`` (midrank / (N_h + 1)), computed within each stratum from its margins; with
``modridit`` the row mean scores statistic is the van Elteren test.
The core works on arrays of tables with any leading shape (``(..., K, R, C)``), so the batched
module reuses it. Written here because statsmodels' ``StratifiedTable`` covers 2 x 2 x K only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from dermsim._validate import check_choice
from dermsim.analysis.results import CMHResult, TestResult
from dermsim.errors import DataValidationError, InvalidInputError, NotEstimableError

__all__ = ["SCORE_TYPES", "compute_cmh_statistics", "crosstab_strata", "rank_scores", "table_scores",
           "test_cmh", "test_cmh_frame"]

SCORE_TYPES = ("table", "rank", "ridit", "modridit")


def table_scores(levels: Sequence[object]) -> np.ndarray:
    """SAS table scores: the numeric values of numeric levels, else 1, 2, ... in the given order."""
    try:
        return np.array([float(v) for v in levels], dtype=float)
    except (TypeError, ValueError):
        return np.arange(1.0, len(levels) + 1.0)


def rank_scores(margins: np.ndarray, kind: str = "rank") -> np.ndarray:
    """Rank-type scores of the levels from their counts (last axis), per stratum: midranks,
    ridits (midrank / N) or modified ridits (midrank / (N + 1)), as SAS ``SCORES=``."""
    check_choice("scores", kind, SCORE_TYPES[1:])
    m = np.asarray(margins, dtype=float)
    midrank = np.cumsum(m, axis=-1) - m + (m + 1.0) / 2.0
    total = m.sum(axis=-1, keepdims=True)
    if kind == "ridit":
        return midrank / np.where(total > 0, total, 1.0)
    if kind == "modridit":
        return midrank / (total + 1.0)
    return midrank


def _quad(g: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``g' v^-1 g`` and the rank of ``v`` for stacks of vectors/matrices; a singular ``v`` (a level
    absent from every stratum) falls back to the pseudo-inverse with df = rank, as SAS does."""
    m = v.shape[-1]
    if m == 1:  # 2 x 2 tables and binary rows: a plain ratio, no linear algebra per trial
        var = v[..., 0, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(var > 0, g[..., 0] ** 2 / var, np.nan)
        return q, np.ones(q.shape)
    try:
        sol = np.linalg.solve(v, g[..., None])[..., 0]
        q = np.einsum("...i,...i->...", g, sol)
        rank = np.full(q.shape, m, dtype=float)
        cond_ok = np.linalg.cond(v) < 1e12
        if np.all(cond_ok):
            return q, rank
    except np.linalg.LinAlgError:
        pass
    pinv = np.linalg.pinv(v, rcond=1e-10, hermitian=True)
    q = np.einsum("...i,...ij,...j->...", g, pinv, g)
    rank = np.linalg.matrix_rank(v, rtol=1e-10, hermitian=True).astype(float)
    return q, rank


def compute_cmh_statistics(tables: np.ndarray, *, row_scores: np.ndarray | None = None,
                           col_scores: np.ndarray | None = None) -> dict[str, dict[str, np.ndarray]]:
    """The three CMH statistics for tables of shape ``(..., K, R, C)`` (K strata).

    Returns ``{"correlation" | "row_mean_scores" | "general_association": {"statistic", "df",
    "p_value"}}``, each an array of the leading shape. Scores default to 1..R and 1..C.
    """
    t = np.asarray(tables, dtype=float)
    if t.ndim < 3:
        raise InvalidInputError(f"tables must have shape (..., strata, rows, columns); got shape {t.shape}.")
    n_rows, n_cols = t.shape[-2], t.shape[-1]
    if n_rows < 2 or n_cols < 2:
        raise InvalidInputError(f"tables must have at least 2 rows and 2 columns; got {n_rows} x {n_cols}.")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise InvalidInputError("tables must hold counts >= 0; got a negative or non-finite value.")
    a = np.arange(1.0, n_cols + 1) if col_scores is None else np.asarray(col_scores, dtype=float)
    c = np.arange(1.0, n_rows + 1) if row_scores is None else np.asarray(row_scores, dtype=float)
    if a.shape[-1:] != (n_cols,) or c.shape[-1:] != (n_rows,):
        raise InvalidInputError(f"row_scores and col_scores must have {n_rows} and {n_cols} values; got "
                                f"{c.shape[-1]} and {a.shape[-1]}.")
    # scores may differ by stratum (rank-type scores): broadcast to (..., K, levels)
    a = np.broadcast_to(a, (*t.shape[:-2], n_cols))
    c = np.broadcast_to(c, (*t.shape[:-2], n_rows))

    big_n = t.sum(axis=(-2, -1))
    used = big_n > 1
    safe_n = np.where(used, big_n, 2.0)
    pr = t.sum(axis=-1) / safe_n[..., None]
    pc = t.sum(axis=-2) / safe_n[..., None]
    dev = t - safe_n[..., None, None] * pr[..., :, None] * pc[..., None, :]
    k = np.where(used, safe_n ** 2 / (safe_n - 1.0), 0.0)
    dev = dev * used[..., None, None]
    a_r = np.einsum("...i,ij->...ij", pr, np.eye(n_rows)) - pr[..., :, None] * pr[..., None, :]
    a_c = np.einsum("...i,ij->...ij", pc, np.eye(n_cols)) - pc[..., :, None] * pc[..., None, :]

    # column-score variance a' A_c a and row-score variance c' A_r c, per stratum
    va = np.einsum("...i,...ij,...j->...", a, a_c, a)
    vc = np.einsum("...i,...ij,...j->...", c, a_r, c)

    g_cor = np.einsum("...ki,...kij,...kj->...", c, dev, a)
    v_cor = (k * vc * va).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        q_cor = np.where(v_cor > 0, g_cor ** 2 / v_cor, np.nan)
    df_cor = np.ones_like(q_cor)

    r1 = n_rows - 1
    g_rms = np.einsum("...kij,...kj->...i", dev[..., :r1, :], a)
    v_rms = np.einsum("...k,...kij->...ij", k * va, a_r[..., :r1, :r1])
    q_rms, df_rms = _quad(g_rms, v_rms)

    c1 = n_cols - 1
    g_ga = dev[..., :r1, :c1].sum(axis=-3).reshape(*dev.shape[:-3], r1 * c1)
    kron = (a_r[..., :r1, None, :r1, None] * a_c[..., None, :c1, None, :c1])
    v_ga = np.einsum("...k,...kabcd->...abcd", k, kron).reshape(*dev.shape[:-3], r1 * c1, r1 * c1)
    q_ga, df_ga = _quad(g_ga, v_ga)

    out = {}
    for name, q, df in (("correlation", q_cor, df_cor), ("row_mean_scores", q_rms, df_rms),
                        ("general_association", q_ga, df_ga)):
        out[name] = {"statistic": q, "df": df, "p_value": stats.chi2.sf(q, df)}
    return out


def test_cmh(tables: np.ndarray, *, row_scores: Sequence[float] | None = None,
             col_scores: Sequence[float] | None = None) -> CMHResult:
    """CMH statistics for one stratified table, shape ``(strata, rows, columns)``; scores are
    ``(levels,)`` or per stratum ``(strata, levels)``."""
    t = np.asarray(tables, dtype=float)
    if t.ndim != 3:
        raise InvalidInputError(f"tables must have shape (strata, rows, columns); got shape {t.shape}.")
    r = compute_cmh_statistics(t, row_scores=None if row_scores is None else np.asarray(row_scores),
                               col_scores=None if col_scores is None else np.asarray(col_scores))
    tests = {name: TestResult(statistic=float(v["statistic"]), df=float(v["df"]),
                              p_value=float(v["p_value"]), method=f"cmh_{name}")
             for name, v in r.items()}
    return CMHResult(n_strata_used=int(np.sum(t.sum(axis=(1, 2)) > 1)), **tests)


test_cmh.__test__ = False  # a statistic, not a pytest test


def _sorted_levels(s: pd.Series) -> list[Any]:
    vals = s.dropna().unique()
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return sorted(vals.tolist())
    return sorted(map(str, vals))


def crosstab_strata(df: pd.DataFrame, *, row: str, col: str, strata: str | Sequence[str] | None = None,
                    dataset: str = "data") -> tuple[np.ndarray, list[Any], list[Any], list[str]]:
    """Counts array ``(strata, rows, columns)`` from subject records, with the sorted row, column and
    stratum levels (SAS ``ORDER=INTERNAL``: numeric by value, text alphabetically). Records with a
    missing row, column or stratum value are left out, as SAS does."""
    strata_cols = [] if strata is None else ([strata] if isinstance(strata, str) else list(strata))
    for v in (row, col, *strata_cols):
        if v not in df.columns:
            raise DataValidationError(f"{dataset} has no variable {v}; the CMH analysis needs "
                                      f"{', '.join([row, col, *strata_cols])}.")
    d = df.dropna(subset=[row, col, *strata_cols])
    if d.empty:
        raise DataValidationError(f"{dataset} has no records with {row}, {col} and strata all present.")
    rows, cols = _sorted_levels(d[row]), _sorted_levels(d[col])
    key_r = d[row] if pd.api.types.is_numeric_dtype(d[row]) else d[row].astype(str)
    key_c = d[col] if pd.api.types.is_numeric_dtype(d[col]) else d[col].astype(str)
    if strata_cols:
        skey = d[strata_cols].astype(str).agg(" / ".join, axis=1)
        slevels: list[str] = sorted(skey.unique())
    else:
        skey = pd.Series("", index=d.index)
        slevels = [""]
    ri = pd.Categorical(key_r, categories=rows).codes
    ci = pd.Categorical(key_c, categories=cols).codes
    si = pd.Categorical(skey, categories=slevels).codes
    t = np.zeros((len(slevels), len(rows), len(cols)))
    np.add.at(t, (si, ri, ci), 1.0)
    return t, rows, cols, slevels


def test_cmh_frame(df: pd.DataFrame, *, row: str, col: str, strata: str | Sequence[str] | None = None,
                   scores: str = "table", dataset: str = "data") -> CMHResult:
    """SAS ``tables strata*row*col / cmh scores=...`` on subject records (table scores by default)."""
    check_choice("scores", scores, SCORE_TYPES)
    t, rows, cols, _ = crosstab_strata(df, row=row, col=col, strata=strata, dataset=dataset)
    if len(rows) < 2 or len(cols) < 2:
        raise NotEstimableError(f"{dataset}: the CMH analysis needs at least 2 levels of {row} and of "
                                  f"{col}; got {len(rows)} and {len(cols)}.")
    if scores == "table":
        return test_cmh(t, row_scores=table_scores(rows), col_scores=table_scores(cols))
    return test_cmh(t, row_scores=rank_scores(t.sum(axis=2), scores),
                    col_scores=rank_scores(t.sum(axis=1), scores))


test_cmh_frame.__test__ = False
