"""IPDAS minimum criteria that a test can check on the family sheet: benefits and harms as icon
arrays over the same 100 with plain cream as the comparison, icon counts equal to the numbers in the
words, "if we stop" and "only when it flares" from the model with a provenance line and a picture,
no nanomolar units or internal keys, plain reading level (see also test_sheet, test_words)."""

from __future__ import annotations

import re

import pytest

from dermsim.clinic import DosePlanInput, build_family_sheet, compute_benefit_risk, plan_dose
from dermsim.clinic.benefit_risk import typical_area_pct
from dermsim.clinic.scenarios import run_scenarios
from dermsim.report.family_sheet import HARM, MARKED, body_text, render_family_sheet_html
from dermsim.report.format import round_half_away


@pytest.fixture(scope="module", params=[(6.0, "en"), (6.0, "es"), (14.0, "en")])
def made(request: pytest.FixtureRequest):
    age, lang = request.param
    plan = plan_dose(DosePlanInput(age_y=age, area_pct=typical_area_pct(age)[0]), seed=5, n_draws=300)
    sc = run_scenarios(plan, seed=2, n=60, sets=4)
    sheet = build_family_sheet(plan, compute_benefit_risk(plan), lang=lang, scenarios=sc)
    return plan, sc, sheet, render_family_sheet_html(sheet)


def _arrays(page: str, section: str) -> list[tuple[int, int, str]]:
    """(solid figures, all figures, caption) of each icon array in a section."""
    sec = re.search(rf'<section id="{section}">.*?</section>', page, flags=re.S).group(0)
    out = []
    for svg, caption in re.findall(r'(<svg class="icons".*?</svg>)<p>(.*?)</p>', sec, flags=re.S):
        solid = svg.count(f'fill="{MARKED}"') + svg.count(f'fill="{HARM}"')
        out.append((solid, svg.count("<path"), caption))
    return out


def test_benefits_and_harms_are_icon_arrays_over_the_same_100_with_plain_cream(made) -> None:
    _, _, sheet, page = made
    benefits, harms = _arrays(page, "chances"), _arrays(page, "harms")
    assert len(benefits) >= 2 and len(harms) == 2
    assert {total for _, total, _ in benefits + harms} == {100}
    plain = sheet.words("sheet", "plain_cream")
    assert plain[0].upper() + plain[1:] in {a.title for _, r in sheet.harms for a in r}
    assert plain[0].upper() + plain[1:] in {a.title for _, r in sheet.arrays for a in r}


def test_icon_counts_equal_the_numbers_in_the_words(made) -> None:
    _, _, sheet, page = made
    for solid, _, caption in _arrays(page, "chances") + _arrays(page, "harms"):
        n = int(re.search(r"(\d+) (?:in|de cada) 100", caption).group(1))
        assert solid == n, caption
    for _, row in (*sheet.arrays, *sheet.harms):
        for a in row:
            assert a.count.number.key == next(iter(a.caption.values.values())).number.key


def test_stop_and_as_needed_come_from_the_model_with_provenance(made) -> None:
    _, sc, sheet, page = made
    block = next(b for b in sheet.blocks if b.id == "stop")
    r = {x.name: x for x in sc.results}
    shown = {v.number.key: v.number.value for t in block.paragraphs for v in t.values.values()}
    for name in ("every_day", "stop_week_8", "as_needed"):
        assert shown[f"model:scenario.{name}.clear_at_end"] == pytest.approx(100 * r[name].clear_at_end)
    # the picture shows the same three numbers, rounded as in the words
    chart = re.search(r'<svg class="stopchart".*?</svg>', page, flags=re.S).group(0)
    for name in ("every_day", "stop_week_8", "as_needed"):
        assert f">{int(round_half_away(100 * r[name].clear_at_end))}</text>" in chart
    assert re.search(rf"\b(seed|semilla) {sc.seed}\b", sheet.stop_provenance)
    assert f"{sc.n_patients} " in sheet.stop_provenance
    assert sheet.stop_provenance in page.replace("&#39;", "'")
    # stopping never leaves more children clear than going on (same patients, same random numbers)
    assert r["stop_week_8"].clear_at_end <= r["every_day"].clear_at_end
    assert r["as_needed"].grams_used <= r["every_day"].grams_used


def test_no_nanomolar_units_or_internal_keys_on_the_sheet(made) -> None:
    _, _, _, page = made
    # the body (the source list quotes citation titles as published)
    body = re.sub(r"<style>.*?</style>", "", page.split('<div class="sources">')[0], flags=re.S)
    text = re.sub(r"<[^>]+>", " ", body)
    for bad in (" nM", "nanomol", "nmol", ".toml", "model:", "plan:", "max_bsa", "css_", "p_above",
                "FTU", "BSA"):
        assert bad not in text, bad


def test_sources_are_label_or_peer_reviewed_where_one_exists(made) -> None:
    _, _, sheet, _ = made
    keys = {k for k, _ in sheet.sources}
    assert "pillsync" not in keys


def test_boxed_warning_in_context_cream_vs_pills(made) -> None:
    """Who it came from (adults 50+ with heart risk factors, pills) and how much reaches the blood from
    the cream vs a pill, both numbers from confirmed evidence entries."""
    _, _, sheet, _ = made
    block = next(b for b in sheet.blocks if b.id == "warning")
    keys = {v.number.key for t in block.paragraphs for v in t.values.values()}
    assert {"pharmacology.toml:topical.bioavailability_rux150_pct",
            "pharmacology.toml:oral.bioavailability_pct", "label.toml:boxed_warning.basis",
            "model:oral_ratio_median", "model:oral_ratio_p05", "model:oral_ratio_p95"} <= keys
    # the exposure from the cream against the pill's: the model's ratio, with the pill's sources
    plan = made[0]
    ratio = next(v.number for t in block.paragraphs for v in t.values.values()
                 if v.number.key == "model:oral_ratio_median")
    assert ratio.value == pytest.approx(100 * plan.exposure.oral.ratio_median)
    assert any("Appeldoorn" in c for c in ratio.citations)


def test_alternatives_are_an_option_grid_with_the_same_outcomes(made) -> None:
    """IPDAS option grid: ruxolitinib, moisturisers/steroid creams, a calcineurin inhibitor and other
    non-steroid creams as rows with the same columns (how often, clear with it, clear with its own
    study's plain base, when); numbers only from confirmed (C/D) results of a label or journal, and
    the ruxolitinib row equals the pictures above."""
    _, _, sheet, page = made
    g = sheet.options
    assert g is not None and len(g.rows) >= 5
    assert {len(cells) for _, cells in g.rows} == {len(g.columns) - 1}
    pictured = {a.count.number.key for _, r in sheet.arrays for a in r}
    for _, cells in g.rows:
        for t in cells:
            for v in t.values.values():
                assert v.number.status in ("C", "D"), v.number.key
                assert v.number.key.startswith("comparators.toml:comparators.") or v.number.key in pictured
    assert sum(bool(t.values) for _, cells in g.rows for t in cells) >= 6  # published numbers shown
    rux = g.rows[0][1]
    study = sheet.arrays[0][1]
    active = next(a for a in study if a.count.number.key == rux[1].values["n"].number.key)
    assert rux[1].values["n"].number.value == active.count.number.value
    # rendered as a table with one header cell per column and one row per option
    table = re.search(r'<table class="grid">.*?</table>', page, flags=re.S).group(0)
    assert table.count('<th scope="col">') == len(g.columns)
    assert table.count('<th scope="row">') == len(g.rows)
    assert "PhysiciansWeekly" not in {k for k, _ in sheet.sources}


def test_the_whole_sheet_reads_easily(made, fk_grade, es_readability) -> None:
    """The main text with the scenario block and the option grid's intro: Flesch-Kincaid grade <= 6
    (English), Fernandez-Huerta and Szigriszt-Pazos >= 80 (Spanish, about 6th grade)."""
    _, _, sheet, _ = made
    text = body_text(sheet)
    if sheet.words.lang == "en":
        assert fk_grade(text) <= 6.0
    else:
        assert min(es_readability(text)) >= 80


def test_stop_numbers_carry_the_posterior_uncertainty(made) -> None:
    """With the shipped posterior the scenarios run over several parameter sets: each bar has a 90%
    interval, the words say how unsure the model is, and the provenance names the posterior."""
    plan, sc, sheet, page = made
    if sc.posterior_version is None:
        pytest.skip("no calibrated posterior fits the model (prior fallback)")
    assert sc.parameter_sets > 1 and sc.posterior_version in sheet.stop_provenance
    assert sc.posterior_version == plan.exposure.posterior_version
    for r in sc.results:
        lo, hi = r.clear_at_end_interval
        assert lo <= r.clear_at_end <= hi
    assert all(iv is not None for iv in sheet.stop_chart_intervals)
    assert page.count('class="unsure"') == 3
    block = next(b for b in sheet.blocks if b.id == "stop")
    assert any("p05" in v.number.key for t in block.paragraphs for v in t.values.values())
