"""CAMIS ANCOVA reference (REFERENCE.md §4), reproduced to the printed digits.

SAS PROC GLM "DrugTest" on ``../shared/reference/camis/drug_trial.csv`` (drugs A/C/E in the CSV are
A/D/F in SAS)::

    proc glm; class drug; model post = drug pre / solution; lsmeans drug / stderr pdiff cov;

Model F 18.10 on (3, 26), R-square 0.676261, root MSE 4.005778, SSE 417.202597; Type III SS drug
68.5537106 (F 2.14, p 0.1384), pre 577.8974030 (p < .0001); slope 0.987183811 (SE 0.16449757);
LS means A 6.7149635 (1.2884943), D 6.8239348 (1.2724690), F 10.1611017 (1.3159234);
pairwise p A-D 0.9521, A-F 0.0793, D-F 0.0835.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dermsim.analysis.ancova import estimate_ancova
from dermsim.report.format import fmt_num, fmt_p

SAS_NAME = {"A": "A", "C": "D", "E": "F"}


@pytest.fixture(scope="module")
def result(shared_dir: Path):
    data = pd.read_csv(shared_dir / "reference" / "camis" / "drug_trial.csv")
    return estimate_ancova(data, "post", "drug", covariates=["pre"])


def test_model_fit_statistics(result):
    assert fmt_num(result.statistic, 2) == "18.10"
    assert (result.df_model, result.df_error) == (3, 26)
    assert fmt_num(result.r_squared, 6) == "0.676261"
    assert fmt_num(result.root_mse, 6) == "4.005778"
    assert fmt_num(result.sse, 6) == "417.202597"


def test_type3_tests(result):
    drug, pre = result.type3_test("drug"), result.type3_test("pre")
    assert fmt_num(drug.ss, 7) == "68.5537106"
    assert fmt_num(drug.statistic, 2) == "2.14"
    assert fmt_p(drug.p_value, style="sas") == "0.1384"
    assert fmt_num(pre.ss, 7) == "577.8974030"
    assert fmt_p(pre.p_value, style="sas") == "<.0001"


def test_slope_of_pre(result):
    slope = result.slope("pre")
    assert fmt_num(slope.estimate, 9) == "0.987183811"
    assert fmt_num(slope.se, 8) == "0.16449757"


def test_lsmeans_and_pairwise_p(result):
    printed = {"A": ("6.7149635", "1.2884943"), "D": ("6.8239348", "1.2724690"),
               "F": ("10.1611017", "1.3159234")}
    for m in result.lsmeans:
        assert (fmt_num(m.estimate, 7), fmt_num(m.se, 7)) == printed[SAS_NAME[m.level]]
    pvals = {(SAS_NAME[d.level], SAS_NAME[d.reference]): fmt_p(d.p_value, style="sas")
             for d in result.differences}
    assert pvals == {("A", "D"): "0.9521", ("A", "F"): "0.0793", ("D", "F"): "0.0835"}
