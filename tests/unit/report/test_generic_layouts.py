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
