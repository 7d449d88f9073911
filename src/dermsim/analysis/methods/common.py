"""Helpers shared by the analysis methods: records at a visit under the estimand, group levels and
comparison pairs, and the descriptive count and summary rows several methods report."""

from __future__ import annotations

import contextvars
import itertools
from collections.abc import Sequence

import pandas as pd

from dermsim.analysis.ard import make_rows
from dermsim.analysis.descriptive import estimate_counts_by_group, estimate_summary_by_group
from dermsim.analysis.estimands import apply_estimand
from dermsim.analysis.method_base import ORDER_VARS, AnalysisInput, Rows, group_levels
from dermsim.errors import DataValidationError

_KEY = "USUBJID"


def _blocks(ctx, blocks, *, visit: str = "", drop: Sequence[str] = ()) -> Rows:
    """ARD rows from a result's ``ard_blocks()`` (columns, pairs), at ``visit``."""
    rows: Rows = []
    for cols, pairs in blocks:
        kept = {k: v for k, v in pairs if k not in drop}
        if kept:
            rows += make_rows(ctx, kept, visit=cols.get("visit", visit),
                              **{k: v for k, v in cols.items() if k != "visit"})
    return rows


def _visits(inp: AnalysisInput) -> list[str]:
    return list(inp.spec.visit) or [""]


def _records(inp: AnalysisInput, visit: str, *, strategy: str | None = None) -> pd.DataFrame:
    """Analysis records at ``visit`` under the declared estimand (one per subject)."""
    spec = inp.spec
    df = inp.data
    if not visit:
        return df
    strategy = strategy or spec.estimand or "observed"
    subjects = None
    if strategy == "composite_nri":
        subjects = _population_subjects(inp)
    ice = spec.options.get("ice_flag")
    return apply_estimand(strategy, df, variable=_variable(inp), visits=[visit], subjects=subjects,
                          ice_flag=str(ice) if ice else None, dataset=inp.dataset_label)


def _population_subjects(inp: AnalysisInput) -> pd.DataFrame:
    """Every subject of the population, one row each, for the composite strategy: from ADSL when
    the population filter, group and strata are ADSL variables (so that a subject without any
    record of the parameter still counts, as a non-responder), else from the analysis records."""
    spec = inp.spec
    svars = [c for c in dict.fromkeys([_KEY, spec.group, *spec.strata, *spec.covariates]) if c]
    adsl = inp.datasets.get("adsl")
    pop = spec.population_filter
    if (adsl is not None and spec.dataset != "adsl" and set(pop.names) <= set(adsl.columns)
            and {_KEY, spec.group, *spec.strata} <= set(adsl.columns)):
        return adsl.loc[pop.mask(adsl), [c for c in svars if c in adsl.columns]]
    return inp.data[[c for c in svars if c in inp.data.columns]].drop_duplicates(_KEY)


def _variable(inp: AnalysisInput) -> str:
    return inp.spec.variable or "AVAL"


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _levels_text(s: pd.Series) -> list[str]:
    vals = s.dropna()
    if _is_numeric(vals):
        return [_num_text(v) for v in sorted(vals.unique())]
    return sorted(v for v in vals.astype(str).unique() if v.strip() != "")


def _num_text(v: object) -> str:
    f = float(v)
    return str(int(f)) if f.is_integer() else repr(f)


def _as_text(s: pd.Series) -> pd.Series:
    if _is_numeric(s):
        return s.map(lambda v: "" if pd.isna(v) else _num_text(v))
    return s.fillna("").astype(str)


# levels a group variable can take beyond the data (run_plan's group_levels: a simulated trial's arms)
KNOWN_LEVELS: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("known_levels",
                                                                             default=frozenset())


def _all_levels(inp: AnalysisInput) -> set[str]:
    """Every level of the group variable in the analysis dataset and in ADSL (before any filter),
    and the levels the caller declared (an arm without subjects)."""
    out: set[str] = set(KNOWN_LEVELS.get())
    for df in (inp.datasets.get(inp.spec.dataset), inp.datasets.get("adsl")):
        if df is not None and inp.spec.group in df.columns:
            out |= set(_levels_text(df[inp.spec.group]))
    return out


def _pairs(inp: AnalysisInput, levels: Sequence[str]) -> list[tuple[str, str]]:
    """(level, reference) pairs: every level vs the comparator, then with ``pairs = "all"`` the
    remaining pairs (later level minus earlier level, in display order)."""
    comp = inp.spec.comparator
    out: list[tuple[str, str]] = []
    if comp:
        if comp not in levels and comp in _all_levels(inp):
            # the comparator arm exists but none of its subjects is in this analysis (a small
            # trial, a population filter): there is nothing to compare with; the report says so
            return [] if inp.spec.options.get("pairs") != "all" else [
                (b, a) for a, b in itertools.combinations(levels, 2)]
        if comp not in levels:
            raise DataValidationError(
                f"{inp.dataset_label}: comparator {comp!r} (analysis {inp.spec.id}) is not a level of "
                f"{inp.spec.group}; levels are {', '.join(levels)}.")
        out = [(lv, comp) for lv in levels if lv != comp]
    if inp.spec.options.get("pairs") == "all":
        for a, b in itertools.combinations(levels, 2):
            if (b, a) not in out and (a, b) not in out:
                out.append((b, a))
    return out


def _categorical_rows(inp: AnalysisInput, df: pd.DataFrame, var: str, arms: Sequence[str], *,
                      visit: str = "", levels: Sequence[str] | None = None,
                      count_missing: bool = True) -> Rows:
    """n (the denominator), count and pct per level and group and for all groups; the
    denominator is every subject of the group. Missing values (NaN or blank text) form a level
    "Missing" when present, unless ``count_missing`` is False (a discontinuation reason is blank
    for subjects who completed)."""
    group = df[inp.spec.group].astype(str)
    text = _as_text(df[var]).str.strip()
    values = text.where(text != "")          # blank text is a missing value, as in SAS
    if not levels and ORDER_VARS.get(var) in df.columns:
        levels = [lv for lv in group_levels(df, var) if lv.strip()]    # AGEGR1 in AGEGR1N order
    levels = list(levels) if levels else _levels_text(df[var])
    denominator: str | dict[str, int] = "group"
    if not count_missing:
        denominator = {a: int((group == a).sum()) for a in arms}
    res = estimate_counts_by_group(values, group, levels=levels, group_levels=list(arms),
                                   denominator=denominator, total=True)
    rows: Rows = []
    for summary in res:
        rows += _blocks(inp.ctx, [({**cols, "variable": var}, pairs) for cols, pairs in summary.ard_blocks()],
                        visit=visit)
    return rows


def _continuous_rows(inp: AnalysisInput, df: pd.DataFrame, var: str, arms: Sequence[str], *,
                     visit: str = "", total: bool = True) -> Rows:
    """n, mean, SD, median, Q1, Q3, min, max per group (and all groups): SAS PROC MEANS with
    QNTLDEF=5."""
    res = estimate_summary_by_group(pd.to_numeric(df[var], errors="coerce"), df[inp.spec.group].astype(str),
                                    group_levels=list(arms), total=total)
    rows: Rows = []
    for summary in res:
        rows += make_rows(inp.ctx, dict(summary.to_ard_rows()), variable=var, group_level=summary.group_level,
                          visit=visit)
    return rows


def _as_list(v: object) -> list[str]:
    if v is None:
        return []
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


def _as_float_list(v: object) -> list[float]:
    return [float(x) for x in _as_list(v)]


def _response_value(inp: AnalysisInput, values: pd.Series) -> object:
    resp = inp.spec.options.get("response")
    if resp is not None:
        return resp
    return 1 if _is_numeric(values) else "Y"


def _stratum_key(df: pd.DataFrame, strata: Sequence[str]) -> pd.Series:
    if not strata:
        return pd.Series("", index=df.index)
    return df[list(strata)].astype(str).agg(" / ".join, axis=1)
