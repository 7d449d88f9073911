"""ANOVA / ANCOVA on tiny hand-made data: identities that must hold, and the error messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dermsim.analysis.ancova import (
    AncovaResult,
    estimate_ancova,
    estimate_dose_response,
    test_anova_oneway,
)
from dermsim.analysis.ard import ArdContext, frame_from_rows, make_rows, validate_ard
from dermsim.errors import DataValidationError, InvalidInputError


@pytest.fixture()
def data() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 60
    arm = np.repeat(["P", "L", "H"], n // 3)
    site = np.tile(["s1", "s2", "s2", "s3"], n // 4)
    base = rng.normal(30, 5, n)
    y = 0.5 * base + (arm == "H") * -2.0 + (site == "s3") * 1.0 + rng.normal(0, 2, n)
    return pd.DataFrame({"ARM": arm, "SITE": site, "BASE": base, "CHG": y,
                         "DOSE": np.select([arm == "P", arm == "L"], [0.0, 54.0], 81.0)})


def test_oneway_anova_equals_scipy(data):
    res = test_anova_oneway(data.CHG.to_numpy(), data.ARM.to_numpy())
    ref = stats.f_oneway(*(data.CHG[data.ARM == a] for a in ("H", "L", "P")))
    np.testing.assert_allclose([res.statistic, res.p_value], [ref.statistic, ref.pvalue], rtol=1e-12)
    assert (res.df_between, res.df_within, res.n) == (2, 57, 60)


def test_oneway_anova_drops_missing():
    y = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 7.0])
    g = np.array(["a", "a", "a", "b", "b", "b"])
    res = test_anova_oneway(y, g)
    ref = stats.f_oneway([1.0, 2.0], [4.0, 5.0, 7.0])
    np.testing.assert_allclose(res.statistic, ref.statistic, rtol=1e-12)
    assert res.n == 5


def test_without_covariates_lsmeans_are_group_means_and_f_is_oneway(data):
    res = estimate_ancova(data, "CHG", "ARM")
    for m in res.lsmeans:
        np.testing.assert_allclose(m.estimate, data.CHG[data.ARM == m.level].mean(), rtol=1e-12)
    np.testing.assert_allclose(res.statistic, test_anova_oneway(data.CHG, data.ARM).statistic, rtol=1e-10)
    assert res.method == "anova"


def test_lsmeans_are_average_predictions_over_the_grid(data):
    """Additive model: the observed-margin LS mean of an arm is the mean prediction with every
    record set to that arm (SITE at its observed mix); equal weights average the three sites."""
    import statsmodels.formula.api as smf

    fit = smf.ols("CHG ~ C(ARM) + C(SITE) + BASE", data=data).fit()
    eq = estimate_ancova(data, "CHG", "ARM", class_covariates=["SITE"], covariates=["BASE"], weights="equal")
    om = estimate_ancova(data, "CHG", "ARM", class_covariates=["SITE"], covariates=["BASE"],
                         weights="observed")
    base = data.BASE.mean()
    for arm in ("H", "L", "P"):
        obs = fit.predict(data.assign(ARM=arm, BASE=base)).mean()
        grid = pd.DataFrame({"ARM": arm, "SITE": ["s1", "s2", "s3"], "BASE": base})
        np.testing.assert_allclose(om.lsmean(arm).estimate, obs, rtol=1e-10)
        np.testing.assert_allclose(eq.lsmean(arm).estimate, fit.predict(grid).mean(), rtol=1e-10)
    assert not np.isclose(eq.lsmean("H").estimate, om.lsmean("H").estimate)
    np.testing.assert_allclose(eq.difference("H", "L").estimate, om.difference("H", "L").estimate,
                               rtol=1e-10)


def test_contrast_difference_and_pairs(data):
    res = estimate_ancova(data, "CHG", "ARM", covariates=["BASE"], levels=["P", "L", "H"],
                          pairs="reference", reference="P")
    assert [(d.level, d.reference) for d in res.differences] == [("L", "P"), ("H", "P")]
    d = res.difference("H", "P")
    np.testing.assert_allclose(d.estimate, res.lsmean("H").estimate - res.lsmean("P").estimate, rtol=1e-12)
    c = res.contrast({"H": 1, "P": -1})
    np.testing.assert_allclose([c.estimate, c.se, c.p_value], [d.estimate, d.se, d.p_value], rtol=1e-12)
    other = res.difference("H", "L")  # not among the pairs asked: computed on demand
    np.testing.assert_allclose(other.estimate, res.lsmean("H").estimate - res.lsmean("L").estimate)
    # with no interaction the Type III F of ARM equals the joint test of the two differences
    assert res.type3_test("ARM").df == 2


def test_dose_response_is_slope_of_dose(data):
    res = estimate_dose_response(data, "CHG", "DOSE", covariates=["BASE"])
    import statsmodels.api as sm
    x = sm.add_constant(data[["DOSE", "BASE"]])
    ref = sm.OLS(data.CHG, x).fit()
    np.testing.assert_allclose([res.estimate, res.se, res.p_value],
                               [ref.params["DOSE"], ref.bse["DOSE"], ref.pvalues["DOSE"]], rtol=1e-10)


def test_round_trip_and_ard(data):
    res = estimate_ancova(data, "CHG", "ARM", covariates=["BASE"], class_covariates=["SITE"])
    back = AncovaResult.from_dict(res.to_dict())
    assert back == res
    ctx = ArdContext(analysis_id="a1", dataset="ADEFF", variable="CHG", group="ARM")
    rows = []
    for cols, pairs in res.ard_blocks():
        rows += make_rows(ctx, dict(pairs), **cols)
    ard = validate_ard(frame_from_rows(rows))
    assert set(ard.stat_name) >= {"lsmean", "lsmean_se", "estimate", "p_value", "statistic"}


def test_missing_records_are_left_out(data):
    d = data.copy()
    d.loc[[0, 1], "BASE"] = np.nan
    assert estimate_ancova(d, "CHG", "ARM", covariates=["BASE"]).n == 58


def test_errors_name_field_expected_and_got(data):
    with pytest.raises(DataValidationError, match="ADEFF: variable AGE is missing"):
        estimate_ancova(data, "CHG", "ARM", covariates=["AGE"], dataset="ADEFF")
    with pytest.raises(InvalidInputError, match="weights must be one of equal, observed; got 'om'"):
        estimate_ancova(data, "CHG", "ARM", weights="om")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="reference must be one of H, L, P; got 'X'"):
        estimate_ancova(data, "CHG", "ARM", pairs="reference", reference="X")
    with pytest.raises(DataValidationError, match="not of full rank"):
        estimate_ancova(data.assign(B2=2 * data.BASE), "CHG", "ARM", covariates=["BASE", "B2"])
    with pytest.raises(DataValidationError, match="ARM must have at least 2 levels"):
        estimate_ancova(data[data.ARM == "P"], "CHG", "ARM")
    with pytest.raises(InvalidInputError, match="contrast must have 3 coefficients"):
        estimate_ancova(data, "CHG", "ARM").contrast([1, -1])
    with pytest.raises(DataValidationError, match="variable ARM must be numeric"):
        estimate_ancova(data, "ARM", "SITE")


def test_pilot_demographics_anova_matches_r(shared_dir):
    """CDISC pilot t14-2-01 one-way ANOVA p by TRT01P (ITT) against
    ``tests/reference/r/pilot_outputs.csv`` from ``Rscript tests/reference/r/pilot_outputs.R``:
    ``anova(lm(itt[[v]] ~ factor(itt$TRT01P)))``."""
    from pathlib import Path

    adsl = pd.read_csv(shared_dir / "data" / "cdisc_pilot" / "adsl.csv.gz")
    itt = adsl[adsl.ITTFL == "Y"]
    ref = pd.read_csv(Path(__file__).parents[2] / "reference" / "r" / "pilot_outputs.csv",
                      keep_default_na=False, na_values={"stat_value": [""]})
    ref = ref[(ref.analysis_id == "t14-2-01") & (ref.group_level == "") & (ref.variable_level == "")]
    for var in ("AGE", "MMSETOT", "DURDIS", "EDUCLVL", "WEIGHTBL", "HEIGHTBL", "BMIBL"):
        res = test_anova_oneway(itt[var].to_numpy(float), itt.TRT01P.to_numpy())
        exp = dict(zip(ref[ref.variable == var].stat_name, ref[ref.variable == var].stat_value, strict=True))
        np.testing.assert_allclose([res.statistic, res.df_between, res.p_value],
                                   [exp["statistic"], exp["df"], exp["p_value"]], rtol=1e-9, err_msg=var)


def test_batched_ancova_equals_single_trial_fits():
    from dermsim.analysis.ancova import compute_ancova_batched

    rng = np.random.default_rng(3)
    ntr, n = 6, 45
    arm = rng.integers(0, 3, (ntr, n))
    strata = rng.integers(0, 2, (ntr, n))
    base = rng.normal(20, 4, (ntr, n))
    y = -0.4 * base + (arm == 1) * -3 + (arm == 2) * -5 + strata * 1.5 + rng.normal(0, 3, (ntr, n))
    y[0, :4] = np.nan  # missing outcomes are left out, as in the single fit
    res = compute_ancova_batched(y, arm, n_arms=3, reference=0, strata=strata, covariates=base,
                                 chunk_trials=4)
    assert res.estimate.shape == (ntr, 2) and res.levels == (1, 2)
    for i in range(ntr):
        df = pd.DataFrame({"Y": y[i], "ARM": arm[i].astype(str), "S": strata[i].astype(str), "B": base[i]})
        one = estimate_ancova(df, "Y", "ARM", covariates=["B"], class_covariates=["S"], pairs="reference",
                              reference="0")
        for j, lv in enumerate(("1", "2")):
            d = one.difference(lv, "0")
            ours = [res.estimate[i, j], res.se[i, j], res.p_value[i, j], res.ci_lower[i, j]]
            np.testing.assert_allclose(ours, [d.estimate, d.se, d.p_value, d.ci_lower], rtol=1e-9)
        assert res.df[i] == one.df_error


def test_batched_ancova_singular_trial_gives_nan():
    from dermsim.analysis.ancova import compute_ancova_batched

    rng = np.random.default_rng(4)
    arm = np.tile(np.arange(3), (2, 10))
    arm[1] = np.where(arm[1] == 2, 1, arm[1])  # trial 1 has no patient on arm 2
    res = compute_ancova_batched(rng.normal(size=(2, 30)), arm, n_arms=3)
    assert np.all(np.isfinite(res.estimate[0])) and np.all(np.isnan(res.estimate[1]))
    with pytest.raises(InvalidInputError, match=r"arm codes must be within \[0, 1\]; got 0\.\.2"):
        compute_ancova_batched(rng.normal(size=(2, 30)), np.tile(np.arange(3), (2, 10)), n_arms=2)
