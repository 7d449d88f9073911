"""ADSL: one record per subject, flags, treatment variables and baseline values."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from dermsim.cdisc import derive_adsl
from dermsim.cdisc.schemas import check_dataset
from dermsim.errors import InvalidInputError
from dermsim.trial import load_design, simulate_trial
from dermsim.trial.design import DCSREAS_TERMS


@functools.lru_cache(maxsize=1)
def _data():
    study = simulate_trial(load_design("true-ad3"), 9, n=80)
    return study, derive_adsl(study)


def test_schema_one_record_per_subject():
    study, adsl = _data()
    check_dataset("ADSL", adsl, strict=True)
    assert adsl["USUBJID"].is_unique and len(adsl) == study.n_subjects
    assert list(adsl["USUBJID"]) == list(study.dm["USUBJID"])


def test_treatment_and_dates():
    study, adsl = _data()
    dm = study.dm.set_index("USUBJID")
    assert (adsl["TRT01P"] == adsl["USUBJID"].map(dm["ARM"])).all()
    assert (adsl["TRT01A"] == adsl["TRT01P"]).all()
    # numbers rank the strength: vehicle 1, 0.75% 2, 1.5% 3
    pairs = set(zip(adsl["TRT01P"], adsl["TRT01PN"], strict=True))
    assert pairs == {
        ("Vehicle cream BID", 1.0),
        ("Ruxolitinib cream 0.75% BID", 2.0),
        ("Ruxolitinib cream 1.5% BID", 3.0),
    }
    assert (adsl["TRTSDT"] == pd.to_datetime(adsl["USUBJID"].map(dm["RFSTDTC"]))).all()
    assert (adsl["TRTEDT"] >= adsl["TRTSDT"]).all()
    np.testing.assert_array_equal(adsl["TRTDURD"], (adsl["TRTEDT"] - adsl["TRTSDT"]).dt.days + 1)
    veh = adsl["TRT01P"] == "Vehicle cream BID"
    on2 = adsl["TRT02P"] != ""
    assert set(adsl.loc[veh & on2, "TRT02P"]) <= {"Ruxolitinib cream 0.75% BID", "Ruxolitinib cream 1.5% BID"}
    assert (adsl.loc[~veh & on2, "TRT02P"] == adsl.loc[~veh & on2, "TRT01P"]).all()


def test_flags_and_disposition():
    _, adsl = _data()
    assert (adsl["ITTFL"] == "Y").all() and (adsl["SAFFL"] == "Y").all()
    assert set(adsl["EOSSTT"]) <= {"COMPLETED", "DISCONTINUED"}
    disc = adsl["EOSSTT"] == "DISCONTINUED"
    assert disc.any() and (~disc).any()
    assert (adsl.loc[disc, "DCSREAS"].isin(DCSREAS_TERMS)).all()
    assert (adsl.loc[~disc, "DCSREAS"] == "").all()
    assert ((adsl["COMPLFL"] == "Y") == ~disc).all()
    assert (adsl.loc[adsl["EFFFL"] == "Y", "IGABL"].isin([2.0, 3.0])).all()


def test_strata_and_baseline():
    _, adsl = _data()
    assert set(adsl["IGASTR"]) == {"IGA 2", "IGA 3"}
    assert ((adsl["IGASTR"] == "IGA 3") == (adsl["IGABL"] == 3)).all()
    young = adsl["AGE"] < 7
    assert (adsl.loc[young, "AGESTR"] == "2-6 years").all() and (
        adsl.loc[~young, "AGESTR"] == "7-11 years"
    ).all()
    assert (adsl["AGEGR1"] == adsl["AGESTR"]).all()
    assert (adsl["STRATAR"] == adsl["IGASTR"] + " / " + adsl["AGESTR"]).all()
    assert adsl["NRSBL"].isna().equals(adsl["AGE"] < 6)
    assert ((adsl["BSABL"] >= 3) & (adsl["BSABL"] <= 20)).all()


def test_rejects_non_study():
    with pytest.raises(InvalidInputError, match="study must be a StudyData"):
        derive_adsl(pd.DataFrame())


def test_period_dates_from_ex_epochs():
    study, adsl = _data()
    ex = study.ex.assign(s=pd.to_datetime(study.ex["EXSTDTC"]), e=pd.to_datetime(study.ex["EXENDTC"]))
    for i, epoch in ((1, "VEHICLE-CONTROLLED"), (2, "LONG-TERM SAFETY")):
        per = ex[ex["EPOCH"] == epoch].groupby("USUBJID")
        got = adsl.set_index("USUBJID")
        sdt, edt = got[f"AP{i:02d}SDT"].dropna(), got[f"AP{i:02d}EDT"].dropna()
        assert (sdt == per["s"].min().reindex(sdt.index)).all()
        assert (edt == per["e"].max().reindex(edt.index)).all()
    on2 = adsl["TRT02A"] != ""
    assert adsl.loc[on2, "AP02SDT"].notna().all() and adsl.loc[~on2, "AP02SDT"].isna().all()
    assert (adsl.loc[on2, "AP02SDT"] > adsl.loc[on2, "AP01EDT"]).all()
