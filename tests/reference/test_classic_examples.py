"""Classic printed examples and independent base-R numbers for the categorical statistics.

* SAS PROC FREQ "Migraine" example (REFERENCE.md section 7): all three CMH statistics 8.3052,
  df 1, p 0.0040;
* R ``mantelhaen.test(Rabbits)`` (default continuity correction; REFERENCE.md section 7): X2
  3.9286, p 0.04747, common OR 7 (1.026713, 47.725133);
* ``tests/reference/r/binary_stats.csv`` written by ``Rscript tests/reference/r/binary_stats.R``
  (R 4.2, base stats): ``binom.test``, ``prop.test(correct = FALSE/TRUE)``, ``chisq.test``,
  ``fisher.test`` (2 x 2 and R x C), ``mantelhaen.test`` (2 x 2 x K and R x C x K),
  ``prop.trend.test``, saturated ``glm`` Wald limits.
Printed values: ``abs(value - printed) <= 0.5 * 10**-digits``; R CSV values: ``rel=1e-9``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dermsim.analysis import (
    compute_batched_common_odds_ratio,
    estimate_common_odds_ratio,
    estimate_exact_common_odds_ratio,
    estimate_odds_ratio,
    estimate_proportion,
    estimate_relative_risk,
    test_batched_mantel_haenszel,
    test_chi_square,
    test_cmh,
    test_cmh_frame,
    test_exact_common_odds_ratio,
    test_fisher_exact,
    test_mantel_haenszel,
    test_trend,
)

R_CSV = Path(__file__).resolve().parent / "r" / "binary_stats.csv"


def printed(value: float, text: str) -> None:
    digits = len(text.split(".")[1]) if "." in text else 0
    assert value == pytest.approx(float(text), abs=0.5 * 10.0 ** -digits + 1e-12), (value, text)


@pytest.fixture(scope="module")
def r_ref() -> dict[tuple[str, str], float]:
    df = pd.read_csv(R_CSV)
    return {(c, s): float(v) for c, s, v in df.itertuples(index=False)}


# Migraine: strata (female, male); rows (Active, Placebo); columns (Better, Same)
MIGRAINE = np.array([[[16, 11], [5, 20]], [[12, 16], [7, 19]]], dtype=float)
# Rabbits (Agresti 1990): 5 penicillin levels; rows delay (none, 1.5 h); columns (cured, died)
RABBITS = np.array([[[0, 6], [0, 5]], [[3, 3], [0, 6]], [[6, 0], [2, 4]], [[5, 1], [6, 0]],
                    [[2, 0], [5, 0]]], dtype=float)


def _split(t: np.ndarray) -> tuple[np.ndarray, ...]:
    return t[:, 0, 0], t[:, 0].sum(1), t[:, 1, 0], t[:, 1].sum(1)


def test_migraine_cmh_sas_example(r_ref: dict) -> None:
    """SAS PROC FREQ Migraine example, ``tables Gender*Treatment*Response / cmh;``: 8.3052, df 1,
    p 0.0040 for all three; R ``mantelhaen.test(correct = FALSE)`` gives the same X2."""
    res = test_cmh(MIGRAINE)
    for t in (res.correlation, res.row_mean_scores, res.general_association):
        printed(t.statistic, "8.3052")
        assert t.df == 1
        printed(t.p_value, "0.0040")
    assert res.general_association.statistic == pytest.approx(r_ref[("migraine", "mh_x2")], rel=1e-9)
    o = estimate_common_odds_ratio(*_split(MIGRAINE))
    assert o.estimate == pytest.approx(r_ref[("migraine", "mh_or")], rel=1e-9)
    assert o.ci_lower == pytest.approx(r_ref[("migraine", "mh_or_lower")], rel=1e-9)
    assert o.ci_upper == pytest.approx(r_ref[("migraine", "mh_or_upper")], rel=1e-9)


def test_rabbits_mantelhaen_with_continuity_correction() -> None:
    """R ``mantelhaen.test(Rabbits)``: X2 3.9286, df 1, p 0.04747, common OR 7 (1.026713,
    47.725133), single-trial and batched paths."""
    args = _split(RABBITS)
    t = test_mantel_haenszel(*args, correction=True)
    printed(t.statistic, "3.9286")
    printed(t.p_value, "0.04747")
    o = estimate_common_odds_ratio(*args)
    printed(o.estimate, "7")
    printed(o.ci_lower, "1.026713")
    printed(o.ci_upper, "47.725133")
    x = np.stack([args[0], args[2]], -1)[None]
    n = np.stack([args[1], args[3]], -1)[None]
    bt = test_batched_mantel_haenszel(x, n, treatment=0, control=1, correction=True)
    printed(float(bt.statistic[0]), "3.9286")
    bo = compute_batched_common_odds_ratio(x, n, treatment=0, control=1)
    printed(float(bo.ci_lower[0]), "1.026713")
    printed(float(bo.ci_upper[0]), "47.725133")


@pytest.mark.parametrize("case,x,n", [("prop_36_154", 36, 154), ("prop_0_20", 0, 20), ("prop_20_20", 20, 20)])
def test_single_proportion_cis_match_r(r_ref: dict, case: str, x: int, n: int) -> None:
    """R ``binom.test`` (Clopper-Pearson) and ``prop.test(correct = FALSE)`` (Wilson); for 36/154
    also ``prop.test(correct = TRUE)`` (Wilson with continuity correction)."""
    methods = ["clopper_pearson", "wilson"] + (["wilson_cc"] if case == "prop_36_154" else [])
    for m in methods:
        r = estimate_proportion(x, n, method=m)
        assert r.ci_lower == pytest.approx(r_ref[(case, f"{m}_lower")], rel=1e-9, abs=1e-12)
        assert r.ci_upper == pytest.approx(r_ref[(case, f"{m}_upper")], rel=1e-9, abs=1e-12)


def test_chi_square_and_fisher_match_r(r_ref: dict, shared_dir: Path) -> None:
    """R ``chisq.test(correct = FALSE/TRUE)``, ``fisher.test`` on 2 x 2, 3 x 3, 3 x 4 and 3 x 2 tables."""
    tab = [[36, 118], [12, 65]]
    assert test_chi_square(tab).statistic == pytest.approx(r_ref[("rd_2x2", "chisq")], rel=1e-9)
    assert test_chi_square(tab, correction=True).p_value == pytest.approx(r_ref[("rd_2x2", "yates_p")],
                                                                         rel=1e-9)
    assert test_fisher_exact(tab).p_value == pytest.approx(r_ref[("rd_2x2", "fisher_p")], rel=1e-9)
    t33 = [[3, 1, 2], [1, 4, 0], [0, 2, 5]]
    assert test_fisher_exact(t33).p_value == pytest.approx(r_ref[("fisher_3x3", "p")], rel=1e-7)
    t34 = [[10, 12, 8, 5], [7, 9, 14, 3], [4, 6, 9, 11]]
    assert test_fisher_exact(t34).p_value == pytest.approx(r_ref[("fisher_3x4", "p")], rel=1e-7)
    d = pd.read_csv(shared_dir / "reference" / "camis" / "adcibc.csv")
    s80 = d[d.AGEGR1 == ">80"]
    t32 = pd.crosstab(s80.TRTP, s80.SEX).to_numpy()
    assert test_fisher_exact(t32).p_value == pytest.approx(r_ref[("fisher_trtp_sex_gt80", "p")], rel=1e-7)
    ts = pd.crosstab(d.TRTP, d.SEX).to_numpy()
    c = test_chi_square(ts)
    assert c.statistic == pytest.approx(r_ref[("chisq_trtp_sex", "chisq")], rel=1e-9)
    assert c.p_value == pytest.approx(r_ref[("chisq_trtp_sex", "p")], rel=1e-9)


def test_generalized_cmh_matches_r_mantelhaen(r_ref: dict, shared_dir: Path) -> None:
    """R ``mantelhaen.test`` on R x C x K tables (general association): CAMIS cases 2 and 6."""
    d = pd.read_csv(shared_dir / "reference" / "camis" / "adcibc.csv")
    g2 = test_cmh_frame(d, row="TRTP", col="SEX", strata="AGEGR1").general_association
    assert g2.statistic == pytest.approx(r_ref[("cmh_case2", "general_x2")], rel=1e-9)
    assert g2.df == r_ref[("cmh_case2", "general_df")]
    s1 = d[d.TRTP.isin(["Placebo", "Xanomeline High Dose"]) & d.AGEGR1.isin(["<65", "65-80"])]
    g6 = test_cmh_frame(s1, row="TRTP", col="AVAL", strata="SEX").general_association
    assert g6.statistic == pytest.approx(r_ref[("cmh_case6", "general_x2")], rel=1e-9)
    assert g6.p_value == pytest.approx(r_ref[("cmh_case6", "general_p")], rel=1e-9)


@pytest.mark.parametrize("case,table", [("rabbits", RABBITS), ("migraine", MIGRAINE)])
def test_exact_conditional_common_odds_ratio_matches_r(r_ref: dict, case: str, table: np.ndarray) -> None:
    """R ``mantelhaen.test(x, exact = TRUE)``: exact p (rel 1e-9); conditional MLE and exact CI to
    R's precision (R solves with ``uniroot`` at its default tolerance, ~1e-4 on a 1/psi or psi
    scale, so rel 5e-3; dermsim solves to 1e-12 and its limits are checked exactly in the unit
    tests). Rabbits: p 0.03994, OR 10.36 (1.0774, 529.8)."""
    args = _split(table)
    t = test_exact_common_odds_ratio(*args)
    assert t.p_value == pytest.approx(r_ref[(case, "exact_p")], rel=1e-9)
    o = estimate_exact_common_odds_ratio(*args)
    assert o.estimate == pytest.approx(r_ref[(case, "exact_or")], rel=5e-3)
    assert o.ci_lower == pytest.approx(r_ref[(case, "exact_or_lower")], rel=5e-3)
    assert o.ci_upper == pytest.approx(r_ref[(case, "exact_or_upper")], rel=5e-3)


def test_two_group_ratios_match_r(r_ref: dict) -> None:
    """Active 36/154 vs placebo 12/77: Woolf odds ratio and Katz relative risk against the Wald
    limits of saturated R ``glm(resp ~ act, binomial)`` / ``binomial(link = "log")`` with
    ``confint.default`` (rel 1e-5: glm stops at its deviance tolerance), and the exact conditional
    odds ratio against ``fisher.test`` (rel 1e-4: R's ``uniroot`` default tolerance)."""
    o = estimate_odds_ratio(36, 154, 12, 77)
    assert (o.estimate, o.ci_lower, o.ci_upper) == pytest.approx(
        (r_ref[("ratio_2x2", "woolf_or")], r_ref[("ratio_2x2", "woolf_lower")],
         r_ref[("ratio_2x2", "woolf_upper")]), rel=1e-5)
    rr = estimate_relative_risk(36, 154, 12, 77)
    assert (rr.estimate, rr.ci_lower, rr.ci_upper) == pytest.approx(
        (r_ref[("ratio_2x2", "katz_rr")], r_ref[("ratio_2x2", "katz_lower")],
         r_ref[("ratio_2x2", "katz_upper")]), rel=1e-5)
    e = estimate_exact_common_odds_ratio([36], [154], [12], [77])
    assert (e.estimate, e.ci_lower, e.ci_upper) == pytest.approx(
        (r_ref[("ratio_2x2", "fisher_or")], r_ref[("ratio_2x2", "fisher_or_lower")],
         r_ref[("ratio_2x2", "fisher_or_upper")]), rel=1e-4)


def test_cochran_armitage_trend_matches_r(r_ref: dict, shared_dir: Path) -> None:
    """R ``prop.trend.test(responders, totals, score)`` (X2 = Z^2 of SAS ``TREND``) for responders
    AVAL > 4 over TRTPN 0, 54, 81 (dose scores) and over 1, 2, 3 (table scores); rel 1e-9."""
    d = pd.read_csv(shared_dir / "reference" / "camis" / "adcibc.csv")
    g = d.assign(R=d.AVAL > 4).groupby("TRTPN")["R"].agg(["sum", "count"]).sort_index()
    t = test_trend(g["sum"].to_numpy(), g["count"].to_numpy(), g.index.to_numpy(dtype=float))
    assert t.statistic ** 2 == pytest.approx(r_ref[("trend_dose", "x2")], rel=1e-9)
    assert t.p_value == pytest.approx(r_ref[("trend_dose", "p")], rel=1e-9)
    t1 = test_trend(g["sum"].to_numpy(), g["count"].to_numpy())
    assert t1.statistic ** 2 == pytest.approx(r_ref[("trend_rank", "x2")], rel=1e-9)
