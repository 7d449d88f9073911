"""Covariate-adjusted marginal risk difference from a logistic working model (g-computation).

Fit ``response ~ treatment + covariates`` by maximum likelihood (statsmodels GLM, binomial,
logit link), predict every subject's risk with the treatment set to the active level and to the
control level, average each (standardisation over the observed covariates) and take the
difference. The SE is the delta method of Ge et al. (2011) with the model-based covariance of
the coefficients, which is what SAS ``%Margins`` and R ``beeca::get_marginal_effect(method = "Ge",
type = "model-based")`` report; ``vcov="HC0"`` gives the robust sandwich variant.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import special

from dermsim._validate import check_choice
from dermsim.analysis.proportions import _z
from dermsim.analysis.results import MarginalRiskDifferenceResult
from dermsim.errors import DataValidationError, SolverError

__all__ = ["estimate_marginal_risk_difference"]


def _design(df: pd.DataFrame, covariates: Sequence[str], dataset: str) -> pd.DataFrame:
    parts = []
    for c in covariates:
        s = df[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            parts.append(s.astype(float).rename(c))
        else:
            dummies = pd.get_dummies(s.astype(str), prefix=c, drop_first=True, dtype=float)
            if dummies.shape[1] == 0:
                raise DataValidationError(f"{dataset}: covariate {c} has a single level "
                                          f"({s.iloc[0]!r}); it cannot enter the model.")
            parts.append(dummies)
    return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=df.index)


def estimate_marginal_risk_difference(df: pd.DataFrame, *, response: str, treatment: str,
                                      active: object, control: object,
                                      covariates: Sequence[str] = (), vcov: str = "model",
                                      conf_level: float = 0.95,
                                      dataset: str = "data") -> MarginalRiskDifferenceResult:
    """Marginal risk difference active minus control by g-computation with a delta-method SE.

    ``response`` must be 0/1; records with a missing response, treatment or covariate are left
    out (complete cases), and records of other treatment levels too. Text covariates enter as
    indicator columns (first sorted level as reference).
    """
    check_choice("vcov", vcov, ("model", "HC0"))
    needed = [response, treatment, *covariates]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise DataValidationError(f"{dataset} has no variable {', '.join(missing)}; the logistic model "
                                  f"needs {', '.join(needed)}.")
    d = df.loc[df[treatment].astype(str).isin([str(active), str(control)]), needed].dropna()
    y = pd.to_numeric(d[response], errors="coerce")
    if y.isna().any() or not y.isin([0, 1]).all():
        bad = d.loc[~y.isin([0, 1]), response].iloc[0]
        raise DataValidationError(f"{dataset}: {response} must be 0 or 1 for the logistic model; "
                                  f"got {bad!r}.")
    is_active = (d[treatment].astype(str) == str(active)).to_numpy(dtype=float)
    for level, mask in ((active, is_active == 1), (control, is_active == 0)):
        if not mask.any():
            raise DataValidationError(f"{dataset}: no complete records with {treatment} == {level!r}.")
    cov = _design(d, covariates, dataset)
    x = pd.concat([pd.Series(1.0, index=d.index, name="const"),
                   pd.Series(is_active, index=d.index, name="treatment"), cov], axis=1)
    try:
        fit = sm.GLM(y.to_numpy(dtype=float), x.to_numpy(dtype=float),
                     family=sm.families.Binomial()).fit(cov_type="HC0" if vcov == "HC0" else "nonrobust",
                                                     tol=1e-12, maxiter=200)
    except (np.linalg.LinAlgError, ValueError) as exc:  # pragma: no cover - degenerate data
        raise SolverError(f"{dataset}: the logistic model of {response} did not fit ({exc}).") from exc
    if not fit.converged:
        raise SolverError(f"{dataset}: the logistic model of {response} did not converge "
                          f"(complete separation?).")
    beta = fit.params
    x1 = x.to_numpy(dtype=float).copy()
    x0 = x1.copy()
    x1[:, 1] = 1.0
    x0[:, 1] = 0.0
    p1 = special.expit(x1 @ beta)
    p0 = special.expit(x0 @ beta)
    # d mean(p)/d beta = mean(p (1 - p) x): the delta-method gradient of each standardised risk
    grad = ((p1 * (1 - p1))[:, None] * x1).mean(axis=0) - ((p0 * (1 - p0))[:, None] * x0).mean(axis=0)
    est = float(p1.mean() - p0.mean())
    se = float(np.sqrt(grad @ np.asarray(fit.cov_params()) @ grad))
    z = _z(conf_level)
    stat = est / se
    return MarginalRiskDifferenceResult(
        risk_treatment=float(p1.mean()), risk_control=float(p0.mean()), estimate=est, se=se,
        ci_lower=est - z * se, ci_upper=est + z * se, statistic=stat,
        p_value=float(2 * special.ndtr(-abs(stat))), n=len(d),
        method=f"g-computation logistic, delta method (Ge 2011), {vcov} covariance",
        conf_level=conf_level)
