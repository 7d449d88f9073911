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
* ``variable_level``: the category of a categorical variable, the term of an AE row
  (``SOC`` or ``SOC/PT``), or, for time-to-event rows, ``at_risk``/``survival``/``median``.
* ``visit``: the analysis visit, or for time-to-event rows the time point (in ``AVAL`` units).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dermsim.errors import InvalidInputError

__all__ = ["ARD_COLUMNS", "STAT_NAMES", "ArdContext", "empty_ard", "frame_from_rows", "make_rows",
           "validate_ard"]

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
    "analysis_id", "dataset", "population", "parameter", "variable", "variable_level", "visit",
    "group", "group_level", "comparator", "stat_name", "stat_value", "method",
)

_TEXT_COLUMNS = tuple(c for c in ARD_COLUMNS if c != "stat_value")


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


def make_rows(ctx: ArdContext, stats: Mapping[str, object], *, variable_level: str = "",
              visit: str = "", group_level: str = "", comparator: str = "",
              variable: str | None = None, method: str | None = None) -> list[dict[str, object]]:
    """Rows for one cell: every (stat_name, value) of ``stats`` with the shared columns.

    Values must be numbers (``None`` and NaN are kept as missing: a statistic that could not be
    estimated is reported as missing, not left out).
    """
    rows = []
    for name, value in stats.items():
        if name not in STAT_NAMES:
            raise InvalidInputError(f"stat_name must be one of {', '.join(STAT_NAMES)}; got {name!r} "
                                    f"(analysis {ctx.analysis_id}).")
        rows.append({
            "analysis_id": ctx.analysis_id, "dataset": ctx.dataset, "population": ctx.population,
            "parameter": ctx.parameter, "variable": ctx.variable if variable is None else variable,
            "variable_level": _text(variable_level), "visit": _text(visit), "group": ctx.group,
            "group_level": _text(group_level), "comparator": _text(comparator), "stat_name": name,
            "stat_value": _number(value, name, ctx.analysis_id),
            "method": ctx.method if method is None else method,
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
        return float(v)  # type: ignore[arg-type]
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
    keys = [c for c in ARD_COLUMNS if c not in ("stat_value", "method")]
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        row = df.loc[dup].iloc[0]
        raise InvalidInputError(
            f"ARD has duplicate rows for analysis {row['analysis_id']}, variable {row['variable']}, "
            f"level {row['variable_level']!r}, group {row['group_level']!r}, stat {row['stat_name']}; "
            "each statistic must appear once.")
    return df


