"""Data listings (the "L" of TLFs), declared before data and filled from ADaM records.

A listing shows records, not statistics, so it reads an ADaM dataset rather than the ARD: a
:class:`ListingLayout` names the dataset, a population filter in the analysis plan's filter
language (:func:`dermsim.analysis.plan.parse_population`), the columns with their headers and
the sort order. The result is a :class:`~dermsim.report.tables.TableData`, so the RTF and HTML
renderers of the tables serve listings too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dermsim.analysis.plan import parse_population
from dermsim.errors import DataValidationError
from dermsim.report.tables import BodyRow, TableData

__all__ = ["AD_LISTINGS", "ListingLayout", "build_listing", "build_listings"]


@dataclass(frozen=True)
class ListingLayout:
    """One listing: number ("16.2.7.1"), title, ADaM dataset, filter, (variable, header) columns."""

    name: str
    number: str
    title: str
    dataset: str
    where: str
    columns: tuple[tuple[str, str], ...]
    sort_by: tuple[str, ...] = ()
    population: str = ""
    footnotes: tuple[str, ...] = ()


def _text(values: pd.Series) -> list[str]:
    """Records as recorded: whole numbers without ".0", missing as blank, dates as ISO text."""
    out = []
    for v in values.tolist():
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
            out.append("")
        elif isinstance(v, float) and v.is_integer():
            out.append(str(int(v)))
        elif hasattr(v, "isoformat"):
            out.append(v.isoformat()[:10])
        else:
            out.append(str(v))
    return out


def build_listing(layout: ListingLayout, df: pd.DataFrame) -> TableData:
    """The records of ``df`` that pass the layout's filter, in its sort order, as text."""
    need = [v for v, _ in layout.columns] + list(layout.sort_by)
    missing = [v for v in need if v not in df.columns]
    if missing:
        raise DataValidationError(
            f"listing {layout.number}: {layout.dataset.upper()} lacks variable {missing[0]}."
        )
    sel = df.loc[parse_population(layout.where).mask(df)]
    if layout.sort_by:
        sel = sel.sort_values(list(layout.sort_by), kind="stable")
    cols = [_text(sel[v]) for v, _ in layout.columns]
    rows = tuple(BodyRow(first, 0, tuple(c[i] for c in cols[1:])) for i, first in enumerate(cols[0]))
    if not rows:
        rows = (BodyRow("No records.", 0, tuple("" for _ in layout.columns[1:])),)
    return TableData(
        name=layout.name,
        number=layout.number,
        title=layout.title,
        population=layout.population,
        stub_label=layout.columns[0][1],
        columns=tuple(h for _, h in layout.columns[1:]),
        column_n=tuple("" for _ in layout.columns[1:]),
        rows=rows,
        footnotes=layout.footnotes,
        source=f"Source: {layout.dataset.upper()}",
        meta={"kind": "listing", "records": len(sel)},
    )


def build_listings(
    datasets: Mapping[str, pd.DataFrame], layouts: Sequence[ListingLayout] | None = None
) -> list[TableData]:
    """Every listing whose dataset is present (lower-case names)."""
    layouts = AD_LISTINGS if layouts is None else layouts
    return [build_listing(lay, datasets[lay.dataset]) for lay in layouts if lay.dataset in datasets]


AD_LISTINGS: tuple[ListingLayout, ...] = (
    ListingLayout(
        name="l16-2-1-discontinued",
        number="16.2.1",
        title="Subjects Who Discontinued the Study",
        dataset="adsl",
        where='EOSSTT == "DISCONTINUED"',
        population="All randomized subjects",
        columns=(
            ("USUBJID", "Subject"),
            ("TRT01P", "Planned treatment"),
            ("AGE", "Age (y)"),
            ("SEX", "Sex"),
            ("TRTDURD", "Treatment duration (days)"),
            ("DCSREAS", "Reason for discontinuation"),
        ),
        sort_by=("TRT01PN", "USUBJID"),
    ),
    ListingLayout(
        name="l16-2-7-severe-serious-teae",
        number="16.2.7",
        title="Severe or Serious Treatment-Emergent Adverse Events",
        dataset="adae",
        where='TRTEMFL == "Y" and (AESEV == "SEVERE" or AESER == "Y")',
        population="Safety population",
        columns=(
            ("USUBJID", "Subject"),
            ("TRTA", "Actual treatment"),
            ("AGE", "Age (y)"),
            ("AEBODSYS", "System organ class"),
            ("AEDECOD", "Preferred term"),
            ("AESEV", "Severity"),
            ("AESER", "Serious"),
            ("ASTDY", "Start day"),
            ("AENDY", "End day"),
            ("AEOUT", "Outcome"),
        ),
        sort_by=("TRTAN", "USUBJID", "ASTDY"),
        footnotes=("Start and end days are study days relative to the first application (day 1).",),
    ),
)
