"""Descriptive summaries: hand values, SAS quantile definitions, denominator rules, errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dermsim.analysis.ard import ArdContext, frame_from_rows, make_rows, validate_ard
from dermsim.analysis.descriptive import (
    CategoricalSummary,
    Summary,
    estimate_counts_by_group,
    estimate_summary,
    estimate_summary_by_group,
)
from dermsim.errors import InvalidInputError


def test_summary_by_hand():
    s = estimate_summary([1, 2, 3, 4, np.nan])
    assert (s.n, s.n_missing, s.mean, s.median, s.min, s.max) == (4, 1, 2.5, 2.5, 1, 4)
    np.testing.assert_allclose(s.sd, np.std([1, 2, 3, 4], ddof=1), rtol=1e-14)
    # QNTLDEF=5 (R type 2): n p = 1 is an integer, so Q1 averages the 1st and 2nd values
    assert (s.q1, s.q3) == (1.5, 3.5)


@pytest.mark.parametrize(("qntldef", "q1"), [(1, 1.25), (2, 1.0), (3, 2.0), (4, 1.5), (5, 2.0)])
def test_sas_quantile_definitions(qntldef, q1):
    """SAS QNTLDEF 1..5 for Q1 of 1..5 (n p = 1.25): weighted average at n p, closest
    observation, empirical CDF, weighted average at (n + 1) p = 1.5, empirical CDF with
    averaging (SAS PROC UNIVARIATE documentation, "Calculating Percentiles")."""
    assert estimate_summary([1, 2, 3, 4, 5], qntldef=qntldef).q1 == pytest.approx(q1)


def test_single_value_and_empty_group():
    s = estimate_summary([5.0])
    assert s.n == 1 and math.isnan(s.sd) and s.median == 5.0
    by = estimate_summary_by_group([1.0, 2.0], ["A", "A"], group_levels=["A", "B"], total=True)
    assert [x.group_level for x in by] == ["A", "B", ""]
    assert by[1].n == 0 and math.isnan(by[1].mean)
    assert Summary.from_dict(by[0].to_dict()) == by[0]


def test_counts_denominator_rules():
    v = ["M", "F", None, "F", "M", "M"]
    g = ["P", "P", "P", "T", "T", "T"]
    grp = {s.group_level: s for s in estimate_counts_by_group(v, g, total=True)}
    assert grp["P"].levels == ("F", "M", "Missing")
    assert (grp["P"].denominator, grp["P"].count("Missing")) == (3, 1)
    assert grp["P"].pct("F") == pytest.approx(100 / 3)
    assert grp[""].counts == (2, 3, 1)
    nm = {s.group_level: s for s in estimate_counts_by_group(v, g, denominator="nonmissing")}
    assert nm["P"].levels == ("F", "M") and nm["P"].denominator == 2 and nm["P"].n_missing == 1
    assert nm["P"].pct("F") == 50.0
    fx = {s.group_level: s for s in estimate_counts_by_group(v, g, denominator={"P": 10, "T": 20},
                                                              levels=["M", "F", "U"], total=True)}
    assert fx["T"].levels == ("M", "F", "U") and fx["T"].counts == (2, 1, 0)
    assert fx["T"].pct("M") == 10.0 and fx[""].denominator == 30
    back = CategoricalSummary.from_dict(fx["T"].to_dict())
    assert back == fx["T"]


def test_numeric_categories_sort_numerically():
    (res,) = estimate_counts_by_group(np.array([10.0, 2.0, 2.0, 1.0]), ["A"] * 4)
    assert res.levels == ("1", "2", "10") and res.counts == (1, 2, 1)


def test_ard_blocks_validate():
    ctx = ArdContext(analysis_id="t1", dataset="ADSL", variable="SEX", group="TRT01P")
    rows = []
    for s in estimate_counts_by_group(["M", "F", "F"], ["A", "A", "B"], total=True):
        for cols, pairs in s.ard_blocks():
            rows += make_rows(ctx, dict(pairs), **cols)
    for s in estimate_summary_by_group([1.0, 2.0, 3.0], ["A", "A", "B"]):
        rows += make_rows(ctx, dict(s.to_ard_rows()), group_level=s.group_level, variable="AGE")
    validate_ard(frame_from_rows(rows))


def test_errors_name_field_expected_and_got():
    with pytest.raises(InvalidInputError, match="qntldef must be one of 1, 2, 3, 4, 5"):
        estimate_summary([1.0], qntldef=6)
    with pytest.raises(InvalidInputError, match="values must be numeric; got object"):
        estimate_summary(["a", "b"])
    with pytest.raises(InvalidInputError, match="groups must have one value per record \\(2\\); got 1"):
        estimate_summary_by_group([1.0, 2.0], ["A"])
    with pytest.raises(InvalidInputError, match="levels must include every value in the data; 'U' is not"):
        estimate_counts_by_group(["M", "U"], ["A", "A"], levels=["M", "F"])
    with pytest.raises(InvalidInputError, match="denominator must give N for every group; 'B' has none"):
        estimate_counts_by_group(["M", "F"], ["A", "B"], denominator={"A": 5})
    with pytest.raises(InvalidInputError, match="denominator of group 'A' \\(1\\) is smaller than a count"):
        estimate_counts_by_group(["M", "M"], ["A", "A"], denominator={"A": 1})


def test_pilot_demographics_match_r(shared_dir: Path):
    """CDISC pilot t14-2-01 (ITT) against ``tests/reference/r/pilot_outputs.csv`` written by
    ``Rscript tests/reference/r/pilot_outputs.R``: ``mean``, ``sd``, ``median``,
    ``quantile(x, c(.25, .75), type = 2)``, ``min``, ``max`` by TRT01P; counts of AGEGR1/SEX/RACE."""
    adsl = pd.read_csv(shared_dir / "data" / "cdisc_pilot" / "adsl.csv.gz")
    itt = adsl[adsl.ITTFL == "Y"]
    ref = pd.read_csv(Path(__file__).parents[2] / "reference" / "r" / "pilot_outputs.csv",
                      keep_default_na=False, na_values={"stat_value": [""]})
    ref = ref[ref.analysis_id == "t14-2-01"]
    for var in ("AGE", "BMIBL", "HEIGHTBL"):
        for s in estimate_summary_by_group(itt[var], itt.TRT01P, total=True):
            exp = ref[(ref.variable == var) & (ref.group_level == s.group_level) & (ref.variable_level == "")]
            exp = dict(zip(exp.stat_name, exp.stat_value, strict=True))
            for name, value in s.to_ard_rows():
                np.testing.assert_allclose(value, exp[name], rtol=1e-12,
                                           err_msg=f"{var} {s.group_level} {name}")
    for var in ("SEX", "RACE"):
        for s in estimate_counts_by_group(itt[var], itt.TRT01P, total=True):
            for lv, k, p in zip(s.levels, s.counts, s.pcts, strict=True):
                exp = ref[(ref.variable == var) & (ref.group_level == s.group_level)
                          & (ref.variable_level == lv)]
                exp = dict(zip(exp.stat_name, exp.stat_value, strict=True))
                assert k == exp["count"]
                np.testing.assert_allclose(p, exp["pct"], rtol=1e-12)
