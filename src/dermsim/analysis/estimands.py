"""ICH E9(R1) estimand strategies for intercurrent events and missing data, declared per analysis.

* ``observed`` (observed cases): records actually observed at the visit (``DTYPE`` blank).
* ``composite_nri`` (composite strategy, binary endpoints): every subject of the population gets a
  value at the visit; a missing value, or a value after an intercurrent event (a record flagged
  ``ice_flag == "Y"``), counts as non-response (non-responder imputation, ``DTYPE = "NRI"``).
* ``locf``: the last post-baseline observation at or before the visit is carried forward
  (``DTYPE = "LOCF"`` where the visit itself was missing). Imputed records already present in the
  data (``DTYPE`` not blank) are ignored and derived again, so the rule is the one stated here.
* ``mi`` (hypothetical strategy, continuous endpoints): Bayesian linear-regression multiple
  imputation within each arm (Rubin 1987, the ``norm`` method of R ``mice``), ``m`` completed data
  sets from one ``seed``; estimates are combined with Rubin's rules and Barnard-Rubin degrees of
  freedom by :func:`pool_rubin` (as R ``mice::pool``).

Everything works on long BDS frames (one record per subject, parameter and visit) and is
vectorized over subjects; loops run only over visits, arms or imputations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dermsim._rng import SeedLike, as_generator
from dermsim._validate import check_int, check_range
from dermsim.analysis.results import _Result
from dermsim.errors import DataValidationError, InvalidInputError

__all__ = [
    "RubinPooled",
    "apply_estimand",
    "impute_locf",
    "impute_nri",
    "pool_rubin",
    "sample_mi_regression",
    "select_observed",
]

_KEY = "USUBJID"


def _observed_only(records: pd.DataFrame, dtype_var: str) -> pd.DataFrame:
    if dtype_var in records.columns:
        dt = records[dtype_var]
        return records[dt.isna() | (dt.astype(str).str.strip() == "")]
    return records


def _present(values: pd.Series) -> pd.Series:
    """Non-missing: not NaN, and for text not blank (a SAS blank is a missing character value)."""
    ok = values.notna()
    if values.dtype == object:
        ok &= values.astype(str).str.strip() != ""
    return ok


def _require(records: pd.DataFrame, names: Sequence[str], dataset: str) -> None:
    for n in names:
        if n not in records.columns:
            raise DataValidationError(f"{dataset}: variable {n} is required by the estimand but missing.")


def _check_unique(out: pd.DataFrame, dataset: str, visit_var: str) -> None:
    dup = out.duplicated([_KEY, visit_var], keep=False)
    if dup.any():
        first = out.loc[dup, [_KEY, visit_var]].iloc[0]
        n = int(((out[_KEY] == first[_KEY]) & (out[visit_var] == first[visit_var])).sum())
        raise DataValidationError(
            f"{dataset} has {n} records for USUBJID {first[_KEY]} at {visit_var} {first[visit_var]!r}; "
            "one record per subject and visit is needed (select one with the population filter, "
            "e.g. ANL01FL == \"Y\").")


def select_observed(records: pd.DataFrame, *, variable: str, visits: Sequence[str],
                    visit_var: str = "AVISIT", dtype_var: str = "DTYPE",
                    dataset: str = "data") -> pd.DataFrame:
    """Observed cases: records at ``visits`` with a non-missing ``variable`` and blank ``DTYPE``."""
    _require(records, [_KEY, variable, visit_var], dataset)
    obs = _observed_only(records, dtype_var)
    out = obs[obs[visit_var].isin(list(visits)) & _present(obs[variable])].copy()
    _check_unique(out, dataset, visit_var)
    return out


def impute_locf(records: pd.DataFrame, *, variable: str, visits: Sequence[str],
                visit_var: str = "AVISIT", visitnum_var: str = "AVISITN", dtype_var: str = "DTYPE",
                baseline_visitnum: float = 0.0, dataset: str = "data") -> pd.DataFrame:
    """Last observation carried forward to each of ``visits``, from post-baseline observations.

    For every target visit, each subject's latest observed record with ``visitnum_var`` above
    ``baseline_visitnum`` and at most the target's number is taken and relabelled to the target
    visit; it gets ``DTYPE = "LOCF"`` when it came from an earlier visit.
    """
    _require(records, [_KEY, variable, visit_var, visitnum_var], dataset)
    obs = _observed_only(records, dtype_var)
    obs = obs[_present(obs[variable]) & (obs[visitnum_var] > baseline_visitnum)]
    _check_unique(obs, dataset, visit_var)
    obs = obs.sort_values([_KEY, visitnum_var], kind="stable")
    vmap = (records[[visit_var, visitnum_var]].dropna().drop_duplicates(visit_var)
            .set_index(visit_var)[visitnum_var])
    parts = []
    for v in visits:
        if v not in vmap.index:
            raise DataValidationError(f"{dataset}: visit {v!r} ({visit_var}) has no records.")
        target = float(vmap[v])
        last = obs[obs[visitnum_var] <= target].groupby(_KEY, sort=False).tail(1).copy()
        carried = last[visitnum_var].to_numpy(dtype=float) < target
        last[visit_var] = v
        last[visitnum_var] = target
        dtype = last[dtype_var].astype(object) if dtype_var in last.columns else pd.Series(
            np.nan, index=last.index, dtype=object)
        last[dtype_var] = np.where(carried, "LOCF", dtype)
        parts.append(last)
    return pd.concat(parts, ignore_index=True) if parts else obs.iloc[:0].copy()


def impute_nri(records: pd.DataFrame, subjects: pd.DataFrame, *, variable: str,
               visits: Sequence[str], nonresponse: object | None = None,
               visit_var: str = "AVISIT", dtype_var: str = "DTYPE", ice_flag: str | None = None,
               dataset: str = "data") -> pd.DataFrame:
    """Composite strategy with non-responder imputation for a binary endpoint.

    ``subjects`` holds one row per subject of the population (``USUBJID`` plus subject-level
    variables such as the arm and strata). Every subject gets one record per visit; a missing
    value, a missing record or a record with ``ice_flag == "Y"`` becomes ``nonresponse`` (0 for a
    numeric variable, ``"N"`` otherwise) with ``DTYPE = "NRI"``.
    """
    _require(records, [_KEY, variable, visit_var], dataset)
    if subjects[_KEY].duplicated().any():
        dup = subjects.loc[subjects[_KEY].duplicated(), _KEY].iloc[0]
        raise DataValidationError(f"population subjects hold USUBJID {dup} twice.")
    if nonresponse is None:
        nonresponse = 0 if pd.api.types.is_numeric_dtype(records[variable]) else "N"
    obs = _observed_only(records, dtype_var)
    obs = obs[obs[visit_var].isin(list(visits))]
    _check_unique(obs, dataset, visit_var)
    keep = [c for c in obs.columns if c not in subjects.columns or c == _KEY]
    grid = subjects.merge(pd.DataFrame({visit_var: list(visits)}), how="cross")
    out = grid.merge(obs[keep], on=[_KEY, visit_var], how="left", validate="one_to_one")
    fail = ~_present(out[variable]).to_numpy()
    if ice_flag is not None:
        if ice_flag not in out.columns:
            raise DataValidationError(f"{dataset}: variable {ice_flag} (ice_flag) is missing.")
        fail |= (out[ice_flag] == "Y").to_numpy()
    values = out[variable].astype(object).where(~fail, nonresponse)
    out[variable] = values.infer_objects()
    prev = out[dtype_var] if dtype_var in out.columns else pd.Series(np.nan, index=out.index, dtype=object)
    out[dtype_var] = np.where(fail, "NRI", prev.astype(object))
    return out


def sample_mi_regression(y: np.ndarray, predictors: np.ndarray, group: np.ndarray, *, m: int,
                         seed: SeedLike) -> np.ndarray:
    """Multiple imputation of a continuous ``y`` by Bayesian linear regression within each group.

    For each group, the regression of ``y`` on ``predictors`` (an intercept is added) is fitted on
    the observed rows; each imputation draws sigma^2 from its scaled inverse chi-square posterior
    and beta from N(beta_hat, sigma^2 (X'X)^-1), then fills each missing y with X beta + sigma z
    (Rubin 1987, p. 167; R ``mice.impute.norm``). Returns an (m, n) array: observed values are
    repeated, missing ones imputed. All ``m`` draws are made at once.
    """
    m = check_int("m", m, minimum=2)
    y = np.asarray(y, dtype=float)
    x = np.asarray(predictors, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    group = np.asarray(group)
    n = y.shape[0]
    if x.shape[0] != n or group.shape[0] != n:
        raise InvalidInputError(f"predictors and group must have {n} rows like y; got {x.shape[0]} "
                                f"and {group.shape[0]}.")
    if not np.all(np.isfinite(x)):
        raise InvalidInputError("predictors must be complete (no missing values) for regression MI; "
                                "got NaN.")
    rng = as_generator(seed)
    out = np.repeat(y[None, :], m, axis=0)
    design = np.column_stack([np.ones(n), x])
    p = design.shape[1]
    for g in pd.unique(group):
        in_g = group == g
        obs = in_g & np.isfinite(y)
        mis = in_g & ~np.isfinite(y)
        if not mis.any():
            continue
        n_obs = int(obs.sum())
        if n_obs <= p:
            raise DataValidationError(
                f"group {g!r}: {n_obs} observed values cannot support a regression with {p} "
                "coefficients for multiple imputation.")
        xo, yo = design[obs], y[obs]
        xtx_inv = np.linalg.inv(xo.T @ xo)
        beta_hat = xtx_inv @ xo.T @ yo
        resid = yo - xo @ beta_hat
        df = n_obs - p
        sigma = np.sqrt(resid @ resid / rng.chisquare(df, size=m))                     # (m,)
        chol = np.linalg.cholesky(xtx_inv)
        beta = beta_hat[None, :] + sigma[:, None] * (rng.standard_normal((m, p)) @ chol.T)  # (m, p)
        xm = design[mis]
        draws = beta @ xm.T + sigma[:, None] * rng.standard_normal((m, xm.shape[0]))
        out[:, mis] = draws
    return out


@dataclass(frozen=True)
class RubinPooled(_Result):
    """Rubin's rules for ``k`` parameters from ``m`` imputations (arrays of shape (k,))."""

    estimate: np.ndarray
    se: np.ndarray
    df: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    within_var: np.ndarray
    between_var: np.ndarray
    total_var: np.ndarray
    riv: np.ndarray
    lambda_: np.ndarray
    fmi: np.ndarray
    m: int


def pool_rubin(estimates: np.ndarray, variances: np.ndarray, *, df_complete: float = np.inf,
               alpha: float = 0.05) -> RubinPooled:
    """Combine ``m`` estimates and their squared standard errors with Rubin's rules.

    ``estimates`` and ``variances`` have shape (m,) or (m, k). Total variance
    T = Ubar + (1 + 1/m) B; degrees of freedom by Barnard and Rubin (1999) with the complete-data
    ``df_complete`` (infinite gives Rubin's 1987 df); lambda is floored at 1e-4 and the fraction of
    missing information is (r + 2/(df + 3)) / (r + 1), both as in R ``mice::pool``.
    """
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    if q.ndim == 1:
        q, u = q[:, None], u[:, None]
    if q.shape != u.shape:
        raise InvalidInputError(f"variances must have the shape of estimates {q.shape}; got {u.shape}.")
    m = q.shape[0]
    if m < 2:
        raise InvalidInputError(f"estimates must come from m >= 2 imputations; got m = {m}.")
    if not (np.all(np.isfinite(q)) and np.all(np.isfinite(u)) and np.all(u >= 0)):
        raise InvalidInputError("estimates and variances must be finite, variances >= 0; got otherwise.")
    check_range("alpha", alpha, 0, 1, low_open=True, high_open=True)
    qbar = q.mean(axis=0)
    ubar = u.mean(axis=0)
    b = q.var(axis=0, ddof=1)
    t = ubar + (1 + 1 / m) * b
    with np.errstate(divide="ignore", invalid="ignore"):
        riv = (1 + 1 / m) * b / ubar
    lam = np.maximum((1 + 1 / m) * b / t, 1e-4)
    df_old = (m - 1) / lam**2
    if np.isinf(df_complete):
        df = df_old
    else:
        df_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
        df = df_old * df_obs / (df_old + df_obs)
    fmi = (riv + 2 / (df + 3)) / (riv + 1)
    se = np.sqrt(t)
    tq = stats.t.ppf(1 - alpha / 2, df)
    stat = qbar / se
    p = 2 * stats.t.sf(np.abs(stat), df)
    return RubinPooled(estimate=qbar, se=se, df=df, ci_lower=qbar - tq * se, ci_upper=qbar + tq * se,
                       statistic=stat, p_value=p, within_var=ubar, between_var=b, total_var=t,
                       riv=riv, lambda_=lam, fmi=fmi, m=m)


def apply_estimand(strategy: str, records: pd.DataFrame, *, variable: str, visits: Sequence[str],
                   subjects: pd.DataFrame | None = None, ice_flag: str | None = None,
                   dataset: str = "data") -> pd.DataFrame:
    """Analysis records at ``visits`` under a single-value strategy (``observed``, ``locf``,
    ``composite_nri``). Multiple imputation (``mi``) is run by the analysis method, which needs
    the model; see :func:`sample_mi_regression` and :func:`pool_rubin`."""
    if strategy == "observed":
        return select_observed(records, variable=variable, visits=visits, dataset=dataset)
    if strategy == "locf":
        return impute_locf(records, variable=variable, visits=visits, dataset=dataset)
    if strategy == "composite_nri":
        if subjects is None:
            raise InvalidInputError("subjects (one row per subject of the population) are required "
                                    "by the composite strategy.")
        return impute_nri(records, subjects, variable=variable, visits=visits, ice_flag=ice_flag,
                          dataset=dataset)
    raise InvalidInputError(f"strategy must be one of observed, locf, composite_nri; got {strategy!r}.")
