"""Analysis results data (ARD): one long frame, one row per statistic.

Every analysis writes rows with the columns of :data:`ARD_COLUMNS`; ``stat_name`` comes from the
one vocabulary :data:`STAT_NAMES` (below, with meanings). Tables, figures, reports and the app are
rendered from this frame and never recompute a number. Numbers stay unrounded here; rounding
happens once, in the formatting layer.

Conventions for the descriptive columns:

* ``group``/``group_level``: the grouping variable and its level; blank ``group_level`` means the
  row is about all groups together (an overall test).
* ``comparator``: blank for a statistic of one group; the reference level for a comparison
  (``group_level`` minus or versus ``comparator``).
* ``variable_level``: the category of a categorical variable, the term of an AE row (the SOC on
  an ``AEBODSYS`` row, the PT on an ``AEDECOD`` row), or, for time-to-event rows,
  ``at_risk``/``survival``/``curve``/``median``.
* ``group2``/``group2_level``: an outer grouping of the variable, for nested terms: a PT row has
  ``group2 = "AEBODSYS"`` and its SOC in ``group2_level`` (as the R ``cards`` package's
  hierarchical ARDs).
* ``visit``: the analysis visit; ``timepoint``: the time point of a time-to-event row (in ``AVAL``
  units), so time points are never mistaken for visits.
* ``stat_label``: the statistic's label for a reader, with the test or estimator that produced it
  ("p-value (Fisher's exact test)"); ``fmt``: the number of decimals a table shows by default
  (``"p"`` for p-values, shown with 4 decimals and "<0.0001").
* ``method``: the plan method of the analysis, one name for every row of it.
* ``warning``/``error``: what the computation of the statistic reported, as the R ``cards``
  package keeps them per statistic: ``warning`` the warnings raised while the analysis ran (one
  line each, joined by "; "), ``error`` why a statistic is missing when it could not be estimated
  (too few subjects, an empty arm, a parameter no subject has); blank when there was none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dermsim.errors import InvalidInputError

__all__ = ["ARD_COLUMNS", "DETAIL_LABELS", "STAT_FMT", "STAT_LABELS", "STAT_NAMES", "ArdContext",
           "empty_ard", "frame_from_rows", "make_rows", "stat_label", "validate_ard"]

STAT_NAMES: dict[str, str] = {
    "n": "number of subjects with a value (or at risk, for time-to-event rows)",
    "mean": "arithmetic mean",
    "sd": "standard deviation (n - 1 denominator)",
    "median": "median (for time-to-event rows, the Kaplan-Meier median)",
    "min": "minimum",
    "max": "maximum",
    "q1": "first quartile",
    "q3": "third quartile",
    "count": "number of subjects in the category (or responders)",
    "pct": "percentage of subjects (0-100) in the category, of the group's denominator",
    "n_events": "number of events (AE records, time-to-event events)",
    "estimate": "point estimate (proportion, difference, ratio, survival probability)",
    "se": "standard error of the estimate",
    "ci_lower": "lower confidence limit",
    "ci_upper": "upper confidence limit",
    "statistic": "test statistic (F, chi-square, t, z)",
    "df": "degrees of freedom of the test statistic (numerator for F)",
    "p_value": "p-value of the test",
    "lsmean": "least-squares mean",
    "lsmean_se": "standard error of the least-squares mean",
    "exposure_years": "time at risk in patient-years (to the first event for subjects with one)",
    "rate": "exposure-adjusted incidence rate: subjects with the event per 100 patient-years at risk",
}

ARD_COLUMNS: tuple[str, ...] = (
    "analysis_id", "dataset", "population", "parameter", "variable", "variable_level", "group2",
    "group2_level", "visit", "timepoint", "group", "group_level", "comparator", "stat_name",
    "stat_label", "stat_value", "fmt", "method", "warning", "error",
)

_TEXT_COLUMNS = tuple(c for c in ARD_COLUMNS if c != "stat_value")
# columns that describe a value but do not identify it (a statistic appears once per the others)
_DESCRIPTIVE = ("stat_value", "stat_label", "fmt", "method", "warning", "error")

# reader's label of each statistic
STAT_LABELS: dict[str, str] = {
    "n": "n", "mean": "Mean", "sd": "SD", "median": "Median", "min": "Min", "max": "Max",
    "q1": "Q1", "q3": "Q3", "count": "n", "pct": "%", "n_events": "Number of events",
    "estimate": "Estimate", "se": "SE", "ci_lower": "Lower confidence limit",
    "ci_upper": "Upper confidence limit", "statistic": "Test statistic", "df": "Degrees of freedom",
    "p_value": "p-value", "lsmean": "LS mean", "lsmean_se": "SE of LS mean",
    "exposure_years": "Patient-years at risk", "rate": "Events per 100 patient-years",
}
# default decimals of each statistic as stored (proportions and survival on the 0-1 scale)
STAT_FMT: dict[str, str] = {
    "n": "0", "count": "0", "n_events": "0", "pct": "1", "mean": "1", "median": "1", "q1": "1",
    "q3": "1", "min": "1", "max": "1", "sd": "2", "se": "3", "estimate": "3", "ci_lower": "3",
    "ci_upper": "3", "statistic": "2", "df": "1", "p_value": "p", "lsmean": "2", "lsmean_se": "3",
    "exposure_years": "1", "rate": "1",
}
# what a statistic's producer is called in its label (sub-methods of an analysis)
DETAIL_LABELS: dict[str, str] = {
    "fisher_exact": "Fisher's exact test", "anova": "one-way ANOVA", "chi_square": "Pearson chi-square test",
    "logrank": "log-rank test", "km_log-log": "Kaplan-Meier, log-log CI", "km": "Kaplan-Meier",
    "cmh": "Cochran-Mantel-Haenszel test", "cmh_general_association": "CMH general association",
    "cmh_row_mean_scores": "CMH row mean scores", "cmh_correlation": "CMH nonzero correlation",
    "breslow_day": "Breslow-Day test", "ancova_model": "ANCOVA model F test",
    "ancova_type3": "ANCOVA Type III test", "ancova_slope": "ANCOVA covariate slope",
    "ancova_lsmeans_equal": "ANCOVA, equal weights", "ancova_lsmeans_om": "ANCOVA, observed margins",
    "ancova_lsmean_diff_equal": "ANCOVA difference of LS means",
    "ancova_lsmean_diff_om": "ANCOVA difference of LS means (observed margins)",
    "ancova_dose_response": "ANCOVA dose-response test",
    "ancova_mi_rubin": "ANCOVA, multiple imputation, Rubin's rules",
    "common_rd_mh_sato": "common risk difference, MH weights, Sato variance",
    "proportion_wilson": "Wilson score interval",
}


def empty_ard() -> pd.DataFrame:
    """An ARD frame with no rows and the right columns and types."""
    df = pd.DataFrame({c: pd.Series(dtype=object) for c in _TEXT_COLUMNS})
    df["stat_value"] = pd.Series(dtype=float)
    return df[list(ARD_COLUMNS)]


@dataclass(frozen=True)
class ArdContext:
    """The columns that one analysis shares across its rows."""

    analysis_id: str
    dataset: str
    population: str = ""
    parameter: str = ""
    variable: str = ""
    group: str = ""
    method: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def replace(self, **changes: str) -> ArdContext:
        data = {k: getattr(self, k) for k in
                ("analysis_id", "dataset", "population", "parameter", "variable", "group", "method")}
        data.update(changes)
        return ArdContext(**data)


def stat_label(name: str, detail: str = "") -> str:
    """The label of statistic ``name``, with the test or estimator ``detail`` that produced it."""
    base = STAT_LABELS.get(name, name)
    if not detail:
        return base
    return f"{base} ({DETAIL_LABELS.get(detail, detail.replace('_', ' '))})"


def make_rows(ctx: ArdContext, stats: Mapping[str, object], *, variable_level: str = "",
              visit: str = "", group_level: str = "", comparator: str = "",
              variable: str | None = None, method: str | None = None, timepoint: str = "",
              group2: str = "", group2_level: str = "", warning: str = "",
              error: str = "") -> list[dict[str, object]]:
    """Rows for one cell: every (stat_name, value) of ``stats`` with the shared columns.

    Values must be numbers (``None`` and NaN are kept as missing: a statistic that could not be
    estimated is reported as missing, not left out). ``method`` names the test or estimator
    within the analysis (``fisher_exact``); it goes into ``stat_label``, while the ``method``
    column keeps the analysis' plan method. ``warning``/``error``: what the computation reported
    (see the module docstring); :func:`dermsim.analysis.run.run_plan` fills them for a whole
    analysis.
    """
    detail = "" if method is None or method == ctx.method else str(method)
    rows = []
    for name, value in stats.items():
        if name not in STAT_NAMES:
            raise InvalidInputError(f"stat_name must be one of {', '.join(STAT_NAMES)}; got {name!r} "
                                    f"(analysis {ctx.analysis_id}).")
        rows.append({
            "analysis_id": ctx.analysis_id, "dataset": ctx.dataset, "population": ctx.population,
            "parameter": ctx.parameter, "variable": ctx.variable if variable is None else variable,
            "variable_level": _text(variable_level), "group2": _text(group2),
            "group2_level": _text(group2_level), "visit": _text(visit), "timepoint": _text(timepoint),
            "group": ctx.group, "group_level": _text(group_level), "comparator": _text(comparator),
            "stat_name": name, "stat_label": stat_label(name, detail),
            "stat_value": _number(value, name, ctx.analysis_id), "fmt": STAT_FMT.get(name, ""),
            "method": ctx.method, "warning": _text(warning), "error": _text(error),
        })
    return rows


def _text(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _number(v: object, name: str, aid: str) -> float:
    if v is None:
        return float("nan")
    try:
        return float(v)
    except (TypeError, ValueError):
        raise InvalidInputError(f"stat_value of {name!r} must be a number; got {v!r} "
                                f"(analysis {aid}).") from None


def frame_from_rows(rows: Iterable[Mapping[str, object]]) -> pd.DataFrame:
    """An ARD frame from row dicts (columns in :data:`ARD_COLUMNS` order)."""
    rows = list(rows)
    if not rows:
        return empty_ard()
    df = pd.DataFrame.from_records(rows, columns=list(ARD_COLUMNS))
    df["stat_value"] = df["stat_value"].astype(float)
    for c in _TEXT_COLUMNS:
        df[c] = df[c].fillna("").astype(str)
    return df


def validate_ard(df: pd.DataFrame) -> pd.DataFrame:
    """Check columns, types and the stat_name vocabulary; return ``df`` unchanged if valid."""
    missing = [c for c in ARD_COLUMNS if c not in df.columns]
    if missing:
        raise InvalidInputError(f"ARD must have columns {', '.join(ARD_COLUMNS)}; missing {missing[0]}.")
    extra = [c for c in df.columns if c not in ARD_COLUMNS]
    if extra:
        raise InvalidInputError(f"ARD has unknown column {extra[0]!r}; allowed: {', '.join(ARD_COLUMNS)}.")
    bad = ~df["stat_name"].isin(list(STAT_NAMES))
    if bad.any():
        row = df.loc[bad].iloc[0]
        raise InvalidInputError(f"stat_name must be one of {', '.join(STAT_NAMES)}; got "
                                f"{row['stat_name']!r} (analysis {row['analysis_id']}).")
    if not pd.api.types.is_float_dtype(df["stat_value"]):
        raise InvalidInputError(f"ARD stat_value must be float; got {df['stat_value'].dtype}.")
    keys = [c for c in ARD_COLUMNS if c not in _DESCRIPTIVE]
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        row = df.loc[dup].iloc[0]
        raise InvalidInputError(
            f"ARD has duplicate rows for analysis {row['analysis_id']}, variable {row['variable']}, "
            f"level {row['variable_level']!r}, group {row['group_level']!r}, stat {row['stat_name']}; "
            "each statistic must appear once.")
    return df


