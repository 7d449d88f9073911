"""The report of any plan: ``dermsim analyze ../shared/data/cdisc_pilot --plan
examples/cdisc_pilot/plan.toml --report`` writes the pilot's tables (RTF and HTML) and the
Kaplan-Meier figure through the generic layouts, with the published numbers.

Published values checked in the text of the RTF tables: CDISC SDTM/ADaM Pilot 01 Table 14-3.01
(ADAS-Cog (11) change from baseline to Week 24, LOCF): LS-mean difference vs placebo -0.5 (SE 0.82),
p 0.569 (low dose) and -1.0 (SE 0.84), p 0.233 (high dose); dose response p 0.245 (as cited in
test_pilot_outputs.py), printed, as the pilot prints them, to 3 decimals. Table 14-3.13 (CIBIC+
categorical analysis, LOCF): the categories under the pilot's labels ("Marked improvement" ... "Marked
worsening") and the row-mean-scores CMH p-values over the three arms, 4 decimals as the pilot prints
them: Week 8 0.2727, Week 16 0.4003, Week 24 0.6180 (the pilot's outputs as reproduced in R by
atorus-research/CDISC_pilot_replication, outputs/14-3.13.rtf; tests/reference/r/pilot_outputs.csv
holds the same statistics to full precision). The other tables are checked against the
independent R numbers of tests/reference/r/pilot_outputs.csv, formatted as the layout prints them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from dermsim.cli import main

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "examples" / "cdisc_pilot" / "plan.toml"
EXPECTED = Path(__file__).resolve().parent / "r" / "pilot_outputs.csv"


@pytest.fixture(scope="module")
def pilot_report(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    pilot = shared_dir / "data" / "cdisc_pilot"
    if not pilot.is_dir():
        pytest.skip(f"CDISC pilot data not found at {pilot}")
    out = tmp_path_factory.mktemp("pilot") / "out"
    assert main(["analyze", str(pilot), "--plan", str(PLAN), "--out", str(out), "--report"]) == 0
    return out


def _rtf(out: Path, name: str) -> str:
    return (out / "tlf" / f"{name}.rtf").read_text(encoding="utf-8")


def _r(analysis_id: str, **keys: str) -> float:
    exp = pd.read_csv(EXPECTED, dtype=str, keep_default_na=False)
    sel = exp["analysis_id"] == analysis_id
    for k, v in keys.items():
        sel &= exp[k] == v
    assert sel.sum() == 1, keys
    return float(exp.loc[sel, "stat_value"].iloc[0])


@pytest.mark.slow
def test_pilot_tables_and_km_figure_are_written(pilot_report: Path) -> None:
    for name in ("t14-1-01", "t14-2-01", "t14-3-01", "t14-3-13", "t14-5-01", "f14-ttde"):
        assert (pilot_report / "tlf" / f"{name}.rtf").is_file(), name
    assert (pilot_report / "figures" / "f-km-f14-ttde.png").is_file()
    # the ARD also as CDISC ARS JSON (valid against the published schema) and in cards format
    from dermsim.io.ars import validate_ars

    validate_ars(json.loads((pilot_report / "ard_ars.json").read_text(encoding="utf-8")))
    cards = pd.read_csv(pilot_report / "ard_cards.csv", keep_default_na=False)
    assert {"group1", "variable", "context", "stat_name", "stat", "fmt_fn"} <= set(cards.columns)
    html = (pilot_report / "report.html").read_text(encoding="utf-8")
    for number in ("Table 14-1.01", "Table 14-2.01", "Table 14-3.01", "Table 14-3.13", "Table 14-5.01"):
        assert number in html
    # titles come from the plan; the header shows each column's N
    assert "Summary of demographic and baseline characteristics" in html
    assert "(N=86)" in _rtf(pilot_report, "t14-5-01") and "(N=84)" in _rtf(pilot_report, "t14-5-01")


@pytest.mark.slow
def test_pilot_tables_show_the_published_numbers(pilot_report: Path) -> None:
    t301 = _rtf(pilot_report, "t14-3-01")
    for text in ("-0.5 (0.82)", "-1.0 (0.84)", "0.569", "0.233", "0.245"):
        assert f"{{\\f0 {text}}}" in t301, text
    t313 = _rtf(pilot_report, "t14-3-13")
    for text in ("Marked improvement", "Moderate improvement", "Minimal improvement", "No Change",
                 "Minimal worsening", "Moderate worsening", "Marked worsening", "0.2727", "0.4003", "0.6180"):
        assert text in t313, text
    t101 = _rtf(pilot_report, "t14-1-01")
    eff = _r("t14-1-01", variable="EFFFL", group_level="Placebo", stat_name="count")
    assert f"{{\\f0 {eff:.0f} (" in t101
    t201 = _rtf(pilot_report, "t14-2-01")
    mean = _r("t14-2-01", variable="AGE", group_level="Placebo", stat_name="mean")
    sd = _r("t14-2-01", variable="AGE", group_level="Placebo", stat_name="sd")
    assert f"{{\\f0 {mean:.1f} ({sd:.2f})}}" in t201
    t501 = _rtf(pilot_report, "t14-5-01")
    k = _r("t14-5-01", variable="TRTEMFL", variable_level="ANY", group_level="Placebo", stat_name="count")
    pct = _r("t14-5-01", variable="TRTEMFL", variable_level="ANY", group_level="Placebo", stat_name="pct")
    assert f"{{\\f0 {k:.0f} ({pct:.1f})}}" in t501


@pytest.mark.slow
def test_report_of_an_ard_file_alone(pilot_report: Path, tmp_path: Path) -> None:
    """``dermsim report pilot/ard.csv`` renders the same tables (titles from ard_meta.json)."""
    out = tmp_path / "rep"
    assert main(["report", str(pilot_report / "ard.csv"), "--out", str(out)]) == 0
    assert (out / "tlf" / "t14-3-01.rtf").read_text(encoding="utf-8") == _rtf(pilot_report, "t14-3-01")
    assert (out / "figures" / "f-km-f14-ttde.svg").is_file()
