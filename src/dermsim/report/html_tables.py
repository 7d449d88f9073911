"""HTML tables through ``great_tables`` (the Python port of R's gt).

The same :class:`~dermsim.report.tables.TableData` the RTF renderer writes becomes a gt table:
title "Table 14.2.1" and subtitle (title, population), column labels with the group N, section
headings in bold, indented labels, footnotes as source notes. The output is an HTML fragment
with its own scoped CSS and no external resources, for the self-contained report.
"""

from __future__ import annotations

import html

import pandas as pd
from great_tables import GT, loc, style

from dermsim.report.tables import TableData

__all__ = ["render_table_html"]

_STUB = "__label__"


def render_table_html(table: TableData) -> str:
    """An HTML fragment (``<div>`` with scoped ``<style>``) of ``table``."""
    labels = ["\u00a0" * (4 * r.indent) + r.label for r in table.rows]
    data: dict[str, list[str]] = {_STUB: labels}
    keys = [f"c{j}" for j in range(len(table.columns))]
    for j, key in enumerate(keys):
        data[key] = [r.cells[j] if r.cells else "" for r in table.rows]
    df = pd.DataFrame(data)
    gt = (
        GT(df, id=table.name.replace(".", "-"))
        .tab_header(title=f"{table.label} {table.number}", subtitle=f"{table.title} ({table.population})")
        .cols_label(
            **{_STUB: (table.stub_label or "").replace("\n", " / ")},
            **{
                k: html.unescape(f"{c} {n}".strip())
                for k, c, n in zip(keys, table.columns, table.column_n, strict=True)
            },
        )
        .cols_align("center", columns=keys)
        .cols_align("left", columns=[_STUB])
    )
    heads = [i for i, r in enumerate(table.rows) if r.heading]
    if heads:
        gt = gt.tab_style(style.text(weight="bold"), loc.body(columns=[_STUB], rows=heads))
    for note in (*table.footnotes, *([table.source] if table.source else [])):
        gt = gt.tab_source_note(note)
    gt = gt.tab_options(table_font_size="13px", data_row_padding="2px", table_width="100%")
    return gt.as_raw_html(inline_css=False)
