"""``dermsim dose`` and ``dermsim family-sheet`` driven as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from dermsim.cli import main
from dermsim.report.dose_card import schema
from dermsim.report.family_sheet import find_chromium

# The command of the issue, exactly.
ISSUE = ["dose", "--age", "6", "--weight", "21", "--height", "116", "--regions", "arms:50,legs:30,trunk:10",
         "--strength", "1.5"]


def test_the_issue_command_prints_the_plan(capsys: pytest.CaptureFixture[str]) -> None:
    """The terminal shows the card's plain words; evidence keys, file names and parameter files stay
    in --json (sources are numbered footnotes)."""
    assert main(ISSUE) == 0
    out = capsys.readouterr().out
    for text in ("dose and blood-level plan", "Body proportions at age 6", "17.8%", "Arms", "Legs",
                 "Label checks", "Within the label: 17.8% of the body is under the 20% limit",
                 "The label gives no gram limit", "Typical steady-state blood level",
                 "Chance of passing 281 nM",
                 "281 nM is the level at which", "lowest oral dose", "g tube lasts about", "Sources", "1. "):
        assert text in out, text
    for internal in (".toml", "max_bsa", "p_above", "css_", "pk.toml", "P(above", "FTU:", "oral_"):
        assert internal not in out, internal


def test_json_gives_the_numbers(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    card = tmp_path / "card.html"
    assert main([*ISSUE, "--json", "--html", str(card), "--draws", "1000"]) == 0
    plan = json.loads(capsys.readouterr().out)
    jsonschema.validate(plan, schema())
    assert plan["schema_version"] == "1.2" and "inp" not in plan
    assert plan["exposure"]["cream_vs_oral"]["ratio_typical"] > 0
    assert plan["treated_area"]["percent_body_surface"] == pytest.approx(17.82, abs=0.01)
    assert {r["region"] for r in plan["treated_area"]["regions"]} == {"arms", "legs", "trunk"}
    assert plan["exposure"]["threshold_nM"] == 281.0
    assert [c["result"] for c in plan["label_checks"]] == ["within_label", "no_label_limit", "no_label_limit"]
    assert 0 < plan["exposure"]["typical_nM"] < plan["exposure"]["range_90_nM"][1]
    page = card.read_text(encoding="utf-8")
    assert 'role="img"' in page and "Label checks" in page


def test_grams_per_day_and_area(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dose", "--age", "30", "--area-pct", "25", "--grams-per-day", "10", "--json",
                 "--draws", "200"]) == 0
    plan = json.loads(capsys.readouterr().out)
    jsonschema.validate(plan, schema())
    assert plan["cream"]["amount_source"] == "entered" and plan["cream"]["grams_per_day"] == 10
    assert plan["cream"]["fingertip_unit_estimate_grams_per_day"] > 0
    assert [c["result"] for c in plan["label_checks"]] == ["over_label"] * 3


@pytest.mark.parametrize(("change", "expect"), [
    (["--weight", "-21"], "weight_kg must be > 0; got -21.0"),
    (["--regions", "arms:150"], "regions.arms (percent of the region affected) must be within [0, 100]"),
    (["--age", "1"], "age_y must be within [2, 120]; got 1.0"),
    (["--regions", "wings:10"], "regions: region must be one of"),
])
def test_impossible_input_one_line_exit_2(change: list[str], expect: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    args = list(ISSUE)
    i = args.index(change[0])
    args[i + 1] = change[1]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expect in err and "Traceback" not in err


def test_family_sheet_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sheet.html"
    assert main(["family-sheet", "--age", "6", "--out", str(out)]) == 0
    assert "no area given" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert "About 57 in 100" in page and page.count('role="img"') >= 3


def test_family_sheet_in_spanish_on_a4(tmp_path: Path) -> None:
    out = tmp_path / "hoja.html"
    assert main(["family-sheet", "--age", "6", "--lang", "es", "--paper", "a4", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert '<html lang="es">' in page and "Unos 57 de cada 100" in page and "size:A4" in page


@pytest.mark.parametrize(("args", "expect"), [(["--lang", "fr"], "--lang must be one of en, es"),
                                              (["--paper", "a3"], "--paper must be letter or a4")])
def test_family_sheet_bad_lang_or_paper(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                        expect: str) -> None:
    out = tmp_path / "s.html"
    assert main(["family-sheet", "--age", "6", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expect in err and not out.exists()


def test_family_sheet_bad_suffix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["family-sheet", "--age", "6", "--out", str(tmp_path / "sheet.docx")]) == 2
    assert "--out must end in .html or .pdf" in capsys.readouterr().err


@pytest.mark.external
@pytest.mark.slow
def test_family_sheet_pdf(tmp_path: Path) -> None:
    if find_chromium() is None:
        pytest.skip("Chromium not installed (scripts/install-external.sh)")
    out = tmp_path / "sheet.pdf"
    assert main(["family-sheet", "--age", "6", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")


def test_compare_strengths_at_the_same_amount(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dose", "--age", "6", "--area-pct", "10", "--compare", "1.5:3g,0.75:3g", "--draws", "200",
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["comparisons"]
    assert [(r["strength_percent"], r["grams_per_day"]) for r in rows] == [(1.5, 3.0), (0.75, 3.0)]
    # more drug in the same amount of cream never lowers the level (PKPD's property, seen here end to end)
    assert rows[0]["typical_nM"] >= rows[1]["typical_nM"]
    assert rows[0]["posterior_version"] == rows[1]["posterior_version"]
    if rows[0]["posterior_version"] is not None:
        lo, hi = rows[0]["clear_at_week_12_interval_90"]
        assert lo <= rows[0]["clear_at_week_12"] <= hi
        assert rows[0]["posterior_version"] in rows[0]["provenance"]
    assert main(["dose", "--age", "6", "--area-pct", "10", "--compare", "1.5:3g,0.75:3g",
                 "--draws", "200"]) == 0
    out = capsys.readouterr().out
    assert "281 nM" in out and "seed 1" in out and "0.75%" in out


def test_scenarios_every_day_vs_as_needed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dose", "--age", "6", "--area-pct", "10", "--scenarios", "--draws", "200", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    jsonschema.validate(rec, schema())
    sc = {r["name"]: r for r in rec["scenarios"]["scenarios"]}
    assert set(sc) == {"every_day", "stop_week_8", "as_needed"}
    assert sc["as_needed"]["grams_used"] <= sc["every_day"]["grams_used"]
    assert sc["every_day"]["days_treated"] == 84
    # the scenarios use the same parameter rule as the exposure (the shipped posterior when it fits)
    assert rec["scenarios"]["posterior_version"] == rec["exposure"]["posterior_version"]
    if rec["scenarios"]["posterior_version"] is not None:
        assert rec["scenarios"]["parameter_sets"] > 1
        assert rec["scenarios"]["posterior_version"] in rec["scenarios"]["provenance"]
        assert all(r["clear_at_end_interval"] is not None for r in sc.values())


@pytest.mark.parametrize(("args", "expect"), [
    (["--age", "1", "--area-pct", "10"], "age_y must be within [2, 120]; got 1.0"),
    (["--age", "6", "--area-pct", "10", "--grams-per-day", "0"], "grams_per_day"),
    (["--age", "6", "--area-pct", "120"], "area_pct"),
    (["--age", "6", "--regions", "wings:10"], "regions: region must be one of"),
    (["--age", "6", "--area-pct", "10", "--compare", "1.5-3g"], "--compare items must be"),
    (["--age", "6", "--regions", "arms:50:1g,legs:30"], "give grams a day for every region or for none"),
])
def test_bad_input_one_line_exit_2(args: list[str], expect: str, capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in (["dose"], ["family-sheet", "--out", "x.html"]):
        if cmd[0] == "family-sheet" and "--compare" in args:
            continue
        assert main([*cmd, *args]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expect in err and "Traceback" not in err, err
