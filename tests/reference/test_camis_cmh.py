"""CMH statistics, common odds ratios, relative risk and Breslow-Day against CAMIS (SAS/R).

Expected numbers: ``../shared/reference/camis/REFERENCE.md`` section 1, produced by SAS
``proc freq data=adcibc; tables K*X*Y / cmh;`` (table scores; TRTP is character so its scores are
1, 2, 3 in sorted order) and, for scenario 1, R ``mantelhaen.test(table(TRTP, SEX, AGEGR1),
correct = FALSE)``. Comparison rule: ``abs(value - printed) <= 0.5 * 10**-digits`` (the value
rounds to the printed digits; the printed number carries the digits).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dermsim.analysis import (
    estimate_common_odds_ratio,
    estimate_common_relative_risk,
    test_breslow_day,
    test_cmh_frame,
    test_mantel_haenszel,
)


def printed(value: float, text: str) -> None:
    """``value`` reproduces the printed number ``text`` to its digits."""
    digits = len(text.split(".")[1]) if "." in text else 0
    assert value == pytest.approx(float(text), abs=0.5 * 10.0 ** -digits + 1e-12), (value, text)


@pytest.fixture(scope="module")
def adcibc(shared_dir: Path) -> pd.DataFrame:
    return pd.read_csv(shared_dir / "reference" / "camis" / "adcibc.csv")


def _scenario1(d: pd.DataFrame) -> pd.DataFrame:
    return d[d.TRTP.isin(["Placebo", "Xanomeline High Dose"]) & d.AGEGR1.isin(["<65", "65-80"])]


# case: (filter scenario 1?, row X, column Y, strata K, (Q, df, p) x correlation, rms, general)
CASES = {
    1: (True, "TRTP", "SEX", "AGEGR1", [("0.2166", 1, "0.6417")] * 3),
    2: (False, "TRTP", "SEX", "AGEGR1", [("0.0009", 1, "0.9765"), ("2.4820", 2, "0.2891"),
                                         ("2.4820", 2, "0.2891")]),
    3: (False, "TRTP", "SEX", "RACE", [("0.0028", 1, "0.9579"), ("2.3861", 2, "0.3033"),
                                       ("2.3861", 2, "0.3033")]),
    6: (True, "TRTP", "AVAL", "SEX", [("1.7487", 1, "0.1860"), ("1.7487", 1, "0.1860"),
                                      ("8.0534", 4, "0.0896")]),
    9: (False, "TRTP", "AVAL", "SITEID", [("0.0854", 1, "0.7701"), ("2.4763", 2, "0.2899"),
                                          ("7.0339", 8, "0.5330")]),
    10: (False, "AVAL", "AGEGR1N", "TRTP", [("1.6621", 1, "0.1973"), ("2.2980", 4, "0.6811"),
                                            ("5.7305", 8, "0.6774")]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_cmh_three_statistics_match_sas(adcibc: pd.DataFrame, case: int) -> None:
    """SAS ``proc freq; tables K*X*Y / cmh;`` cases 1, 2, 3, 6, 9 (17 sparse SITEID strata) and 10."""
    scen1, row, col, strata, expected = CASES[case]
    d = _scenario1(adcibc) if scen1 else adcibc
    res = test_cmh_frame(d, row=row, col=col, strata=strata, dataset="adcibc")
    for got, (q, df, p) in zip((res.correlation, res.row_mean_scores, res.general_association), expected,
                               strict=True):
        printed(got.statistic, q)
        assert got.df == df
        printed(got.p_value, p)


def _scenario1_counts(d: pd.DataFrame) -> dict[str, np.ndarray]:
    s = _scenario1(d)
    t = pd.crosstab([s.AGEGR1, s.TRTP], s.SEX)
    strata = ["65-80", "<65"]  # SAS sorted order
    return {"count1": np.array([t.loc[(k, "Placebo"), "F"] for k in strata]),
            "n1": np.array([t.loc[(k, "Placebo")].sum() for k in strata]),
            "count2": np.array([t.loc[(k, "Xanomeline High Dose"), "F"] for k in strata]),
            "n2": np.array([t.loc[(k, "Xanomeline High Dose")].sum() for k in strata])}


def test_scenario1_odds_ratios_relative_risk_breslow_day(adcibc: pd.DataFrame) -> None:
    """SAS ``tables AGEGR1*TRTP*SEX / cmh;``: MH OR 1.1938 (0.5671, 2.5130), logit OR 1.1875
    (0.5590, 2.5225), MH RR column 1 1.0917 (0.7534, 1.5818), Breslow-Day 1.3540 df 1 p 0.2446."""
    c = _scenario1_counts(adcibc)
    mh = estimate_common_odds_ratio(**c)
    for got, text in ((mh.estimate, "1.1938"), (mh.ci_lower, "0.5671"), (mh.ci_upper, "2.5130")):
        printed(got, text)
    lg = estimate_common_odds_ratio(**c, method="logit")
    for got, text in ((lg.estimate, "1.1875"), (lg.ci_lower, "0.5590"), (lg.ci_upper, "2.5225")):
        printed(got, text)
    rr = estimate_common_relative_risk(**c)
    for got, text in ((rr.estimate, "1.0917"), (rr.ci_lower, "0.7534"), (rr.ci_upper, "1.5818")):
        printed(got, text)
    bd = test_breslow_day(**c)
    printed(bd.statistic, "1.3540")
    assert bd.df == 1
    printed(bd.p_value, "0.2446")


def test_scenario1_matches_r_mantelhaen(adcibc: pd.DataFrame) -> None:
    """R ``mantelhaen.test(table(TRTP, SEX, AGEGR1), correct = FALSE)``: X2 0.21655, p 0.6417,
    common OR 1.193818."""
    c = _scenario1_counts(adcibc)
    mh = test_mantel_haenszel(**c)
    printed(mh.statistic, "0.21655")
    printed(mh.p_value, "0.6417")
    printed(estimate_common_odds_ratio(**c).estimate, "1.193818")


RANK_CSV = Path(__file__).resolve().parent / "r" / "cmh_rank_scores.csv"


@pytest.mark.parametrize("case,subset,strata", [("trtp_aval_agegr1", False, "AGEGR1"),
                                                ("pbo_high_aval_sex", True, "SEX")])
def test_rank_type_scores_match_coin(adcibc: pd.DataFrame, case: str, subset: bool, strata: str) -> None:
    """SAS ``cmh scores=rank|modridit`` (scores within strata) against R coin 1.4
    ``independence_test(AVAL ~ TRTP | strata, ytrafo = <rank or rank/(N_h+1) within block>,
    teststat = "quadratic")`` from ``tests/reference/r/cmh_rank_scores.R`` (modridit is the van
    Elteren test); ``rel=1e-9``."""
    ref = {(c, s): v for c, s, v in pd.read_csv(RANK_CSV).itertuples(index=False)}
    d = adcibc[adcibc.TRTP.isin(["Placebo", "Xanomeline High Dose"])] if subset else adcibc
    for scores in ("rank", "modridit"):
        r = test_cmh_frame(d, row="TRTP", col="AVAL", strata=strata, scores=scores)
        assert r.row_mean_scores.statistic == pytest.approx(ref[(case, f"{scores}_rms")], rel=1e-9)
    if subset:
        r = test_cmh_frame(d, row="TRTP", col="AVAL", strata=strata, scores="modridit")
        assert r.row_mean_scores.p_value == pytest.approx(ref[(case, "modridit_p")], rel=1e-9)
