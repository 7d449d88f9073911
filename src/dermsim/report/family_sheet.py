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

from dermsim._atomic import atomic_path
from dermsim.clinic.sheet import PLACEHOLDER, FamilySheet, Text, Value
from dermsim.errors import DermsimError, InvalidInputError
from dermsim.report.format import fmt_num, round_half_away

# Okabe-Ito palette (colour-blind safe): blue for "clear skin" figures, grey outline for others.
MARKED = "#0072B2"
UNMARKED_STROKE = "#6b6b6b"
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
# A person figure in a 10 x 13 cell: head (circle) and body (rounded trunk with legs).
_PERSON = ("M5 .6a1.8 1.8 0 1 1 0 3.6a1.8 1.8 0 1 1 0-3.6z"
           "M2.4 4.9h5.2c.6 0 1 .4 1 1v3.6H7.3V12.4H2.7V9.5H1.4V5.9c0-.6.4-1 1-1z")
PER_ROW = 20


def format_value(v: Value) -> str:
    """A placeholder's number as text: whole numbers, "fewer than 1" in 100, or one decimal."""
    x = v.number.value
    if v.style == "per100":
        if 0 < x < 0.5:
            return "fewer than 1"
        return fmt_num(x, 0)
    if v.style == "1dp":
        return fmt_num(x, 1)
    return fmt_num(x, 0)


def fill(text: Text) -> str:
    """The template with every placeholder replaced by its formatted number (plain text)."""
    return PLACEHOLDER.sub(lambda m: format_value(text.values[m.group(1)]), text.template)


def body_text(sheet: FamilySheet) -> str:
    """All body text of the sheet (headings and sources excluded), for readability checks."""
    return " ".join(fill(t) for t in sheet.texts())


def icon_array_svg(count: int, label: str, uid: str, *, total: int = 100, per_row: int = PER_ROW) -> str:
    """``total`` person figures, the first ``count`` solid blue, the rest hollow grey outlines."""
    if not 0 <= count <= total:
        raise InvalidInputError(f"count must be within [0, {total}]; got {count}.")
    w, h = 10.0, 13.0
    rows = -(-total // per_row)
    shapes = []
    for i in range(total):
        x, y = (i % per_row) * w, (i // per_row) * h
        if i < count:
            shapes.append(f'<path d="{_PERSON}" transform="translate({x:g},{y:g})" fill="{MARKED}"/>')
        else:
            shapes.append(f'<path d="{_PERSON}" transform="translate({x:g},{y:g})" fill="#ffffff" '
                          f'stroke="{UNMARKED_STROKE}" stroke-width="0.7"/>')
    title = html.escape(label)
    desc = f"{count} of {total} figures are solid blue; {total - count} are hollow grey outlines."
    return (f'<svg class="icons" role="img" aria-labelledby="{uid}-t {uid}-d" viewBox="0 0 {per_row * w:g} '
            f'{rows * h:g}" xmlns="http://www.w3.org/2000/svg"><title id="{uid}-t">{title}</title>'
            f'<desc id="{uid}-d">{desc}</desc>{"".join(shapes)}</svg>')


_CSS = """
*{box-sizing:border-box}
body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;color:#1a1a1a;padding:12px;
 font-size:15px;line-height:1.4;max-width:60rem;margin:auto}
h1{font-size:1.35rem;margin:0 0 .2rem}
h2{font-size:1.02rem;margin:.55rem 0 .2rem;color:#003f63;border-bottom:1px solid #cfd8dc}
p{margin:.15rem 0}
ul{margin:.1rem 0 .1rem 1.1rem;padding:0}
.sub{color:#333;margin-bottom:.3rem}
.study{margin:.2rem 0}
.arrays{display:flex;flex-wrap:wrap;gap:.6rem}
.arr{flex:1 1 14rem;max-width:20rem}
.arr h3{font-size:.9rem;margin:.1rem 0}
.arr p{font-size:.85rem}
svg.icons{width:100%;height:auto;display:block}
.legend{font-size:.85rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
.legend svg{display:inline-block;width:.7rem;height:.9rem;vertical-align:middle}
.cols{display:flex;flex-wrap:wrap;gap:0 1.2rem}
.col{flex:1 1 20rem}
.sources{font-size:.68rem;color:#444;margin-top:.4rem}
.sources ol{margin:0 0 0 1rem;padding:0}
.foot{font-size:.75rem;color:#444;margin-top:.3rem}
@page{size:Letter;margin:8mm}
@media print{
 body{font-size:8.6pt;padding:0;line-height:1.18;max-width:none}
 h1{font-size:14pt} h2{font-size:10.5pt;margin:.3rem 0 .1rem}
 .arr{max-width:5.6cm;flex:1 1 0}
 svg.icons{max-width:4.9cm}
 body.multi{font-size:8.1pt;line-height:1.17}
 body.multi svg.icons{max-width:4.3cm}
 .arr h3,.arr p{font-size:8.5pt}
 .legend{font-size:8.5pt}
 .sources{font-size:5.8pt;line-height:1.1}
 .sources ol{columns:3;column-gap:1rem}
 .study p{margin:0}
 .arr p{margin:0}
 .foot{font-size:7pt;margin:.2rem 0 0}
 .sources{margin-top:.1rem}
}
"""


def _block_html(block) -> str:  # type: ignore[no-untyped-def]
    parts = [f'<section id="{block.id}"><h2>{html.escape(block.heading)}</h2>']
    parts += [f"<p>{html.escape(fill(t))}</p>" for t in block.paragraphs]
    if block.bullets:
        parts.append("<ul>" + "".join(f"<li>{html.escape(fill(t))}</li>" for t in block.bullets) + "</ul>")
    parts.append("</section>")
    return "".join(parts)


def render_family_sheet_html(sheet: FamilySheet) -> str:
    """The sheet as one self-contained HTML page (phone-readable; prints on one Letter page)."""
    arrays = []
    for s_i, (caption, row) in enumerate(sheet.arrays):
        cells = []
        for a_i, arr in enumerate(row):
            count = int(round_half_away(arr.count.number.value))
            words = fill(arr.caption)
            svg = icon_array_svg(count, f"{arr.title}: {words}", f"ia{s_i}-{a_i}")
            cells.append(f'<div class="arr"><h3>{html.escape(arr.title)}</h3>{svg}'
                         f"<p>{html.escape(words)}</p></div>")
        arrays.append(f'<div class="study"><p><strong>{html.escape(caption)}</strong></p>'
                      f'<div class="arrays">{"".join(cells)}</div></div>')
    marked = icon_array_svg(1, "marked", "lg1", total=1, per_row=1)
    unmarked = icon_array_svg(0, "unmarked", "lg0", total=1, per_row=1)
    legend = (f'<div class="legend" aria-hidden="true"><span>{marked} solid blue: clear or almost clear '
              f"skin</span><span>{unmarked} hollow grey: not clear</span></div>")
    blocks = {b.id: _block_html(b) for b in sheet.blocks}
    left = "".join(blocks.get(k, "") for k in ("choices", "itch", "side_effects"))
    right = "".join(blocks.get(k, "") for k in ("warning", "use", "questions"))
    rest = "".join(v for k, v in blocks.items()
                   if k not in {"choices", "itch", "side_effects", "warning", "use", "questions"})
    sources = "".join(f"<li>{html.escape(c)}</li>" for _, c in sheet.sources)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(sheet.title)}</title><style>{_CSS}</style></head>"
        f'<body class="{"multi" if len(sheet.arrays) > 1 else "single"}">'
        f"<h1>{html.escape(sheet.title)}</h1><p class=\"sub\">{html.escape(fill(sheet.subtitle))}</p>"
        f'<section id="chances"><h2>{html.escape(sheet.arrays_heading)}</h2>'
        f'{"".join(arrays)}{legend}</section>'
        f'<div class="cols"><div class="col">{left}</div><div class="col">{right}{rest}</div></div>'
        f'<p class="foot">{html.escape(sheet.footer)}</p>'
        f'<div class="sources"><strong>Sources</strong><ol>{sources}</ol></div></body></html>')


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


def export_family_sheet(sheet: FamilySheet, out: str | Path) -> Path:
    """Save the sheet as ``.html`` or ``.pdf`` (by the suffix of ``out``)."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        raise InvalidInputError(f"--out must end in .html or .pdf; got {out.name!r}.")
    page = render_family_sheet_html(sheet)
    if suffix == ".pdf":
        return render_pdf(page, out)
    with atomic_path(out) as part:
        part.write_text(page, encoding="utf-8")
    return out
