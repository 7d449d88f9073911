"""Adverse-event tables: subjects with a TEAE by SOC and PT and the overview, against the column N
of a denominator dataset, with Fisher's exact test or exposure-adjusted rates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dermsim.analysis.ard import make_rows
from dermsim.analysis.contingency import test_fisher_exact
from dermsim.analysis.method_base import AnalysisInput, MethodSpec, Rows, group_levels
from dermsim.analysis.methods.common import _KEY
from dermsim.analysis.methods.registry import register
from dermsim.analysis.population_filter import parse_population
from dermsim.errors import DataValidationError


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


# AE tables: subjects per arm of the denominator dataset (every AE subject must be in its
# column); exposure_start/exposure_end (ADSL period dates) add exposure-adjusted rates
@register("teae_soc_pt", MethodSpec("ae", ("group",), ("denominator_dataset", "denominator_population",
                                                        "denominator_group", "test", "exposure_start",
                                                        "exposure_end")))
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


@register("teae_summary", MethodSpec("ae", ("group",), ("denominator_dataset", "denominator_population",
                                                         "denominator_group", "exposure_start",
                                                         "exposure_end")))
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
