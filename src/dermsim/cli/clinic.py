"""``dermsim dose`` (dose and exposure planner) and ``dermsim family-sheet`` (benefit-risk sheet).

    dermsim dose --age 6 --weight 21 --height 116 --regions "arms:50,legs:30,trunk:10" --strength 1.5
    dermsim family-sheet --age 6 --out sheet.pdf
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from dermsim.cli import app
from dermsim.workflows import (
    DEFAULT_DRAWS,
    DosePlan,
    ScenarioSet,
    check_language,
    compare_plans,
    dose_input,
    dose_plan_record,
    export_dose_card,
    fmt_num,
    make_family_sheet,
    page_size,
    plan_dose,
    run_scenarios,
)
from dermsim.workflows.outputs import check_out

_AGE = typer.Option(..., "--age", help="age in years (2 and up)")
_SEX = typer.Option(None, "--sex", help="F or M (used for age-typical weight and height)")
_WEIGHT = typer.Option(None, "--weight", help="weight in kg (default: CDC median for age)")
_HEIGHT = typer.Option(None, "--height", help="height in cm (default: CDC median for age)")
_REGIONS = typer.Option(None, "--regions", help='affected regions with the percent of each affected, '
                                                'e.g. "arms:50,legs:30,trunk:10"')
_AREA = typer.Option(None, "--area-pct", help="treated area as % of body surface (instead of --regions)")
_STRENGTH = typer.Option(1.5, "--strength", help="cream strength in % (label: 1.5; trials also 0.75)")
_GRAMS = typer.Option(None, "--grams-per-day", help="grams actually used per day (replaces the FTU estimate)")
_PAPER = typer.Option("letter", "--paper", help="printed page size: letter or a4")
_SEED = typer.Option(1, "--seed", help="random seed for the between-patient variability (int >= 0)")


def _print_plan(plan: DosePlan, console: Console) -> None:
    inp, e = plan.inp, plan.exposure
    console.print(f"[bold]Ruxolitinib cream {inp.strength_pct:g}%, {inp.applications_per_day}x daily: "
                  f"dose and exposure plan[/bold]")
    console.print(f"age {inp.age_y:g} y, {fmt_num(plan.weight_kg, 1)} kg, {fmt_num(plan.height_cm, 1)} cm "
                  f"({plan.body_source}); BSA {fmt_num(plan.bsa_m2, 2)} m2 ({plan.bsa_formula})")
    console.print(f"treated: {fmt_num(plan.treated_pct, 1)}% BSA = {fmt_num(plan.treated_cm2, 0)} cm2")
    if plan.regions:
        t = Table(title=f"cream by region (FTU: {plan.ftu_method})")
        for c in ("region", "% of region", "%BSA", "cm2", "FTU/appl.", "g/appl.", "g/week"):
            t.add_column(c, justify="left" if c == "region" else "right")
        for r in plan.regions:
            t.add_row(r.name, fmt_num(r.share_pct, 0), fmt_num(r.treated_pct, 1), fmt_num(r.treated_cm2, 0),
                      fmt_num(r.ftu_per_application, 1), fmt_num(r.grams_per_application, 2),
                      fmt_num(r.grams_per_week, 1))
        console.print(t)
    else:
        console.print(f"FTU method: {plan.ftu_method}")
    rec = dose_plan_record(plan)
    cream = rec["cream"]
    amount = (f"{fmt_num(plan.grams_per_day, 1)} g/day entered (fingertip-unit estimate "
              f"{fmt_num(cream['fingertip_unit_estimate_grams_per_day'], 1)} g/day)"
              if cream["amount_source"] == "entered" else "fingertip-unit estimate")
    console.print(f"cream ({amount}): {fmt_num(plan.grams_per_application, 2)} g per application "
                  f"({fmt_num(plan.ftu_per_application, 1)} fingertip units by the chart), "
                  f"{fmt_num(plan.grams_per_day, 1)} g/day, {fmt_num(plan.grams_per_week, 1)} g/week")
    for t in cream["tube_days"]:
        console.print(f"one {t['tube_grams']:g} g tube lasts about {fmt_num(t['days'], 0)} days")
    console.print("label checks:")
    for c in rec["label_checks"]:
        console.print(f"  {c['sentence']}")
    console.print(f"predicted steady-state plasma concentration: median {fmt_num(e.css_median_nM, 1)} nM, "
                  f"90% interval {fmt_num(e.css_p05_nM, 1)}-{fmt_num(e.css_p95_nM, 1)} nM "
                  f"({e.n_draws} virtual copies, between-patient variability)")
    console.print(f"threshold {e.threshold_nM:g} nM ({e.threshold_key}); P(above threshold) = "
                  f"{fmt_num(100 * e.p_above_threshold, 1)}%" + (
                      "" if e.p_above_p05 is None or e.p_above_p95 is None
                      else f" (90% interval over parameter uncertainty "
                      f"{fmt_num(100 * e.p_above_p05, 1)}-{fmt_num(100 * e.p_above_p95, 1)}%)"))
    console.print(f"oral comparison: {e.oral_message}")
    console.print(e.parameters_note)
    for n in plan.notes:
        console.print(f"note: {n}")


def _print_scenarios(sc: ScenarioSet, console: Console) -> None:
    t = Table(title=f"ways of using the cream over {sc.days // 7} weeks ({sc.provenance})")
    for c in ("way", "cream used (g)", "days on cream", "expected days clear", "clear at the end",
              "highest level, median (nM)", f"share ever above {sc.threshold_nM:g} nM"):
        t.add_column(c, justify="left" if c == "way" else "right")
    for r in sc.results:
        t.add_row(r.description, fmt_num(r.grams_used, 0), fmt_num(r.days_treated, 0),
                  fmt_num(r.days_clear, 0),
                  f"{fmt_num(100 * r.clear_at_end, 0)}%", fmt_num(r.level_median_nM, 1),
                  f"{fmt_num(100 * r.share_above_threshold, 1)}%")
    console.print(t)


def _compare(text: str, age: float, sex: str | None, weight: float | None, height: float | None,
             regions: str | None, area_pct: float | None, per_day: int, seed: int, draws: int,
             as_json: bool) -> None:
    """One plan per 'strength:grams' item, same patient and seed; level, chance and 12-week outcome."""
    rows = compare_plans(text, age, sex=sex, weight=weight, height=height, regions=regions,
                         area_pct=area_pct, per_day=per_day, seed=seed, draws=draws)
    if as_json:
        typer.echo(json.dumps({"schema_version": "1.0", "comparisons": rows}, indent=2))
        return
    t = Table(title=f"same patient, seed {seed}: strength and amount compared")
    for c in ("strength", "g/day", "typical level (nM)", "chance above 281 nM", "days clear in 12 weeks",
              "clear at week 12"):
        t.add_column(c, justify="right")
    for row in rows:
        ci = row["chance_above_threshold_interval_90"]
        chance = f"{fmt_num(100 * row['chance_above_threshold'], 1)}%" + (
            "" if ci is None else f" ({fmt_num(100 * ci[0], 1)}-{fmt_num(100 * ci[1], 1)}%)")
        t.add_row(f"{row['strength_percent']:g}%", f"{row['grams_per_day']:g}", fmt_num(row["typical_nM"], 1),
                  chance, fmt_num(row["expected_days_clear_12_weeks"], 0),
                  f"{fmt_num(100 * row['clear_at_week_12'], 0)}%")
    Console().print(t)
    typer.echo(rows[0]["provenance"])


@app.command("dose")
def dose_cmd(
    age: float = _AGE, sex: str | None = _SEX, weight: float | None = _WEIGHT, height: float | None = _HEIGHT,
    regions: str | None = _REGIONS, area_pct: float | None = _AREA, strength: float = _STRENGTH,
    per_day: int = typer.Option(2, "--per-day", help="applications per day (label: 2)"),
    grams_per_day: float | None = _GRAMS, seed: int = _SEED,
    draws: int = typer.Option(DEFAULT_DRAWS, "--draws",
                              help="virtual copies of the patient for the interval"),
    as_json: bool = typer.Option(False, "--json", help="print the plan as JSON (schema: "
                                 "dermsim/report/schemas/dose_plan.schema.json)"),
    html_out: Path | None = typer.Option(None, "--html",
                                         help="also write the printable card (.html or .pdf)"),
    lang: str = typer.Option("en", "--lang", help="language of the card: en or es"),
    paper: str = typer.Option("a4", "--paper", help="printed page size: a4 or letter"),
    compare: str | None = typer.Option(None, "--compare", help='compare strengths and amounts, e.g. '
                                       '"1.5:3g,0.75:3g" (strength %:grams per day)'),
    scenarios: bool = typer.Option(False, "--scenarios", help="compare every day, stopping at week 8 and "
                                   "as needed (only when the skin flares) over 12 weeks"),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output file."),
) -> None:
    """Plan cream amounts, check them against the label and predict the blood level."""
    check_language(lang)
    page = page_size(paper)
    if compare is not None:
        _compare(compare, age, sex, weight, height, regions, area_pct, per_day, seed, draws, as_json)
        return
    inp = dose_input(age, sex=sex, weight=weight, height=height, regions=regions, area_pct=area_pct,
                     strength=strength, per_day=per_day, grams_per_day=grams_per_day)
    if html_out is not None:
        check_out(html_out, overwrite=overwrite, kind="file", option="--html")
    plan = plan_dose(inp, seed=seed, n_draws=draws)
    if html_out is not None:
        export_dose_card(plan, html_out, lang=lang, page_size=page)
    sc = run_scenarios(plan, seed=seed) if scenarios else None
    if as_json:
        rec = dose_plan_record(plan)
        typer.echo(json.dumps(rec if sc is None else {**rec, "scenarios": sc.to_dict()}, indent=2))
        return
    if sc is not None:
        _print_scenarios(sc, Console())
    else:
        _print_plan(plan, Console())
        if html_out is not None:
            typer.echo(f"wrote {html_out}")


@app.command("family-sheet")
def family_sheet_cmd(
    age: float = _AGE, sex: str | None = _SEX, weight: float | None = _WEIGHT, height: float | None = _HEIGHT,
    regions: str | None = _REGIONS, area_pct: float | None = _AREA, strength: float = _STRENGTH,
    grams_per_day: float | None = _GRAMS, seed: int = _SEED,
    out: Path = typer.Option(..., "--out", help="sheet.pdf or sheet.html"),
    lang: str = typer.Option("en", "--lang", help="language of the sheet: en or es"),
    paper: str = _PAPER,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output file."),
) -> None:
    """Write the one-page family benefit-risk sheet (HTML or PDF)."""
    check_language(lang)  # an unknown language or paper is refused before any work
    page_size(paper)
    check_out(out, overwrite=overwrite, kind="file")
    run = make_family_sheet(age, out=out, sex=sex, weight=weight, height=height, regions=regions,
                            area_pct=area_pct, strength=strength, grams_per_day=grams_per_day, seed=seed,
                            lang=lang, paper=paper)
    typer.echo(f"wrote {out}" + (f" ({run.note})" if run.note else ""))
