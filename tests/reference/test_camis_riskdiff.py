"""Risk differences (stratum, common, two-group) and chi-square against CAMIS (SAS/R).

Expected numbers: ``../shared/reference/camis/REFERENCE.md`` sections 2 and 3. Section 2 is SAS
``proc freq; tables AGEGR1*TRTP*SEX / riskdiff(cl=(wald mn)) commonriskdiff(cl=(mh score
newcombe) test=score);`` on scenario 1 (column 1 = SEX "F", Placebo minus Xanomeline High Dose).
Section 3 is SAS ``tables trt*resp / riskdiff(cl=(wald ac mn mee newcombe ha) correct) chisq;``
with responders AVAL > 4, and R {ratesci} ``scoreci`` (MN, Mee to 6 dp). Comparison rule:
``abs(value - printed) <= 0.5 * 10**-digits``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dermsim.analysis import (
    estimate_common_risk_difference,
    estimate_risk_difference,
    test_chi_square,
)


def printed(value: float, text: str) -> None:
    """``value`` reproduces the printed number ``text`` to its digits."""
    digits = len(text.split(".")[1]) if "." in text else 0
    assert value == pytest.approx(float(text), abs=0.5 * 10.0 ** -digits + 1e-12), (value, text)


@pytest.fixture(scope="module")
def adcibc(shared_dir: Path) -> pd.DataFrame:
    return pd.read_csv(shared_dir / "reference" / "camis" / "adcibc.csv")


@pytest.fixture(scope="module")
def strata_counts(adcibc: pd.DataFrame) -> dict[str, np.ndarray]:
    s = adcibc[adcibc.TRTP.isin(["Placebo", "Xanomeline High Dose"]) & adcibc.AGEGR1.isin(["<65", "65-80"])]
    t = pd.crosstab([s.AGEGR1, s.TRTP], s.SEX)
    strata = ["65-80", "<65"]
    return {"count1": np.array([t.loc[(k, "Placebo"), "F"] for k in strata]),
            "n1": np.array([t.loc[(k, "Placebo")].sum() for k in strata]),
            "count2": np.array([t.loc[(k, "Xanomeline High Dose"), "F"] for k in strata]),
            "n2": np.array([t.loc[(k, "Xanomeline High Dose")].sum() for k in strata])}


STRATA = {  # stratum index: risks, RD, ASE, Wald CI, MN CI
    0: ("0.5000", "0.5102", "-0.0102", "0.1065", ("-0.2190", "0.1986"), ("-0.2152", "0.1955")),
    1: ("0.6667", "0.4000", "0.2667", "0.2062", ("-0.1375", "0.6708"), ("-0.1552", "0.6081")),
}


@pytest.mark.parametrize("h", sorted(STRATA))
def test_stratum_risk_differences(strata_counts: dict[str, np.ndarray], h: int) -> None:
    """SAS ``riskdiff(cl=(wald mn))`` per stratum of AGEGR1 (65-80, <65)."""
    r1, r2, rd, ase, wald, mn = STRATA[h]
    args = [int(strata_counts[k][h]) for k in ("count1", "n1", "count2", "n2")]
    w = estimate_risk_difference(*args, method="wald")
    printed(w.risk1, r1)
    printed(w.risk2, r2)
    printed(w.estimate, rd)
    printed(w.se, ase)
    printed(w.ci_lower, wald[0])
    printed(w.ci_upper, wald[1])
    m = estimate_risk_difference(*args, method="miettinen_nurminen")
    printed(m.ci_lower, mn[0])
    printed(m.ci_upper, mn[1])


def test_common_risk_difference_mh_sato(strata_counts: dict[str, np.ndarray]) -> None:
    """SAS ``commonriskdiff(cl=mh)``: 0.0448, SE 0.0958, 95% CI (-0.1431, 0.2326)."""
    r = estimate_common_risk_difference(**strata_counts, method="mh_sato")
    for got, text in ((r.estimate, "0.0448"), (r.se, "0.0958"), (r.ci_lower, "-0.1431"),
                      (r.ci_upper, "0.2326")):
        printed(got, text)


def test_common_risk_difference_summary_score(strata_counts: dict[str, np.ndarray]) -> None:
    """SAS ``commonriskdiff(cl=score test=score)``: 0.0432, SE 0.0923, CI (-0.1376, 0.2241);
    score test Z 0.4684, p 0.6395."""
    r = estimate_common_risk_difference(**strata_counts, method="summary_score")
    for got, text in ((r.estimate, "0.0432"), (r.se, "0.0923"), (r.ci_lower, "-0.1376"),
                      (r.ci_upper, "0.2241"), (r.statistic, "0.4684"), (r.p_value, "0.6395")):
        printed(got, text)


def test_common_risk_difference_stratified_newcombe(strata_counts: dict[str, np.ndarray]) -> None:
    """SAS ``commonriskdiff(cl=newcombe)``: 0.0448, CI (-0.1378, 0.2236) (Yan & Su with MH weights,
    the form of R ``tern::prop_diff_strat_nc(weights_method = "cmh")``)."""
    r = estimate_common_risk_difference(**strata_counts, method="stratified_newcombe")
    printed(r.estimate, "0.0448")
    printed(r.ci_lower, "-0.1378")
    printed(r.ci_upper, "0.2236")


def test_stratified_mn_score_test_is_r_mantelhaen(strata_counts: dict[str, np.ndarray]) -> None:
    """The stratified Miettinen-Nurminen score statistic at a zero difference (MH weights) squared
    is R ``mantelhaen.test(table(TRTP, SEX, AGEGR1), correct = FALSE)`` X2 0.21655 (SAS CMH
    0.2166), p 0.6417; its root is the MH estimate 0.0448."""
    r = estimate_common_risk_difference(**strata_counts, method="stratified_mn")
    printed(r.statistic ** 2, "0.21655")
    printed(r.p_value, "0.6417")
    printed(r.estimate, "0.0448")


TWO_GROUP = {
    "wald": ("-0.0271", "0.1830"),
    "agresti_caffo": ("-0.0329", "0.1782"),
    "miettinen_nurminen": ("-0.036065", "0.177495"),  # R ratesci, 6 dp (SAS -0.0361, 0.1775)
    "mee": ("-0.035798", "0.177288"),  # R ratesci, 6 dp (SAS -0.0358, 0.1773)
    "newcombe": ("-0.0361", "0.1751"),
    "wald_cc": ("-0.0368", "0.1927"),
    "newcombe_cc": ("-0.0440", "0.1810"),
    "hauck_anderson": ("-0.0342", "0.1900"),
}


@pytest.mark.parametrize("method", sorted(TWO_GROUP))
def test_two_group_risk_difference_cis(method: str) -> None:
    """SAS ``riskdiff(cl=...)`` and R ``ratesci::scoreci``: active 36/154 vs placebo 12/77,
    RD 0.0779 with each 95% CI of REFERENCE.md section 3."""
    r = estimate_risk_difference(36, 154, 12, 77, method=method)
    printed(r.risk1, "0.2338")
    printed(r.risk2, "0.1558")
    printed(r.estimate, "0.0779")
    printed(r.ci_lower, TWO_GROUP[method][0])
    printed(r.ci_upper, TWO_GROUP[method][1])


def test_two_group_counts_from_data(adcibc: pd.DataFrame) -> None:
    """The 36/154 and 12/77 of section 3 come from adcibc with responder = AVAL > 4."""
    active = adcibc.TRTP != "Placebo"
    resp = adcibc.AVAL > 4
    assert (int(resp[active].sum()), int(active.sum())) == (36, 154)
    assert (int(resp[~active].sum()), int((~active).sum())) == (12, 77)


def test_pearson_and_yates_chi_square() -> None:
    """SAS ``chisq``: Pearson 1.893 p 0.169; continuity-adjusted 1.45 p 0.229."""
    table = [[36, 154 - 36], [12, 77 - 12]]
    p = test_chi_square(table)
    printed(p.statistic, "1.893")
    printed(p.p_value, "0.169")
    y = test_chi_square(table, correction=True)
    printed(y.statistic, "1.45")
    printed(y.p_value, "0.229")
