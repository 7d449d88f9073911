"""Run an analysis plan on ADaM datasets and return one ARD frame.

``run_plan`` checks the data first (the dataset schemas of :mod:`dermsim.cdisc.schemas` where one
exists, then what the plan needs: datasets, variables, parameters, visits, strata), then runs every
analysis through the method registry of :mod:`dermsim.analysis.methods`. A data problem raises
:class:`DataValidationError` with one line naming the dataset, the variable and the keys.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from dermsim._rng import SeedLike, as_seed_sequence, child_sequence
from dermsim.analysis.ard import ArdContext, frame_from_rows, make_rows, validate_ard
from dermsim.analysis.method_base import ORDER_VARS, AnalysisInput, group_levels
from dermsim.analysis.methods import INTERACTIONS, KNOWN_LEVELS, METHODS, REGISTRY
from dermsim.analysis.plan import AnalysisPlan, AnalysisSpec
from dermsim.cdisc.schemas import SCHEMAS, check_dataset
from dermsim.errors import DataValidationError, NotEstimableError

# AnalysisInput and group_levels live in method_base (below methods); re-exported here
__all__ = ["AnalysisInput", "check_plan_against_data", "group_levels", "run_plan"]

_KEY = "USUBJID"


def _validate_schemas(datasets: Mapping[str, pd.DataFrame]) -> None:
    """The cdisc layer's schema checks, where a schema for the dataset exists."""
    for name, df in datasets.items():
        if name.upper() in SCHEMAS or name in SCHEMAS:
            check_dataset(name.upper(), df)
    adsl = datasets.get("adsl")
    if adsl is not None and _KEY in adsl.columns:
        dup = adsl[_KEY].duplicated(keep=False)
        if dup.any():
            first = adsl.loc[dup, _KEY].iloc[0]
            n = int((adsl[_KEY] == first).sum())
            raise DataValidationError(f"ADSL has {n} records for USUBJID {first}; each subject must "
                                      "appear once.")


def _needed_variables(spec: AnalysisSpec) -> list[tuple[str, str]]:
    """(variable, field) pairs the analysis reads."""
    out: list[tuple[str, str]] = [(n, "population") for n in spec.population_filter.names]
    if spec.group:
        out.append((spec.group, "group"))
    if spec.variable:
        out.append((spec.variable, "variable"))
    out += [(v, "variables") for v in spec.variables if spec.method != "populations"]
    out += [(v, "strata") for v in spec.strata]
    out += [(v, "covariates") for v in spec.covariates]
    out += [(v, "subgroups") for v in spec.subgroups]
    if spec.parameter:
        out.append(("PARAMCD", "parameter"))
    if spec.visit:
        out.append(("AVISIT", "visit"))
    if spec.method == "populations":
        out += [(v, "variables") for v in spec.variables]
    return out


def _with_subject_vars(spec: AnalysisSpec, df: pd.DataFrame,
                       datasets: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Merge ADSL variables the analysis names but its dataset lacks (by USUBJID)."""
    adsl = datasets.get("adsl")
    if spec.dataset == "adsl" or adsl is None or _KEY not in df.columns:
        return df
    missing = [v for v, _ in _needed_variables(spec) if v not in df.columns and v in adsl.columns]
    order = [ORDER_VARS[v] for v in missing if v in ORDER_VARS and ORDER_VARS[v] in adsl.columns
             and ORDER_VARS[v] not in df.columns]
    if not missing:
        return df
    cols = [_KEY, *dict.fromkeys(missing + order)]
    return df.merge(adsl[cols], on=_KEY, how="left", validate="many_to_one")


def check_plan_against_data(plan: AnalysisPlan, datasets: Mapping[str, pd.DataFrame], *,
                            absent_not_estimable: bool = False) -> None:
    """Raise on the first dataset, variable, parameter or visit the plan names and the data lack
    (with ``absent_not_estimable``, a parameter, visit or population without records is left to
    :func:`run_plan`, which reports the analysis as not estimable)."""
    for spec in plan.analyses:
        try:
            _select(spec, datasets, absent_not_estimable=absent_not_estimable)
        except _Absent:
            continue


class _Absent(NotEstimableError):
    """The analysis selects no record (a parameter, visit or population with none) in data where
    that means "too small to estimate" (``run_plan(absent_not_estimable=True)``)."""


def _select(spec: AnalysisSpec, datasets: Mapping[str, pd.DataFrame], *,
            absent_not_estimable: bool = False) -> pd.DataFrame:
    """The analysis records of ``spec`` (population, parameter and visits applied).

    A parameter, visit or population without records is an error (in sponsor data most likely a
    typo in the plan), or, with ``absent_not_estimable``, :class:`_Absent` (a not-estimable
    analysis). An AE analysis with no event is neither: its counts are zero (the column N comes from
    the denominator dataset)."""
    label = spec.dataset.upper()

    def absent(message: str) -> DataValidationError:
        return _Absent(message) if absent_not_estimable else DataValidationError(message)

    if spec.dataset not in datasets:
        raise DataValidationError(
            f"analysis {spec.id}: dataset {label} is not among the datasets read "
            f"({', '.join(sorted(k.upper() for k in datasets)) or 'none'}).")
    df = _with_subject_vars(spec, datasets[spec.dataset], datasets)
    for var, field in _needed_variables(spec):
        if var not in df.columns:
            raise DataValidationError(f"{label}: variable {var} is missing (field {field!r} of "
                                      f"analysis {spec.id}).")
    _check_comparator(spec, df, datasets)
    if spec.parameter:
        if spec.parameter not in set(df["PARAMCD"].dropna().astype(str)):
            found = ", ".join(sorted(df["PARAMCD"].dropna().astype(str).unique())[:12])
            raise absent(f"{label}: PARAMCD {spec.parameter!r} (field 'parameter' of analysis {spec.id}) "
                         f"does not occur; found {found or 'none'}.")
        df = df[df["PARAMCD"] == spec.parameter]
    for v in spec.visit:
        if v not in set(df["AVISIT"].dropna().astype(str)):
            where = f" for PARAMCD {spec.parameter}" if spec.parameter else ""
            raise absent(f"{label}: AVISIT {v!r} (field 'visit' of analysis {spec.id}) has no "
                         f"records{where}.")
    try:
        mask = spec.population_filter.mask(df)
    except Exception as exc:  # a type clash in the filter is a data problem of this dataset
        raise DataValidationError(f"{label}: population of analysis {spec.id}: {exc}") from None
    df = df.loc[mask]
    if df.empty and (spec.method not in METHODS or METHODS[spec.method].spec.kind != "ae"):
        raise absent(f"{label}: population {spec.population!r} of analysis {spec.id} selects no "
                     "records.")
    declared = spec.options.get("class_covariates", [])
    classes = [c for c in spec.covariates
               if c in (declared if isinstance(declared, list) else [declared])
               or not pd.api.types.is_numeric_dtype(df[c])]
    for s in dict.fromkeys([*spec.strata, *classes, *([spec.group] if spec.group else [])]):
        blank = df[s].isna() | (df[s].astype(str).str.strip() == "")
        if blank.any():
            keys = ", ".join(map(str, df.loc[blank, _KEY].drop_duplicates().head(3))) \
                if _KEY in df.columns else f"rows {list(np.flatnonzero(blank)[:3])}"
            field = "strata" if s in spec.strata else "covariates" if s in classes else "group"
            raise DataValidationError(
                f"{label}: {s} (field {field!r} of analysis {spec.id}) is empty for USUBJID {keys}; "
                "every analysed subject needs a stratum and a group.")
    return df


def _level_texts(values: pd.Series) -> set[str]:
    """The text forms a level can be named by in a plan: "1" and "1.0" for a numeric 1."""
    vals = values.dropna().unique()
    out = {str(v) for v in vals}
    out |= {str(int(v)) for v in vals if isinstance(v, int | float | np.number) and float(v).is_integer()}
    return out


def _check_comparator(spec: AnalysisSpec, df: pd.DataFrame, datasets: Mapping[str, pd.DataFrame]) -> None:
    """The comparator must be a level of the group: in the analysis dataset or ADSL before any
    filter, or a level the caller declared (a simulated trial's arm, possibly without subjects)."""
    if not spec.comparator or not spec.group or spec.group not in df.columns:
        return
    known = set(KNOWN_LEVELS.get()) | _level_texts(df[spec.group])
    adsl = datasets.get("adsl")
    if adsl is not None and spec.group in adsl.columns:
        known |= _level_texts(adsl[spec.group])
    if spec.method in METHODS and METHODS[spec.method].spec.kind == "ae":
        # an AE table's columns are the denominator's groups (TRT01A of ADSL for TRTA of ADAE)
        den = datasets.get(str(spec.options.get("denominator_dataset", "adsl")).lower())
        gvar = str(spec.options.get("denominator_group", "TRT01A"))
        if den is not None and gvar in den.columns:
            known |= _level_texts(den[gvar])
    if spec.comparator not in known:
        levels = ", ".join(sorted(v for v in known if v.strip())[:12]) or "none"
        raise DataValidationError(f"{spec.dataset.upper()}: comparator {spec.comparator!r} (field "
                                  f"'comparator' of analysis {spec.id}) is not a level of {spec.group}; "
                                  f"levels are {levels}.")


def run_plan(plan: AnalysisPlan, datasets: Mapping[str, pd.DataFrame], *, seed: SeedLike = 0,
             methods: Mapping[str, Callable[[AnalysisInput], list[dict[str, object]]]] | None = None,
             group_levels: Sequence[str] = (), absent_not_estimable: bool = False,
             ) -> pd.DataFrame:
    """Run every analysis of ``plan`` on ``datasets`` (name -> frame) and return the ARD.

    ``seed`` feeds the stochastic methods (multiple imputation); analysis ``i`` uses child stream
    ``i``, so adding or removing other analyses does not change its numbers. ``group_levels``:
    levels the group variables can take beyond those in the data (a simulated trial's arms): a
    comparator among them with no subject (an empty arm of a small trial) gives no comparisons
    instead of an error. ``absent_not_estimable``: the data were simulated from a design the plan
    was written for (``dermsim run``), so a parameter, visit or population without records means a
    trial too small to have it (no child old enough for the itch score), and the analysis is
    reported not estimable; for sponsor data (the default) it is an error naming the plan field.

    Each statistic row carries the ``warning`` and ``error`` of its computation (the ``cards``
    convention): the warnings the analysis raised, and for a not-estimable analysis the reason.
    """
    token = KNOWN_LEVELS.set(frozenset(map(str, group_levels)))
    try:
        return _run_plan(plan, datasets, seed=seed, methods=methods,
                         absent_not_estimable=absent_not_estimable)
    finally:
        KNOWN_LEVELS.reset(token)


def _run_plan(plan: AnalysisPlan, datasets: Mapping[str, pd.DataFrame], *, seed: SeedLike,
              methods: Mapping[str, Callable[[AnalysisInput], list[dict[str, object]]]] | None,
              absent_not_estimable: bool) -> pd.DataFrame:
    if methods is None:
        methods = REGISTRY
    data = {str(k).lower(): v for k, v in datasets.items()}
    _validate_schemas(data)
    check_plan_against_data(plan, data, absent_not_estimable=absent_not_estimable)
    root = as_seed_sequence(seed)
    rows: list[dict[str, object]] = []
    for i, spec in enumerate(plan.analyses):
        try:
            runs = _subgroup_runs(spec, _select(spec, data, absent_not_estimable=absent_not_estimable))
        except _Absent as exc:
            ctx = _context(spec, spec)
            rows += _not_estimable_rows(ctx, spec, _group_frame(spec, data), str(exc))
            continue
        for sub_spec, df in runs:
            ctx = _context(spec, sub_spec)
            inp = AnalysisInput(sub_spec, df, data, ctx, child_sequence(root, i))
            run = functools.partial(methods[spec.method], inp)
            rows += _labelled(spec, _computed(run, ctx, sub_spec, df))
        if spec.subgroups and spec.method in INTERACTIONS:
            ctx = _context(spec, spec)
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    got = INTERACTIONS[spec.method](AnalysisInput(
                        spec, _select(spec, data, absent_not_estimable=absent_not_estimable), data, ctx,
                        child_sequence(root, i)))
                rows += _with_warnings(got, caught)
            except NotEstimableError:
                pass  # no interaction test without enough subjects per subgroup and arm
    return validate_ard(frame_from_rows(rows))


def _context(spec: AnalysisSpec, sub_spec: AnalysisSpec) -> ArdContext:
    return ArdContext(analysis_id=spec.id, dataset=spec.dataset.upper(), population=sub_spec.population,
                      parameter=spec.parameter or "", variable=spec.variable or "", group=spec.group or "",
                      method=spec.method)


def _computed(compute: Callable[[], list[dict[str, object]]], ctx: ArdContext, spec: AnalysisSpec,
              df: pd.DataFrame) -> list[dict[str, object]]:
    """The rows of one analysis run, with the warnings its computation raised; too few subjects,
    arms or strata (a small trial, an empty arm) give the not-estimable rows with the reason as
    their ``error``: the analysis is reported with its statistics missing ("NE" in the tables),
    not dropped or fatal."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            rows = compute()
        except NotEstimableError as exc:
            rows = _not_estimable_rows(ctx, spec, df, str(exc))
    return _with_warnings(rows, caught)


def _labelled(spec: AnalysisSpec, rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Option ``level_labels`` names the coded ``levels`` of the analysed variable (the CDISC
    pilot's CIBIC+ score, AVAL 1-7 without AVALC: "Marked improvement", ...): the ARD level is the
    label, as ``cards`` keeps a factor's label; the method counted by code, in code order."""
    labels = spec.options.get("level_labels")
    if not isinstance(labels, list):
        return rows
    codes = spec.options.get("levels")
    names = dict(zip(map(str, codes if isinstance(codes, list) else []), map(str, labels), strict=False))
    analysed = {v for v in (spec.variable, *spec.variables) if v}
    for r in rows:
        if r["variable"] in analysed and r["variable_level"] in names:
            r["variable_level"] = names[str(r["variable_level"])]
    return rows


def _with_warnings(rows: list[dict[str, object]], caught: Sequence[warnings.WarningMessage]
                   ) -> list[dict[str, object]]:
    """Fill the blank ``warning`` of ``rows`` with the distinct warnings of their computation.

    The warnings are recorded per analysis run (the statistics of one call share them); a
    statistic that set its own warning keeps it."""
    text = "; ".join(dict.fromkeys(f"{w.category.__name__}: {str(w.message).splitlines()[0]}"
                                   for w in caught if str(w.message).strip()))
    if text:
        for r in rows:
            if not r.get("warning"):
                r["warning"] = text
    return rows


def _group_frame(spec: AnalysisSpec, data: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The subjects an absent analysis would have had (ADSL under the plan's population where that
    filter reads ADSL variables only), so the not-estimable rows still show n per group; empty
    when the population cannot be applied to ADSL."""
    adsl = data.get("adsl")
    if adsl is None or not spec.group or spec.group not in adsl.columns:
        return pd.DataFrame()
    try:
        return adsl.loc[spec.population_filter.mask(adsl)]
    except Exception:  # the filter names analysis-dataset variables: no per-group n to show
        return pd.DataFrame()


def _subgroup_runs(spec: AnalysisSpec, df: pd.DataFrame) -> list[tuple[AnalysisSpec, pd.DataFrame]]:
    """Without subgroups: the analysis. With subgroups: one run per level of each subgroup variable
    (the population column of the ARD says which, e.g. ``EFFFL == "Y" and AGEGR1 == "2-6"``)."""
    if not spec.subgroups:
        return [(spec, df)]
    out = []
    for var in spec.subgroups:
        for level in group_levels(df, var):
            sel = df[df[var].astype(str) == level]
            numeric = pd.api.types.is_numeric_dtype(df[var]) and not pd.api.types.is_bool_dtype(df[var])
            cond = f"{var} == {level}" if numeric else f"{var} == {level!r}".replace("'", '"')
            pop = f"({spec.population}) and {cond}" if spec.population else cond
            out.append((spec.model_copy(update={"population": pop}), sel))
    return out


def _not_estimable_rows(ctx: ArdContext, spec: AnalysisSpec, df: pd.DataFrame,
                        reason: str = "") -> list[dict[str, object]]:
    """The rows of an analysis the data cannot support: n per group (what there was) and a missing
    estimate, so that tables print "NE" for it instead of leaving it out; ``reason`` (why it could
    not be estimated) is every row's ``error``."""
    group = spec.group or ""
    rows: list[dict[str, object]] = []
    if group and group in df.columns and "USUBJID" in df.columns:
        for level, sub in df.groupby(df[group].astype(str), sort=True):
            rows += make_rows(ctx, {"n": int(sub["USUBJID"].nunique())}, group_level=str(level),
                              method="not_estimable", error=reason)
    rows += make_rows(ctx, {"estimate": float("nan"), "p_value": float("nan")}, method="not_estimable",
                      error=reason)
    return rows
