"""The ARD in the long format of the R ``cards`` package: ``ard_cards.csv``.

``cards`` (pharmaverse; ``ard_summary``, ``ard_tabulate``, ``ard_hierarchical``, ``bind_ard``)
keeps one row per statistic with the columns ``group1, group1_level, ..., variable,
variable_level, context, stat_name, stat_label, stat, fmt_fn, warning, error`` (``fmt_fn`` is
called ``fmt_fun`` from cards 0.6; we write the name the issue asks for and R users rename it with
``dplyr::rename(fmt_fun = fmt_fn)`` if their version needs it). The mapping from dermsim's columns:

* ``group1``/``group1_level``: the treatment variable and level (blank level: all groups);
* ``group2``/``group2_level``: the outer term of a nested row (``AEBODSYS`` and the SOC of a PT
  row, as ``ard_hierarchical``);
* ``group3``/``group3_level``: ``AVISIT`` and the visit, or ``TIME`` and the time point of a
  time-to-event row;
* ``group4``/``group4_level``: ``COMPARATOR`` and the reference level of a comparison;
* ``group5``/``group5_level``: ``ANALYSIS`` and the analysis id (and ``PARAMCD`` rides in
  ``variable`` as ``PARAMCD.VARIABLE`` when the analysis selects a parameter);
* ``context``: the plan method (cards' name for the kind of computation);
* ``stat``: the unrounded value; ``fmt_fn``: the decimals a table shows (an integer, as cards
  accepts; p-values 4); ``warning``/``error``: the ARD's ``warning`` and ``error`` of the
statistic (what its computation reported; blank when nothing), text here where ``cards`` holds
them as list columns (``NULL`` when empty).

Blank levels are written as empty fields (``NA`` when read by ``readr::read_csv``).
Each column is text except ``stat`` (double) and ``fmt_fn`` (integer).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dermsim._atomic import atomic_path
from dermsim.analysis.ard import validate_ard

__all__ = ["CARDS_COLUMNS", "ard_to_cards", "write_cards"]

CARDS_COLUMNS: tuple[str, ...] = (
    "group1", "group1_level", "group2", "group2_level", "group3", "group3_level", "group4",
    "group4_level", "group5", "group5_level", "variable", "variable_level", "context", "stat_name",
    "stat_label", "stat", "fmt_fn", "warning", "error",
)


def _when(mask: pd.Series, value: str) -> np.ndarray:
    return np.where(mask, value, "")


def ard_to_cards(ard: pd.DataFrame) -> pd.DataFrame:
    """The ``cards``-format frame of ``ard`` (columns :data:`CARDS_COLUMNS`)."""
    validate_ard(ard)
    visit, time = ard["visit"] != "", ard["timepoint"] != ""
    comp = ard["comparator"] != ""
    variable = np.where(ard["parameter"] != "", ard["parameter"] + "." + ard["variable"], ard["variable"])
    out = pd.DataFrame(
        {
            "group1": ard["group"],
            "group1_level": ard["group_level"],
            "group2": ard["group2"],
            "group2_level": ard["group2_level"],
            "group3": np.where(visit, "AVISIT", _when(time, "TIME")),
            "group3_level": np.where(visit, ard["visit"], ard["timepoint"]),
            "group4": _when(comp, "COMPARATOR"),
            "group4_level": ard["comparator"],
            "group5": "ANALYSIS",
            "group5_level": ard["analysis_id"],
            "variable": variable,
            "variable_level": ard["variable_level"],
            "context": ard["method"],
            "stat_name": ard["stat_name"],
            "stat_label": ard["stat_label"],
            "stat": ard["stat_value"].astype(float),
            "fmt_fn": ard["fmt"].replace({"p": "4", "": "1"}).astype(int),
            "warning": ard["warning"],
            "error": ard["error"],
        }
    )
    return out[list(CARDS_COLUMNS)]


def write_cards(ard: pd.DataFrame, path: str | Path) -> Path:
    """Write :func:`ard_to_cards` of ``ard`` as CSV to ``path`` (atomically, full precision)."""
    target = Path(path)
    with atomic_path(target) as tmp:
        ard_to_cards(ard).to_csv(tmp, index=False, float_format="%.17g", na_rep="")
    return target
