"""Estimand strategies: observed cases, LOCF, non-responder imputation, regression MI, Rubin's rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dermsim.analysis.estimands import (
    apply_estimand,
    impute_locf,
    impute_nri,
    pool_rubin,
    sample_mi_regression,
    select_observed,
)
from dermsim.errors import DataValidationError, InvalidInputError

R_DIR = Path(__file__).resolve().parents[2] / "reference" / "r"


def _bds() -> pd.DataFrame:
    # subject A: all visits; B: misses week 4 and 8; C: only baseline; D: week 8 only, imputed
    # LOCF record already in the data (must be ignored and derived again).
    rows = [
        ("A", "Baseline", 0, 10.0, ""), ("A", "Week 2", 2, 8.0, ""), ("A", "Week 4", 4, 6.0, ""),
        ("A", "Week 8", 8, 5.0, ""),
        ("B", "Baseline", 0, 12.0, ""), ("B", "Week 2", 2, 9.0, ""), ("B", "Week 4", 4, np.nan, ""),
        ("C", "Baseline", 0, 11.0, ""),
        ("D", "Baseline", 0, 9.0, ""), ("D", "Week 2", 2, 7.0, ""), ("D", "Week 8", 8, 99.0, "LOCF"),
    ]
    df = pd.DataFrame(rows, columns=["USUBJID", "AVISIT", "AVISITN", "AVAL", "DTYPE"])
    df["DTYPE"] = df["DTYPE"].replace("", np.nan)
    return df


def test_observed_cases_keep_only_observed_values_at_the_visit() -> None:
    out = select_observed(_bds(), variable="AVAL", visits=["Week 8"])
    assert out["USUBJID"].tolist() == ["A"]


def test_locf_carries_last_post_baseline_value_and_marks_dtype() -> None:
    out = impute_locf(_bds(), variable="AVAL", visits=["Week 4", "Week 8"])
    got = {(r.USUBJID, r.AVISIT): (r.AVAL, r.DTYPE) for r in out.itertuples()}
    assert got[("A", "Week 8")] == (5.0, None) or got[("A", "Week 8")][0] == 5.0
    assert pd.isna(got[("A", "Week 8")][1])
    assert got[("B", "Week 4")] == (9.0, "LOCF")
    assert got[("B", "Week 8")] == (9.0, "LOCF")
    assert got[("D", "Week 8")] == (7.0, "LOCF")  # the 99 LOCF record in the data is ignored
    assert ("C", "Week 8") not in got  # baseline is never carried forward
    assert set(out["AVISITN"]) == {4, 8}


def test_locf_matches_the_pilot_adadas_locf_records(shared_dir: Path) -> None:
    """The pilot ADADAS Week 8/16/24 LOCF records (ANL01FL = "Y") are derived again exactly."""
    path = shared_dir / "data" / "cdisc_pilot" / "adadas.csv.gz"
    if not path.exists():
        pytest.skip(f"pilot data not found at {path}")
    a = pd.read_csv(path)
    a = a[(a.PARAMCD == "ACTOT") & (a.EFFFL == "Y") & (a.ANL01FL == "Y")]
    mine = impute_locf(a, variable="CHG", visits=["Week 8", "Week 16", "Week 24"])
    ref = a[a.AVISITN > 0]
    both = mine.merge(ref, on=["USUBJID", "AVISIT"], how="outer", suffixes=("", "_ref"), indicator=True)
    assert (both["_merge"] == "both").all()
    np.testing.assert_allclose(both["CHG"], both["CHG_ref"], atol=0)
    assert (both["DTYPE"].fillna("") == both["DTYPE_ref"].fillna("")).all()


def test_nri_gives_every_subject_a_value_and_fails_missing_and_ice() -> None:
    rec = pd.DataFrame({"USUBJID": ["A", "B", "C"], "AVISIT": "Week 8", "AVAL": [1.0, 1.0, np.nan],
                        "ICEFL": ["", "Y", ""]})
    subj = pd.DataFrame({"USUBJID": ["A", "B", "C", "D"], "TRT01P": ["x", "x", "y", "y"]})
    out = impute_nri(rec, subj, variable="AVAL", visits=["Week 8"], ice_flag="ICEFL")
    assert out.set_index("USUBJID")["AVAL"].to_dict() == {"A": 1.0, "B": 0.0, "C": 0.0, "D": 0.0}
    assert out.set_index("USUBJID")["DTYPE"].fillna("").to_dict() == {"A": "", "B": "NRI", "C": "NRI",
                                                                      "D": "NRI"}
    flags = pd.DataFrame({"USUBJID": ["A"], "AVISIT": ["Week 8"], "CRIT1FL": ["Y"]})
    out2 = impute_nri(flags, subj, variable="CRIT1FL", visits=["Week 8"])
    assert sorted(out2["CRIT1FL"]) == ["N", "N", "N", "Y"]


def test_duplicate_records_per_visit_name_the_subject() -> None:
    rec = pd.DataFrame({"USUBJID": ["A", "A"], "AVISIT": "Week 8", "AVAL": [1.0, 2.0]})
    with pytest.raises(DataValidationError, match="2 records for USUBJID A"):
        select_observed(rec, variable="AVAL", visits=["Week 8"], dataset="ADEFF")
    with pytest.raises(InvalidInputError, match="subjects"):
        apply_estimand("composite_nri", rec, variable="AVAL", visits=["Week 8"])


def test_rubin_matches_a_hand_calculation() -> None:
    """Q = (1.2, 1.5, 0.9, 1.1), U = (.04, .05, .045, .05): Qbar 1.175, Ubar .04625,
    B = 0.0625 (sum of squared deviations 0.1875 / 3), T = .04625 + 1.25 * .0625 = .124375,
    r = 1.25 * .0625 / .04625, lambda = .078125 / .124375, df_old = 3 / lambda^2."""
    res = pool_rubin(np.array([1.2, 1.5, 0.9, 1.1]), np.array([0.04, 0.05, 0.045, 0.05]))
    lam = 0.078125 / 0.124375
    np.testing.assert_allclose(res.estimate, [1.175], rtol=1e-12)
    np.testing.assert_allclose(res.between_var, [0.0625], rtol=1e-12)
    np.testing.assert_allclose(res.total_var, [0.124375], rtol=1e-12)
    np.testing.assert_allclose(res.riv, [0.078125 / 0.04625], rtol=1e-12)
    np.testing.assert_allclose(res.df, [3 / lam**2], rtol=1e-12)
    np.testing.assert_allclose(res.se, [np.sqrt(0.124375)], rtol=1e-12)


def test_rubin_matches_mice_pool_scalar() -> None:
    """R: mice::pool.scalar(Q = c(1.2, 1.5, 0.9, 1.1), U = c(.04, .05, .045, .05), n = Inf)
    (tests/reference/r/mice_pool.R, mice 3.15.0)."""
    ref = pd.read_csv(R_DIR / "mice_pool_scalar.csv").iloc[0]
    res = pool_rubin(np.array([1.2, 1.5, 0.9, 1.1]), np.array([0.04, 0.05, 0.045, 0.05]))
    np.testing.assert_allclose(res.df, [ref["df"]], rtol=1e-6)
    np.testing.assert_allclose(res.fmi, [ref["fmi"]], rtol=1e-9)
    np.testing.assert_allclose(res.total_var, [ref["t"]], rtol=1e-12)


def test_rubin_matches_mice_pool_with_barnard_rubin_df() -> None:
    """R: imp <- mice(nhanes, m = 5, seed = 1); pool(with(imp, lm(chl ~ age + bmi)))
    and summary(..., conf.int = TRUE) (tests/reference/r/mice_pool.R, mice 3.15.0); the
    per-imputation estimates and variances are R's, pooled here."""
    fits = pd.read_csv(R_DIR / "mice_pool_fits.csv")
    ref = pd.read_csv(R_DIR / "mice_pool_pooled.csv")
    q = fits.pivot(index="imputation", columns="term", values="estimate")[ref["term"]].to_numpy()
    u = fits.pivot(index="imputation", columns="term", values="variance")[ref["term"]].to_numpy()
    res = pool_rubin(q, u, df_complete=float(fits["df_residual"].iloc[0]))
    for ours, col in [(res.estimate, "estimate"), (res.within_var, "ubar"), (res.between_var, "b"),
                      (res.total_var, "t"), (res.df, "df"), (res.riv, "riv"), (res.lambda_, "lambda"),
                      (res.fmi, "fmi"), (res.se, "std_error"), (res.statistic, "statistic"),
                      (res.p_value, "p_value"), (res.ci_lower, "ci_lower"), (res.ci_upper, "ci_upper")]:
        np.testing.assert_allclose(ours, ref[col].to_numpy(), rtol=1e-8, err_msg=col)


def test_rubin_rejects_bad_input() -> None:
    with pytest.raises(InvalidInputError, match="m >= 2"):
        pool_rubin(np.array([1.0]), np.array([0.1]))
    with pytest.raises(InvalidInputError, match="shape"):
        pool_rubin(np.ones((3, 2)), np.ones((3, 1)))


def _mi_data(n: int = 400, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    arm = np.repeat([0, 1], n // 2)
    base = rng.normal(20, 4, n)
    y_full = 2.0 - 3.0 * arm + 0.5 * base + rng.normal(0, 2, n)
    y = y_full.copy()
    y[rng.random(n) < 0.3] = np.nan
    return y, base, arm, y_full


def test_mi_regression_keeps_observed_values_and_is_reproducible() -> None:
    y, base, arm, _ = _mi_data()
    a = sample_mi_regression(y, base, arm, m=10, seed=7)
    b = sample_mi_regression(y, base, arm, m=10, seed=7)
    c = sample_mi_regression(y, base, arm, m=10, seed=8)
    assert a.shape == (10, y.size)
    obs = np.isfinite(y)
    np.testing.assert_array_equal(a[:, obs], np.broadcast_to(y[obs], (10, obs.sum())))
    assert np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_mi_regression_recovers_the_arm_effect_with_proper_variance() -> None:
    """Under MAR given baseline, MI + Rubin gives an unbiased arm difference whose pooled SE
    exceeds the complete-case within-imputation SE (between-imputation variance is added)."""
    y, base, arm, _ = _mi_data(n=2000)
    imp = sample_mi_regression(y, base, arm, m=20, seed=11)
    x = np.column_stack([np.ones(y.size), arm, base])
    xtx_inv = np.linalg.inv(x.T @ x)
    coef = imp @ x @ xtx_inv.T                          # (m, 3): least squares on every imputation
    resid = imp - coef @ x.T
    s2 = (resid**2).sum(axis=1) / (y.size - 3)
    res = pool_rubin(coef[:, 1], s2 * xtx_inv[1, 1], df_complete=y.size - 3)
    assert abs(res.estimate[0] - (-3.0)) < 4 * res.se[0]
    assert res.between_var[0] > 0
    assert 0 < res.fmi[0] < 1


def test_mi_regression_rejects_too_few_observed() -> None:
    y = np.array([1.0, np.nan, np.nan, 2.0])
    with pytest.raises(DataValidationError, match="cannot support a regression"):
        sample_mi_regression(y, np.arange(4.0), np.zeros(4), m=5, seed=1)


def test_blank_text_counts_as_missing_like_sas() -> None:
    """Readers give a missing character value as "" (SAS blank): NRI fails it, observed drops it."""
    rec = pd.DataFrame({"USUBJID": ["A", "B"], "AVISIT": "Week 8", "CRIT1FL": ["Y", " "], "DTYPE": ""})
    subj = pd.DataFrame({"USUBJID": ["A", "B"]})
    out = impute_nri(rec, subj, variable="CRIT1FL", visits=["Week 8"])
    assert out.set_index("USUBJID")["CRIT1FL"].to_dict() == {"A": "Y", "B": "N"}
    assert select_observed(rec, variable="CRIT1FL", visits=["Week 8"])["USUBJID"].tolist() == ["A"]


@settings(max_examples=60, deadline=None)
@given(q=st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30),
       u=st.floats(1e-6, 1e3), dfc=st.one_of(st.just(float("inf")), st.floats(2, 1e4)))
def test_rubin_invariants(q: list[float], u: float, dfc: float) -> None:
    """T >= Ubar, T >= B, 0 < df, the CI holds the estimate, 0 <= p <= 1, permutation-invariant."""
    est = np.array(q)
    var = np.full(est.size, u)
    res = pool_rubin(est, var, df_complete=dfc)
    rev = pool_rubin(est[::-1], var, df_complete=dfc)
    assert res.total_var[0] >= res.within_var[0] * (1 - 1e-12)
    assert res.total_var[0] >= res.between_var[0] * (1 - 1e-12)
    assert res.df[0] > 0 and 0 <= res.p_value[0] <= 1
    assert res.ci_lower[0] <= res.estimate[0] <= res.ci_upper[0]
    np.testing.assert_allclose(rev.estimate, res.estimate, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(rev.df, res.df, rtol=1e-9)
