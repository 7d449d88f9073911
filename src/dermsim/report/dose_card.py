"""The clinician's dose card (HTML from ``templates/clinic/dose_card.html.j2``) and its JSON record.

Layout in the template, words in ``clinic/i18n/<lang>.toml`` ([card], [regions]); here only numbers
(rounded with :mod:`dermsim.report.format`) and drawings. The exposure strip is on a log scale with
the threshold as a dashed line, the median a diamond, the 90% range a bar and the measured study
means as ticks, so shape (not colour) carries the meaning; every SVG has a text alternative.
Sources appear once, as numbered footnotes in plain citation form (no internal evidence keys).

The JSON record (:func:`dose_plan_record`) has a versioned, documented schema shipped in the package
(``report/schemas/dose_plan.schema.json``); field names are for clinic systems, not internal ones.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from markupsafe import Markup

from dermsim._atomic import atomic_path
from dermsim.calibration.children_pk import children_check, read_children_pk
from dermsim.clinic.dose import INTERVAL, REGION_GROUPS, USUAL_SOURCE, DosePlan, LabelCheck
from dermsim.clinic.evidence_keys import cite, item
from dermsim.clinic.words import Words
from dermsim.evidence import Evidence, load_evidence
from dermsim.model.population.body import compute_region_sizes_pct, region_names
from dermsim.report.clinic_templates import render
from dermsim.report.format import fmt_num

SCHEMA_VERSION = "1.2"
SCHEMA_FILE = "dose_plan.schema.json"
LUND_BROWDER_KEY = "charts.toml:lund_browder.regions.head.per_unit"   # the chart's source (region sizes)
PACK_KEY = "label.toml:facts.pack_sizes_g"
AMOUNT_SOURCE = {"fingertip units": "fingertip_units", USUAL_SOURCE: "usual_use_children"}
MEASURED_KEYS = {"css075": "pharmacology.toml:topical.css_rux075_nM",
                 "css150": "pharmacology.toml:topical.css_rux150_nM",
                 "maxuse": "pk_maxuse_adult.toml:groups.overall.css_nM",
                 "peds": "pharmacology.toml:topical.css_children_maxuse_nM"}


def schema() -> dict[str, Any]:
    """The JSON Schema of :func:`dose_plan_record` (shipped in the package)."""
    text = resources.files("dermsim.report").joinpath("schemas", SCHEMA_FILE).read_text(encoding="utf-8")
    return dict(json.loads(text))


@dataclass
class _Sources:
    """Numbered footnotes: each citation once, in the order first used."""

    ev: Evidence
    cites: list[str] = field(default_factory=list)

    def ref(self, *keys: str) -> list[int]:
        out = []
        for key in keys:
            for c in cite(key, self.ev).citations:
                if c not in self.cites:
                    self.cites.append(c)
                out.append(self.cites.index(c) + 1)
        return sorted(set(out))


def _n(x: float, d: int = 1) -> str:
    return fmt_num(x, d)


def _pct2(x: float) -> str:
    """A percentage to two significant figures (ratios span 1% to over 100%)."""
    return _n(x, max(0, 1 - math.floor(math.log10(abs(x)))) if x else 0)


def _times(w: Words, per_day: int) -> str:
    return w("card", f"times_{per_day}") if per_day in (1, 2) else w("card", "times_n", n=str(per_day))


def _tube_days(plan: DosePlan) -> list[tuple[float, float]]:
    sizes = [float(k.split()[0]) for k in plan.tubes_per_month]
    return [(s, s / plan.grams_per_day) for s in sizes]


def _ftu_grams(ev: Evidence) -> float:
    return float(ev.charts.ftu.weight_g.number or 0.0)


def _check_sentence(c: LabelCheck, w: Words, age_group: str) -> str:
    if c.name == "max_bsa_pct":
        return w("card", "check_bsa_ok" if c.within else "check_bsa_over", value=_n(c.value),
                 limit=_n(c.limit or 0, 0))
    per = w("card", "per_week" if c.name == "g_per_week" else "per_2_weeks")
    if c.within is None:
        return w("card", "check_g_none", per=per, group=age_group, value=_n(c.value))
    return w("card", "check_g_ok" if c.within else "check_g_over", per=per, group=age_group,
             value=_n(c.value), limit=_n(c.limit or 0, 0))


def _age_group(ev: Evidence, age_y: float) -> str:
    e = ev.label.max_amount_for_age(age_y)
    if e.age_max_exclusive_y:
        return f"{e.age_min_y:g}-{e.age_max_exclusive_y - 1:g}"
    return f"{e.age_min_y:g}+"


# A simple body outline (front and back, 2 x 90 wide) as shapes per Lund-Browder region, drawn by
# hand: no library draws a labelled body map, and the shapes only need to be recognisable. The
# proportions follow the Lund-Browder chart at the patient's age: each region's drawn size is scaled
# by its share of the body at that age against the adult share (head area by the ratio, so its
# radii by the square root; thigh and lower-leg lengths by the ratio), so a toddler's outline has
# the large head and short legs the chart gives it.
ADULT_AGE_Y = 100.0   # beyond the chart's last column: the adult sizes (the chart clamps)


def outline_scales(age_y: float) -> dict[str, float]:
    """Drawn-size multipliers of the head (radii), thighs and lower legs (lengths) at ``age_y``."""
    names = list(region_names())
    at_age = compute_region_sizes_pct(float(age_y))[0]
    adult = compute_region_sizes_pct(ADULT_AGE_Y)[0]
    ratio = {r: float(at_age[names.index(r)] / adult[names.index(r)])
             for r in ("head", "thighs", "lower_legs")}
    return {"head": math.sqrt(ratio["head"]), "thighs": ratio["thighs"], "lower_legs": ratio["lower_legs"]}


def _limbs(x0: float, back: bool, sc: dict[str, float]) -> tuple[dict[str, list[str]], float]:
    """The shapes of one outline and the outline's height."""
    cx = x0 + 45
    rx, ry = 11 * sc["head"], 13 * sc["head"]
    top = 3 + 2 * ry                       # bottom of the head = top of the neck
    t = top + 8                            # top of the trunk
    thigh_h = 38 * sc["thighs"]
    shin_h = 38 * sc["lower_legs"]
    knee = t + 72 + thigh_h
    ankle = knee + 1 + shin_h
    s: dict[str, list[str]] = {
        "head": [f'<ellipse cx="{cx}" cy="{3 + ry:.1f}" rx="{rx:.1f}" ry="{ry:.1f}"/>'],
        "neck": [f'<rect x="{cx - 5}" y="{top - 1:.1f}" width="10" height="9"/>'],
        "upper_arms": [f'<rect x="{cx - 31}" y="{t + 2:.1f}" width="9" height="34" rx="4"/>',
                       f'<rect x="{cx + 22}" y="{t + 2:.1f}" width="9" height="34" rx="4"/>'],
        "forearms": [f'<rect x="{cx - 33}" y="{t + 37:.1f}" width="8" height="30" rx="4"/>',
                     f'<rect x="{cx + 25}" y="{t + 37:.1f}" width="8" height="30" rx="4"/>'],
        "hands": [f'<ellipse cx="{cx - 29}" cy="{t + 74:.1f}" rx="5" ry="7"/>',
                  f'<ellipse cx="{cx + 29}" cy="{t + 74:.1f}" rx="5" ry="7"/>'],
        "thighs": [f'<rect x="{cx - 16}" y="{t + 72:.1f}" width="14" height="{thigh_h:.1f}" rx="5"/>',
                   f'<rect x="{cx + 2}" y="{t + 72:.1f}" width="14" height="{thigh_h:.1f}" rx="5"/>'],
        "lower_legs": [f'<rect x="{cx - 15}" y="{knee + 1:.1f}" width="12" height="{shin_h:.1f}" rx="5"/>',
                       f'<rect x="{cx + 3}" y="{knee + 1:.1f}" width="12" height="{shin_h:.1f}" rx="5"/>'],
        "feet": [f'<ellipse cx="{cx - 10}" cy="{ankle + 5:.1f}" rx="8" ry="5"/>',
                 f'<ellipse cx="{cx + 10}" cy="{ankle + 5:.1f}" rx="8" ry="5"/>'],
    }
    if back:
        s["posterior_trunk"] = [f'<rect x="{cx - 20}" y="{t:.1f}" width="40" height="64" rx="6"/>']
        s["buttocks"] = [f'<rect x="{cx - 18}" y="{t + 64:.1f}" width="36" height="12" rx="5"/>']
    else:
        s["anterior_trunk"] = [f'<rect x="{cx - 20}" y="{t:.1f}" width="40" height="70" rx="6"/>']
        s["genitalia"] = [f'<rect x="{cx - 5}" y="{t + 64:.1f}" width="10" height="8" rx="3"/>']
    return s, ankle + 12


def body_outline_svg(plan: DosePlan, w: Words) -> str:
    """Front and back outline in the Lund-Browder proportions of the patient's age; treated regions
    filled blue with a hatch (not colour alone)."""
    treated: set[str] = set()
    for r in plan.regions:
        treated.update(REGION_GROUPS.get(r.name, (r.name,)))
    if "face" in treated:
        treated.add("head")
    sc = outline_scales(float(plan.inp.age_y))
    shapes = []
    height = 0.0
    for x0, back in ((0.0, False), (100.0, True)):
        parts_by_region, height = _limbs(x0, back, sc)
        for region, parts in parts_by_region.items():
            on = region in treated
            style = ('fill="url(#hatch)" stroke="#0072B2" stroke-width="1.5"' if on
                     else 'fill="#f4f4f4" stroke="#777" stroke-width="0.8"')
            shapes += [p.replace("/>", f' {style} data-region="{region}"/>') for p in parts]
    names = w.table("regions")
    age = fmt_num(plan.inp.age_y, 1).removesuffix(".0")
    alt = (w("card", "body_alt", regions=", ".join(names.get(r.name, r.name) for r in plan.regions), age=age)
           if plan.regions else w("card", "body_alt_none", age=age))
    return (f'<svg class="body" role="img" aria-labelledby="body-t" viewBox="0 0 200 {height:.0f}" '
            f'data-age="{age}" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="body-t">{Markup.escape(alt)}</title>'
            '<defs><pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="4" height="4" fill="#9fd0f0"/>'
            '<line x1="0" y1="0" x2="0" y2="4" stroke="#0072B2" stroke-width="1.2"/></pattern></defs>'
            + "".join(shapes) + "</svg>")


def exposure_strip_svg(plan: DosePlan, w: Words, measured: dict[str, float] | None = None) -> str:
    """Median (diamond), 90% range (bar), threshold (dashed) and study means (ticks), log10 nM axis."""
    e = plan.exposure
    means = sorted((measured or {}).values())
    lo_axis = 10 ** math.floor(math.log10(max(min(e.css_p05_nM, e.threshold_nM, *means) / 2, 1e-3)))
    hi_axis = 10 ** math.ceil(math.log10(max(e.css_p95_nM, e.threshold_nM, *means) * 2))
    width, left, right = 420.0, 14.0, 400.0

    def x(v: float) -> float:
        f = (math.log10(max(v, lo_axis)) - math.log10(lo_axis)) / (math.log10(hi_axis) - math.log10(lo_axis))
        return left + f * (right - left)

    ticks = []
    t = lo_axis
    while t <= hi_axis * 1.0001:
        ticks.append(f'<line x1="{x(t):.1f}" y1="54" x2="{x(t):.1f}" y2="58" stroke="#555"/>'
                     f'<text x="{x(t):.1f}" y="69" font-size="10" text-anchor="middle">{t:g}</text>')
        t *= 10
    marks = "".join(f'<line x1="{x(m):.1f}" y1="40" x2="{x(m):.1f}" y2="54" stroke="#333" stroke-width="2"/>'
                    for m in means)
    thr = fmt_num(e.threshold_nM, 0)
    desc = w("card", "strip_desc", median=_n(e.css_median_nM), lo=_n(e.css_p05_nM), hi=_n(e.css_p95_nM),
             thr=thr, means=", ".join(_n(m) for m in means))
    xm = x(e.css_median_nM)
    return (f'<svg class="strip" role="img" aria-labelledby="ex-t ex-d" viewBox="0 0 {width:g} 84" '
            f'xmlns="http://www.w3.org/2000/svg"><title id="ex-t">'
            f'{Markup.escape(w("card", "strip_title", thr=thr))}</title>'
            f'<desc id="ex-d">{Markup.escape(desc)}</desc>'
            f'<line x1="{left}" y1="54" x2="{right}" y2="54" stroke="#555"/>{"".join(ticks)}{marks}'
            f'<rect x="{x(e.css_p05_nM):.1f}" y="26" width="{max(x(e.css_p95_nM) - x(e.css_p05_nM), 1):.1f}" '
            f'height="10" fill="#56B4E9" stroke="#0072B2"/>'
            f'<path d="M{xm:.1f} 22 l6 9 l-6 9 l-6 -9 z" fill="#0072B2"/>'
            f'<line x1="{x(e.threshold_nM):.1f}" y1="8" x2="{x(e.threshold_nM):.1f}" y2="54" '
            f'stroke="#D55E00" stroke-width="2" stroke-dasharray="4 3"/>'
            f'<text x="{x(e.threshold_nM) - 3:.1f}" y="14" font-size="10" text-anchor="end">{thr} nM</text>'
            f'<text x="{(left + right) / 2:.0f}" y="82" font-size="10" text-anchor="middle">'
            f'{Markup.escape(w("card", "strip_axis"))}</text></svg>')


def _measured(ev: Evidence) -> dict[str, float]:
    return {k: float(item(key, ev).number) for k, key in MEASURED_KEYS.items()}


def card_context(plan: DosePlan, lang: str = "en", page_size: str = "A4") -> dict[str, Any]:
    """Everything the template shows, as words and rounded numbers."""
    ev = load_evidence()
    w = Words(lang)
    src = _Sources(ev)
    inp, e = plan.inp, plan.exposure
    names = w.table("regions")
    strength = fmt_num(inp.strength_pct, 2).rstrip("0").rstrip(".")
    ftu_g = _ftu_grams(ev)
    regions = [{"name": names.get(r.name, r.name), "affected": f"{_n(r.share_pct, 0)}%",
                "area": f"{_n(r.treated_cm2, 0)} cm²", "pct": f"{_n(r.treated_pct)}%",
                "ftu": _n(r.ftu_per_application), "grams": _n(r.grams_per_application, 2),
                "week": _n(r.grams_per_week),
                "entered": None if r.grams_per_day_entered is None else _n(r.grams_per_day_entered)}
               for r in plan.regions]
    total = {"area": f"{_n(plan.treated_cm2, 0)} cm²", "pct": f"{_n(plan.treated_pct)}%",
             "ftu": _n(plan.ftu_per_application),
             "grams": _n(plan.ftu_grams_per_application, 2),
             "week": _n(plan.ftu_grams_per_application * inp.applications_per_day * 7),
             "entered": _n(plan.grams_per_day) if inp.region_grams_per_day is not None else None}
    ftu_refs = src.ref(*plan.ftu_keys)
    chart_refs = src.ref(LUND_BROWDER_KEY)
    if plan.grams_source == "fingertip units":
        amount = w("card", "amount_ftu", g=_n(plan.grams_per_application, 2),
                   ftu=_n(plan.ftu_per_application), g_day=_n(plan.grams_per_day),
                   g_week=_n(plan.grams_per_week))
    else:  # the amount the exposure uses (children's usual, or entered) beside the FTU estimate
        key = "amount_usual" if plan.grams_source == USUAL_SOURCE else "amount_given"
        amount = w("card", key, g_day=_n(plan.grams_per_day), g=_n(plan.grams_per_application, 2),
                   g_ftu_day=_n(plan.ftu_grams_per_application * inp.applications_per_day),
                   ftu=_n(plan.ftu_per_application))
    tubes = [w("card", "tube", size=f"{s:g}", days=_n(d, 0)) for s, d in _tube_days(plan)]
    group = _age_group(ev, float(inp.age_y))
    checks = [{"ok": c.within, "text": _check_sentence(c, w, group), "refs": src.ref(c.evidence_key)}
              for c in plan.label_checks]
    thr = fmt_num(e.threshold_nM, 0)
    interval = (w("card", "exposure_no_interval") if e.p_above_p05 is None or e.p_above_p95 is None else
                w("card", "exposure_interval", lo=_n(100 * e.p_above_p05), hi=_n(100 * e.p_above_p95),
                  n=str(e.n_particles)))
    measured = _measured(ev)
    strengths = {"s075": "0.75", "s150": "1.5"} if lang == "en" else {"s075": "0,75", "s150": "1,5"}
    age12 = f"{float(ev.trials['true-ad1'].eligibility.age_min_y.number):g}"
    exposure = [
        {"text": w("card", "exposure_typical", median=_n(e.css_median_nM), lo=_n(e.css_p05_nM),
                   hi=_n(e.css_p95_nM)), "refs": [], "model": True},
        {"text": w("card", "exposure_chance", thr=thr, p=_n(100 * e.p_above_threshold), interval=interval),
         "refs": src.ref(e.threshold_key), "model": True},
        {"text": w("card", "threshold_what", thr=thr), "refs": src.ref(e.threshold_key)},
        {"text": w("card", "measured", age12=age12, css075=_n(measured["css075"]),
                   css150=_n(measured["css150"]), maxuse=_n(measured["maxuse"], 0),
                   peds=_n(measured["peds"], 0), **strengths),
         "refs": src.ref(*MEASURED_KEYS.values())},
    ]
    if e.oral is not None:
        o = e.oral
        exposure.append({"text": w("card", "oral_compare", r=_pct2(100 * o.ratio_median),
                                   rlo=_pct2(100 * o.ratio_p05), rhi=_pct2(100 * o.ratio_p95),
                                   dose=f"{o.oral_dose_mg_bid:g}", f=f"{o.oral_bioavailability_pct:g}",
                                   oral=_n(o.oral_mg_day), mg=_n(e.absorbed_mg_day_median, 2)),
                         "refs": src.ref(*o.keys), "model": True})
    sex = w("card", {"F": "sex_F", "M": "sex_M"}.get(inp.sex or "", "sex_none"))
    patient = w("card", "patient", age=fmt_num(inp.age_y, 1).removesuffix(".0"), sex=sex,
                weight=_n(plan.weight_kg), height=_n(plan.height_cm),
                body_source=w("card", "body_given" if plan.body_source == "given" else "body_typical"),
                bsa=_n(plan.bsa_m2, 2), formula=plan.bsa_formula.capitalize())
    # PKPD's notes name parameter files and evidence keys; the card says the same in plain words.
    model_notes = [*plan.notes,
                   w("card", "model_prior") if e.parameters == "prior"
                   else w("card", "model_posterior", n=str(e.n_particles))]
    if e.oral is None:
        model_notes.append(w("card", "oral_none"))
    if e.posterior_version:
        model_notes.append(w("card", "posterior_version", version=e.posterior_version))
        check = children_check(read_children_pk(e.posterior_version))
        if check is not None:
            # the model beside the children's published blood levels (a post-hoc check)
            above, peds = check.above, check.peds
            model_notes.append(w("card", "model_check_children", thr=_n(e.threshold_nM, 0),
                                 pred=_n(above.pred_median, 0), lo=_n(above.pi90_low, 0),
                                 hi=_n(above.pi90_high, 0), obs=_n(above.observed, 0),
                                 pm=_n(peds.pred_median, 0), plo=_n(peds.pi90_low, 0),
                                 phi=_n(peds.pi90_high, 0), pobs=_n(peds.observed, 0)))
            if not check.all_consistent:
                model_notes.append(w("card", "model_check_children_off", thr=_n(e.threshold_nM, 0)))
    return dict(
        lang=lang, page_size=page_size, w=w, title=w("card", "title", strength=strength,
                                                    times=_times(w, inp.applications_per_day)),
        patient=patient, body_svg=Markup(body_outline_svg(plan, w)),
        body_caption=w("card", "body_caption", age=fmt_num(inp.age_y, 1).removesuffix(".0")),
        chart_refs=chart_refs, tube_refs=src.ref(PACK_KEY),
        regions=regions, total=total,
        regions_none=None if plan.regions else w("card", "regions_none", pct=_n(plan.treated_pct),
                                                 cm2=_n(plan.treated_cm2, 0)),
        amount=amount, ftu_note=w("card", "ftu_note", ftu_g=_n(ftu_g, 1)), ftu_refs=ftu_refs, tubes=tubes,
        checks=checks, exposure=exposure, strip_svg=Markup(exposure_strip_svg(plan, w, measured)),
        strip_legend=w("card", "legend", thr=thr),
        model_notes=model_notes, sources=src.cites)


_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")


def _decimal_comma(ctx: dict[str, Any]) -> dict[str, Any]:
    """Spanish decimal mark in the card's words and tables (not in citations, whose DOIs hold dots)."""
    def fix(x: Any) -> Any:
        if isinstance(x, str) and not isinstance(x, Markup):
            return _DECIMAL.sub(",", x)
        if isinstance(x, list):
            return [fix(v) for v in x]
        if isinstance(x, dict):
            return {k: fix(v) for k, v in x.items()}
        return x

    return {k: (v if k in ("sources", "w", "lang", "page_size") else fix(v)) for k, v in ctx.items()}


def render_dose_card_html(plan: DosePlan, lang: str = "en", page_size: str = "A4") -> str:
    """The plan as one self-contained printable HTML page."""
    ctx = card_context(plan, lang, page_size)
    return render("dose_card.html.j2", **(_decimal_comma(ctx) if lang == "es" else ctx))


def export_dose_card(plan: DosePlan, out: str | Path, lang: str = "en", page_size: str = "A4") -> Path:
    """Save the card as HTML, or as PDF by headless Chromium when ``out`` ends in .pdf (atomic)."""
    from dermsim.report.family_sheet import render_pdf

    out = Path(out)
    page = render_dose_card_html(plan, lang, page_size)
    if out.suffix.lower() == ".pdf":
        return render_pdf(page, out)
    with atomic_path(out) as part:
        part.write_text(page, encoding="utf-8")
    return out


def dose_plan_record(plan: DosePlan) -> dict[str, Any]:
    """The plan for clinic systems (schema ``report/schemas/dose_plan.schema.json``)."""
    ev = load_evidence()
    inp, e = plan.inp, plan.exposure
    ftu_g = _ftu_grams(ev)
    src = _Sources(ev)
    result = {True: "within_label", False: "over_label", None: "no_label_limit"}
    check_names = {"max_bsa_pct": "treated_area", "g_per_week": "grams_per_week",
                   "g_per_2_weeks": "grams_per_2_weeks"}
    units = {"%BSA": "percent_body_surface", "g/week": "g", "g/2 weeks": "g"}
    group = _age_group(ev, float(inp.age_y))
    w = Words("en")
    checks = [{"check": check_names.get(c.name, c.name), "planned": c.value, "limit": c.limit,
               "unit": units.get(c.unit, c.unit), "result": result[c.within],
               "sentence": _check_sentence(c, w, group),
               "source_refs": src.ref(c.evidence_key)} for c in plan.label_checks]
    ftu_refs = src.ref(*plan.ftu_keys)
    threshold_refs = src.ref(e.threshold_key)
    measured = _measured(ev)
    measured_refs = src.ref(*MEASURED_KEYS.values())
    return {
        "schema_version": SCHEMA_VERSION,
        "patient": {"age_years": inp.age_y, "sex": inp.sex, "weight_kg": plan.weight_kg,
                    "height_cm": plan.height_cm,
                    "body_size_source": "entered" if plan.body_source == "given" else "typical_for_age",
                    "body_surface_m2": plan.bsa_m2, "body_surface_formula": plan.bsa_formula},
        "treated_area": {"percent_body_surface": plan.treated_pct, "area_cm2": plan.treated_cm2,
                         "regions": [{"region": r.name, "percent_of_region_treated": r.share_pct,
                                      "percent_body_surface": r.treated_pct, "area_cm2": r.treated_cm2,
                                      "fingertip_units_per_application": r.ftu_per_application,
                                      "grams_per_application": r.grams_per_application,
                                      "grams_per_week": r.grams_per_week,
                                      "grams_per_day_entered": r.grams_per_day_entered}
                                     for r in plan.regions]},
        "cream": {"strength_percent": inp.strength_pct, "applications_per_day": inp.applications_per_day,
                  "grams_per_application": plan.grams_per_application, "grams_per_day": plan.grams_per_day,
                  "grams_per_week": plan.grams_per_week,
                  "amount_source": AMOUNT_SOURCE.get(plan.grams_source, "entered"),
                  "fingertip_units_per_application": plan.ftu_per_application,
                  "fingertip_unit_estimate_grams_per_day": plan.ftu_grams_per_application
                  * inp.applications_per_day,
                  "grams_per_fingertip_unit": ftu_g, "fingertip_unit_source_refs": ftu_refs,
                  "tube_days": [{"tube_grams": s, "days": d} for s, d in _tube_days(plan)]},
        "label_checks": checks,
        "exposure": {
            "measure": "average steady-state plasma concentration",
            "unit": "nM", "typical_nM": e.css_median_nM,
            "range_90_nM": [e.css_p05_nM, e.css_p95_nM], "range_percentiles": list(INTERVAL),
            "threshold_nM": e.threshold_nM, "threshold_source_refs": threshold_refs,
            "chance_above_threshold": e.p_above_threshold,
            "chance_above_threshold_interval_90": (None if e.p_above_p05 is None or e.p_above_p95 is None
                                                   else [e.p_above_p05, e.p_above_p95]),
            "virtual_patients": e.n_draws, "parameter_sets": e.n_particles,
            "parameter_source": e.parameters, "parameter_note": e.parameters_note,
            "measured_in_studies_nM": [
                {"study": "phase 3, 0.75% cream (age 12+), mean", "value": measured["css075"]},
                {"study": "phase 3, 1.5% cream (age 12+), mean", "value": measured["css150"]},
                {"study": "maximum-use trial, 1.5% cream, >= 25% of body (age 12+), mean",
                 "value": measured["maxuse"]},
                {"study": "pediatric maximum-use trial, 1.5% cream, mean 58% of body (age 2-11), mean",
                 "value": measured["peds"]}],
            "measured_source_refs": measured_refs,
            "posterior_version": e.posterior_version,
            "absorbed_mg_per_day": {"typical": e.absorbed_mg_day_median,
                                    "range_90": [e.absorbed_mg_day_p05, e.absorbed_mg_day_p95]},
            "cream_vs_oral": None if e.oral is None else {
                "oral_dose_mg_twice_daily": e.oral.oral_dose_mg_bid,
                "oral_bioavailability_percent": e.oral.oral_bioavailability_pct,
                "oral_mg_per_day_reaching_blood": e.oral.oral_mg_day,
                "ratio_typical": e.oral.ratio_median, "ratio_range_90": [e.oral.ratio_p05, e.oral.ratio_p95],
                "source_refs": src.ref(*e.oral.keys),
                "meaning": "cream / lowest oral dose: drug reaching the blood per day in the same patient"},
            "seed": e.seed},
        "notes": [*plan.notes, e.oral_message],
        "sources": [{"ref": i + 1, "citation": c} for i, c in enumerate(src.cites)],
    }
