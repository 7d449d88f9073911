"""The family benefit-risk sheet as one printable HTML page (inline CSS and SVG) and as PDF.

Layout only: the text and numbers come from :func:`dermsim.clinic.build_family_sheet`; numbers are
rounded here with the house rule (:mod:`dermsim.report.format`). Icon arrays are 10 x 10 figures
drawn as inline SVG with a text alternative (``role="img"``, ``aria-labelledby`` a ``<title>``
and a ``<desc>``). Colour is never the only cue: a marked figure is filled dark blue (Okabe-Ito
#0072B2) AND solid, an unmarked one is a hollow grey outline. PDF: headless Chromium print.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import tempfile
from pathlib import Path

from markupsafe import Markup

from dermsim._atomic import atomic_path
from dermsim.clinic.sheet import PLACEHOLDER, Block, FamilySheet, IconArray, Text, Value
from dermsim.clinic.words import Words
from dermsim.errors import DermsimError, InvalidInputError
from dermsim.report.clinic_templates import render
from dermsim.report.format import fmt_num, round_half_away

# Okabe-Ito palette (colour-blind safe): blue for "clear skin" figures, grey outline for others.
MARKED = "#0072B2"
HARM = "#D55E00"   # Okabe-Ito vermillion for side effects (shape still carries the meaning)
UNMARKED_STROKE = "#6b6b6b"
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
# A person figure in a 10 x 13 cell: head (circle) and body (rounded trunk with legs).
_PERSON = ("M5 .6a1.8 1.8 0 1 1 0 3.6a1.8 1.8 0 1 1 0-3.6z"
           "M2.4 4.9h5.2c.6 0 1 .4 1 1v3.6H7.3V12.4H2.7V9.5H1.4V5.9c0-.6.4-1 1-1z")
PER_ROW = 20


def format_value(v: Value, words: Words | None = None) -> str:
    """A placeholder's number as text: whole numbers, "fewer than 1" in 100, or one decimal
    (the words and the decimal mark of the sheet's language)."""
    w = words or Words()
    x = v.number.value
    if v.style == "per100":
        if 0 < x < 0.5:
            return w("format", "fewer_than_one")
        return fmt_num(x, 0)
    if v.style == "1dp":
        return fmt_num(x, 1).replace(".", w("format", "decimal"))
    return fmt_num(x, 0)


def fill(text: Text, words: Words | None = None) -> str:
    """The template with every placeholder replaced by its formatted number (plain text)."""
    return PLACEHOLDER.sub(lambda m: format_value(text.values[m.group(1)], words), text.template)


def body_text(sheet: FamilySheet) -> str:
    """All body text of the sheet (headings and sources excluded), for readability checks."""
    return " ".join(fill(t, sheet.words) for t in sheet.texts(grid=False))


def icon_array_svg(count: int, label: str, uid: str, *, total: int = 100, per_row: int = PER_ROW,
                   words: Words | None = None, color: str = MARKED) -> str:
    """``total`` person figures, the first ``count`` solid blue, the rest hollow grey outlines."""
    if not 0 <= count <= total:
        raise InvalidInputError(f"count must be within [0, {total}]; got {count}.")
    w, h = 10.0, 13.0
    rows = -(-total // per_row)
    shapes = []
    for i in range(total):
        x, y = (i % per_row) * w, (i // per_row) * h
        if i < count:
            shapes.append(f'<path d="{_PERSON}" transform="translate({x:g},{y:g})" fill="{color}"/>')
        else:
            shapes.append(f'<path d="{_PERSON}" transform="translate({x:g},{y:g})" fill="#ffffff" '
                          f'stroke="{UNMARKED_STROKE}" stroke-width="0.7"/>')
    title = html.escape(label)
    desc = html.escape((words or Words())("sheet", "icon_desc", count=str(count), total=str(total),
                                          rest=str(total - count)))
    return (f'<svg class="icons" role="img" aria-labelledby="{uid}-t {uid}-d" viewBox="0 0 {per_row * w:g} '
            f'{rows * h:g}" xmlns="http://www.w3.org/2000/svg"><title id="{uid}-t">{title}</title>'
            f'<desc id="{uid}-d">{desc}</desc>{"".join(shapes)}</svg>')


_LEFT = ("choices", "itch", "side_effects", "stop")
_RIGHT = ("warning", "use", "questions")


def _block(block: Block, w: Words) -> dict[str, object]:
    return {"id": block.id, "heading": block.heading, "paragraphs": [fill(t, w) for t in block.paragraphs],
            "bullets": [fill(t, w) for t in block.bullets]}


def _array_rows(rows: tuple[tuple[str, tuple[IconArray, ...]], ...], w: Words, uid: str,
                color: str) -> list[dict[str, object]]:
    """Icon arrays for the template; the count drawn is the number in the words, rounded the same way."""
    out: list[dict[str, object]] = []
    for s_i, (caption, row) in enumerate(rows):
        arrays = []
        for a_i, arr in enumerate(row):
            count = int(round_half_away(arr.count.number.value))
            words = fill(arr.caption, w)
            svg = icon_array_svg(count, f"{arr.title}: {words}", f"{uid}{s_i}-{a_i}", words=w, color=color)
            arrays.append({"title": arr.title, "svg": Markup(svg), "words": words})
        out.append({"caption": caption, "arrays": arrays})
    return out


def render_family_sheet_html(sheet: FamilySheet, *, page_size: str = "Letter") -> str:
    """The sheet as one self-contained HTML page from ``templates/clinic/family_sheet.html.j2``
    (phone-readable; prints on one A4 or Letter page)."""
    w = sheet.words
    studies = _array_rows(sheet.arrays, w, "ia", MARKED)
    legend = {"marked_svg": Markup(icon_array_svg(1, "marked", "lg1", total=1, per_row=1, words=w)),
              "unmarked_svg": Markup(icon_array_svg(0, "unmarked", "lg0", total=1, per_row=1, words=w)),
              "marked": w("sheet", "legend_marked"), "unmarked": w("sheet", "legend_unmarked")}
    harms = _array_rows(sheet.harms, w, "ha", HARM)
    harm_legend = {"marked_svg": Markup(icon_array_svg(1, "marked", "hl1", total=1, per_row=1, words=w,
                                                       color=HARM)),
                   "unmarked_svg": legend["unmarked_svg"],
                   "marked": w("sheet", "legend_harm"), "unmarked": w("sheet", "legend_noharm")}
    chart = Markup(stop_chart_svg(sheet)) if sheet.stop_chart else None
    grid = None
    if sheet.options is not None:
        g = sheet.options
        grid = {"heading": g.heading, "intro": fill(g.intro, w), "columns": list(g.columns),
                "rows": [{"name": name, "cells": [fill(c, w) for c in cells]} for name, cells in g.rows]}
    blocks = {b.id: b for b in sheet.blocks}
    rest = [b for k, b in blocks.items() if k not in {*_LEFT, *_RIGHT}]
    return render(
        "family_sheet.html.j2", lang=w.lang, page_size=page_size, title=sheet.title,
        subtitle=fill(sheet.subtitle, w), arrays_heading=sheet.arrays_heading, studies=studies, legend=legend,
        left=[_block(blocks[k], w) for k in _LEFT if k in blocks],
        right=[_block(blocks[k], w) for k in _RIGHT if k in blocks] + [_block(b, w) for b in rest],
        footer=sheet.footer, sources_heading=w("sheet", "sources"), sources=[c for _, c in sheet.sources],
        harms_heading=sheet.harms_heading, harms=harms, harm_legend=harm_legend, stop_chart=chart,
        stop_provenance=sheet.stop_provenance, grid=grid)


def stop_chart_svg(sheet: FamilySheet) -> str:
    """Horizontal bars, one per way of using the cream: children clear at the end, out of 100.
    Each bar carries its number as text, so the picture does not rely on reading lengths."""
    rows = sheet.stop_chart
    intervals = sheet.stop_chart_intervals or (None,) * len(rows)
    w_bar, left, h = 140.0, 122.0, 16.0
    parts = []

    def x_of(value: float) -> float:
        return left + w_bar * max(min(value, 100.0), 0.0) / 100.0

    for i, ((label, v), iv) in enumerate(zip(rows, intervals, strict=True)):
        y = 4 + i * h
        n = format_value(v, sheet.words)
        parts.append(f'<text x="{left - 4}" y="{y + 10}" font-size="9" text-anchor="end">'
                     f'{html.escape(label)}</text><rect x="{left}" y="{y}" width="{w_bar}" height="11" '
                     f'fill="#ffffff" stroke="#6b6b6b" stroke-width="0.6"/><rect x="{left}" y="{y}" '
                     f'width="{x_of(v.number.value) - left:.1f}" height="11" fill="{MARKED}"/>'
                     f'<text x="{left + w_bar + 4}" y="{y + 10}" font-size="9">{html.escape(n)}</text>')
        if iv is not None:
            # the model's uncertainty as a black whisker with end caps (shape, not colour)
            lo, hi = x_of(iv[0].number.value), x_of(iv[1].number.value)
            parts.append(f'<path class="unsure" d="M{lo:.1f} {y + 5.5}H{hi:.1f}M{lo:.1f} {y + 2}V{y + 9}'
                         f'M{hi:.1f} {y + 2}V{y + 9}" stroke="#1a1a1a" stroke-width="1.2" fill="none"/>')
    desc = "; ".join(f"{label}: {format_value(v, sheet.words)}" + (
        "" if iv is None else f" ({format_value(iv[0], sheet.words)}-{format_value(iv[1], sheet.words)})")
        for (label, v), iv in zip(rows, intervals, strict=True))
    return (f'<svg class="stopchart" role="img" aria-labelledby="sc-t sc-d" '
            f'viewBox="0 0 290 {8 + h * len(rows):g}" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="sc-t">{html.escape(sheet.stop_chart_title)}</title>'
            f'<desc id="sc-d">{html.escape(desc)}</desc>{"".join(parts)}</svg>')


def find_chromium() -> str | None:
    """Path of a Chromium-family browser for PDF printing, or None."""
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def render_pdf(page_html: str, out: str | Path, *, timeout_s: float = 120.0) -> Path:
    """Print ``page_html`` to PDF with headless Chromium (atomic: nothing half-written stays)."""
    browser = find_chromium()
    if browser is None:
        raise DermsimError("PDF output needs Chromium (run scripts/install-external.sh) or use an "
                           ".html path.")
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="dermsim-pdf-") as tmp:
        src = Path(tmp) / "page.html"
        src.write_text(page_html, encoding="utf-8")
        with atomic_path(out) as part:
            cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                   f"--user-data-dir={tmp}/profile", f"--print-to-pdf={part}", src.as_uri()]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
            except subprocess.TimeoutExpired as exc:
                raise DermsimError(
                    f"Chromium did not finish printing {out.name} within {timeout_s:g} s.") from exc
            if proc.returncode != 0 or not part.exists() or part.stat().st_size == 0:
                last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
                raise DermsimError(f"Chromium failed to print {out.name} (exit {proc.returncode}): {last}")
    return out


def export_family_sheet(sheet: FamilySheet, out: str | Path, *, page_size: str = "Letter") -> Path:
    """Save the sheet as ``.html`` or ``.pdf`` (by the suffix of ``out``) on an A4 or Letter page."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        raise InvalidInputError(f"--out must end in .html or .pdf; got {out.name!r}.")
    page = render_family_sheet_html(sheet, page_size=page_size)
    if suffix == ".pdf":
        return render_pdf(page, out)
    with atomic_path(out) as part:
        part.write_text(page, encoding="utf-8")
    return out
