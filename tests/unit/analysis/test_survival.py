"""Kaplan-Meier, log-rank and Cox on small data: hand values, lifelines cross-checks, errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dermsim.analysis.ard import ArdContext, frame_from_rows, make_rows, validate_ard
from dermsim.analysis.survival import (
    CoxResult,
    KaplanMeierResult,
    estimate_cox,
    estimate_km,
    estimate_km_by_group,
    test_logrank,
)
from dermsim.errors import DataValidationError, InvalidInputError


@pytest.fixture()
def sim() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 150
    arm = rng.choice(["A", "B", "C"], n)
    x = rng.normal(size=n)
    rate = 0.1 * np.exp(0.4 * (arm == "B") - 0.3 * (arm == "C") + 0.5 * x)
    t_event = rng.exponential(1 / rate)
    t_cens = rng.uniform(0, 20, n)
    t = np.round(np.minimum(t_event, t_cens), 0)  # rounding makes ties, as days do
    return pd.DataFrame({"T": t, "E": (t_event <= t_cens).astype(int), "ARM": arm, "X": x,
                         "SEX": rng.choice(["F", "M"], n)})


def test_km_by_hand():
    km = estimate_km([1, 2, 2, 3, 4, 5], [1, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(km.time, [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(km.n_risk, [6, 5, 3, 2, 1])
    expected = np.cumprod([5 / 6, 4 / 5, 2 / 3, 1.0, 0.0])
    np.testing.assert_allclose(km.survival, expected, rtol=1e-14)
    # Greenwood: S(2)^2 * (1/(6*5) + 1/(5*4))
    np.testing.assert_allclose(km.se[1], expected[1] * math.sqrt(1 / 30 + 1 / 20), rtol=1e-14)
    np.testing.assert_array_equal(km.at_risk([0, 2, 2.5, 6]), [6, 5, 3, 0])
    assert (km.n, km.n_events) == (6, 4)


def test_median_midpoint_when_survival_hits_one_half_exactly():
    """R survfit and SAS: S = 0.5 on [2, 3) gives the median (2 + 3) / 2."""
    assert estimate_km([1, 2, 3, 4], [1, 1, 1, 1]).median.estimate == 2.5
    assert math.isnan(estimate_km([1, 2, 3, 4], [1, 0, 0, 0]).median.estimate)


def test_km_and_loglog_band_match_lifelines(sim):
    from lifelines import KaplanMeierFitter

    km = estimate_km(sim["T"], sim["E"], conf_type="log-log")
    ref = KaplanMeierFitter().fit(sim["T"], sim["E"])
    s_ref = ref.survival_function_at_times(km.time).to_numpy()
    np.testing.assert_allclose(km.survival, s_ref, rtol=1e-12)
    band = ref.confidence_interval_survival_function_.loc[km.time]
    ok = np.isfinite(km.ci_lower)
    np.testing.assert_allclose(km.ci_lower[ok], band.iloc[:, 0].to_numpy()[ok], rtol=1e-8)
    np.testing.assert_allclose(km.ci_upper[ok], band.iloc[:, 1].to_numpy()[ok], rtol=1e-8)


@pytest.mark.parametrize("conf_type", ["log-log", "log", "linear", "logit", "asinsqrt"])
def test_every_band_contains_the_estimate_and_stays_in_unit_interval(sim, conf_type):
    km = estimate_km(sim["T"], sim["E"], conf_type=conf_type)
    ok = np.isfinite(km.ci_lower)
    assert ok.sum() > 5
    assert np.all(km.ci_lower[ok] <= km.survival[ok] + 1e-12)
    assert np.all(km.survival[ok] <= km.ci_upper[ok] + 1e-12)
    assert np.all((km.ci_lower[ok] >= 0) & (km.ci_upper[ok] <= 1))


@pytest.mark.parametrize(("weights", "lifelines_name"),
                         [("logrank", None), ("wilcoxon", "wilcoxon"), ("tarone-ware", "tarone-ware")])
def test_logrank_matches_lifelines(sim, weights, lifelines_name):
    from lifelines.statistics import multivariate_logrank_test

    res = test_logrank(sim["T"], sim["E"], sim["ARM"], weights=weights)
    kw = {"weightings": lifelines_name} if lifelines_name else {}
    ref = multivariate_logrank_test(sim["T"], sim["ARM"], sim["E"], **kw)
    np.testing.assert_allclose(res.statistic, ref.test_statistic, rtol=1e-9)
    assert res.df == 2
    np.testing.assert_allclose(sum(res.observed), sim["E"].sum())
    np.testing.assert_allclose(sum(res.expected), sim["E"].sum(), rtol=1e-12)


def test_stratified_logrank_sums_strata(sim):
    """With one stratum per record set the stratified test equals the per-stratum sum of U and V;
    check the identity that a single stratum gives the unstratified test."""
    one = test_logrank(sim["T"], sim["E"], sim["ARM"], strata=np.zeros(len(sim)))
    plain = test_logrank(sim["T"], sim["E"], sim["ARM"])
    np.testing.assert_allclose(one.statistic, plain.statistic, rtol=1e-12)
    two = test_logrank(sim["T"], sim["E"], sim["ARM"], strata=sim["SEX"])
    assert two.n_strata == 2 and not np.isclose(two.statistic, plain.statistic)


def test_cox_efron_matches_lifelines(sim):
    from lifelines import CoxPHFitter

    res = estimate_cox(sim, "T", "E", covariates=["X"], class_covariates={"ARM": "A"}, ties="efron")
    d = sim.assign(ARM_B=(sim.ARM == "B").astype(float), ARM_C=(sim.ARM == "C").astype(float))
    ref = CoxPHFitter().fit(d[["T", "E", "X", "ARM_B", "ARM_C"]], "T", "E")
    for ours, theirs in (("X", "X"), ("ARM=B", "ARM_B"), ("ARM=C", "ARM_C")):
        np.testing.assert_allclose(res.term(ours).coef, ref.params_[theirs], rtol=1e-5)
        np.testing.assert_allclose(res.term(ours).se, ref.standard_errors_[theirs], rtol=1e-4)
    assert res.term("ARM=B").reference == "A"
    np.testing.assert_allclose(res.lr_statistic, ref.log_likelihood_ratio_test().test_statistic, rtol=1e-5)


def test_breslow_and_efron_agree_without_ties():
    rng = np.random.default_rng(2)
    d = pd.DataFrame({"T": rng.exponential(size=60), "E": rng.integers(0, 2, 60), "X": rng.normal(size=60)})
    b = estimate_cox(d, "T", "E", covariates=["X"], ties="breslow").term("X")
    e = estimate_cox(d, "T", "E", covariates=["X"], ties="efron").term("X")
    np.testing.assert_allclose(b.coef, e.coef, rtol=1e-8)


def test_round_trips_and_ard(sim):
    km = estimate_km_by_group(sim["T"], sim["E"], sim["ARM"])
    back = KaplanMeierResult.from_dict(km["B"].to_dict())
    np.testing.assert_array_equal(back.survival, km["B"].survival)
    assert back.median == km["B"].median
    cox = estimate_cox(sim, "T", "E", class_covariates=["ARM"])
    assert CoxResult.from_dict(cox.to_dict()) == cox
    ctx = ArdContext(analysis_id="f1", dataset="ADTTE", variable="AVAL", group="ARM")
    rows = []
    for fit in km.values():
        for cols, pairs in fit.ard_blocks(times=[0, 5, 10]):
            rows += make_rows(ctx, dict(pairs), **cols)
    for cols, pairs in cox.ard_blocks():
        rows += make_rows(ctx, dict(pairs), **cols)
    rows += make_rows(ctx, dict(test_logrank(sim["T"], sim["E"], sim["ARM"]).to_ard_rows()),
                      variable_level="log-rank")
    ard = validate_ard(frame_from_rows(rows))
    assert set(ard.loc[ard.variable_level == "at_risk", "timepoint"]) == {"0", "5", "10"}


def test_errors_name_field_expected_and_got(sim):
    with pytest.raises(InvalidInputError, match="event must be 1 \\(event\\) or 0 \\(censored\\); got 2"):
        estimate_km([1, 2], [1, 2])
    with pytest.raises(InvalidInputError, match="time must be finite and >= 0; got -1"):
        estimate_km([-1, 2], [1, 1])
    with pytest.raises(InvalidInputError, match="conf_type must be one of log-log, log, linear"):
        estimate_km([1, 2], [1, 1], conf_type="plain")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="group must have at least 2 levels"):
        test_logrank([1, 2], [1, 1], ["a", "a"])
    with pytest.raises(InvalidInputError, match="ties must be one of breslow, efron; got 'exact'"):
        estimate_cox(sim, "T", "E", covariates=["X"], ties="exact")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="ADTTE: variable AGE is missing"):
        estimate_cox(sim, "T", "E", covariates=["AGE"], dataset="ADTTE")
    with pytest.raises(InvalidInputError, match="reference level of ARM must be one of A, B, C; got 'Z'"):
        estimate_cox(sim, "T", "E", class_covariates={"ARM": "Z"})


def test_pilot_f14_ttde_matches_r(shared_dir):
    """CDISC pilot f14-ttde (ADTTE PARAMCD TTDE, SAFFL Y, by TRTA) against
    ``tests/reference/r/pilot_outputs.csv`` from ``Rscript tests/reference/r/pilot_outputs.R``:
    ``survfit(Surv(AVAL, 1 - CNSR) ~ TRTA, conf.type = "log-log")``,
    ``summary(km, times = seq(0, 200, by = 20), extend = TRUE)``, ``summary(km)$table`` medians,
    ``survdiff(Surv(AVAL, 1 - CNSR) ~ TRTA)``."""
    from pathlib import Path

    tte = pd.read_csv(shared_dir / "data" / "cdisc_pilot" / "adtte.csv.gz")
    tte = tte[(tte.PARAMCD == "TTDE") & (tte.SAFFL == "Y")]
    ref = pd.read_csv(Path(__file__).parents[2] / "reference" / "r" / "pilot_outputs.csv",
                      keep_default_na=False, na_values={"stat_value": [""]}, dtype={"visit": str})
    ref = ref[ref.analysis_id == "f14-ttde"]

    def r(level: str, visit: str, group: str, stat: str) -> float:
        sel = ref[(ref.variable_level == level) & (ref.visit == visit) & (ref.group_level == group)
                  & (ref.stat_name == stat)]
        assert len(sel) == 1, (level, visit, group, stat)
        return float(sel.stat_value.iloc[0])

    km = estimate_km_by_group(tte.AVAL, 1 - tte.CNSR, tte.TRTA)
    times = list(range(0, 201, 20))
    for arm, fit in km.items():
        np.testing.assert_array_equal(fit.at_risk(times), [r("at_risk", str(t), arm, "n") for t in times])
        for s in fit.survival_at(times):
            for stat in ("estimate", "se", "ci_lower", "ci_upper"):
                np.testing.assert_allclose(getattr(s, stat), r("survival", str(int(s.time)), arm, stat),
                                           rtol=1e-10, err_msg=f"{arm} {s.time} {stat}")
        m = fit.median
        np.testing.assert_allclose([m.estimate, m.ci_lower, m.ci_upper],
                                   [r("median", "", arm, s) for s in ("estimate", "ci_lower", "ci_upper")],
                                   rtol=1e-12)
    lr = test_logrank(tte.AVAL, 1 - tte.CNSR, tte.TRTA)
    np.testing.assert_allclose(lr.statistic, r("log-rank", "", "", "statistic"), rtol=1e-10)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=40))
def test_km_properties(records):
    """S non-increasing within [0, 1]; every band holds S; numbers at risk non-increasing."""
    t = np.array([r[0] for r in records], float)
    e = np.array([r[1] for r in records], int)
    km = estimate_km(t, e)
    assert np.all(np.diff(km.survival) <= 1e-15) and np.all((km.survival >= 0) & (km.survival <= 1))
    ok = np.isfinite(km.ci_lower)
    assert np.all(km.ci_lower[ok] <= km.survival[ok] + 1e-12)
    assert np.all(km.survival[ok] <= km.ci_upper[ok] + 1e-12)
    assert np.all(np.diff(km.at_risk(np.arange(0, 32))) <= 0)
    assert km.n_events == e.sum()
