"""Clinic page: the dose planner (:func:`dermsim.workflows.plan_dose`) with a clickable body map of
the Lund-Browder regions sized for the child's age, a printable dose card, and the family
benefit-risk sheet previewed and downloadable as PDF.

The body map is an SVG drawn here (front and back); each region is a keyboard-operable toggle
button (``role=button``, ``aria-pressed``) whose label gives its share of the body surface at the
entered age. A small script sends the chosen regions to the server as a list of names; the server
accepts only names of the region table, so nothing from the browser reaches a file or a formula.
"""

from __future__ import annotations

import json
from pathlib import Path

from htmltools import Tag, TagChild, tags
from shiny import module, reactive, render, ui

from dermsim.app._jobs import Job
from dermsim.app._safety import SessionFiles
from dermsim.app._ui import JobView, html_table, whole
from dermsim.errors import DermsimError, InvalidInputError
from dermsim.workflows import DosePlan, dose_input, dose_plan_record, fmt_num, make_family_sheet, plan_dose
from dermsim.workflows.app_support import body_map_regions
from dermsim.workflows.clinic import render_dose_card_html, render_family_sheet_html

# Shapes of a child figure, front (x < 200) and back (x >= 220); a region may have several shapes.
# (x, y, w, h, rx) rounded rectangles: simple enough to click on a phone, no anatomy intended.
_SHAPES: dict[str, list[tuple[float, float, float, float, float]]] = {
    "head": [(75, 8, 50, 52, 24), (295, 8, 50, 52, 24)],
    "neck": [(90, 60, 20, 12, 4), (310, 60, 20, 12, 4)],
    "anterior_trunk": [(70, 72, 60, 92, 10)],
    "posterior_trunk": [(290, 72, 60, 80, 10)],
    "buttocks": [(290, 152, 60, 28, 10)],
    "genitalia": [(90, 164, 20, 16, 6)],
    "upper_arms": [(46, 76, 22, 52, 9), (132, 76, 22, 52, 9), (266, 76, 22, 52, 9), (352, 76, 22, 52, 9)],
    "forearms": [(40, 130, 20, 48, 8), (140, 130, 20, 48, 8), (260, 130, 20, 48, 8), (360, 130, 20, 48, 8)],
    "hands": [(36, 180, 22, 22, 9), (142, 180, 22, 22, 9), (256, 180, 22, 22, 9), (362, 180, 22, 22, 9)],
    "thighs": [(70, 182, 28, 68, 10), (102, 182, 28, 68, 10), (290, 182, 28, 68, 10), (322, 182, 28, 68, 10)],
    "lower_legs": [(72, 252, 24, 64, 9), (104, 252, 24, 64, 9), (292, 252, 24, 64, 9), (324, 252, 24, 64, 9)],
    "feet": [(68, 318, 28, 16, 7), (104, 318, 28, 16, 7), (288, 318, 28, 16, 7), (324, 318, 28, 16, 7)],
}

_SCRIPT = """
(function () {
  function send(map) {
    var chosen = [];
    map.querySelectorAll('[data-region][aria-pressed="true"]').forEach(function (g) {
      if (chosen.indexOf(g.dataset.region) < 0) chosen.push(g.dataset.region);
    });
    Shiny.setInputValue(map.dataset.input, chosen, {priority: 'event'});
  }
  function toggle(g) {
    var map = g.closest('.body-map');
    var on = g.getAttribute('aria-pressed') !== 'true';
    map.querySelectorAll('[data-region="' + g.dataset.region + '"]').forEach(function (x) {
      x.setAttribute('aria-pressed', on ? 'true' : 'false');
    });
    send(map);
  }
  document.addEventListener('click', function (e) {
    var g = e.target.closest && e.target.closest('.body-map [data-region]');
    if (g) toggle(g);
  });
  document.addEventListener('keydown', function (e) {
    var g = e.target.closest && e.target.closest('.body-map [data-region]');
    if (g && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); toggle(g); }
  });
})();
"""


def body_map(input_id: str, sizes: dict[str, float], chosen: set[str]) -> Tag:
    """The SVG body map: one toggle button per Lund-Browder region (all its shapes)."""
    groups = []
    for name, shapes in _SHAPES.items():
        pct = sizes.get(name)
        label = f"{name.replace('_', ' ')}, {fmt_num(pct, 1)}% of body surface" if pct is not None else name
        rects = [
            Tag("rect", x=str(x), y=str(y), width=str(w), height=str(h), rx=str(rx), class_="region")
            for x, y, w, h, rx in shapes
        ]
        groups.append(
            Tag(
                "g",
                Tag("title", label),
                *rects,
                data_region=name,
                role="button",
                tabindex="0",
                aria_pressed="true" if name in chosen else "false",
                aria_label=label,
            )
        )
    return Tag(
        "svg",
        Tag("text", "front", x="100", y="348", text_anchor="middle"),
        Tag("text", "back", x="320", y="348", text_anchor="middle"),
        *groups,
        viewBox="0 0 420 356",
        width="420",
        height="356",
        class_="body-map",
        data_input=input_id,
        role="group",
        aria_label="body map: press a region to mark it affected",
    )


@module.ui
def clinic_ui() -> TagChild:
    return ui.layout_sidebar(
        ui.sidebar(
            ui.input_numeric("age", "Age (years)", 6, min=2, max=120),
            ui.input_select("sex", "Sex", {"": "not given", "F": "F", "M": "M"}),
            ui.input_numeric("weight", "Weight, kg (empty: median for age)", None, min=1),
            ui.input_numeric("height", "Height, cm (empty: median for age)", None, min=30),
            ui.input_slider("share", "Part of each marked region affected (%)", 1, 100, 50),
            ui.input_select("strength", "Cream strength", {"1.5": "1.5%", "0.75": "0.75%"}),
            ui.input_radio_buttons(
                "per_day", "Applications per day", {"2": "twice", "1": "once"}, inline=True
            ),
            ui.input_numeric("seed", "Seed", 1, min=0),
            ui.input_action_button("plan", "Plan dose", class_="btn-primary"),
            ui.input_action_button("sheet", "Family sheet", class_="btn-outline-primary mt-2"),
            ui.output_ui("status"),
            width=320,
            resizable=False,  # bslib's resize handle is a focusable separator without aria-valuenow (axe)
        ),
        tags.div(
            tags.h2("Dose planner"),
            tags.p(
                "Mark the affected regions on the body map (click or press Enter); sizes follow the "
                "Lund-Browder chart at the child's age.",
                class_="text-muted",
            ),
            tags.div(
                tags.div(ui.output_ui("body"), class_="me-4"),
                ui.output_ui("region_table"),
                class_="d-flex flex-wrap align-items-start",
            ),
            tags.p("Marked: ", tags.span(ui.output_text("chosen_text", inline=True))),
            ui.output_ui("result_view"),
            tags.script(_SCRIPT),
        ),
    )


@module.server
def clinic_server(input: object, output: object, session: object, files: SessionFiles) -> None:
    view = JobView(files.scrub)
    map_id = module.resolve_id("regions")

    @reactive.calc
    def chosen() -> list[str]:
        # Shiny passes its Inputs object; the server signature types it `object` like every app page
        raw = input.regions() if "regions" in input else []  # type: ignore[operator]
        return [r for r in (raw or []) if r in _SHAPES]  # only names of the region table

    @reactive.calc
    def sizes() -> dict[str, float]:
        age = input.age()
        try:
            return body_map_regions(age) if age is not None and 0 <= age <= 120 else {}
        except DermsimError:
            return {}

    @render.ui
    def body() -> TagChild:
        with reactive.isolate():
            now = set(chosen())
        return body_map(map_id, sizes(), now)

    @render.ui
    def region_table() -> TagChild:
        sz, marks = sizes(), set(chosen())
        age = input.age()
        rows = [(r.replace("_", " "), fmt_num(p, 1), "marked" if r in marks else "") for r, p in sz.items()]
        return html_table(
            ("region", "% of body surface", ""),
            rows,
            f"Lund-Browder regions at age {fmt_num(age, 1) if age is not None else '?'} y",
        )

    @render.text
    def chosen_text() -> str:
        return ", ".join(r.replace("_", " ") for r in chosen()) or "none"

    def _inputs() -> dict[str, object]:
        age = input.age()
        if age is None:
            raise InvalidInputError("age must be a number of years (2 and up); got nothing.")
        marks = chosen()
        if not marks:
            raise InvalidInputError("mark at least one affected region on the body map.")
        seed = whole(input.seed(), "seed", 0, 2**63 - 1)
        regions = ",".join(f"{r}:{int(input.share())}" for r in marks)
        return dict(
            age=float(age),
            sex=input.sex() or None,
            weight=input.weight(),
            height=input.height(),
            regions=regions,
            strength=float(input.strength()),
            seed=int(seed),
        )

    def dose() -> tuple[object, str]:
        kw, per_day = _inputs(), int(input.per_day())
        return (lambda job: _dose(job, kw, per_day)), "dose plan"

    def sheet() -> tuple[object, str]:
        kw, pdf = _inputs(), files.new_path("sheet", ".pdf")
        return (lambda job: _family(job, kw, pdf)), "family sheet"

    @reactive.effect
    @reactive.event(input.plan)
    def _plan() -> None:
        view.launch(dose)

    @reactive.effect
    @reactive.event(input.sheet)
    def _sheet() -> None:
        view.launch(sheet)

    @render.ui
    def status() -> TagChild:
        return view.status("clinic run")

    @reactive.calc
    def latest() -> object:
        return view.job.result() if view.snap().status == "done" else None

    @render.ui
    def result_view() -> TagChild:
        r = latest()
        if isinstance(r, DosePlan):
            return _plan_view(r)
        if isinstance(r, tuple):
            run, _ = r
            return tags.div(
                tags.h3("Family sheet"),
                ui.download_button("dl_sheet", "Family sheet (PDF)", class_="my-2 no-print"),
                tags.iframe(
                    srcdoc=render_family_sheet_html(run.sheet),
                    title="family sheet preview",
                    style="width: 100%; height: 900px; border: 1px solid #ccc;",
                ),
            )
        return None

    @render.download(filename="dose-card.html")
    def dl_card() -> str:
        r = latest()
        if not isinstance(r, DosePlan):
            return ""
        path = files.new_dir("card") / "dose-card.html"
        path.write_text(render_dose_card_html(r), encoding="utf-8")
        return str(path)

    @render.download(filename="family-sheet.pdf")
    def dl_sheet() -> str:
        r = latest()
        return str(r[1]) if isinstance(r, tuple) else ""

    @render.download(filename="dose-plan.json")
    def dl_json() -> str:
        r = latest()
        if not isinstance(r, DosePlan):
            return ""
        path = files.new_dir("plan") / "dose-plan.json"
        path.write_text(json.dumps(dose_plan_record(r), indent=2), encoding="utf-8")
        return str(path)


def _dose(job: Job, kw: dict[str, object], per_day: int) -> DosePlan:
    job.start(None, "planning the dose and simulating the blood level")
    seed = kw.pop("seed")
    plan = plan_dose(dose_input(per_day=per_day, **kw), seed=seed)
    job.done("")
    return plan


def _family(job: Job, kw: dict[str, object], pdf: Path) -> tuple[object, Path]:
    job.start(None, "building the family sheet (PDF)")
    run = make_family_sheet(kw.pop("age"), out=pdf, **kw)
    job.done("")
    return run, pdf


def _plan_view(plan: DosePlan) -> Tag:
    e = plan.exposure
    rows = [
        (
            r.name.replace("_", " "),
            fmt_num(r.share_pct, 0),
            fmt_num(r.treated_pct, 1),
            fmt_num(r.treated_cm2, 0),
            fmt_num(r.ftu_per_application, 1),
            fmt_num(r.grams_per_application, 2),
            fmt_num(r.grams_per_week, 1),
        )
        for r in plan.regions
    ]
    checks = [
        (
            c.name,
            f"{fmt_num(c.value, 1)} {c.unit}",
            "-" if c.limit is None else f"{c.limit:g}",
            "no label number" if c.within is None else ("within" if c.within else "EXCEEDS"),
            f"{c.evidence_key} ({c.status})",
        )
        for c in plan.label_checks
    ]
    return tags.div(
        tags.h3(f"{plan.inp.strength_pct:g}% cream, {plan.inp.applications_per_day}x daily"),
        tags.ul(
            tags.li(
                f"age {plan.inp.age_y:g} y, {fmt_num(plan.weight_kg, 1)} kg, {fmt_num(plan.height_cm, 1)} cm "
                f"({plan.body_source}); BSA {fmt_num(plan.bsa_m2, 2)} m² ({plan.bsa_formula})"
            ),
            tags.li(
                "treated: ",
                tags.strong(f"{fmt_num(plan.treated_pct, 1)}% BSA", data_value="treated_pct"),
                f" = {fmt_num(plan.treated_cm2, 0)} cm²",
            ),
            tags.li(
                "cream: ",
                tags.strong(
                    f"{fmt_num(plan.grams_per_application, 2)} g per application",
                    data_value="grams_per_application",
                ),
                f", {fmt_num(plan.grams_per_day, 1)} g/day, ",
                tags.strong(f"{fmt_num(plan.grams_per_week, 1)} g/week", data_value="grams_per_week"),
                # what the grams are, and the fingertip-unit estimate beside them
                f" ({plan.grams_source}; fingertip-unit estimate {fmt_num(plan.ftu_per_application, 1)} FTU)",
            ),
            tags.li(
                "predicted steady-state plasma level: median ",
                tags.strong(f"{fmt_num(e.css_median_nM, 1)} nM", data_value="css_median_nM"),
                f", 90% interval {fmt_num(e.css_p05_nM, 1)}-{fmt_num(e.css_p95_nM, 1)} nM; "
                f"P(above {e.threshold_nM:g} nM) = {fmt_num(100 * e.p_above_threshold, 1)}%",
            ),
        ),
        html_table(
            ("region", "% of region", "%BSA", "cm²", "FTU/appl.", "g/appl.", "g/week"),
            rows,
            f"Cream by region (FTU: {plan.ftu_method})",
        ),
        html_table(("check", "planned", "limit", "result", "evidence (status)"), checks, "Label checks"),
        tags.p(e.oral_message, class_="small"),
        *[tags.p(f"note: {n}", class_="small") for n in plan.notes],
        tags.div(
            ui.download_button("dl_card", "Dose card (HTML)"),
            ui.download_button("dl_json", "Plan (JSON)", class_="ms-2"),
            tags.button(
                "Print dose card",
                type="button",
                class_="btn btn-outline-secondary ms-2",
                onclick="document.getElementById('dose-card-frame').contentWindow.print()",
            ),
            class_="my-2 no-print",
        ),
        tags.iframe(
            srcdoc=render_dose_card_html(plan),
            title="dose card",
            id="dose-card-frame",
            style="width: 100%; height: 640px; border: 1px solid #ccc;",
        ),
    )
