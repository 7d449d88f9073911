"""A small HTML card of a dose and exposure plan (for clinicians; inline CSS and SVG).

Layout only: numbers come from :func:`dermsim.clinic.plan_dose` and are rounded with
:mod:`dermsim.report.format`. The exposure strip is drawn on a log scale with the threshold as a
dashed line; the median is a diamond and the 90% interval a bar, so shape (not colour) carries
the meaning, and the SVG has a text alternative.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

from dermsim._atomic import atomic_path
from dermsim.clinic.dose import DosePlan
from dermsim.report.format import fmt_num

_CSS = """
body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;color:#1a1a1a;max-width:40rem;margin:auto;
 padding:10px;font-size:15px;line-height:1.35}
h1{font-size:1.2rem;margin:0 0 .3rem} h2{font-size:1rem;margin:.7rem 0 .2rem;color:#003f63}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.85rem}
td.key{word-break:break-all;font-size:.75rem;color:#444}
th,td{border-bottom:1px solid #d0d7de;padding:.2rem .35rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#006c3b}.bad{color:#a0001c;font-weight:bold}.nf{color:#6b4e00}
.note{font-size:.85rem;color:#444}
svg{width:100%;height:auto}
"""


def _status(within: bool | None) -> str:
    if within is None:
        return '<span class="nf">no label number</span>'
    if within:
        return '<span class="ok">within (&#10003;)</span>'
    return '<span class="bad">EXCEEDS (&#10007;)</span>'


def exposure_strip_svg(plan: DosePlan) -> str:
    """Median (diamond), 90% interval (bar) and threshold (dashed line) on a log10 nM axis."""
    e = plan.exposure
    lo_axis = 10 ** math.floor(math.log10(max(min(e.css_p05_nM, e.threshold_nM) / 2, 1e-3)))
    hi_axis = 10 ** math.ceil(math.log10(max(e.css_p95_nM, e.threshold_nM) * 2))
    width, left, right = 400.0, 12.0, 380.0

    def x(v: float) -> float:
        f = (math.log10(max(v, lo_axis)) - math.log10(lo_axis)) / (math.log10(hi_axis) - math.log10(lo_axis))
        return left + f * (right - left)

    ticks = []
    t = lo_axis
    while t <= hi_axis * 1.0001:
        ticks.append(f'<line x1="{x(t):.1f}" y1="44" x2="{x(t):.1f}" y2="48" stroke="#555"/>'
                     f'<text x="{x(t):.1f}" y="60" font-size="10" text-anchor="middle">{t:g}</text>')
        t *= 10
    desc = (f"Predicted steady-state plasma concentration: median {fmt_num(e.css_median_nM, 1)} nM, 90% "
            f"interval {fmt_num(e.css_p05_nM, 1)} to {fmt_num(e.css_p95_nM, 1)} nM; threshold "
            f"{fmt_num(e.threshold_nM, 0)} nM.")
    xm = x(e.css_median_nM)
    return (f'<svg role="img" aria-labelledby="ex-t ex-d" viewBox="0 0 {width:g} 66" '
            f'xmlns="http://www.w3.org/2000/svg"><title id="ex-t">Predicted blood level vs threshold</title>'
            f'<desc id="ex-d">{html.escape(desc)}</desc>'
            f'<line x1="{left}" y1="44" x2="{right}" y2="44" stroke="#555"/>{"".join(ticks)}'
            f'<rect x="{x(e.css_p05_nM):.1f}" y="22" width="{max(x(e.css_p95_nM) - x(e.css_p05_nM), 1):.1f}" '
            f'height="10" fill="#56B4E9" stroke="#0072B2"/>'
            f'<path d="M{xm:.1f} 18 l6 9 l-6 9 l-6 -9 z" fill="#0072B2"/>'
            f'<line x1="{x(e.threshold_nM):.1f}" y1="6" x2="{x(e.threshold_nM):.1f}" y2="44" '
            f'stroke="#D55E00" stroke-width="2" stroke-dasharray="4 3"/>'
            f'<text x="{x(e.threshold_nM) - 3:.1f}" y="12" font-size="10" text-anchor="end">threshold '
            f'{fmt_num(e.threshold_nM, 0)} nM</text></svg>')


def render_dose_card_html(plan: DosePlan) -> str:
    """The plan as a small self-contained HTML page."""
    inp, e = plan.inp, plan.exposure
    rows = "".join(
        f"<tr><td>{html.escape(r.name)}</td><td class=n>{fmt_num(r.share_pct, 0)}</td>"
        f"<td class=n>{fmt_num(r.treated_pct, 1)}</td><td class=n>{fmt_num(r.treated_cm2, 0)}</td>"
        f"<td class=n>{fmt_num(r.ftu_per_application, 1)}</td>"
        f"<td class=n>{fmt_num(r.grams_per_application, 2)}</td>"
        f"<td class=n>{fmt_num(r.grams_per_week, 1)}</td></tr>" for r in plan.regions)
    head = ("<table><tr><th>region</th><th>% of region</th><th>%BSA</th><th>cm2</th>"
            "<th>FTU/appl.</th><th>g/appl.</th><th>g/week</th></tr>")
    region_table = f'<div class="scroll">{head}{rows}</table></div>' if rows else ""
    checks = "".join(
        f"<tr><td>{html.escape(c.name)}</td><td class=n>{fmt_num(c.value, 1)} {html.escape(c.unit)}</td>"
        f"<td class=n>{'' if c.limit is None else fmt_num(c.limit, 0)}</td><td>{_status(c.within)}</td>"
        f"<td class=key>{html.escape(c.evidence_key)} ({c.status})</td></tr>" for c in plan.label_checks)
    tubes = ", ".join(f"{n} x {size}" for size, n in plan.tubes_per_month.items())
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in (*plan.notes, e.parameters_note, e.oral_message))
    sex = {"F": "female", "M": "male"}.get(inp.sex or "", "sex not given")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Ruxolitinib cream dose plan</title><style>{_CSS}</style></head><body>"
        f"<h1>Ruxolitinib cream {fmt_num(inp.strength_pct, 2).rstrip('0').rstrip('.')}%, "
        f"{inp.applications_per_day}x daily: dose and exposure plan</h1>"
        f"<p>Age {fmt_num(inp.age_y, 1)} y, {sex}, {fmt_num(plan.weight_kg, 1)} kg, "
        f"{fmt_num(plan.height_cm, 1)} cm ({html.escape(plan.body_source)}); "
        f"BSA {fmt_num(plan.bsa_m2, 2)} m2 "
        f"({html.escape(plan.bsa_formula)}).</p>"
        f"<h2>Cream</h2><p>Treated {fmt_num(plan.treated_pct, 1)}% BSA = {fmt_num(plan.treated_cm2, 0)} cm2. "
        f"Per application {fmt_num(plan.grams_per_application, 2)} g ({fmt_num(plan.ftu_per_application, 1)} "
        f"FTU); per week {fmt_num(plan.grams_per_week, 1)} g; per month {fmt_num(plan.grams_per_month, 0)} g "
        f"({html.escape(tubes)} tubes). Amount from: {html.escape(plan.grams_source)}; "
        f"FTU method: {html.escape(plan.ftu_method)}.</p>{region_table}"
        f'<h2>Label checks</h2><div class="scroll"><table><tr><th>check</th><th>planned</th><th>limit</th>'
        f"<th>result</th><th>evidence</th></tr>{checks}</table></div>"
        f"<h2>Predicted exposure (steady state)</h2><p>Median {fmt_num(e.css_median_nM, 1)} nM, 90% interval "
        f"{fmt_num(e.css_p05_nM, 1)}-{fmt_num(e.css_p95_nM, 1)} nM over {e.n_draws} virtual copies of the "
        f"patient; P(above {fmt_num(e.threshold_nM, 0)} nM) = {fmt_num(100 * e.p_above_threshold, 1)}%.</p>"
        f"{exposure_strip_svg(plan)}<ul class=note>{notes}</ul></body></html>")


def export_dose_card(plan: DosePlan, out: str | Path) -> Path:
    """Save the card as HTML (atomic)."""
    out = Path(out)
    with atomic_path(out) as part:
        part.write_text(render_dose_card_html(plan), encoding="utf-8")
    return out
