"""The method registry: plan method names -> functions that turn analysis records into ARD rows.

Each method receives an :class:`~dermsim.analysis.run.AnalysisInput` (spec, records with the
population and parameter applied, all datasets, ARD context, seed) and returns ARD row dicts. The
methods hold the layout of an analysis (which groups, visits, pairs and denominators); the numbers
come from the statistics modules of this package and from statsmodels, scipy and lifelines.
"""

from __future__ import annotations

import contextvars
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dermsim.analysis.ancova import AncovaResult, estimate_ancova, estimate_dose_response, test_anova_oneway
from dermsim.analysis.ard import make_rows
from dermsim.analysis.cmh import test_cmh_frame
from dermsim.analysis.contingency import test_chi_square, test_fisher_exact
from dermsim.analysis.descriptive import estimate_counts_by_group, estimate_summary_by_group
from dermsim.analysis.estimands import apply_estimand, pool_rubin, sample_mi_regression
from dermsim.analysis.method_base import ORDER_VARS, AnalysisInput, Method, MethodSpec, Rows, group_levels
from dermsim.analysis.mmrm import estimate_mmrm
from dermsim.analysis.population_filter import parse_population
from dermsim.analysis.proportions import estimate_proportion
from dermsim.analysis.sensitivity import estimate_tipping_point
from dermsim.analysis.stratified import (
    estimate_common_risk_difference,
    test_breslow_day,
    test_mantel_haenszel,
)
from dermsim.analysis.survival import estimate_km_by_group, test_logrank
from dermsim.errors import DataValidationError, NotEstimableError

__all__ = ["INTERACTIONS", "METHODS", "REGISTRY"]

_KEY = "USUBJID"


# --------------------------------------------------------------------------------------------
# helpers

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
    f = float(v)  # type: ignore[arg-type]
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


# --------------------------------------------------------------------------------------------
# subject-level summaries

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


def _as_list(v: object) -> list[str]:
    if v is None:
        return []
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


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


# --------------------------------------------------------------------------------------------
# ANCOVA (statistics: dermsim.analysis.ancova)

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


def _ancova(inp: AnalysisInput) -> Rows:
    """Per visit: n, mean, SD, median, min, max of BASE, AVAL and the analysed variable by arm;
    ANCOVA (SAS PROC GLM) with LS means (equal weights), differences vs the comparator (all
    pairs with ``pairs = "all"``), Type III tests and slopes; optional dose-response test."""
    spec, ctx = inp.spec, inp.ctx
    y = _variable(inp)
    alpha = float(spec.options.get("alpha", 0.05))  # type: ignore[arg-type]
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
    m = int(spec.options.get("mi_m", 20))  # type: ignore[arg-type]
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


# --------------------------------------------------------------------------------------------
# MMRM (statistics: dermsim.analysis.mmrm)

def _mmrm(inp: AnalysisInput) -> Rows:
    """Mixed model for repeated measures over the plan's visits on the observed records: group,
    visit, group x visit, the covariates, and covariates x visit named in option
    ``visit_interactions``; covariance ``us`` (default), ``cs``, ``ar1`` or ``toep``; LS means of
    every group at every visit (equal weights) and differences vs the comparator, Kenward-Roger
    by default (option ``df_method``), as SAS PROC MIXED; option ``type3`` adds the Type III F
    tests (``variable_level`` = the term, visit blank)."""
    spec = inp.spec
    y = _variable(inp)
    alpha = float(spec.options.get("alpha", 0.05))  # type: ignore[arg-type]
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
        information=str(spec.options.get("information", "observed")),  # type: ignore[arg-type]
        weights=str(spec.options.get("weights", "equal")), overall=bool(spec.options.get("overall", False)),
        conf_level=1 - alpha, dataset=inp.dataset_label)
    return _blocks(inp.ctx, res.ard_blocks(type3=bool(spec.options.get("type3", False))))


# --------------------------------------------------------------------------------------------
# estimand sensitivity (statistics: dermsim.analysis.sensitivity)

DEFAULT_DELTAS = tuple(float(d) for d in np.arange(-5.0, 1.0001, 0.25))


def _tipping_point(inp: AnalysisInput) -> Rows:
    """Delta-adjusted MI of the binary outcome (hypothetical strategy: a missing outcome, or one
    after an intercurrent event flagged by option ``ice_flag``, is imputed within arm x stratum
    and shifted by delta on the log-odds scale in the active arms), MH risk difference vs the
    comparator on every completed set, Rubin's rules, and the tipping delta."""
    spec = inp.spec
    var = _variable(inp)
    alpha = float(spec.options.get("alpha", 0.05))  # type: ignore[arg-type]
    deltas = _as_float_list(spec.options.get("deltas")) or list(DEFAULT_DELTAS)
    m = int(spec.options.get("mi_m", 50))  # type: ignore[arg-type]
    shifted = _as_list(spec.options.get("shifted")) or None
    ice = spec.options.get("ice_flag")
    rows: Rows = []
    for visit in _visits(inp):
        obs = apply_estimand("observed", inp.data, variable=var, visits=[visit], dataset=inp.dataset_label)
        if ice:
            if str(ice) not in obs.columns:
                raise DataValidationError(f"{inp.dataset_label}: variable {ice} (option 'ice_flag' of "
                                          f"analysis {spec.id}) is missing.")
            obs = obs[obs[str(ice)] != "Y"]
        subjects = _population_subjects(inp)
        data = subjects.merge(obs[[_KEY, var]], on=_KEY, how="left")
        res = estimate_tipping_point(data[var], data[spec.group].astype(str).to_numpy(),
                                     reference=str(spec.comparator), deltas=deltas,
                                     strata=_stratum_key(data, spec.strata).to_numpy(), shifted=shifted, m=m,
                                     seed=inp.seed, alpha=alpha, response=_response_value(inp, obs[var]))
        rows += _blocks(inp.ctx, res.ard_blocks(), visit=visit)
    return rows


# --------------------------------------------------------------------------------------------
# adverse events

@dataclass(frozen=True)
class _AeDenominator:
    """The columns of an AE table: arms in display order, subjects per arm (the column N), each
    denominator subject's arm, and, with the exposure options, each subject's period start and
    exposure in years."""

    arms: list[str]
    bign: dict[str, int]
    arm_of: pd.Series                 # USUBJID -> arm
    start: pd.Series | None = None    # USUBJID -> period start date
    years: pd.Series | None = None    # USUBJID -> exposure in the period (years)


_DAYS_PER_YEAR = 365.25


def _ae_denominators(inp: AnalysisInput) -> _AeDenominator:
    opts = inp.spec.options
    name = str(opts.get("denominator_dataset", "adsl")).lower()
    if name not in inp.datasets:
        raise DataValidationError(f"analysis {inp.spec.id}: denominator dataset {name.upper()} is not "
                                  "among the datasets read.")
    den = inp.datasets[name]
    pop = parse_population(str(opts.get("denominator_population", 'SAFFL == "Y"')))
    gvar = str(opts.get("denominator_group", "TRT01A"))
    need = [gvar] + [str(opts[k]) for k in ("exposure_start", "exposure_end") if k in opts]
    for v in [*need, *pop.names]:
        if v not in den.columns:
            raise DataValidationError(f"{name.upper()}: variable {v} is missing (denominator of "
                                      f"analysis {inp.spec.id}).")
    den = den.loc[pop.mask(den)]
    den = den[den[gvar].astype(str).str.strip() != ""]
    arms = group_levels(den, gvar)
    counts = den[gvar].astype(str).value_counts()
    arm_of = pd.Series(den[gvar].astype(str).to_numpy(), index=den[_KEY].to_numpy())
    out = _AeDenominator(arms, {a: int(counts.get(a, 0)) for a in arms}, arm_of)
    if "exposure_start" in opts or "exposure_end" in opts:
        s_var, e_var = str(opts.get("exposure_start", "")), str(opts.get("exposure_end", ""))
        if not s_var or not e_var:
            raise DataValidationError(f"analysis {inp.spec.id}: options exposure_start and exposure_end "
                                      "go together (the period's first and last dates).")
        start = pd.to_datetime(den[s_var]).to_numpy()
        days = (pd.to_datetime(den[e_var]) - pd.to_datetime(den[s_var])).dt.days.to_numpy(float) + 1
        if np.isnan(days).any():
            who = den.loc[np.isnan(days), _KEY].iloc[0]
            raise DataValidationError(f"{name.upper()}: {s_var} or {e_var} is missing for USUBJID {who} "
                                      f"(exposure of analysis {inp.spec.id}).")
        out = _AeDenominator(out.arms, out.bign, arm_of, pd.Series(start, index=arm_of.index),
                             pd.Series(days / _DAYS_PER_YEAR, index=arm_of.index))
    return out


def _ae_in_denominator(inp: AnalysisInput, ae: pd.DataFrame, den: _AeDenominator) -> None:
    """Every AE record must belong to a subject of its column: an event counted in a column whose
    N does not include the subject would let a count exceed its N (the period mix-up the safety
    tables had when events were counted by TRTA over both periods and divided by TRT01A)."""
    arm = ae[inp.spec.group].astype(str)
    den_arm = ae[_KEY].map(den.arm_of)
    bad = den_arm.isna() | (den_arm != arm)
    if bad.any():
        r = ae.loc[bad].iloc[0]
        where = ("is not in the denominator population" if pd.isna(den_arm[bad].iloc[0])
                 else f"is in column {den_arm[bad].iloc[0]!r} of the denominator")
        raise DataValidationError(
            f"{inp.dataset_label}: USUBJID {r[_KEY]} has an adverse event under {inp.spec.group} = "
            f"{r[inp.spec.group]!r} but {where} (analysis {inp.spec.id}); restrict the population to the "
            "period of the denominator (e.g. APERIOD == 1 with TRT01A).")


def _ae_block(inp: AnalysisInput, ae: pd.DataFrame, sel: np.ndarray, den: _AeDenominator,
              variable: str, level: str, *, within: tuple[str, str] = ("", "")) -> Rows:
    """Subjects with an event among ``sel`` per arm (count, %, events; with exposure the rate), and
    Fisher's exact test vs the comparator; ``within`` = (outer variable, its level) for nested
    terms (a PT within its SOC)."""
    nest = {"group2": within[0], "group2_level": within[1]}
    group = inp.spec.group
    rows: Rows = []
    arm_col = ae[group].astype(str).to_numpy()
    subjects = {}
    onset = pd.to_datetime(ae["ASTDT"]) if den.years is not None else None
    for a in den.arms:
        s = sel & (arm_col == a)
        who = ae.loc[s, _KEY]
        subjects[a] = int(who.nunique())
        n = den.bign[a]
        stats: dict[str, object] = {"count": subjects[a], "pct": 100 * subjects[a] / n if n else np.nan,
                                    "n_events": int(s.sum())}
        if den.years is not None and onset is not None:
            # time at risk: to the first event for subjects with one, the whole period otherwise
            first = onset[s].groupby(who).min()
            start = den.start.reindex(first.index).to_numpy()
            days_to = (first.to_numpy() - start) / np.timedelta64(1, "D") + 1
            in_arm = den.arm_of.index[den.arm_of.to_numpy() == a]
            years = float(den.years[in_arm].sum() - den.years[first.index].sum()
                          + np.clip(days_to, 0, None).sum() / _DAYS_PER_YEAR)
            stats |= {"exposure_years": years,
                      "rate": 100 * subjects[a] / years if years > 0 else np.nan}
        rows += make_rows(inp.ctx, stats, variable=variable, variable_level=level, group_level=a, **nest)
    comp = inp.spec.comparator
    if comp and comp in subjects:
        for a in den.arms:
            if a == comp:
                continue
            n_a, n_c = den.bign[a], den.bign[comp]
            table = np.array([[subjects[a], n_a - subjects[a]], [subjects[comp], n_c - subjects[comp]]])
            # a column without subjects (a tiny trial) has no valid 2x2 table: the test is reported missing
            p = test_fisher_exact(table).p_value if (table >= 0).all() and n_a and n_c else np.nan
            rows += make_rows(inp.ctx, {"p_value": p}, variable=variable, variable_level=level,
                              group_level=a, comparator=comp, method="fisher_exact", **nest)
    return rows


def _ae_setup(inp: AnalysisInput, needed: Sequence[str] = ()) -> tuple[pd.DataFrame, _AeDenominator, Rows]:
    ae = inp.data
    den = _ae_denominators(inp)
    for v in (*needed, *(("ASTDT",) if den.years is not None else ())):
        if v not in ae.columns:
            raise DataValidationError(f"{inp.dataset_label}: variable {v} is missing "
                                      f"(analysis {inp.spec.id}).")
    if inp.spec.comparator and den.years is not None:
        raise DataValidationError(f"analysis {inp.spec.id}: a comparator is not allowed with exposure-"
                                  "adjusted rates (arms of a long-term period differ in exposure).")
    _ae_in_denominator(inp, ae, den)
    rows: Rows = []
    for a in den.arms:
        stats: dict[str, object] = {"n": den.bign[a]}
        if den.years is not None:
            stats["exposure_years"] = float(den.years[den.arm_of == a].sum())
        rows += make_rows(inp.ctx, stats, variable="", group_level=a)
    return ae, den, rows


def _teae_soc_pt(inp: AnalysisInput) -> Rows:
    ae, den, rows = _ae_setup(inp, ("AEBODSYS", "AEDECOD"))
    rows += _ae_block(inp, ae, np.ones(len(ae), bool), den, "TRTEMFL", "ANY")
    soc = ae["AEBODSYS"].astype(str).to_numpy()
    pt = ae["AEDECOD"].astype(str).to_numpy()
    for s in sorted(set(soc)):
        in_soc = soc == s
        rows += _ae_block(inp, ae, in_soc, den, "AEBODSYS", s)
        for p in sorted(set(pt[in_soc])):
            rows += _ae_block(inp, ae, in_soc & (pt == p), den, "AEDECOD", p, within=("AEBODSYS", s))
    return rows


_AE_SUMMARY = (("ANY", None, None), ("SERIOUS", "AESER", "Y"), ("SEVERE", "AESEV", "SEVERE"),
               ("RELATED", "AEREL", ("PROBABLE", "POSSIBLE", "RELATED")),
               ("LEADING TO DISCONTINUATION", "AEACN", "DRUG WITHDRAWN"))


def _teae_summary(inp: AnalysisInput) -> Rows:
    ae, den, rows = _ae_setup(inp)
    for label, var, value in _AE_SUMMARY:
        if var is None:
            sel = np.ones(len(ae), bool)
        elif var in ae.columns:
            values = value if isinstance(value, tuple) else (value,)
            sel = ae[var].astype(str).str.upper().isin(values).to_numpy()
        else:
            continue
        rows += _ae_block(inp, ae, sel, den, var or "TRTEMFL", label)
    return rows


# --------------------------------------------------------------------------------------------
# time to event (statistics: dermsim.analysis.survival)

def _km(inp: AnalysisInput) -> Rows:
    """Kaplan-Meier by group with log-log CIs (SAS LIFETEST): n, events, median with CI, numbers
    at risk and survival with CI at ``times`` and every ``at_risk_every`` up to ``at_risk_to``;
    log-rank test over the groups."""
    spec, df = inp.spec, inp.data
    y = _variable(inp)
    cnsr = str(spec.options.get("censor_variable", "CNSR"))
    for v in (y, cnsr):
        if v not in df.columns:
            raise DataValidationError(f"{inp.dataset_label}: variable {v} is missing (analysis {spec.id}).")
    alpha = float(spec.options.get("alpha", 0.05))  # type: ignore[arg-type]
    step = float(spec.options.get("at_risk_every", 0) or 0)  # type: ignore[arg-type]
    upto = float(spec.options.get("at_risk_to", df[y].max()))  # type: ignore[arg-type]
    times = sorted(set(_as_float_list(spec.options.get("times")) +
                       (list(np.arange(0, upto + step / 2, step)) if step > 0 else [])))
    t = df[y].to_numpy(float)
    event = (df[cnsr].to_numpy(float) == 0).astype(float)
    g = df[spec.group].astype(str).to_numpy()
    arms = group_levels(df, spec.group)
    rows: Rows = []
    fits = estimate_km_by_group(t, event, g, levels=arms, conf_type="log-log", conf_level=1 - alpha)
    for a in arms:
        rows += _blocks(inp.ctx, fits[a].ard_blocks(times))
        # the whole step function (survival after each event time) for the Kaplan-Meier figure
        f = fits[a]
        ev = np.asarray(f.n_event) > 0
        for t_ev, s_ev in zip(np.asarray(f.time)[ev], np.asarray(f.survival)[ev], strict=True):
            rows += make_rows(inp.ctx, {"estimate": float(s_ev)}, variable_level="curve",
                              timepoint=_num_text(t_ev), group_level=a)
    if len(arms) > 1:
        lr = test_logrank(t, event, g, levels=arms)
        rows += make_rows(inp.ctx, dict(lr.to_ard_rows()), variable_level="log-rank", method="logrank")
    return rows


def _as_float_list(v: object) -> list[float]:
    return [float(x) for x in _as_list(v)]


# --------------------------------------------------------------------------------------------
# binary and categorical comparisons (statistics from the binary-statistics modules)

def _response_value(inp: AnalysisInput, values: pd.Series) -> object:
    resp = inp.spec.options.get("response")
    if resp is not None:
        return resp
    return 1 if _is_numeric(values) else "Y"


def _stratum_key(df: pd.DataFrame, strata: Sequence[str]) -> pd.Series:
    if not strata:
        return pd.Series("", index=df.index)
    return df[list(strata)].astype(str).agg(" / ".join, axis=1)


def _proportion_rd_cmh(inp: AnalysisInput) -> Rows:
    """Per arm: responders, proportion with CI (Wilson by default). Each arm vs the comparator:
    common risk difference over the strata (Mantel-Haenszel weights, Sato variance by default)
    and the Mantel-Haenszel (CMH, 2 x 2 x K) test without continuity correction."""
    spec, ctx = inp.spec, inp.ctx
    var = _variable(inp)
    ci_method = str(spec.options.get("ci_method", "wilson"))
    rd_method = str(spec.options.get("rd_method", "mh_sato"))
    alpha = float(spec.options.get("alpha", 0.05))  # type: ignore[arg-type]
    rows: Rows = []
    for visit in _visits(inp):
        df = _records(inp, visit)
        arms = group_levels(df, spec.group)
        response = _response_value(inp, df[var])
        hit = (df[var] == response).to_numpy()
        arm = df[spec.group].astype(str).to_numpy()
        for a in arms:
            sel = arm == a
            n, k = int(sel.sum()), int(hit[sel].sum())
            if n == 0:
                continue
            res = estimate_proportion(k, n, method=ci_method, conf_level=1 - alpha)
            rows += make_rows(ctx, {**dict(res.to_ard_rows()), "pct": 100 * k / n}, group_level=a,
                              visit=visit, method=f"proportion_{ci_method}")
        skey = _stratum_key(df, spec.strata).to_numpy()
        levels = sorted(set(skey))
        for a, r in _pairs(inp, arms):
            counts = []
            for g in (a, r):
                in_g = arm == g
                counts.append(np.array([hit[in_g & (skey == s)].sum() for s in levels], dtype=float))
                counts.append(np.array([(in_g & (skey == s)).sum() for s in levels], dtype=float))
            x1, n1, x2, n2 = counts
            usable = (n1 > 0) & (n2 > 0)
            if not usable.any():
                raise NotEstimableError(
                    f"{inp.dataset_label}: no stratum of {', '.join(spec.strata) or 'the analysis'} holds "
                    f"both {a!r} and {r!r} at {visit or 'the analysis'} (analysis {spec.id}).")
            rd = estimate_common_risk_difference(x1, n1, x2, n2, method=rd_method, conf_level=1 - alpha)
            rows += make_rows(ctx, {k: v for k, v in rd.to_ard_rows() if k in ("estimate", "se", "ci_lower",
                                                                                "ci_upper")},
                              group_level=a, comparator=r, visit=visit, method=f"common_rd_{rd_method}")
            with np.errstate(invalid="ignore", divide="ignore"):  # no responders at all: NaN, reported
                mh = test_mantel_haenszel(x1[usable], n1[usable], x2[usable], n2[usable])
            rows += make_rows(ctx, dict(mh.to_ard_rows()), group_level=a, comparator=r, visit=visit,
                              method="cmh")
    return rows


def _binary_subgroup_interaction(inp: AnalysisInput) -> Rows:
    """Treatment-by-subgroup interaction for each arm vs the comparator: Breslow-Day test of equal
    odds ratios across the levels of each subgroup variable (``variable_level`` =
    ``"interaction VAR"``), on the whole population."""
    spec = inp.spec
    var = _variable(inp)
    rows: Rows = []
    for visit in _visits(inp):
        df = _records(inp, visit)
        arms = group_levels(df, spec.group)
        response = _response_value(inp, df[var])
        hit = (df[var] == response).to_numpy()
        arm = df[spec.group].astype(str).to_numpy()
        for sg in spec.subgroups:
            key = df[sg].astype(str).to_numpy()
            levels = sorted(set(key))
            for a, r in _pairs(inp, arms):
                cnt = [np.array([m[key == lv].sum() for lv in levels], dtype=float)
                       for g in (a, r) for m in (hit & (arm == g), arm == g)]
                ok = (cnt[1] > 0) & (cnt[3] > 0)
                if ok.sum() < 2:
                    continue
                with np.errstate(invalid="ignore", divide="ignore"):
                    bd = test_breslow_day(*(c[ok] for c in cnt))
                rows += make_rows(inp.ctx, dict(bd.to_ard_rows()), variable_level=f"interaction {sg}",
                                  group_level=a, comparator=r, visit=visit, method=bd.method)
    return rows


_CMH_LABELS = {"general_association": "general association", "row_mean_scores": "row mean scores",
               "correlation": "nonzero correlation"}


def _cmh_rows(inp: AnalysisInput, df: pd.DataFrame, row: str, visit: str, group_level: str,
              comparator: str) -> Rows:
    res = test_cmh_frame(df, row=row, col=_variable(inp), strata=list(inp.spec.strata) or None,
                         dataset=inp.dataset_label)
    rows: Rows = []
    for name, pairs in res.to_ard_rows_by_test().items():
        rows += make_rows(inp.ctx, dict(pairs), variable_level=_CMH_LABELS[name], visit=visit,
                          group_level=group_level, comparator=comparator, method=f"cmh_{name}")
    return rows


def _cmh(inp: AnalysisInput) -> Rows:
    """Counts by category and group per visit; CMH statistics (SAS PROC FREQ ``CMH``) over the
    strata for all groups and for each group vs the comparator. The group's numeric companion
    (TRTPN for TRTP), when present, gives the row scores of the correlation statistic."""
    spec = inp.spec
    var = _variable(inp)
    rows: Rows = []
    for visit in _visits(inp):
        df = _records(inp, visit) if visit else inp.data
        arms = group_levels(df, spec.group)
        rows += _categorical_rows(inp, df, var, arms, visit=visit,
                                  levels=_as_list(spec.options.get("levels")) or None)
        order = ORDER_VARS.get(spec.group)
        row = order if order and order in df.columns else spec.group
        rows += _cmh_rows(inp, df, row, visit, "", "")
        for a, r in _pairs(inp, arms):
            sub = df[df[spec.group].astype(str).isin([a, r])]
            rows += _cmh_rows(inp, sub, row, visit, a, r)
    return rows


# The one declaration of the analysis methods: what each needs from an analysis (validated when a
# plan is loaded, :mod:`dermsim.analysis.plan`) and the function that lays it out.
METHODS: dict[str, Method] = {
    # Binary responder: per-arm proportion with CI; stratified risk difference vs comparator
    # (Mantel-Haenszel weights, Sato variance) and the CMH test over the strata; with subgroups
    # also the treatment-by-subgroup Breslow-Day test.
    "proportion_rd_cmh": Method(MethodSpec("binary", ("variable", "visit", "group", "comparator"),
                                           ("response", "alpha", "ci_method", "rd_method", "ice_flag"),
                                           ("observed", "composite_nri", "locf")),
                                _proportion_rd_cmh, interaction=_binary_subgroup_interaction),
    "ancova": Method(MethodSpec("continuous", ("variable", "visit", "group"),
                                ("alpha", "pairs", "dose_variable", "class_covariates", "mi_m",
                                 "mi_predictors"),
                                ("observed", "locf", "mi")), _ancova),
    "descriptive": Method(MethodSpec("continuous", ("group",), ("test",), ("observed", "locf")),
                          _descriptive),
    "categorical": Method(MethodSpec("categorical", ("group",), ("test", "levels"), ("observed", "locf")),
                          _categorical),
    "demographics": Method(MethodSpec("subject", ("variables", "group"), ("categorical",)), _demographics),
    "cmh": Method(MethodSpec("categorical", ("variable", "visit", "group"), ("levels",),
                             ("observed", "locf")), _cmh),
    # AE tables: subjects per arm of the denominator dataset (every AE subject must be in its
    # column); exposure_start/exposure_end (ADSL period dates) add exposure-adjusted rates
    "teae_soc_pt": Method(MethodSpec("ae", ("group",), ("denominator_dataset", "denominator_population",
                                                         "denominator_group", "test", "exposure_start",
                                                         "exposure_end")), _teae_soc_pt),
    "teae_summary": Method(MethodSpec("ae", ("group",), ("denominator_dataset", "denominator_population",
                                                          "denominator_group", "exposure_start",
                                                          "exposure_end")), _teae_summary),
    "km": Method(MethodSpec("tte", ("group",), ("at_risk_every", "at_risk_to", "times", "alpha",
                                                "censor_variable")), _km),
    "disposition": Method(MethodSpec("subject", ("group",), ("variables",)), _disposition),
    "populations": Method(MethodSpec("subject", ("group", "variables"), ()), _populations),
    # Mixed model for repeated measures over the plan's visits (observed records, MAR).
    "mmrm": Method(MethodSpec("continuous", ("variable", "visit", "group"),
                              ("alpha", "class_covariates", "visit_interactions", "covariance", "df_method",
                               "information", "weights", "overall", "type3"), ("observed",)), _mmrm),
    # Sensitivity of a binary primary: delta-adjusted MI over a grid of deltas, tipping point.
    "tipping_point": Method(MethodSpec("binary", ("variable", "visit", "group", "comparator"),
                                       ("response", "alpha", "deltas", "mi_m", "shifted", "ice_flag"),
                                       ("mi",)), _tipping_point),
}

# Views of METHODS for run_plan's ``methods=`` argument (name -> function).
REGISTRY: dict[str, Callable[[AnalysisInput], Rows]] = {k: m.run for k, m in METHODS.items()}
INTERACTIONS: dict[str, Callable[[AnalysisInput], Rows]] = {
    k: m.interaction for k, m in METHODS.items() if m.interaction is not None
}
