"""Build a table from a layout and the ARD only (rtables' ``build_table(lyt, df)``).

Nothing here computes a statistic: every cell is the ARD rows that the layout's filters select,
passed through one formatter of :mod:`dermsim.report.format`. A filter that selects two values of
one statistic for one cell is a layout error and raises, rather than showing either number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.report.format import fmt_ci, fmt_n_pct, fmt_num, fmt_p
from dermsim.report.layouts import AD_LAYOUTS, CELL_FORMATS, Row, Section, Split, TableLayout

__all__ = ["BodyRow", "TableData", "build_table", "build_tables", "format_cell", "population_label"]

TOTAL = "Total"


@dataclass(frozen=True)
class BodyRow:
    """One rendered line: label, indent level, heading flag, and one text per column."""

    label: str
    indent: int
    cells: tuple[str, ...]
    heading: bool = False


@dataclass(frozen=True)
class TableData:
    """A table ready for a renderer (RTF, HTML): all text, nothing left to compute."""

    name: str
    number: str
    title: str
    population: str
    stub_label: str
    columns: tuple[str, ...]
    column_n: tuple[str, ...]
    rows: tuple[BodyRow, ...]
    footnotes: tuple[str, ...]
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """ "Listing" for a data listing, else "Table" (as the CSR numbers them)."""
        return "Listing" if self.meta.get("kind") == "listing" else "Table"

    @property
    def heading(self) -> str:
        return f"{self.label} {self.number} {self.title}"

    def to_frame(self) -> pd.DataFrame:
        """Stub plus one column per group (labels indented with spaces)."""
        data = {self.stub_label or " ": ["   " * r.indent + r.label for r in self.rows]}
        for j, col in enumerate(self.columns):
            data[col] = [r.cells[j] if r.cells else "" for r in self.rows]
        return pd.DataFrame(data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "number": self.number,
            "title": self.title,
            "population": self.population,
            "columns": list(self.columns),
            "column_n": list(self.column_n),
            "rows": [
                {"label": r.label, "indent": r.indent, "heading": r.heading, "cells": list(r.cells)}
                for r in self.rows
            ],
            "footnotes": list(self.footnotes),
            "source": self.source,
        }


# ---- cell formatting ----------------------------------------------------------------------------


def _v(stats: Mapping[str, float], name: str) -> float | None:
    v = stats.get(name)
    return None if v is None else float(v)


def _pct(v: float | None) -> float | None:
    return None if v is None else 100.0 * v


def _int(v: float | None) -> str:
    if v is None:
        return ""
    if not math.isfinite(v):
        return "NE"
    return fmt_num(v, 0)


def format_cell(fmt: str, stats: Mapping[str, float], digits: int = 1, *, p_digits: int = 4) -> str:
    """The text of one cell from its statistics (stat_name -> value). A statistic the ARD lacks
    gives a blank cell; one the ARD holds as missing (not estimable) prints "NE". ``p_digits``:
    decimals of a p-value (below 10**-p_digits it prints "<0.001" for 3)."""
    if fmt not in CELL_FORMATS:
        raise InvalidInputError(f"fmt must be one of {', '.join(CELL_FORMATS)}; got {fmt!r}.")
    if not any(k in stats for k in CELL_FORMATS[fmt]):
        return ""

    def num(name: str, d: int = digits) -> str:
        return fmt_num(_v(stats, name), d, missing="NE")

    if fmt in ("n", "count", "events"):
        return _int(_v(stats, CELL_FORMATS[fmt][0]))
    if fmt == "count_pct":
        count = _v(stats, "count")
        if count is None or not math.isfinite(count):
            return _int(count)
        return fmt_n_pct(count, pct=_v(stats, "pct"), digits=digits)
    if fmt == "count_pct_rate":
        count = _v(stats, "count")
        if count is None or not math.isfinite(count):
            return _int(count)
        return f"{fmt_n_pct(count, pct=_v(stats, 'pct'), digits=digits)} [{num('rate')}]"
    if fmt == "years":
        return num("exposure_years")
    if fmt == "mean_sd":
        return f"{num('mean')} ({num('sd', digits + 1)})"
    if fmt == "median":
        return num("median")
    if fmt == "mean":
        return num("mean")
    if fmt == "q1_q3":
        return f"{num('q1')}, {num('q3')}"
    if fmt == "min_max":
        return f"{num('min', max(digits - 1, 0))}, {num('max', max(digits - 1, 0))}"
    if fmt == "resp_n_pct":
        count, n = _v(stats, "count"), _v(stats, "n")
        return f"{_int(count)}/{_int(n)} ({fmt_num(_v(stats, 'pct'), digits, missing='NE')})"
    if fmt in ("prop_ci_pct", "diff_ci_pct"):
        est = fmt_num(_pct(_v(stats, "estimate")), digits, missing="NE")
        return f"{est} {fmt_ci(_pct(_v(stats, 'ci_lower')), _pct(_v(stats, 'ci_upper')), digits)}"
    if fmt == "estimate":
        return num("estimate")
    if fmt == "diff_ci_pct_p":  # one line per delta of a sensitivity grid: "20.9 (1.5, 40.3); p 0.035"
        p = _v(stats, "p_value")
        p_text = "NE" if p is None or not math.isfinite(p) else fmt_p(p, p_digits)
        return f"{format_cell('diff_ci_pct', stats, digits)}; p {p_text}"
    if fmt == "est_ci":
        est = fmt_num(_v(stats, "estimate"), digits, missing="NE")
        return f"{est} {fmt_ci(_v(stats, 'ci_lower'), _v(stats, 'ci_upper'), digits)}"
    if fmt == "est_se":
        return f"{num('estimate')} ({num('se', digits + 1)})"
    if fmt == "ci":
        return fmt_ci(_v(stats, "ci_lower"), _v(stats, "ci_upper"), digits)
    if fmt == "lsmean_se":
        return f"{num('lsmean')} ({num('lsmean_se', digits + 1)})"
    # fmt == "p"
    p = _v(stats, "p_value")
    return "NE" if p is None or not math.isfinite(p) else fmt_p(p, p_digits)


# ---- selecting ARD rows -------------------------------------------------------------------------


def _mask(ard: pd.DataFrame, where: Mapping[str, object]) -> np.ndarray:
    m = np.ones(len(ard), dtype=bool)
    for col, val in where.items():
        if col not in ard.columns:
            raise InvalidInputError(f"layout filter column must be an ARD column; got {col!r}.")
        vals = ard[col].to_numpy()
        m &= np.isin(vals, list(val)) if isinstance(val, tuple | list) else (vals == val)
    return m


_COND = re.compile(r'(?:^|\band\s+)(\w+)\s*==\s*"?([^"]*)"?\s*$')


def population_label(population: str, labels: Mapping[str, str] | None = None) -> str:
    """The subgroup a population filter adds: '(ITTFL == "Y") and AGEGR1 == "2-6 years"' ->
    'AGEGR1: 2-6 years' (``labels`` renames the variable)."""
    m = _COND.search(population)
    if not m:
        return population
    var, level = m.group(1), m.group(2)
    level = re.sub(r"^(-?\d+)\.0$", r"\1", level)  # numeric levels print as the ADaM value: 2, not 2.0
    return f"{(labels or {}).get(var, var)}: {level}"


_SUBGROUP_VARS = {"AGEGR1": "Age group", "IGABL": "Baseline IGA", "SEX": "Sex", "RACE": "Race"}


def _levels(part: pd.DataFrame, by: str) -> list[str]:
    vals = part[by].to_numpy()
    seen = dict.fromkeys(v for v in vals if v != "")
    return list(seen)


def _key_levels(part: pd.DataFrame, by: Sequence[str]) -> list[tuple[str, ...]]:
    """Distinct (non-blank) combinations of the ``by`` columns, in ARD order: one column is a plain
    split; (group2_level, variable_level) nests PTs under their SOC."""
    keys = part[list(by)].astype(str).itertuples(index=False, name=None)
    return [k for k in dict.fromkeys(keys) if any(v != "" for v in k)]


def _stats(sel: pd.DataFrame, where_desc: str) -> dict[str, float]:
    dup = sel["stat_name"].duplicated(keep=False)
    if dup.any():
        name = sel.loc[dup, "stat_name"].iloc[0]
        raise DataValidationError(
            f"layout cell {where_desc} selects {int(dup.sum())} ARD rows for "
            f"stat_name {name!r}; a cell must bind to one value per statistic."
        )
    return dict(zip(sel["stat_name"], sel["stat_value"].astype(float), strict=True))


def _row_cells(
    ard: pd.DataFrame,
    row: Row,
    base: Mapping[str, object],
    columns: Sequence[str],
    control: str,
    total: bool,
    extra: Sequence[tuple[str, Mapping[str, object]]] = (),
    p_digits: int = 4,
) -> tuple[str, ...]:
    where = {**base, **row.where}
    where.pop("stat_name", None)  # a split's stat_name filter chooses levels, not a cell's statistics
    # a row may name its own reference (a pairwise comparison other than vs the control)
    ref = str(where.pop("comparator")) if row.scope == "vs_control" and "comparator" in where else control
    m = _mask(ard, where)
    part = ard.loc[m & ard["stat_name"].isin(CELL_FORMATS[row.fmt]).to_numpy()]
    cells = []
    for col in columns:
        level = "" if (total and col == TOTAL) else col
        if row.scope == "vs_control":
            if not ref and level:
                # the layout compares with a control the ARD has no comparison with (its arm has no
                # subject in a small trial): the cell cannot be computed and says so
                cells.append("NE")
                continue
            if level in ("", ref):
                cells.append("")
                continue
            sel = part[(part["group_level"] == level) & (part["comparator"] == ref)]
        else:
            sel = part[(part["group_level"] == level) & (part["comparator"] == "")]
        cells.append(
            format_cell(row.fmt, _stats(sel, f"{row.label!r} x {col!r}"), row.digits, p_digits=p_digits)
            if len(sel) else ""
        )
    for label, filt in extra:
        if not row.extra:
            cells.append("")
            continue
        where_x = {k: v for k, v in {**base, **row.where, **filt}.items() if k != "stat_name"}
        mx = _mask(ard, where_x) & ard["stat_name"].isin(CELL_FORMATS[row.extra]).to_numpy()
        sel = ard.loc[mx]
        cells.append(format_cell(row.extra, _stats(sel, f"{row.label!r} x {label!r}"), p_digits=p_digits)
                     if len(sel) else "")
    return tuple(cells)


def _columns(ard: pd.DataFrame, layout: TableLayout) -> list[str]:
    part = ard[(ard["analysis_id"] == layout.analysis_id) & (ard["comparator"] == "")]
    cols = _levels(part, "group_level")
    return [*cols, TOTAL] if layout.total and (part["group_level"] == "").any() else cols


def _control(ard: pd.DataFrame, analysis_ids: Sequence[str]) -> str:
    comp = ard.loc[ard["analysis_id"].isin(list(analysis_ids)) & (ard["comparator"] != ""), "comparator"]
    return str(comp.iloc[0]) if len(comp) else ""


def build_table(layout: TableLayout, ard: pd.DataFrame, *, source: str = "") -> TableData:
    """Render ``layout`` against ``ard`` into text cells (see the module docstring)."""
    if layout.analysis_id not in set(ard["analysis_id"]):
        raise DataValidationError(
            f"table {layout.number}: analysis {layout.analysis_id!r} is not in the ARD."
        )
    columns = _columns(ard, layout)
    ids = {layout.analysis_id} | {
        str(x.where.get("analysis_id")) for x in _all_rows(layout.items) if "analysis_id" in x.where
    }
    control = _control(ard, sorted(ids))
    base = {"analysis_id": layout.analysis_id}
    all_columns = [*columns, *(label for label, _ in layout.extra_columns)]
    rows: list[BodyRow] = []
    for item in layout.items:
        if isinstance(item, Section):
            rows.append(BodyRow(item.label, item.indent, tuple("" for _ in all_columns), heading=True))
        elif isinstance(item, Row):
            cells = _row_cells(ard, item, base, columns, control, layout.total, layout.extra_columns,
                               layout.p_digits)
            rows.append(BodyRow(item.label, item.indent, cells))
        else:
            rows += _split_rows(ard, item, base, columns, control, layout.total, layout.extra_columns,
                                layout.p_digits)
    rows = _prune(rows)
    return TableData(
        name=layout.name,
        number=layout.number,
        title=layout.title,
        population=layout.population,
        stub_label=layout.stub_label,
        columns=tuple(all_columns),
        column_n=(*_big_n(ard, layout, columns), *("" for _ in layout.extra_columns)),
        rows=tuple(rows),
        footnotes=layout.footnotes,
        source=source,
        meta={"analysis_ids": sorted(ids), "control": control},
    )


def _prune(rows: list[BodyRow]) -> list[BodyRow]:
    """Drop lines the ARD has nothing for (a variable the plan did not summarise), then headings
    left without lines under them: a layout can declare more than one plan delivers."""
    kept = [r for r in rows if r.heading or any(r.cells)]
    out: list[BodyRow] = []
    for i, r in enumerate(kept):
        if r.heading:
            nxt = next((x for x in kept[i + 1 :] if not x.heading or x.indent <= r.indent), None)
            if nxt is None or nxt.heading:
                continue
        out.append(r)
    return out


def _all_rows(items: Sequence[object]) -> list[Row]:
    out: list[Row] = []
    for it in items:
        if isinstance(it, Row):
            out.append(it)
        elif isinstance(it, Split):
            out += list(it.rows)
    return out


def _split_rows(
    ard: pd.DataFrame,
    split: Split,
    base: Mapping[str, object],
    columns: Sequence[str],
    control: str,
    total: bool,
    extra_columns: Sequence[tuple[str, Mapping[str, object]]] = (),
    p_digits: int = 4,
) -> list[BodyRow]:
    where = {**base, **split.where}
    ncol = len(columns) + len(extra_columns)
    part = ard.loc[_mask(ard, where)]
    out: list[BodyRow] = []
    by = (split.by,) if isinstance(split.by, str) else tuple(split.by)
    for key in _key_levels(part, by):
        extra = 0
        value = next((v for v in reversed(key) if v != ""), "")  # the innermost level shown
        label = split.labels.get(value, value)
        if split.by == "population":
            label = population_label(value, _SUBGROUP_VARS)
        at = dict(zip(by, key, strict=True))
        if split.indent_by is not None:
            col, depth = split.indent_by
            kind = part.loc[_mask(part, at), col].iloc[0]
            extra = depth.get(str(kind), 0)
        if split.header:
            out.append(BodyRow(label, split.indent, tuple("" for _ in range(ncol)), heading=True))
        for row in split.rows:
            keep = {k: v for k, v in split.where.items() if k != "stat_name"}
            sub = Row(
                row.label or label,
                row.fmt,
                {**keep, **row.where, **at},
                row.digits,
                row.scope,
                row.indent,
                row.extra,
            )
            cells = _row_cells(ard, sub, base, columns, control, total, extra_columns, p_digits)
            indent = split.indent + extra + (row.indent if split.header else 0)
            out.append(BodyRow(sub.label if (split.header or row.label) else label, indent, cells))
    return out


def _big_n(ard: pd.DataFrame, layout: TableLayout, columns: Sequence[str]) -> list[str]:
    part = ard.loc[_mask(ard, layout.big_n)]
    out = []
    for col in columns:
        level = "" if (layout.total and col == TOTAL) else col
        sel = part[(part["group_level"] == level) & (part["comparator"] == "")]
        out.append(f"(N={_int(float(sel['stat_value'].iloc[0]))})" if len(sel) == 1 else "")
    return out


def build_tables(
    ard: pd.DataFrame, layouts: Sequence[TableLayout] = AD_LAYOUTS, *, source: str = ""
) -> list[TableData]:
    """Every layout whose analysis the ARD holds (others are skipped: a real-data plan may lack them)."""
    present = set(ard["analysis_id"])
    return [build_table(lay, ard, source=source) for lay in layouts if lay.analysis_id in present]
