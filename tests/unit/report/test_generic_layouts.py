"""Generic layouts: a table for any analysis, chosen by its method (issue 14, point 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ad_adam_data import make_ad_adam
from dermsim.analysis.plan import default_plan_path, load_plan
from dermsim.analysis.run import run_plan
from dermsim.report.generic_layouts import covered_analyses, generic_layout, generic_layouts
from dermsim.report.layouts import AD_LAYOUTS
from dermsim.report.tables import build_table

IDS = ["populations", "demographics", "iga-ts-w8", "nrs-chg", "teae-soc-pt", "teae-soc-pt-lte"]
VEH = "Vehicle cream BID"


@pytest.fixture(scope="module")
def ard() -> pd.DataFrame:
    return run_plan(load_plan(default_plan_path()).select(IDS), make_ad_adam(60, seed=3), seed=1)


def _row(table, label):
    return next(r for r in table.rows if r.label == label)


def test_every_analysis_gets_a_table_with_its_column_n(ard: pd.DataFrame) -> None:
    lays = generic_layouts(ard, titles={"demographics": "Demographics"})
    assert [x.analysis_id for x in lays] == IDS
    for lay in lays:
        t = build_table(lay, ard)
        n = [c for c in t.column_n if c]
        assert n and all(c.startswith("(N=") for c in n), lay.analysis_id
    assert lays[1].title == "Demographics"


def test_demographics_overall_p_in_its_own_column(ard: pd.DataFrame) -> None:
    t = build_table(generic_layout(ard, "demographics"), ard)
    assert t.columns[-2:] == ("Total", "p-value")
    agegr = [r for r in t.rows if r.label == "n"][1]  # AGE block first, then AGEGR1 (categorical)
    p = ard[(ard["analysis_id"] == "demographics") & (ard["variable"] == "AGEGR1")
            & (ard["stat_name"] == "p_value")]["stat_value"].iloc[0]
    assert agegr.cells[-1] == (f"{p:.4f}" if p >= 1e-4 else "<0.0001")


def test_ae_table_has_pairwise_fisher_columns_and_nested_terms(ard: pd.DataFrame) -> None:
    t = build_table(generic_layout(ard, "teae-soc-pt"), ard)
    assert [c for c in t.columns if c.startswith("p:")] == [
        f"p: {a} vs {VEH}" for a in ("Ruxolitinib cream 0.75%", "Ruxolitinib cream 1.5%")]
    soc = _row(t, "INFECTIONS AND INFESTATIONS")
    pt = _row(t, "Nasopharyngitis")
    assert pt.indent == soc.indent + 1
    # the extension table: exposure-adjusted rates, no test columns
    lte = build_table(generic_layout(ard, "teae-soc-pt-lte"), ard)
    assert not any(c.startswith("p:") for c in lte.columns)
    assert "[" in _row(lte, "Any treatment-emergent adverse event").cells[0]


def test_specialised_layouts_keep_their_analyses(ard: pd.DataFrame) -> None:
    covered = covered_analyses(AD_LAYOUTS)
    assert {"populations", "demographics", "iga-ts-w8", "teae-soc-pt"} <= covered
    assert generic_layouts(ard, exclude=covered) == ()
    assert np.isfinite(ard["stat_value"]).any()


def _p_cells(table) -> list[str]:
    """The p-value cells: those of "p-value" lines and of the p columns (overall, pairwise)."""
    pcols = [i for i, c in enumerate(table.columns) if c == "p-value" or c.startswith("p: ")]
    out = []
    for r in table.rows:
        cells = r.cells if "p-value" in r.label else [r.cells[i] for i in pcols]
        out += [c for c in cells if c and c != "NE"]
    return out


def test_p_values_print_with_the_decimals_of_the_pilot_table_of_their_kind(ard: pd.DataFrame) -> None:
    """CDISC pilot: 3 decimals in the ANCOVA (14-3.01), MMRM (14-3.11) and AE (14-5.01) tables, 4 in
    demographics (14-2.01) and CMH (14-3.13)."""
    anc = build_table(generic_layout(ard, "nrs-chg"), ard)
    p = ard[(ard["analysis_id"] == "nrs-chg") & (ard["stat_name"] == "p_value") & (ard["comparator"] == VEH)]
    assert len(p) and _p_cells(anc)
    for v in p["stat_value"]:
        text = f"{v:.3f}" if v >= 1e-3 else "<0.001"
        assert any(text == c for r in anc.rows for c in r.cells), text
    assert all(len(c.split(".")[1]) == 3 for c in _p_cells(anc)), _p_cells(anc)
    ae = build_table(generic_layout(ard, "teae-soc-pt"), ard)
    assert _p_cells(ae) and all(len(c.split(".")[1]) == 3 for c in _p_cells(ae)), _p_cells(ae)
    demo = build_table(generic_layout(ard, "demographics"), ard)
    assert _p_cells(demo) and all(len(c.split(".")[1]) == 4 for c in _p_cells(demo)), _p_cells(demo)


def test_table_numbers_follow_the_pilot() -> None:
    """The pilot's tables are "Table 14-2.01" (section 14-2, table 01), its figure "Figure 14-1"; a
    plan id that is not CSR-shaped is the number itself."""
    ard = run_plan(load_plan(default_plan_path()).select(["demographics"]), make_ad_adam(30, seed=3), seed=1)
    pilot = ard.assign(analysis_id="t14-2-01")
    assert generic_layout(pilot, "t14-2-01").number == "14-2.01"
    assert generic_layout(ard, "demographics").number == "demographics"


def test_tipping_point_table_lists_every_delta_and_the_tipping_delta() -> None:
    data = make_ad_adam(60, seed=3)
    ard = run_plan(load_plan(default_plan_path()).select(["iga-ts-w8-tipping"]), data, seed=1)
    lay = generic_layout(ard, "iga-ts-w8-tipping", title="Tipping point")
    assert lay is not None
    t = build_table(lay, ard)
    part = ard[ard["analysis_id"] == "iga-ts-w8-tipping"]
    n = part[(part["variable_level"] == "missing") & (part["stat_name"] == "n")]
    assert t.column_n == tuple(f"(N={v:.0f})" for v in n["stat_value"])
    deltas = [v for v in dict.fromkeys(part["variable_level"]) if v.startswith("delta=")]
    labels = [r.label for r in t.rows if r.label.startswith("delta ")]
    assert len(labels) == len(deltas) and "delta 0 (missing at random)" in labels
    # each cell is the ARD's pooled difference (x100) with CI and p, formatted, nothing recomputed
    arm = "Ruxolitinib cream 1.5%"
    at = part[(part["variable_level"] == "delta=-1") & (part["group_level"] == arm)]
    st = dict(zip(at["stat_name"], at["stat_value"], strict=True))
    col = t.columns.index(arm)
    cell = _row(t, "delta -1").cells[col]
    assert cell.startswith(f"{100 * st['estimate']:.1f} ({100 * st['ci_lower']:.1f}, ")
    assert cell.endswith(f"; p {st['p_value']:.4f}" if st["p_value"] >= 1e-4 else "; p <0.0001")
    assert _row(t, "delta -1").cells[t.columns.index(VEH)] == ""
    tips = part[(part["variable_level"] == "tipping point") & (part["group_level"] == arm)]
    tip = tips["stat_value"].iloc[0]
    assert _row(t, "Tipping point (delta, log-odds)").cells[col] == ("NE" if np.isnan(tip) else f"{tip:.2f}")
