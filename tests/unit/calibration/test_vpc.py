"""Visual predictive checks (issue 18): bands by visit against published TRuE-AD1/2 results and
against a NONMEM dataset's own observed rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dermsim.calibration.vpc import COLUMNS, VpcArm, _observed_rates, compute_vpc, published_arms
from dermsim.errors import InvalidInputError
from dermsim.model.population.sampling import sample_population
from dermsim.report.pmx_figures import plot_vpc


@pytest.mark.slow  # two population laws are solved (~4 s on a quiet machine)
def test_published_arms_hold_week8_results_of_ad1_only_up_to_week_8():
    arms = published_arms(["true-ad1"], n_pool=8)
    assert [a.arm for a in arms] == ["vehicle", "rux075", "rux150"]
    assert [a.n_arm for a in arms] == [126, 252, 253]
    for a in arms:
        assert set(a.observed) == {("IGA-TS", 8.0), ("EASI-75", 8.0)}
    assert arms[2].observed[("IGA-TS", 8.0)][:2] == (53.8, "C")
    with pytest.raises(InvalidInputError, match="held out"):
        published_arms(["true-ad3"], n_pool=8)


@pytest.mark.slow
def test_bands_by_week_contain_the_median_and_respond_to_strength(shipped):
    arms = published_arms(["true-ad1"], n_pool=40, seed=2)
    vpc = compute_vpc(shipped, [arms[0], arms[2]], n_draws=2, n_replicates=200, weeks=[2, 4, 8], seed=2)
    assert list(vpc.columns) == list(COLUMNS) and len(vpc) == 2 * 2 * 3
    assert (vpc["pi05"] <= vpc["pred_median"]).all() and (vpc["pred_median"] <= vpc["pi95"]).all()
    w8 = vpc[vpc["week"] == 8].set_index(["arm", "endpoint"])
    assert w8.loc[("rux150", "IGA-TS"), "pred_median"] > w8.loc[("vehicle", "IGA-TS"), "pred_median"]
    seen = vpc.dropna(subset=["observed"])
    assert set(seen["week"]) == {8.0} and set(seen["inside"]) <= {"yes", "no"}
    fig = plot_vpc(vpc)
    assert len(fig.axes) == 2


def test_observed_rates_from_a_nonmem_dataset():
    # two subjects: one IGA 3 -> 1 (success) and EASI 10 -> 2 (EASI-75), one IGA 2 -> 1 (not a success)
    rec = pd.DataFrame({"ID": [1, 1, 1, 1, 2, 2, 2, 2], "TIME": [0, 0, 1344, 1344] * 2,
                        "DVID": [2, 3, 2, 3] * 2, "DV": [10, 3, 2, 1, 8, 2, 7, 1], "EVID": 0})
    rates = _observed_rates(rec, ("IGA-TS", "EASI-75"), "x.csv")
    assert rates[("IGA-TS", 8.0)][0] == 50.0 and rates[("EASI-75", 8.0)][0] == 50.0


@pytest.mark.slow
def test_a_dataset_arm_simulates_its_own_subjects(shipped):
    table = pd.DataFrame({"age_y": [5.0, 7.0, 9.0], "affected_pct": [5.0, 10.0, 15.0],
                          "easi0": [6.0, 9.0, 12.0], "iga0": [2, 3, 3]})
    pop = sample_population("true-ad3", None, 1, covariates=table)
    arm = VpcArm("dataset", "mine.csv", "ARMN 1", 1.5, 3, pop, (0.0, 8.0),
                 {("IGA-TS", 8.0): (33.3, "observed", "")})
    vpc = compute_vpc(shipped, [arm], endpoints=("IGA-TS",), n_draws=1, n_replicates=50, seed=1)
    assert list(vpc["week"]) == [float(w) for w in range(1, 9)]
    assert np.isclose(vpc["observed"].dropna().iloc[0], 33.3)
    # three subjects: every simulated rate is a multiple of 1/3
    thirds = vpc["pred_median"].to_numpy() * 3 / 100
    assert np.allclose(thirds, np.round(thirds))


def _rec(u: str, cd: str, aval: float, visit: str, ablfl: str = "", dtype: str = "") -> dict:
    return {"USUBJID": u, "PARAMCD": cd, "AVAL": aval, "ABLFL": ablfl, "AVISIT": visit, "DTYPE": dtype}


def _adam():
    adsl = pd.DataFrame({"USUBJID": ["A1", "A2", "B1", "B2"], "AGE": [6, 9, 7, 4],
                         "SEX": ["F", "M", "M", "F"],
                         "TRT01P": ["Ruxolitinib cream 1.5% BID"] * 2 + ["Vehicle cream BID"] * 2})
    rows = []
    for u, e0, i0 in (("A1", 10.0, 3), ("A2", 6.0, 2), ("B1", 8.0, 3), ("B2", 5.0, 2)):
        rows += [_rec(u, "EASI", e0, "Baseline", "Y"), _rec(u, "IGA", float(i0), "Baseline", "Y")]
    rows += [_rec("A1", "IGATS", 1.0, "Week 8"), _rec("A2", "IGATS", 0.0, "Week 8"),
             _rec("B1", "IGATS", 0.0, "Week 8"),
             _rec("B2", "IGATS", 0.0, "Week 8", dtype="NRI"),  # an imputed record is not an observation
             _rec("B2", "IGATS", 1.0, "Week 4")]
    return adsl, pd.DataFrame(rows)


def test_adam_arms_take_strength_subjects_and_observed_rates():
    from dermsim.calibration.vpc import adam_arms
    from dermsim.errors import DataValidationError

    adsl, adeff = _adam()
    arms = adam_arms(adsl, adeff, name="mine", n_pool=20)
    by = {a.arm: a for a in arms}
    rux, veh = by["Ruxolitinib cream 1.5% BID"], by["Vehicle cream BID"]
    assert (rux.strength_pct, veh.strength_pct, rux.n_arm) == (1.5, 0.0, 2)
    assert rux.observed == {("IGA-TS", 8.0): (50.0, "observed", "mine")}
    assert veh.observed == {("IGA-TS", 8.0): (0.0, "observed", "mine"),
                            ("IGA-TS", 4.0): (100.0, "observed", "mine")}
    np.testing.assert_array_equal(rux.population.age_y[:2], [6.5, 9.5])
    np.testing.assert_array_equal(rux.population.easi0[:2], [10.0, 6.0])
    np.testing.assert_array_equal(rux.population.iga0[:4], [3, 2, 3, 2])
    bad = adsl.assign(TRT01P="Drug X")
    with pytest.raises(DataValidationError, match="names no cream strength"):
        adam_arms(bad, adeff, name="mine", n_pool=4)
