"""Writing and reading analysis results data (ARD): CSV, Parquet and plain-text quick-look tables.

Every file is written atomically (temporary sibling, then rename): an interrupted run leaves the
old file or the new one, never half of one. Values are written at full precision; the quick-look
tables round for display only, with the project's one rounding rule
(:mod:`dermsim.report.format`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from dermsim._atomic import atomic_path
from dermsim.analysis.ard import ARD_COLUMNS, STAT_FMT, STAT_LABELS, validate_ard
from dermsim.errors import DataValidationError

__all__ = ["format_ard_tables", "read_ard", "write_ard", "write_ard_tables"]


def write_ard(ard: pd.DataFrame, out_dir: str | Path, *, tables: bool = True,
              titles: Mapping[str, str] | None = None,
              meta: Mapping[str, object] | None = None) -> dict[str, Path]:
    """Write ``ard.csv``, ``ard.parquet``, (``tables=True``) ``tables/<analysis_id>.txt`` and
    (``meta``) ``ard_meta.json`` (what made the numbers: plan, seed, version, inputs) into
    ``out_dir``; return the paths written by kind."""
    validate_ard(ard)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "ard.csv", "parquet": out / "ard.parquet"}
    if meta is not None:
        paths["meta"] = out / "ard_meta.json"
        with atomic_path(paths["meta"]) as tmp:
            tmp.write_text(json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    with atomic_path(paths["csv"]) as tmp:
        ard.to_csv(tmp, index=False, float_format="%.17g")
    with atomic_path(paths["parquet"]) as tmp:
        ard.reset_index(drop=True).to_parquet(tmp, index=False)
    if tables:
        for aid, path in write_ard_tables(ard, out / "tables", titles=titles).items():
            paths[f"table:{aid}"] = path
    return paths


def read_ard(path: str | Path) -> pd.DataFrame:
    """Read an ARD written by :func:`write_ard` (CSV or Parquet) and check it."""
    p = Path(path)
    if p.suffix == ".parquet":
        df = pd.read_parquet(p)
    else:
        df = pd.read_csv(p, dtype={c: str for c in ARD_COLUMNS if c != "stat_value"},
                         keep_default_na=False, na_values={"stat_value": ["", "NaN", "nan"]},
                         float_precision="round_trip")
    df = _upgrade(df)
    try:
        return validate_ard(df[list(ARD_COLUMNS)] if set(ARD_COLUMNS) <= set(df.columns) else df)
    except Exception as exc:
        raise DataValidationError(f"{p}: {exc}") from None


_ADDED = ("group2", "group2_level", "timepoint", "stat_label", "fmt", "warning", "error")


def _upgrade(df: pd.DataFrame) -> pd.DataFrame:
    """An ARD written before the columns of :data:`_ADDED` existed reads with them filled (blank
    groupings, the default label and format of each statistic, no warning or error), so old runs
    still render."""
    if all(c in df.columns for c in _ADDED) or "stat_name" not in df.columns:
        return df
    df = df.copy()
    for c in ("group2", "group2_level", "timepoint", "warning", "error"):
        if c not in df.columns:
            df[c] = ""
    if "stat_label" not in df.columns:
        df["stat_label"] = df["stat_name"].map(STAT_LABELS).fillna(df["stat_name"])
    if "fmt" not in df.columns:
        df["fmt"] = df["stat_name"].map(STAT_FMT).fillna("")
    return df


def _display(part: pd.DataFrame, digits: int = 4) -> pd.Series:
    """Display text: p-values as "<0.0001" or 4 decimals; counts as integers; other numbers with
    ``digits`` significant digits (at most 6 decimals), rounded half away from zero."""
    from dermsim.report.format import fmt_num, fmt_p

    def one(v: float, stat: str) -> str:
        if v is None or not np.isfinite(v):
            return "NE"
        if stat == "p_value" and 0.0 <= v <= 1.0:
            return fmt_p(v, 4)
        if float(v).is_integer() and abs(v) < 1e15:
            return str(int(v))
        mag = int(np.floor(np.log10(abs(v))))
        return fmt_num(v, min(max(digits - 1 - mag, 0), 6))

    return pd.Series([one(v, s) for v, s in zip(part["stat_value"], part["stat_name"], strict=True)],
                     index=part.index, dtype=object)


def format_ard_tables(ard: pd.DataFrame, *, titles: Mapping[str, str] | None = None) -> dict[str, str]:
    """One plain-text table per analysis: rows are (parameter, visit, variable, level, comparator,
    statistic), columns the group levels (``All`` for rows about all groups)."""
    out: dict[str, str] = {}
    for aid, part in ard.groupby("analysis_id", sort=False):
        part = part.assign(col=part["group_level"].replace("", "All"), shown=_display(part))
        index = ["parameter", "visit", "timepoint", "variable", "group2_level", "variable_level",
                 "comparator", "stat_name"]
        index = [c for c in index if (part[c] != "").any() or c == "stat_name"]
        cols = list(dict.fromkeys(part["col"]))
        wide = part.pivot_table(index=index, columns="col", values="shown", aggfunc="first", sort=False)
        wide = wide.reindex(columns=cols).fillna("")
        head = [f"{aid}: {titles[aid]}" if titles and aid in titles else str(aid),
                f"dataset {part['dataset'].iloc[0]}; population: {part['population'].iloc[0] or 'all'}; "
                f"group: {part['group'].iloc[0] or '-'}; method: {part['method'].iloc[0]}", ""]
        with pd.option_context("display.max_colwidth", 60, "display.width", 250):
            out[str(aid)] = "\n".join(head) + _laid_out(ard, str(aid)) + wide.to_string() + "\n"
    return out


def _laid_out(ard: pd.DataFrame, aid: str) -> str:
    """The analysis as the report lays it out (generic layout of its method), above the dump of
    every statistic; blank when its method has no layout."""
    from dermsim.report.generic_layouts import generic_layout
    from dermsim.report.tables import build_table

    lay = generic_layout(ard, aid)
    if lay is None:
        return ""
    table = build_table(lay, ard)
    frame = table.to_frame()
    frame.columns = [f"{c} {n}".strip() for c, n in zip(frame.columns, ("", *table.column_n), strict=True)]
    stub = frame.columns[0]
    width = max([len(str(v)) for v in frame[stub]] + [len(stub)])
    frame[stub] = frame[stub].astype(str).str.ljust(width)  # indented labels stay left-aligned
    with pd.option_context("display.max_colwidth", 60, "display.width", 250):
        body = frame.to_string(index=False, justify="left")
    return body + "\n\nAll statistics (4 significant digits):\n"


def write_ard_tables(ard: pd.DataFrame, out_dir: str | Path, *,
                     titles: Mapping[str, str] | None = None) -> dict[str, Path]:
    """Write :func:`format_ard_tables` to ``out_dir/<analysis_id>.txt``."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    paths = {}
    for aid, text in format_ard_tables(ard, titles=titles).items():
        path = d / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', aid)}.txt"
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
        paths[aid] = path
    return paths
