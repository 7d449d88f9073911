"""The clinic: the dose and exposure plan for one patient and the family benefit-risk sheet, the
domain calls as they are (:func:`dermsim.clinic.plan_dose`, :func:`dermsim.clinic.build_family_sheet`)
plus the input parsing and file output both the command line and the app need."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dermsim.clinic import (
    BenefitRisk,
    DosePlan,
    DosePlanInput,
    FamilySheet,
    build_family_sheet,
    compute_benefit_risk,
    parse_regions,
    plan_dose,
)
from dermsim.clinic.benefit_risk import typical_area_pct
from dermsim.clinic.dose import DEFAULT_DRAWS, parse_region_grams
from dermsim.clinic.scenarios import ScenarioSet, parse_compare, run_scenarios
from dermsim.clinic.words import words
from dermsim.errors import InvalidInputError
from dermsim.report.dose_card import card_context, dose_plan_record, export_dose_card, render_dose_card_html
from dermsim.report.family_sheet import export_family_sheet, render_family_sheet_html

__all__ = [
    "DEFAULT_DRAWS",
    "BenefitRisk",
    "DosePlan",
    "DosePlanInput",
    "FamilySheet",
    "FamilySheetRun",
    "ScenarioSet",
    "build_family_sheet",
    "check_language",
    "compare_plans",
    "compute_benefit_risk",
    "dose_card_context",
    "dose_input",
    "dose_plan_record",
    "export_dose_card",
    "export_family_sheet",
    "make_family_sheet",
    "page_size",
    "plan_dose",
    "render_dose_card_html",
    "render_family_sheet_html",
    "run_scenarios",
]


def dose_card_context(plan: DosePlan, lang: str = "en") -> dict:
    """The dose card's words and rounded numbers (what the printed card shows), for a terminal."""
    return card_context(plan, lang)


def page_size(paper: str) -> str:
    """The printed page size of a clinic page: ``letter`` or ``a4`` (any case)."""
    sizes = {"letter": "Letter", "a4": "A4"}
    if paper.lower() not in sizes:
        raise InvalidInputError(f"--paper must be letter or a4; got {paper!r}.")
    return sizes[paper.lower()]


def check_language(lang: str) -> str:
    """Refuse an unknown language before any work (the translation file must exist)."""
    words(lang)
    return lang


def dose_input(age: float, *, sex: str | None = None, weight: float | None = None,
               height: float | None = None, regions: str | None = None, area_pct: float | None = None,
               strength: float = 1.5, per_day: int = 2, grams_per_day: float | None = None) -> DosePlanInput:
    """A :class:`DosePlanInput` from command-line style values (``regions`` "arms:50,legs:30", or with
    the grams a day really used per region "arms:50:1.2g,legs:30:1.5g")."""
    return DosePlanInput(age_y=age, sex=sex.upper() if sex else None, weight_kg=weight, height_cm=height,
                         regions=parse_regions(regions) if regions is not None else None, area_pct=area_pct,
                         strength_pct=strength, applications_per_day=per_day, grams_per_day=grams_per_day,
                         region_grams_per_day=parse_region_grams(regions) if regions is not None else None)


@dataclass(frozen=True)
class FamilySheetRun:
    plan: DosePlan
    sheet: FamilySheet
    out: Path | None
    note: str              # how a missing area was filled in ("" when the family gave one)


def make_family_sheet(age: float, *, out: str | Path | None = None, sex: str | None = None,
                      weight: float | None = None, height: float | None = None, regions: str | None = None,
                      area_pct: float | None = None, strength: float = 1.5,
                      grams_per_day: float | None = None, seed: int = 1, lang: str = "en",
                      paper: str = "letter") -> FamilySheetRun:
    """The family sheet for one child (twice-daily use); without ``regions`` or ``area_pct`` the
    trials' mean affected area for the age is used and ``note`` says so. Written to ``out`` (.pdf
    or .html) when given."""
    check_language(lang)
    page = page_size(paper)
    note = ""
    if regions is None and area_pct is None:
        area_pct, key = typical_area_pct(age)
        note = f"no area given: used the trial mean affected area, {area_pct:g}% BSA, {key}"
    plan = plan_dose(dose_input(age, sex=sex, weight=weight, height=height, regions=regions,
                                area_pct=area_pct, strength=strength, per_day=2, grams_per_day=grams_per_day),
                     seed=seed)
    sheet = build_family_sheet(plan, compute_benefit_risk(plan), lang=lang,
                               scenarios=run_scenarios(plan, seed=seed))
    if out is not None:
        export_family_sheet(sheet, out, page_size=page)
    return FamilySheetRun(plan, sheet, Path(out) if out is not None else None, note)


def compare_plans(text: str, age: float, *, sex: str | None = None, weight: float | None = None,
                  height: float | None = None, regions: str | None = None, area_pct: float | None = None,
                  per_day: int = 2, seed: int = 1, draws: int = DEFAULT_DRAWS) -> list[dict]:
    """One plan per 'strength:grams' item of ``text`` (e.g. "1.5:3g,0.75:3g"), same patient and seed:
    typical level, chance above the threshold (with its interval) and the 12-week outcome."""
    rows = []
    for strength, grams in parse_compare(text):
        plan = plan_dose(dose_input(age, sex=sex, weight=weight, height=height, regions=regions,
                                    area_pct=area_pct, strength=strength, per_day=per_day,
                                    grams_per_day=grams), seed=seed, n_draws=draws)
        sc = run_scenarios(plan, seed=seed, only=("every_day",))
        e, r = plan.exposure, sc.results[0]
        rows.append({"strength_percent": strength, "grams_per_day": grams, "typical_nM": e.css_median_nM,
                     "range_90_nM": [e.css_p05_nM, e.css_p95_nM], "threshold_nM": e.threshold_nM,
                     "chance_above_threshold": e.p_above_threshold,
                     "chance_above_threshold_interval_90": (None if e.p_above_p05 is None
                                                            else [e.p_above_p05, e.p_above_p95]),
                     "expected_days_clear_12_weeks": r.days_clear,
                     "expected_days_clear_interval_90": None if r.days_clear_interval is None
                     else list(r.days_clear_interval),
                     "clear_at_week_12": r.clear_at_end,
                     "clear_at_week_12_interval_90": None if r.clear_at_end_interval is None
                     else list(r.clear_at_end_interval),
                     "posterior_version": e.posterior_version, "provenance": sc.provenance})
    return rows
