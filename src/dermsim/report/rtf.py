"""RTF tables through ``rtflite`` (the pharmaverse's RTF composer, r2rtf's Python port).

A :class:`~dermsim.report.tables.TableData` becomes one RTF file: landscape letter page, title
lines "Table 14.2.1 ..." and the population, column headers with the group N, body rows with
indented labels and bold section headings, footnotes and a source line, paginated by rtflite
(``nrow`` lines per page, headers repeated on every page). Nothing is rounded here: the cells are
already text.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import rtflite as rtf

from dermsim._atomic import atomic_path
from dermsim.report.tables import TableData

__all__ = ["render_table_rtf", "rtf_escape", "write_table_rtf"]

ROWS_PER_PAGE = 30
_CONTROL = {"\t": "\\tab ", "\n": "\\line ", "\r": ""}


def rtf_escape(text: object) -> str:
    """``text`` as literal RTF text: ``\\``, ``{`` and ``}`` escaped, every non-ASCII character as
    ``\\uN?`` (RTF's signed 16-bit Unicode escape, a surrogate pair above U+FFFF), tab and new line
    as RTF control words, other control characters dropped.

    rtflite passes text through as RTF (its ``text_convert`` would also read ``_`` as a subscript
    and ``\\word`` as LaTeX), so an arm label such as ``}{\\rtf1 ...`` from a user's design or
    data would otherwise be live RTF; every string is escaped here and conversion is off."""
    out = []
    for ch in str(text):
        o = ord(ch)
        if ch in "\\{}":
            out.append("\\" + ch)
        elif ch in _CONTROL:
            out.append(_CONTROL[ch])
        elif o < 32 or o == 127:
            continue
        elif o < 128:
            out.append(ch)
        else:
            units = ch.encode("utf-16-be")
            for k in range(0, len(units), 2):
                u = int.from_bytes(units[k:k + 2], "big")
                out.append(f"\\u{u - 65536 if u > 32767 else u}?")
    return "".join(out)

_INDENT_TWIPS = 240


_PAGE_CHARS = 140  # characters of 9-point Times across a landscape letter page inside the margins


def _widths(table: TableData) -> list[float]:
    """Relative column widths: every column first gets its longest word unbroken (a subject id, a
    flag, "RECOVERED/RESOLVED"); what is left of the page goes to the columns whose text is longer
    than that, in proportion to the excess, so long terms wrap and short values never do."""
    cols = [[" " * 3 * r.indent + r.label for r in table.rows] + [table.stub_label or ""]]
    cols += [
        [r.cells[j] for r in table.rows if r.cells] + [f"{c} {n}"]
        for j, (c, n) in enumerate(zip(table.columns, table.column_n, strict=True))
    ]
    # capitals and digits run wider than the mean letter; 2 characters of cell padding
    floor = [1.2 * max([len(w) for t in col for w in t.split()] + [4]) + 2 for col in cols]
    natural = [
        max(f, 1.05 * max([len(t) for t in col] + [0]) + 2) for f, col in zip(floor, cols, strict=True)
    ]
    spare = _PAGE_CHARS - sum(floor)
    excess = [n - f for n, f in zip(natural, floor, strict=True)]
    if spare <= 0 or sum(excess) <= spare:
        return natural if spare > 0 else floor
    return [f + spare * e / sum(excess) for f, e in zip(floor, excess, strict=True)]


def _document(table: TableData, rows_per_page: int) -> rtf.RTFDocument:
    ncol = len(table.columns) + 1
    stub = [rtf_escape(r.label) for r in table.rows]
    data = {"c0": stub}
    for j in range(len(table.columns)):
        data[f"c{j + 1}"] = [rtf_escape(r.cells[j]) if r.cells else "" for r in table.rows]
    df = pl.DataFrame(data, schema={k: pl.String for k in data})
    widths = _widths(table)
    header = [rtf_escape((table.stub_label or "").replace("\n", " "))] + [
        rtf_escape(f"{c} {n}".strip()) for c, n in zip(table.columns, table.column_n, strict=True)
    ]
    indent = [[_INDENT_TWIPS * r.indent] + [0] * (ncol - 1) for r in table.rows]
    fmt = [["b" if r.heading else ""] + [""] * (ncol - 1) for r in table.rows]
    just = [["l"] + ["c"] * (ncol - 1) for _ in table.rows]
    foot = [rtf_escape(f) for f in table.footnotes]
    return rtf.RTFDocument(
        df=df,
        rtf_page=rtf.RTFPage(orientation="landscape", nrow=rows_per_page),
        rtf_title=rtf.RTFTitle(
            text=[rtf_escape(t) for t in (f"{table.label} {table.number}", table.title, table.population)],
            text_convert=[False],
        ),
        rtf_column_header=[
            rtf.RTFColumnHeader(
                text=header, col_rel_width=widths, text_justification=["l"] + ["c"] * (ncol - 1),
                text_convert=[False] * ncol,
            )
        ],
        rtf_body=rtf.RTFBody(
            col_rel_width=widths, text_justification=just, text_indent_left=indent, text_format=fmt,
            text_convert=[[False] * ncol for _ in table.rows] or [[False] * ncol],
        ),
        rtf_footnote=rtf.RTFFootnote(text=foot, text_convert=[False]) if foot else None,
        rtf_source=(rtf.RTFSource(text=[rtf_escape(table.source)], text_convert=[False])
                    if table.source else None),
    )


def render_table_rtf(table: TableData, *, rows_per_page: int = ROWS_PER_PAGE) -> str:
    """The RTF text of ``table``."""
    return _document(table, rows_per_page).rtf_encode()


def write_table_rtf(table: TableData, path: str | Path, *, rows_per_page: int = ROWS_PER_PAGE) -> Path:
    """Write ``table`` as RTF to ``path`` (atomically) and return the path."""
    path = Path(path)
    text = render_table_rtf(table, rows_per_page=rows_per_page)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
