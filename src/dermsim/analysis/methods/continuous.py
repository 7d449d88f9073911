"""Continuous endpoints: ANCOVA (statistics: :mod:`dermsim.analysis.ancova`) with its dose-response
test and multiple imputation, and MMRM (statistics: :mod:`dermsim.analysis.mmrm`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dermsim.analysis.ancova import AncovaResult, estimate_ancova, estimate_dose_response
from dermsim.analysis.ard import make_rows
from dermsim.analysis.estimands import apply_estimand, pool_rubin, sample_mi_regression
from dermsim.analysis.method_base import AnalysisInput, MethodSpec, Rows, group_levels
from dermsim.analysis.methods.common import (
    _KEY,
    _as_list,
    _blocks,
    _continuous_rows,
    _is_numeric,
    _pairs,
    _records,
    _variable,
    _visits,
)
from dermsim.analysis.methods.registry import register
from dermsim.analysis.mmrm import estimate_mmrm
from dermsim.errors import DataValidationError


def _ancova_terms(inp: AnalysisInput) -> tuple[list[str], list[str]]:
    """(class covariates, numeric covariates): text covariates and those named in option
    ``class_covariates`` are class variables."""
    spec = inp.spec
    declared = _as_list(spec.options.get("class_covariates"))
    classes = [c for c in spec.covariates if c in declared or not _is_numeric(inp.data[c])]
    return classes, [c for c in spec.covariates if c not in classes]


def _ordered_arms(inp: AnalysisInput, df: pd.DataFrame) -> list[str]:
    arms = group_levels(df, inp.spec.group)
    comp = inp.spec.comparator
    return [comp, *[a for a in arms if a != comp]] if comp in arms else arms


def _fit_ancova(inp: AnalysisInput, df: pd.DataFrame, y: str, arms: Sequence[str],
                pairs: Sequence[tuple[str, str]], alpha: float) -> AncovaResult:
    classes, numeric = _ancova_terms(inp)
    data = df.assign(**{inp.spec.group: df[inp.spec.group].astype(str)})
    return estimate_ancova(data, y, inp.spec.group, covariates=numeric, class_covariates=classes,
                           levels=list(arms), pairs=list(pairs) or "none", weights="equal",
                           conf_level=1 - alpha, dataset=inp.dataset_label)


@register("ancova", MethodSpec("continuous", ("variable", "visit", "group"),
                               ("alpha", "pairs", "dose_variable", "class_covariates", "mi_m",
                                "mi_predictors"),
                               ("observed", "locf", "mi")))
def _ancova(inp: AnalysisInput) -> Rows:
    """Per visit: n, mean, SD, median, min, max of BASE, AVAL and the analysed variable by arm;
    ANCOVA (SAS PROC GLM) with LS means (equal weights), differences vs the comparator (all
    pairs with ``pairs = "all"``), Type III tests and slopes; optional dose-response test."""
    spec, ctx = inp.spec, inp.ctx
    y = _variable(inp)
    alpha = float(spec.options.get("alpha", 0.05))
    rows: Rows = []
    for visit in _visits(inp):
        if spec.estimand == "mi":
            rows += _ancova_mi(inp, visit, y, alpha)
            continue
        df = _records(inp, visit).dropna(subset=[y, *spec.covariates])
        arms = _ordered_arms(inp, df)
        for var in dict.fromkeys(v for v in ("BASE", "AVAL", y) if v in df.columns):
            rows += _continuous_rows(inp, df, var, arms, visit=visit, total=False)
        res = _fit_ancova(inp, df, y, arms, _pairs(inp, arms), alpha)
        # n per arm is already a descriptive row of the analysed variable
        rows += _blocks(ctx, res.ard_blocks(), visit=visit, drop=("n",))
        dose = spec.options.get("dose_variable")
        if dose:
            rows += _dose_response(inp, df, y, str(dose), visit, alpha)
    return rows


def _dose_response(inp: AnalysisInput, df: pd.DataFrame, y: str, dose: str, visit: str,
                   alpha: float) -> Rows:
    if dose not in df.columns:
        raise DataValidationError(f"{inp.dataset_label}: variable {dose} is missing (option "
                                  f"'dose_variable' of analysis {inp.spec.id}).")
    classes, numeric = _ancova_terms(inp)
    res = estimate_dose_response(df, y, dose, covariates=numeric, class_covariates=classes,
                                 conf_level=1 - alpha, dataset=inp.dataset_label)
    return make_rows(inp.ctx, dict(res.to_ard_rows()), variable_level=dose, visit=visit,
                     method="ancova_dose_response")


def _ancova_mi(inp: AnalysisInput, visit: str, y: str, alpha: float) -> Rows:
    """Hypothetical strategy: regression MI by arm (predictors: the numeric covariates, or option
    ``mi_predictors``), ANCOVA on every completed set, Rubin's rules with Barnard-Rubin df."""
    spec, ctx, df = inp.spec, inp.ctx, inp.data
    m = int(spec.options.get("mi_m", 20))
    _, numeric = _ancova_terms(inp)
    preds = _as_list(spec.options.get("mi_predictors")) or list(numeric)
    svars = [c for c in dict.fromkeys([_KEY, spec.group, *spec.covariates, *preds]) if c in df.columns]
    subj = df[svars].drop_duplicates(_KEY)
    obs = apply_estimand("observed", df, variable=y, visits=[visit], dataset=inp.dataset_label)
    data = subj.merge(obs[[_KEY, y]], on=_KEY, how="left").dropna(subset=[*spec.covariates, *preds])
    imps = sample_mi_regression(data[y].to_numpy(float), data[preds].to_numpy(float),
                                data[spec.group].astype(str).to_numpy(), m=m, seed=inp.seed)
    arms = _ordered_arms(inp, data)
    pairs = _pairs(inp, arms)
    fits = [_fit_ancova(inp, data.assign(**{y: imps[k]}), y, arms, pairs, alpha) for k in range(m)]
    dfc = float(fits[0].df_error)
    ls = pool_rubin(np.array([[x.estimate for x in f.lsmeans] for f in fits]),
                    np.array([[x.se**2 for x in f.lsmeans] for f in fits]), df_complete=dfc, alpha=alpha)
    rows: Rows = []
    n_arm = data[spec.group].astype(str).value_counts()
    for i, a in enumerate(arms):
        rows += make_rows(ctx, {"n": int(n_arm.get(a, 0)), "lsmean": ls.estimate[i], "lsmean_se": ls.se[i],
                                "ci_lower": ls.ci_lower[i], "ci_upper": ls.ci_upper[i], "df": ls.df[i]},
                          group_level=a, visit=visit, method="ancova_mi_rubin")
    if pairs:
        dd = pool_rubin(np.array([[x.estimate for x in f.differences] for f in fits]),
                        np.array([[x.se**2 for x in f.differences] for f in fits]), df_complete=dfc,
                        alpha=alpha)
        for j, (a, r) in enumerate(pairs):
            rows += make_rows(ctx, {"estimate": dd.estimate[j], "se": dd.se[j], "ci_lower": dd.ci_lower[j],
                                    "ci_upper": dd.ci_upper[j], "statistic": dd.statistic[j],
                                    "df": dd.df[j], "p_value": dd.p_value[j]},
                              group_level=a, comparator=r, visit=visit, method="ancova_mi_rubin")
    return rows


# Mixed model for repeated measures over the plan's visits (observed records, MAR).
@register("mmrm", MethodSpec("continuous", ("variable", "visit", "group"),
                             ("alpha", "class_covariates", "visit_interactions", "covariance", "df_method",
                              "information", "weights", "overall", "type3"), ("observed",)))
def _mmrm(inp: AnalysisInput) -> Rows:
    """Mixed model for repeated measures over the plan's visits on the observed records: group,
    visit, group x visit, the covariates, and covariates x visit named in option
    ``visit_interactions``; covariance ``us`` (default), ``cs``, ``ar1`` or ``toep``; LS means of
    every group at every visit (equal weights) and differences vs the comparator, Kenward-Roger
    by default (option ``df_method``), as SAS PROC MIXED; option ``type3`` adds the Type III F
    tests (``variable_level`` = the term, visit blank)."""
    spec = inp.spec
    y = _variable(inp)
    alpha = float(spec.options.get("alpha", 0.05))
    visits = list(spec.visit)
    df = apply_estimand("observed", inp.data, variable=y, visits=visits, dataset=inp.dataset_label)
    arms = _ordered_arms(inp, df)
    classes, numeric = _ancova_terms(inp)
    res = estimate_mmrm(
        df.assign(**{spec.group: df[spec.group].astype(str)}), y, spec.group, "AVISIT",
        covariates=[*classes, *numeric], class_covariates=classes,
        visit_interactions=_as_list(spec.options.get("visit_interactions")), levels=arms, visits=visits,
        reference=spec.comparator or arms[0], covariance=str(spec.options.get("covariance", "us")),
        df_method=str(spec.options.get("df_method", "kenward_roger")),
        information=str(spec.options.get("information", "observed")),
        weights=str(spec.options.get("weights", "equal")), overall=bool(spec.options.get("overall", False)),
        conf_level=1 - alpha, dataset=inp.dataset_label)
    return _blocks(inp.ctx, res.ard_blocks(type3=bool(spec.options.get("type3", False))))
