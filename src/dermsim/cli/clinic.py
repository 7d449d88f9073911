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
    dose_card_context,
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
                                                'e.g. "arms:50,legs:30,trunk:10"; add the grams a day '
                                                'really used on each, e.g. "arms:50:1.2g,legs:30:1.5g"')
_AREA = typer.Option(None, "--area-pct", help="treated area as % of body surface (instead of --regions)")
_STRENGTH = typer.Option(1.5, "--strength", help="cream strength in % (label: 1.5; trials also 0.75)")
_GRAMS = typer.Option(None, "--grams-per-day", help="grams actually used per day (replaces the FTU estimate)")
_PAPER = typer.Option("letter", "--paper", help="printed page size: letter or a4")
_SEED = typer.Option(1, "--seed", help="random seed for the between-patient variability (int >= 0)")


def _refs(r: list[int]) -> str:
    return f" [{','.join(str(x) for x in r)}]" if r else ""


def _print_plan(plan: DosePlan, console: Console, lang: str = "en") -> None:
    """The card's words for the terminal: plain labels and units, sources as numbered footnotes
    (evidence keys, file names and parameter files stay in --json)."""
    c = dose_card_context(plan, lang)
    w = c["w"]
    console.print(f"[bold]{c['title']}[/bold]", highlight=False)
    console.print(c["patient"], highlight=False)
    console.print(f"[bold]{w('card', 'where_heading')}[/bold]", highlight=False)
    console.print(c["body_caption"], highlight=False)
    if c["regions"]:
        t = Table()
        cols = ("col_region", "col_affected", "col_area", "col_pct", "col_ftu", "col_grams", "col_week")
        for k in cols:
            t.add_column(w("card", k) + (_refs(c["ftu_refs"]) if k == "col_ftu" else ""),
                         justify="left" if k == "col_region" else "right")
        for r in c["regions"]:
            t.add_row(r["name"], r["affected"], r["area"], r["pct"], r["ftu"], r["grams"], r["week"])
        tot = c["total"]
        t.add_row(w("card", "total"), "", tot["area"], tot["pct"], tot["ftu"], tot["grams"], tot["week"],
                  style="bold")
        console.print(t)
    else:
        console.print(c["regions_none"], highlight=False)
    console.print(f"[bold]{w('card', 'amount_heading')}[/bold]", highlight=False)
    console.print(f"{c['amount']} {c['ftu_note']}{_refs(c['ftu_refs'])}", highlight=False)
    for tube in c["tubes"]:
        console.print(f"  {tube}", highlight=False)
    console.print(f"[bold]{w('card', 'label_heading')}[/bold]", highlight=False)
    for chk in c["checks"]:
        mark = "?" if chk["ok"] is None else ("ok" if chk["ok"] else "OVER")
        console.print(f"  [{mark}] {chk['text']}{_refs(chk['refs'])}", highlight=False, markup=False)
    console.print(f"[bold]{w('card', 'exposure_heading')}[/bold]", highlight=False)
    for p in c["exposure"]:
        console.print(f"{p['text']}{_refs(p['refs'])}", highlight=False)
    console.print(f"[bold]{w('card', 'model_heading')}[/bold]", highlight=False)
    for n in c["model_notes"]:
        console.print(f"  {n}", highlight=False)
    console.print(f"[bold]{w('card', 'sources_heading')}[/bold]", highlight=False)
    for i, cit in enumerate(c["sources"], start=1):
        console.print(f"  {i}. {cit}", highlight=False, markup=False)


def _iv(iv: tuple[float, float] | None, scale: float = 100.0, unit: str = "%") -> str:
    return "" if iv is None else f" ({fmt_num(scale * iv[0], 0)}-{fmt_num(scale * iv[1], 0)}{unit})"


def _print_scenarios(sc: ScenarioSet, console: Console) -> None:
    t = Table(title=f"ways of using the cream over {sc.days // 7} weeks (model; 90% interval over the "
                    f"parameter sets in brackets)")
    for c in ("way", "cream used (g)", "days on cream", "expected days clear", "clear at the end",
              "highest level, median (nM)", f"share ever above {sc.threshold_nM:g} nM"):
        t.add_column(c, justify="left" if c == "way" else "right")
    for r in sc.results:
        t.add_row(r.description, fmt_num(r.grams_used, 0), fmt_num(r.days_treated, 0),
                  fmt_num(r.days_clear, 0) + _iv(r.days_clear_interval, 1.0, ""),
                  f"{fmt_num(100 * r.clear_at_end, 0)}%" + _iv(r.clear_at_end_interval),
                  fmt_num(r.level_median_nM, 1),
                  f"{fmt_num(100 * r.share_above_threshold, 1)}%" + _iv(r.share_above_interval))
    console.print(t)
    console.print(sc.provenance, highlight=False)


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
        days_iv, end_iv = row["expected_days_clear_interval_90"], row["clear_at_week_12_interval_90"]
        t.add_row(f"{row['strength_percent']:g}%", f"{row['grams_per_day']:g}", fmt_num(row["typical_nM"], 1),
                  chance, fmt_num(row["expected_days_clear_12_weeks"], 0) + _iv(days_iv, 1.0, ""),
                  f"{fmt_num(100 * row['clear_at_week_12'], 0)}%" + _iv(end_iv))
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
        _print_plan(plan, Console(), lang)
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
