"""What an analysis method is: its declaration (:class:`MethodSpec`, :class:`Method`), what it
receives (:class:`AnalysisInput`) and the display order of groups (:func:`group_levels`).

The lowest module of the plan/method/runner trio: :mod:`~dermsim.analysis.methods` declares every
method with it, :mod:`~dermsim.analysis.plan` validates analyses against those declarations and
:mod:`~dermsim.analysis.run` calls them, so none of the three imports one that imports it back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from dermsim.analysis.ard import ArdContext

if TYPE_CHECKING:  # the spec type only; the plan imports this module at run time, not the reverse
    from dermsim.analysis.plan import AnalysisSpec

__all__ = ["ORDER_VARS", "AnalysisInput", "Method", "MethodSpec", "Rows", "group_levels"]

Rows = list[dict[str, object]]

# numeric companions that give the display order of a treatment variable
ORDER_VARS = {"TRT01P": "TRT01PN", "TRT01A": "TRT01AN", "TRTP": "TRTPN", "TRTA": "TRTAN",
              "ARM": "ARMN", "AGEGR1": "AGEGR1N", "RACE": "RACEN"}


@dataclass(frozen=True)
class MethodSpec:
    """What a method needs from an analysis: its kind, required fields and allowed options."""

    kind: Literal["binary", "continuous", "categorical", "tte", "ae", "subject"]
    required: tuple[str, ...]
    options: tuple[str, ...] = ()
    estimands: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnalysisInput:
    """What a method receives: the spec, its analysis records (population and parameter applied),
    all datasets (for denominators), the shared ARD columns and its own seed."""

    spec: AnalysisSpec
    data: pd.DataFrame
    datasets: Mapping[str, pd.DataFrame]
    ctx: ArdContext
    seed: np.random.SeedSequence

    @property
    def dataset_label(self) -> str:
        return self.spec.dataset.upper()


@dataclass(frozen=True)
class Method:
    """One analysis method: what it needs (``spec``), the function laying out the analysis and,
    for methods that report a treatment-by-subgroup interaction, that function."""

    spec: MethodSpec
    run: Callable[[AnalysisInput], Rows]
    interaction: Callable[[AnalysisInput], Rows] | None = None


def group_levels(df: pd.DataFrame, var: str) -> list[str]:
    """Levels of ``var`` in display order: by its numeric companion (TRT01PN for TRT01P) if
    present, else sorted."""
    vals = df[var].dropna()
    order = ORDER_VARS.get(var)
    if order and order in df.columns:
        pairs = df[[var, order]].dropna().drop_duplicates(var).sort_values([order, var])
        return [str(v) for v in pairs[var]]
    try:
        return [str(v) for v in sorted(vals.unique())]
    except TypeError:
        return [str(v) for v in sorted(vals.astype(str).unique())]
