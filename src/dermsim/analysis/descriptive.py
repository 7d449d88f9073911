"""Descriptive summaries: n, mean, SD, median, quartiles, min, max by group; counts and percents.

Numbers stay unrounded (rounding belongs to :mod:`dermsim.report.format`). Quartiles follow a SAS
``QNTLDEF=`` definition, default 5 as PROC MEANS/UNIVARIATE (R ``quantile(type = 2)``); the
median is the usual middle value (the same under every definition used here).

Categorical percents take a declared denominator rule, because tables differ:

* ``"group"``: every record of the group; missing values become a level ``Missing`` (the CDISC
  pilot demographics table);
* ``"nonmissing"``: records with a value (missing counted in ``n_missing``, not shown as a level);
* a mapping ``{group level: N}``: a fixed big N per group, e.g. subjects of the safety population
  from ADSL for adverse-event tables.

Groups are few (arms), so each is summarised with NumPy on its slice; nothing loops over records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd

from dermsim.analysis.results import StatPairs, _Result, ard_pairs
from dermsim.errors import InvalidInputError

__all__ = [
    "QNTLDEF_METHODS",
    "CategoricalSummary",
    "Summary",
    "estimate_counts_by_group",
    "estimate_summary",
    "estimate_summary_by_group",
]


#: SAS ``QNTLDEF=`` -> NumPy quantile method (the same as R ``quantile`` types 4, 3, 1, 6, 2).
QNTLDEF_METHODS: dict[int, str] = {1: "interpolated_inverted_cdf", 2: "closest_observation",
                                   3: "inverted_cdf", 4: "weibull", 5: "averaged_inverted_cdf"}


@dataclass(frozen=True)
class Summary(_Result):
    """Summary statistics of one numeric variable in one group (``group_level`` "" = all)."""

    group_level: str
    n: int
    n_missing: int
    mean: float
    sd: float
    median: float
    q1: float
    q3: float
    min: float
    max: float

    def to_ard_rows(self) -> StatPairs:
        return ard_pairs(self, "n", "mean", "sd", "median", "q1", "q3", "min", "max")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(**data)


@dataclass(frozen=True)
class CategoricalSummary(_Result):
    """Counts and percents (0-100) of the levels of one variable in one group."""

    group_level: str
    denominator: int
    n_missing: int
    levels: tuple[str, ...]
    counts: tuple[int, ...]
    pcts: tuple[float, ...]
    denominator_rule: str

    def count(self, level: str) -> int:
        return self.counts[self._index(level)]

    def pct(self, level: str) -> float:
        return self.pcts[self._index(level)]

    def _index(self, level: str) -> int:
        if level not in self.levels:
            raise InvalidInputError(f"level must be one of {', '.join(self.levels)}; got {level!r}.")
        return self.levels.index(level)

    def to_ard_rows(self) -> StatPairs:
        """The denominator of the group, as ``n``."""
        return [("n", float(self.denominator))]

    def ard_blocks(self) -> list[tuple[dict[str, str], StatPairs]]:
        """``(columns, pairs)``: the denominator, then count and pct per level (``variable_level``)."""
        out: list[tuple[dict[str, str], StatPairs]] = [
            ({"group_level": self.group_level}, self.to_ard_rows())]
        for lv, k, p in zip(self.levels, self.counts, self.pcts, strict=True):
            out.append(({"group_level": self.group_level, "variable_level": lv},
                        [("count", float(k)), ("pct", p)]))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        d = dict(data)
        for k in ("levels", "counts", "pcts"):
            d[k] = tuple(d[k])
        return cls(**d)


def _qntldef(q: int) -> str:
    if q not in QNTLDEF_METHODS:
        raise InvalidInputError(f"qntldef must be one of 1, 2, 3, 4, 5 (SAS QNTLDEF=); got {q!r}.")
    return QNTLDEF_METHODS[q]


def _numeric(values: Sequence[float] | np.ndarray | pd.Series, name: str = "values") -> np.ndarray:
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)):
        raise InvalidInputError(f"{name} must be numeric; got {s.dtype}.")
    return s.to_numpy(dtype=float, na_value=np.nan)


def _summary_of(v: np.ndarray, group_level: str, method: str) -> Summary:
    ok = v[np.isfinite(v)]
    n, miss = int(ok.size), int(v.size - ok.size)
    if n == 0:
        nan = float("nan")
        return Summary(group_level, 0, miss, nan, nan, nan, nan, nan, nan, nan)
    q1, med, q3 = np.quantile(ok, [0.25, 0.5, 0.75], method=method)
    # the median is the middle value (average of the two middle ones) under every definition
    med = float(np.median(ok))
    return Summary(group_level, n, miss, float(ok.mean()), float(ok.std(ddof=1)) if n > 1 else float("nan"),
                   med, float(q1), float(q3), float(ok.min()), float(ok.max()))


def estimate_summary(values: Sequence[float] | np.ndarray | pd.Series, *, qntldef: int = 5,
                     group_level: str = "") -> Summary:
    """n, mean, SD (n - 1), median, Q1, Q3, min, max of the non-missing values (SAS PROC MEANS)."""
    return _summary_of(_numeric(values), group_level, _qntldef(qntldef))


def _groups_text(groups: Sequence[object] | np.ndarray | pd.Series, n: int) -> np.ndarray:
    g = groups if isinstance(groups, pd.Series) else pd.Series(np.asarray(groups, dtype=object))
    if len(g) != n:
        raise InvalidInputError(f"groups must have one value per record ({n}); got {len(g)}.")
    if g.isna().any():
        raise InvalidInputError("groups must not be missing; got a missing group at position "
                                f"{int(np.flatnonzero(g.isna().to_numpy())[0])}.")
    return g.map(_text).to_numpy()


def _text(x: object) -> str:
    if isinstance(x, float | np.floating) and float(x).is_integer():
        return str(int(x))
    return str(x)


def _group_levels(g: np.ndarray, levels: Sequence[object] | None) -> list[str]:
    present = sorted(set(g.tolist()))
    if levels is None:
        return present
    given = [_text(x) for x in levels]
    unknown = [x for x in present if x not in given]
    if unknown:
        raise InvalidInputError(f"group_levels must include every group in the data; {unknown[0]!r} is not "
                                f"among {', '.join(given)}.")
    return given  # a given level without records is kept (n = 0), as a table column would be


def estimate_summary_by_group(values: Sequence[float] | np.ndarray | pd.Series,
                              groups: Sequence[object] | np.ndarray | pd.Series, *,
                              group_levels: Sequence[object] | None = None, total: bool = False,
                              qntldef: int = 5) -> tuple[Summary, ...]:
    """:func:`estimate_summary` per group (sorted, or in ``group_levels`` order), then with
    ``total`` one more for all records (``group_level`` "")."""
    v = _numeric(values)
    g = _groups_text(groups, v.size)
    method = _qntldef(qntldef)
    out = [_summary_of(v[g == lv], lv, method) for lv in _group_levels(g, group_levels)]
    if total:
        out.append(_summary_of(v, "", method))
    return tuple(out)


def estimate_counts_by_group(values: Sequence[object] | np.ndarray | pd.Series,
                             groups: Sequence[object] | np.ndarray | pd.Series, *,
                             levels: Sequence[object] | None = None,
                             group_levels: Sequence[object] | None = None,
                             denominator: str | Mapping[str, int] = "group", total: bool = False,
                             missing_label: str = "Missing") -> tuple[CategoricalSummary, ...]:
    """Counts and percents of each level of ``values`` per group (see the module docstring for
    the ``denominator`` rules). ``levels`` fixes the order and keeps levels with no records (a
    value outside them is an error); with ``total`` a last summary covers all records (its
    mapping denominator is the sum of the groups')."""
    s = (values if isinstance(values, pd.Series) else pd.Series(list(values))).infer_objects()
    miss = s.isna().to_numpy()
    text = np.where(miss, "", s.map(lambda x: "" if pd.isna(x) else _text(x)).to_numpy().astype(object))
    g = _groups_text(groups, len(s))
    glv = _group_levels(g, group_levels)
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        present = [_text(v) for v in sorted(s.dropna().unique())]  # numeric order: 2 before 10
    else:
        present = sorted(set(text[~miss].tolist()))
    if levels is None:
        lv = present
    else:
        lv = [_text(x) for x in levels]
        unknown = [x for x in present if x not in lv]
        if unknown:
            raise InvalidInputError(f"levels must include every value in the data; {unknown[0]!r} is not "
                                    f"among {', '.join(lv)}.")
    if isinstance(denominator, str):
        if denominator not in ("group", "nonmissing"):
            raise InvalidInputError("denominator must be 'group', 'nonmissing' or a mapping of group level "
                                    f"to N; got {denominator!r}.")
        rule = denominator
    else:
        rule = "fixed"
        missing_n = [x for x in glv if x not in denominator]
        if missing_n:
            raise InvalidInputError(f"denominator must give N for every group; {missing_n[0]!r} has none.")
    show_missing = rule == "group" and bool(miss.any())
    all_levels = [*lv, missing_label] if show_missing else lv
    # one crosstab for all groups: codes of (group, level) counted with bincount
    gi = pd.Index(glv).get_indexer(g)
    li = pd.Index(all_levels).get_indexer(np.where(miss, missing_label, text)) if all_levels else \
        np.full(len(g), -1)
    keep = (gi >= 0) & (li >= 0)
    k = len(all_levels)
    table = np.bincount(gi[keep] * k + li[keep], minlength=len(glv) * k).reshape(len(glv), k)
    n_rec = np.bincount(gi, minlength=len(glv))
    n_miss = np.bincount(gi[miss], minlength=len(glv))

    def one(label: str, counts: np.ndarray, nrec: int, nmiss: int, fixed: int | None) -> CategoricalSummary:
        if rule == "group":
            den = nrec
        elif rule == "nonmissing":
            den = nrec - nmiss
        else:
            den = int(fixed)
            if np.any(counts > den):
                raise InvalidInputError(f"denominator of group {label!r} ({den}) is smaller than a count "
                                        f"({int(counts.max())}); each record must be one subject.")
        pct = 100.0 * counts / den if den > 0 else np.full(counts.shape, np.nan)
        return CategoricalSummary(label, int(den), int(nmiss), tuple(all_levels),
                                  tuple(int(c) for c in counts), tuple(float(p) for p in pct), rule)

    fixed = {x: int(denominator[x]) for x in glv} if rule == "fixed" else {}
    out = [one(x, table[i], int(n_rec[i]), int(n_miss[i]), fixed.get(x)) for i, x in enumerate(glv)]
    if total:
        out.append(one("", table.sum(0), int(n_rec.sum()), int(n_miss.sum()),
                       sum(fixed.values()) if fixed else None))
    return tuple(out)
