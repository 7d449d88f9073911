"""ARD assembly: columns, stat_name vocabulary, and run_plan on a small hand-built AD ADaM."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ad_adam_data import make_ad_adam
from dermsim.analysis.ard import ARD_COLUMNS, STAT_NAMES, ArdContext, frame_from_rows, make_rows, validate_ard
from dermsim.analysis.plan import AnalysisPlan, default_plan_path, load_plan
from dermsim.analysis.run import run_plan
from dermsim.errors import DataValidationError, InvalidInputError

VEH = "Vehicle cream BID"
CTX = ArdContext(analysis_id="a", dataset="ADSL", group="TRT01P", method="demographics")


def test_vocabulary_is_the_issue_list() -> None:
    assert list(STAT_NAMES) == ["n", "mean", "sd", "median", "min", "max", "q1", "q3", "count", "pct",
                                "n_events", "estimate", "se", "ci_lower", "ci_upper", "statistic", "df",
                                "p_value", "lsmean", "lsmean_se", "exposure_years", "rate"]
    assert ARD_COLUMNS == ("analysis_id", "dataset", "population", "parameter", "variable",
                           "variable_level", "group2", "group2_level", "visit", "timepoint", "group",
                           "group_level", "comparator", "stat_name", "stat_label", "stat_value", "fmt",
                           "method", "warning", "error")


def test_make_rows_fills_columns_and_rejects_unknown_stats() -> None:
    rows = make_rows(CTX, {"n": 3, "mean": 2.5, "sd": None}, variable="AGE", group_level="A")
    df = validate_ard(frame_from_rows(rows))
    assert df["stat_name"].tolist() == ["n", "mean", "sd"]
    assert np.isnan(df["stat_value"].iloc[2]) and df["variable"].iloc[0] == "AGE"
    with pytest.raises(InvalidInputError, match=r"stat_name must be one of .*got 'avg'"):
        make_rows(CTX, {"avg": 1.0})
    with pytest.raises(InvalidInputError, match="must be a number"):
        make_rows(CTX, {"n": "three"})


def test_validate_ard_rejects_bad_frames() -> None:
    good = frame_from_rows(make_rows(CTX, {"n": 3}))
    with pytest.raises(InvalidInputError, match="missing method"):
        validate_ard(good.drop(columns="method"))
    with pytest.raises(InvalidInputError, match="got 'bogus'"):
        validate_ard(good.assign(stat_name="bogus"))
    with pytest.raises(InvalidInputError, match="duplicate rows"):
        validate_ard(pd.concat([good, good]))


def _plan(*ids: str) -> AnalysisPlan:
    return load_plan(default_plan_path()).select(list(ids))


def test_default_plan_subject_level_and_safety_analyses_on_fixture() -> None:
    data = make_ad_adam()
    ard = run_plan(_plan("populations", "demographics", "disposition", "teae-summary", "teae-soc-pt"),
                   data, seed=1)
    adsl = data["adsl"]
    n_by_arm = adsl["TRT01P"].value_counts()
    pops = ard[(ard.analysis_id == "populations") & (ard.stat_name == "n")]
    assert dict(zip(pops.group_level, pops.stat_value, strict=True)) == {**n_by_arm.astype(float).to_dict(),
                                                                         "": 60.0}
    age = ard[(ard.analysis_id == "demographics") & (ard.variable == "AGE") & (ard.group_level == "")]
    got = dict(zip(age.stat_name, age.stat_value, strict=True))
    assert got["mean"] == pytest.approx(adsl["AGE"].mean(), rel=1e-12)
    assert got["sd"] == pytest.approx(adsl["AGE"].std(), rel=1e-12)
    iga = ard[(ard.analysis_id == "demographics") & (ard.variable == "IGABL") & (ard.stat_name == "count")]
    assert set(iga.variable_level) == {"2", "3"}          # declared categorical although numeric
    pct = ard[(ard.analysis_id == "teae-soc-pt") & (ard.stat_name == "pct") & (ard.group_level == VEH)]
    assert ((pct.stat_value >= 0) & (pct.stat_value <= 100)).all()
    # subjects never exceed events; Fisher p-values only against the comparator
    soc = ard[ard.analysis_id == "teae-soc-pt"].pivot_table(
        index=["variable_level", "group_level"], columns="stat_name", values="stat_value", aggfunc="first")
    ok = soc.dropna(subset=["count"])
    assert (ok["count"] <= ok["n_events"]).all()
    fisher = ard.stat_name.eq("p_value") & ard.analysis_id.eq("teae-soc-pt")
    assert set(ard.loc[fisher, "comparator"]) == {VEH}


@pytest.mark.slow  # tens of seconds on a busy 2-core machine (make test --durations)
def test_default_plan_mi_ancova_is_reproducible_and_seed_dependent() -> None:
    data = make_ad_adam()
    plan = _plan("easi-pchg")
    a = run_plan(plan, data, seed=3)
    b = run_plan(plan, make_ad_adam(), seed=3)
    c = run_plan(plan, data, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["stat_value"], c["stat_value"])
    diff = a[(a.stat_name == "estimate") & (a.visit == "Week 8")]
    assert set(diff.comparator) == {VEH} and len(diff) == 2
    # the hypothetical estimand imputes dropouts: n counts every ITT subject of the arm
    n = a[(a.stat_name == "n") & (a.visit == "Week 8")]
    assert n.stat_value.sum() == 60


def test_observed_and_locf_ancova_agree_where_nothing_is_missing() -> None:
    data = make_ad_adam()
    base = _plan("nrs-chg").analyses[0]
    plan = AnalysisPlan(analyses=(base.replace(visit=["Week 2"]),
                                  base.replace(id="locf", visit=["Week 2"], estimand="locf")))
    ard = run_plan(plan, data, seed=1)
    ls = ard[ard.stat_name == "lsmean"].pivot(index="group_level", columns="analysis_id", values="stat_value")
    np.testing.assert_allclose(ls["nrs-chg"], ls["locf"], rtol=1e-12)


def test_subgroups_run_once_per_level_and_say_so_in_population() -> None:
    pytest.importorskip("dermsim.analysis.stratified")
    ard = run_plan(_plan("iga-ts-w8-subgroups"), make_ad_adam(), seed=1)
    pops = set(ard["population"])
    assert 'ITTFL == "Y") and AGEGR1 == "2-6"' in " ".join(pops)
    assert len(pops) == 5                      # four subgroups and the whole population
    inter = ard[ard.variable_level.str.startswith("interaction")]
    assert set(inter.variable_level) == {"interaction AGEGR1", "interaction IGABL"}
    assert set(inter.population) == {'ITTFL == "Y"'} and set(inter.comparator) == {VEH}


@pytest.mark.parametrize(("mutate", "expect"), [
    (lambda d: d.update(adsl=d["adsl"].assign(USUBJID=d["adsl"]["USUBJID"].where(d["adsl"].index != 1,
                                                                                  "AD3-001"))),
     r"ADSL has 2 records for USUBJID AD3-001; each subject must appear once"),
    (lambda d: d.update(adsl=d["adsl"].drop(columns="IGABL")),
     r"ADSL: variable IGABL is missing \(field 'variables' of analysis demographics\)"),
    (lambda d: d.update(adsl=d["adsl"].assign(AGEGR1=d["adsl"]["AGEGR1"].where(d["adsl"].index > 2, ""))),
     r"ADEFF: AGEGR1 \(field 'strata' of analysis nrs-chg\) is empty for USUBJID AD3-001, AD3-002, AD3-003"),
])
def test_bad_data_gives_one_line_naming_dataset_variable_and_keys(mutate, expect) -> None:
    data = make_ad_adam()
    mutate(data)
    plan = _plan("demographics", "nrs-chg")
    if "strata" in expect:
        spec = plan.analyses[1]
        plan = AnalysisPlan(analyses=(spec.replace(strata=["AGEGR1"], covariates=[]),))
    with pytest.raises(DataValidationError, match=expect) as info:
        run_plan(plan, data, seed=1)
    assert "\n" not in str(info.value)


def test_unknown_parameter_and_dataset_are_named() -> None:
    data = make_ad_adam()
    spec = _plan("nrs-chg").analyses[0]
    with pytest.raises(DataValidationError, match=r"ADEFF: PARAMCD 'NRSX' \(field 'parameter' of analysis "
                                                  r"nrs-chg\) does not occur; found EASI"):
        run_plan(AnalysisPlan(analyses=(spec.replace(parameter="NRSX"),)), data, seed=1)
    with pytest.raises(DataValidationError, match=r"dataset ADQS is not among the datasets read"):
        run_plan(AnalysisPlan(analyses=(spec.replace(dataset="adqs"),)), data, seed=1)
    with pytest.raises(DataValidationError, match=r"AVISIT 'Week 99'"):
        run_plan(AnalysisPlan(analyses=(spec.replace(visit=["Week 99"]),)), data, seed=1)


def test_primary_iga_ts_layout_composite_nri_and_strata() -> None:
    """n per arm is every ITT subject (non-responder imputation); the stratified difference is the
    one of the counts tabulated here by STRATAR, and the p-value is the 2 x 2 x K CMH test."""
    from dermsim.analysis.stratified import estimate_common_risk_difference, test_mantel_haenszel

    data = make_ad_adam()
    ard = run_plan(_plan("iga-ts-w8"), data, seed=1)
    adsl = data["adsl"]
    adeff = data["adeff"]
    resp = adeff[(adeff.PARAMCD == "IGATS") & (adeff.AVISIT == "Week 8") & (adeff.AVAL == 1)]
    subj = adsl.assign(R=adsl.USUBJID.isin(resp.USUBJID).astype(int), S=adsl.STRATAR)
    got = ard.pivot_table(index=["group_level", "comparator"], columns="stat_name", values="stat_value")
    for arm, sub in subj.groupby("TRT01P"):
        assert got.loc[(arm, ""), "n"] == len(sub)
        assert got.loc[(arm, ""), "count"] == sub.R.sum()
    tab = subj.pivot_table(index="S", columns="TRT01P", values="R", aggfunc=["sum", "count"])
    for arm in ("Ruxolitinib cream 0.75%", "Ruxolitinib cream 1.5%"):
        args = (tab[("sum", arm)].to_numpy(float), tab[("count", arm)].to_numpy(float),
                tab[("sum", VEH)].to_numpy(float), tab[("count", VEH)].to_numpy(float))
        rd = estimate_common_risk_difference(*args)
        assert got.loc[(arm, VEH), "estimate"] == pytest.approx(rd.estimate, rel=1e-12)
        assert got.loc[(arm, VEH), "ci_lower"] == pytest.approx(rd.ci_lower, rel=1e-12)
        assert got.loc[(arm, VEH), "p_value"] == pytest.approx(test_mantel_haenszel(*args).p_value,
                                                                     rel=1e-12)


def test_mi_ancova_equals_complete_data_ancova_when_nothing_is_missing() -> None:
    """At Week 2 no subject of the fixture has dropped out: every imputation is the data, the
    between-imputation variance is 0 and Rubin's rules give back the ANCOVA LS means and SEs."""
    data = make_ad_adam()
    base = _plan("easi-pchg").analyses[0].replace(visit=["Week 2"])
    plan = AnalysisPlan(analyses=(base, base.replace(id="obs", estimand="observed", options={
        "class_covariates": ["AGEGR1", "IGABL"]})))
    ard = run_plan(plan, data, seed=1)
    for stat in ("lsmean", "lsmean_se", "estimate"):
        rows = ard[(ard.stat_name == stat) & (ard.group_level != "")]     # not the slope rows
        got = rows.pivot(index="group_level", columns="analysis_id", values="stat_value")
        np.testing.assert_allclose(got["easi-pchg"], got["obs"], rtol=1e-10)


def test_composite_strategy_counts_subjects_without_any_record_as_non_responders() -> None:
    data = make_ad_adam()
    gone = data["adsl"]["USUBJID"].iloc[:3]
    data["adeff"] = data["adeff"][~(data["adeff"].USUBJID.isin(gone) & (data["adeff"].PARAMCD == "IGATS"))]
    ard = run_plan(_plan("iga-ts-w8"), data, seed=1)
    n = ard[(ard.stat_name == "n") & (ard.comparator == "")]
    assert n.stat_value.sum() == 60                       # every ITT subject of ADSL


def test_intercurrent_event_flag_makes_responders_fail_under_the_composite_strategy() -> None:
    """A record flagged by ``ice_flag`` (e.g. rescue medication) counts as non-response."""
    data = make_ad_adam()
    adeff = data["adeff"]
    resp = (adeff.PARAMCD == "IGATS") & (adeff.AVISIT == "Week 8") & (adeff.AVAL == 1)
    data["adeff"] = adeff.assign(RESCFL=np.where(resp, "Y", ""))
    spec = _plan("iga-ts-w8").analyses[0]
    plain = run_plan(AnalysisPlan(analyses=(spec,)), data, seed=1)
    ice = run_plan(AnalysisPlan(analyses=(spec.replace(options={"response": 1, "ice_flag": "RESCFL"}),)),
                   data, seed=1)
    assert plain.loc[plain.stat_name == "count", "stat_value"].sum() == resp.sum() > 0
    assert ice.loc[ice.stat_name == "count", "stat_value"].sum() == 0
