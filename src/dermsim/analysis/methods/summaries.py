"""Subject-level summaries: populations, demographics, disposition, descriptive and categorical
summaries by visit (SAS PROC MEANS / FREQ layouts)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dermsim.analysis.ancova import test_anova_oneway
from dermsim.analysis.ard import make_rows
from dermsim.analysis.contingency import test_chi_square
from dermsim.analysis.method_base import AnalysisInput, MethodSpec, Rows, group_levels
from dermsim.analysis.methods.common import (
    _as_list,
    _as_text,
    _categorical_rows,
    _continuous_rows,
    _is_numeric,
    _records,
    _variable,
    _visits,
)
from dermsim.analysis.methods.registry import register
from dermsim.errors import DataValidationError


@register("populations", MethodSpec("subject", ("group", "variables"), ()))
def _populations(inp: AnalysisInput) -> Rows:
    spec, df, ctx = inp.spec, inp.data, inp.ctx
    rows: Rows = []
    arms = group_levels(df, spec.group)
    for lv in [*arms, ""]:
        sub = df if lv == "" else df[df[spec.group].astype(str) == lv]
        rows += make_rows(ctx, {"n": len(sub)}, group_level=lv, variable="")
        for flag in spec.variables:
            k = int((sub[flag] == "Y").sum())
            rows += make_rows(ctx, {"count": k, "pct": 100 * k / len(sub) if len(sub) else np.nan},
                              variable=flag, variable_level="Y", group_level=lv)
    return rows


def _anova_rows(inp: AnalysisInput, df: pd.DataFrame, var: str, arms: Sequence[str], visit: str = "") -> Rows:
    vals = pd.to_numeric(df[var], errors="coerce")
    if vals.notna().groupby(df[inp.spec.group].astype(str)).any().sum() < 2:
        return []
    res = test_anova_oneway(vals.to_numpy(float), df[inp.spec.group].astype(str).to_numpy())
    return make_rows(inp.ctx, dict(res.to_ard_rows()), variable=var, visit=visit, method=res.method)


def _chisq_rows(inp: AnalysisInput, df: pd.DataFrame, var: str, visit: str = "") -> Rows:
    ok = (_as_text(df[var]).str.strip() != "").to_numpy()
    tab = pd.crosstab(df.loc[ok, inp.spec.group], _as_text(df.loc[ok, var]))
    if min(tab.shape) < 2:
        return []
    res = test_chi_square(tab.to_numpy(), correction=False)
    return make_rows(inp.ctx, dict(res.to_ard_rows()), variable=var, visit=visit, method=res.method)


@register("demographics", MethodSpec("subject", ("variables", "group"), ("categorical",)))
def _demographics(inp: AnalysisInput) -> Rows:
    spec, df = inp.spec, inp.data
    arms = group_levels(df, spec.group)
    forced = set(_as_list(spec.options.get("categorical")))
    rows: Rows = []
    for var in spec.variables:
        if _is_numeric(df[var]) and var not in forced:
            rows += _continuous_rows(inp, df, var, arms)
            rows += _anova_rows(inp, df, var, arms)
        else:
            rows += _categorical_rows(inp, df, var, arms)
            rows += _chisq_rows(inp, df, var)
    return rows


@register("disposition", MethodSpec("subject", ("group",), ("variables",)))
def _disposition(inp: AnalysisInput) -> Rows:
    df = inp.data
    arms = group_levels(df, inp.spec.group)
    rows: Rows = []
    for var in _as_list(inp.spec.options.get("variables")) or ["EOSSTT", "DCSREAS"]:
        if var not in df.columns:
            raise DataValidationError(f"{inp.dataset_label}: variable {var} is missing (option "
                                      f"'variables' of analysis {inp.spec.id}).")
        rows += _categorical_rows(inp, df, var, arms, count_missing=var != "DCSREAS")
    return rows


@register("descriptive", MethodSpec("continuous", ("group",), ("test",), ("observed", "locf")))
def _descriptive(inp: AnalysisInput) -> Rows:
    arms = group_levels(inp.data, inp.spec.group)
    rows: Rows = []
    variables = list(inp.spec.variables) or [_variable(inp)]
    for visit in _visits(inp):
        df = _records(inp, visit) if visit else inp.data
        for var in variables:
            rows += _continuous_rows(inp, df, var, arms, visit=visit)
            if inp.spec.options.get("test") == "anova":
                rows += _anova_rows(inp, df, var, arms, visit)
    return rows


@register("categorical", MethodSpec("categorical", ("group",), ("test", "levels"), ("observed", "locf")))
def _categorical(inp: AnalysisInput) -> Rows:
    arms = group_levels(inp.data, inp.spec.group)
    rows: Rows = []
    variables = list(inp.spec.variables) or [_variable(inp)]
    for visit in _visits(inp):
        df = _records(inp, visit) if visit else inp.data
        for var in variables:
            rows += _categorical_rows(inp, df, var, arms, visit=visit,
                                      levels=_as_list(inp.spec.options.get("levels")) or None)
            if inp.spec.options.get("test") == "chisq":
                rows += _chisq_rows(inp, df, var, visit)
    return rows
