"""Small trials and the ARD's warning/error columns: an analysis the data cannot support is
reported with missing statistics and the reason in ``error`` (never dropped, never fatal for a
simulated trial); warnings raised while an analysis runs are kept in ``warning`` (the R ``cards``
convention)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from ad_adam_data import make_ad_adam
from dermsim.analysis.methods import REGISTRY
from dermsim.analysis.plan import default_plan_path, load_plan
from dermsim.analysis.run import run_plan
from dermsim.errors import DataValidationError, NotEstimableError
from dermsim.io.ard import read_ard, write_ard
from dermsim.io.cards import ard_to_cards


def _plan(*ids: str):
    return load_plan(default_plan_path()).select(list(ids))


def test_absent_parameter_is_not_estimable_in_a_simulated_trial_and_an_error_in_sponsor_data() -> None:
    data = make_ad_adam()
    data["adeff"] = data["adeff"][data["adeff"]["PARAMCD"] != "NRS4"]
    plan = _plan("nrs4-w8", "iga-ts-w8")
    with pytest.raises(DataValidationError,
                       match=r"PARAMCD 'NRS4' \(field 'parameter' of analysis nrs4-w8\)"):
        run_plan(plan, data, seed=1)
    ard = run_plan(plan, data, seed=1, absent_not_estimable=True)
    nrs = ard[ard["analysis_id"] == "nrs4-w8"]
    assert set(nrs["method"]) == {"proportion_rd_cmh"}
    est = nrs[nrs["stat_name"].isin(["estimate", "p_value"])]
    assert len(est) == 2 and est["stat_value"].isna().all()
    assert nrs["error"].str.contains("PARAMCD 'NRS4'").all()
    # n per arm of the population the analysis would have had (its filter applied to ADSL)
    n = nrs[nrs["stat_name"] == "n"].set_index("group_level")["stat_value"]
    adsl = data["adsl"]
    pop = adsl[(adsl["ITTFL"] == "Y") & (adsl["NRSBL"] >= 4)]
    assert len(pop) and n.to_dict() == pop["TRT01P"].value_counts().astype(float).to_dict()
    # the other analysis is untouched: computed, no error
    iga = ard[ard["analysis_id"] == "iga-ts-w8"]
    assert (iga["error"] == "").all() and iga["stat_value"].notna().any()


def test_absent_visit_and_empty_population_are_not_estimable_in_a_simulated_trial() -> None:
    data = make_ad_adam()
    eff = data["adeff"]
    data["adeff"] = eff[~((eff["PARAMCD"] == "NRS4") & (eff["AVISIT"] == "Week 8"))]
    data["adsl"] = data["adsl"].assign(EFFFL="N")
    spec = _plan("nrs4-w8").analyses[0]
    plan = _plan("nrs4-w8")
    ard = run_plan(plan, data, seed=1, absent_not_estimable=True)
    assert ard["error"].str.contains("AVISIT 'Week 8'").all()
    with pytest.raises(DataValidationError, match="AVISIT 'Week 8'"):
        run_plan(plan, data, seed=1)
    pop = type(plan)(analyses=(spec.replace(parameter="IGATS", population='EFFFL == "Y"'),))
    ard = run_plan(pop, data, seed=1, absent_not_estimable=True)
    assert ard["error"].str.contains("selects no records").all() and ard["stat_value"].isna().all()


def test_an_ae_table_without_any_event_counts_zero_in_every_column() -> None:
    """No adverse event in the period is a result (0 per column of the denominator), not an error,
    for sponsor data and simulated trials alike."""
    data = make_ad_adam()
    data["adae"] = data["adae"].iloc[:0]
    ard = run_plan(_plan("teae-summary", "teae-soc-pt"), data, seed=1)
    counts = ard[(ard["stat_name"] == "count") & (ard["variable_level"] == "ANY")]
    assert len(counts) == 2 * 3 and (counts["stat_value"] == 0).all()
    n = ard[(ard["analysis_id"] == "teae-summary") & (ard["stat_name"] == "n")]
    assert n.set_index("group_level")["stat_value"].to_dict() == (
        data["adsl"]["TRT01A"].value_counts().astype(float).to_dict())
    assert (ard["error"] == "").all()


def test_warnings_and_not_estimable_reasons_reach_the_ard_and_the_cards_file(tmp_path) -> None:
    data = make_ad_adam()

    def warns(inp):
        warnings.warn("the fit did not converge in 3 iterations", RuntimeWarning, stacklevel=1)
        return REGISTRY[inp.spec.method](inp)

    def too_small(inp):
        raise NotEstimableError("ADEFF: 2 records cannot support 5 parameters.")

    methods = {**REGISTRY, "ancova": warns, "proportion_rd_cmh": too_small}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning recorded in the ARD is not also re-raised
        ard = run_plan(_plan("nrs-chg", "iga-ts-w8"), data, seed=1, methods=methods)
    anc = ard[ard["analysis_id"] == "nrs-chg"]
    assert (anc["warning"] == "RuntimeWarning: the fit did not converge in 3 iterations").all()
    assert (anc["error"] == "").all()
    iga = ard[ard["analysis_id"] == "iga-ts-w8"]
    assert (iga["error"] == "ADEFF: 2 records cannot support 5 parameters.").all()
    assert iga.loc[iga["stat_name"] == "estimate", "stat_value"].isna().all()

    cards = ard_to_cards(ard)
    assert list(cards["warning"]) == list(ard["warning"]) and list(cards["error"]) == list(ard["error"])
    # round trip through the files, and an ARD written before the columns existed reads as blank
    write_ard(ard, tmp_path, tables=False)
    back = read_ard(tmp_path / "ard.csv")
    pd.testing.assert_frame_equal(back, ard.reset_index(drop=True), check_dtype=False)
    old = ard.drop(columns=["warning", "error"])
    old.to_csv(tmp_path / "old.csv", index=False)
    assert (read_ard(tmp_path / "old.csv")[["warning", "error"]] == "").all().all()


def test_mmrm_with_too_few_records_is_not_estimable_not_an_error() -> None:
    data = make_ad_adam(n=60)
    keep = data["adsl"]["USUBJID"].iloc[[0, 2, 4]]  # one subject per arm
    data = {k: v[v["USUBJID"].isin(keep)] for k, v in data.items()}
    ard = run_plan(_plan("easi-pchg-mmrm"), data, seed=1, absent_not_estimable=True)
    assert ard["error"].str.contains("MMRM|records").all()
    assert np.isnan(ard.loc[ard["stat_name"] == "p_value", "stat_value"]).all()


def test_a_comparator_that_is_no_level_is_an_error_and_an_empty_one_not_estimable() -> None:
    data = make_ad_adam()
    spec = _plan("easi-pchg-mmrm").analyses[0]
    typo = type(_plan())(analyses=(spec.replace(comparator="Vehicle creme"),))
    with pytest.raises(DataValidationError, match=r"comparator 'Vehicle creme' \(field 'comparator' of "
                                                  r"analysis easi-pchg-mmrm\) is not a level of TRT01P"):
        run_plan(typo, data, seed=1, absent_not_estimable=True)
    # the vehicle arm exists (a simulated trial's arm) but none of its subjects is left
    veh = data["adsl"].loc[data["adsl"]["TRT01P"] == "Vehicle cream BID", "USUBJID"]
    small = {k: v[~v["USUBJID"].isin(veh)] for k, v in data.items()}
    ard = run_plan(_plan("easi-pchg-mmrm"), small, seed=1, group_levels=["Vehicle cream BID"])
    assert ard["error"].str.contains("reference must be one of").all()
