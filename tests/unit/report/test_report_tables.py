"""Tables are built from the layout and the ARD only: every cell is an ARD value, formatted once."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from tiny_report_ard import HIGH, LOW, VEH

from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.report.html_tables import render_table_html
from dermsim.report.layouts import AD_LAYOUTS, Row, Section, Split, TableLayout, layout_by_name
from dermsim.report.rtf import render_table_rtf
from dermsim.report.tables import build_table, build_tables, format_cell, population_label


def _row(table, label: str):
    hits = [r for r in table.rows if r.label == label]
    assert len(hits) == 1, [r.label for r in table.rows]
    return hits[0]


def test_primary_table_cells_come_from_the_ard(tiny_ard: pd.DataFrame) -> None:
    t = build_table(layout_by_name("t14-2-1-primary"), tiny_ard)
    assert t.columns == (VEH, LOW, HIGH)
    assert t.column_n == ("(N=20)", "(N=40)", "(N=40)")
    assert _row(t, "Responders, n/N (%)").cells == ("2/20 (10.0)", "16/40 (40.0)", "22/40 (55.0)")
    assert _row(t, "Response rate, % (95% CI)").cells[1] == "40.0 (30.0, 50.0)"
    # the comparison rows leave the control column blank
    assert _row(t, "Difference vs vehicle, % (95% CI)").cells == (
        "",
        "30.0 (18.0, 42.0)",
        "45.0 (33.0, 57.0)",
    )
    assert _row(t, "p-value").cells == ("", "0.0027", "0.0027")


def test_changing_one_ard_value_changes_the_rendered_table(tiny_ard: pd.DataFrame) -> None:
    """The issue's check: edit one ARD number and see it in the RTF and HTML output."""
    lay = layout_by_name("t14-2-1-primary")
    sel = (
        (tiny_ard["analysis_id"] == "iga-ts-w8")
        & (tiny_ard["group_level"] == HIGH)
        & (tiny_ard["comparator"] == VEH)
        & (tiny_ard["stat_name"] == "estimate")
    )
    assert sel.sum() == 1
    edited = tiny_ard.copy()
    edited.loc[sel, "stat_value"] = 0.12345
    before, after = build_table(lay, tiny_ard), build_table(lay, edited)
    assert _row(after, "Difference vs vehicle, % (95% CI)").cells[2].startswith("12.3 ")
    assert "12.3 (33.0, 57.0)" in render_table_rtf(after)
    assert "12.3 (33.0, 57.0)" not in render_table_rtf(before)
    assert "12.3 (33.0, 57.0)" in render_table_html(after)
    # nothing else moved
    changed = [
        (a.label, i)
        for a, b in zip(before.rows, after.rows, strict=True)
        for i, (x, y) in enumerate(zip(a.cells, b.cells, strict=True))
        if x != y
    ]
    assert changed == [("Difference vs vehicle, % (95% CI)", 2)]


def test_rounding_is_half_away_from_zero(tiny_ard: pd.DataFrame) -> None:
    # 2.745 -> "2.75" (Python's round gives 2.74 on the binary double)
    t = build_table(layout_by_name("t14-1-2-demographics"), tiny_ard)
    assert _row(t, "Mean (SD)").cells[0] == "6.3 (2.75)"
    assert t.columns[-1] == "Total" and t.column_n[-1] == "(N=100)"


def test_format_cell_missing_and_not_estimable() -> None:
    assert format_cell("prop_ci_pct", {}) == ""
    assert (
        format_cell("prop_ci_pct", {"estimate": math.nan, "ci_lower": 0.1, "ci_upper": math.nan})
        == "NE (10.0, NE)"
    )
    assert format_cell("p", {"p_value": 3e-7}) == "<0.0001"
    assert format_cell("count_pct", {"count": 0, "pct": 0.0}) == "0"
    assert format_cell("resp_n_pct", {"count": 3, "n": 8, "pct": 37.5}) == "3/8 (37.5)"
    with pytest.raises(InvalidInputError, match="fmt must be one of"):
        format_cell("nope", {})


def test_splits_by_visit_subgroup_and_soc_pt(tiny_ard: pd.DataFrame) -> None:
    t = build_table(layout_by_name("t14-2-4-iga-ts-by-visit"), tiny_ard)
    assert [r.label for r in t.rows if r.heading] == ["Week 4", "Week 8"]
    sub = build_table(layout_by_name("t14-2-7-subgroups"), tiny_ard)
    assert [r.label for r in sub.rows if r.heading] == ["Age group: 2-6 years", "Baseline IGA: 3"]
    ae = build_table(layout_by_name("t14-3-2-teae-soc-pt"), tiny_ard)
    soc = _row(ae, "Infections and infestations")
    pt = _row(ae, "Nasopharyngitis")
    assert pt.indent == soc.indent + 1
    assert pt.cells[0] == "2 (10.0)"


def test_population_label() -> None:
    assert (
        population_label('(ITTFL == "Y") and AGEGR1 == "7-11 years"', {"AGEGR1": "Age"}) == "Age: 7-11 years"
    )
    assert population_label('ITTFL == "Y"') == "ITTFL: Y"


def test_ambiguous_binding_is_an_error(tiny_ard: pd.DataFrame) -> None:
    # without a visit filter the by-visit analysis has two values per cell: refuse, show neither
    lay = TableLayout(
        name="x",
        number="0",
        title="x",
        analysis_id="iga-ts-by-visit",
        items=(Row("Responders", "resp_n_pct"),),
    )
    with pytest.raises(DataValidationError, match="a cell must bind to one value"):
        build_table(lay, tiny_ard)


def test_missing_analysis_is_skipped_by_build_tables(tiny_ard: pd.DataFrame) -> None:
    names = {t.name for t in build_tables(tiny_ard)}
    assert "t14-2-6-nrs-chg" not in names and "t14-2-1-primary" in names
    with pytest.raises(DataValidationError, match="nrs-chg"):
        build_table(layout_by_name("t14-2-6-nrs-chg"), tiny_ard)


def test_layouts_are_declared_data_free() -> None:
    for lay in AD_LAYOUTS:
        d = lay.to_dict()
        assert d["number"].startswith("14.")
        assert all(i["kind"] in ("row", "section", "split") for i in d["items"])
    with pytest.raises(InvalidInputError, match="fmt must be one of"):
        Row("x", "bad")
    assert isinstance(AD_LAYOUTS[0].items[0], Section)
    assert any(isinstance(i, Split) for i in AD_LAYOUTS[1].items)
