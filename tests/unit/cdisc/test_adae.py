"""ADAE: treatment-emergent flag, onset day and treatment at onset."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from dermsim.cdisc import derive_adae, derive_adsl
from dermsim.cdisc.derive import derive_var_trtemfl, derive_vars_dy
from dermsim.cdisc.schemas import check_dataset
from dermsim.errors import InvalidInputError
from dermsim.trial import load_design, simulate_trial


@functools.lru_cache(maxsize=1)
def _data():
    study = simulate_trial(load_design("true-ad3"), 4, n=120)
    adsl = derive_adsl(study)
    return study, adsl, derive_adae(study, adsl)


def test_schema_and_records():
    study, _, adae = _data()
    check_dataset("ADAE", adae, strict=True)
    assert len(adae) == len(study.ae) > 0
    assert not adae.duplicated(["USUBJID", "AESEQ"]).any()
    assert adae["AEBODSYS"].ne("").all() and adae["AEDECOD"].ne("").all()


def test_onset_day_period_and_treatment():
    study, adsl, adae = _data()
    np.testing.assert_array_equal(adae["ASTDY"], (adae["ASTDT"] - adae["TRTSDT"]).dt.days + 1)
    assert (adae["ASTDY"] >= 1).all()
    assert (adae["ASTDT"] <= adae["USUBJID"].map(adsl.set_index("USUBJID")["EOSDT"])).all()
    assert (adae["TRTEMFL"] == "Y").all()  # every simulated event starts on treatment
    vc_end = study.design.schedule.vc_end_day
    p2 = adae["ASTDY"] > vc_end
    assert (adae.loc[p2, "TRTA"] == adae.loc[p2, "USUBJID"].map(adsl.set_index("USUBJID")["TRT02A"])).all()
    assert (adae.loc[~p2, "TRTA"] == adae.loc[~p2, "USUBJID"].map(adsl.set_index("USUBJID")["TRT01A"])).all()
    first = adae.loc[adae["AOCCPFL"] == "Y"]
    assert not first.duplicated(["USUBJID", "AEDECOD"]).any()
    assert (
        first[["USUBJID", "AEDECOD"]].drop_duplicates().shape[0]
        == adae[["USUBJID", "AEDECOD"]].drop_duplicates().shape[0]
    )


def test_trtemfl_window_and_study_day():
    d = pd.DataFrame(
        {
            "ASTDT": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-02-10", "2024-02-11"]),
            "TRTSDT": pd.to_datetime("2024-01-02"),
            "TRTEDT": pd.to_datetime("2024-01-11"),
        }
    )
    out = derive_var_trtemfl(d, end_window_d=30)
    assert list(out["TRTEMFL"]) == ["", "Y", "Y", ""]
    dy = derive_vars_dy(d, reference_date="TRTSDT", source_vars=["ASTDT"])
    assert list(dy["ASTDY"]) == [-1.0, 1.0, 40.0, 41.0]  # no day 0
    with pytest.raises(InvalidInputError, match="end_window_d"):
        derive_var_trtemfl(d, end_window_d=-1)
    with pytest.raises(InvalidInputError, match="must contain TRTSDT"):
        derive_vars_dy(d.drop(columns="TRTSDT"))


def test_period_phase_and_period_treatment():
    """APERIOD/APHASE from the ADSL period dates; TRTP/TRTA the period's treatment, so a vehicle
    subject re-randomized in the extension has extension events under the new cream."""
    _, adsl, adae = _data()
    a = adsl.set_index("USUBJID")
    p2 = adae["APERIOD"] == 2
    assert set(adae["APERIOD"]) <= {1.0, 2.0}
    assert (adae.loc[p2, "ASTDT"] >= adae.loc[p2, "USUBJID"].map(a["AP02SDT"])).all()
    p1 = adae["APERIOD"] == 1
    start2 = adae.loc[p1, "USUBJID"].map(a["AP02SDT"])
    assert (start2.isna() | (adae.loc[p1, "ASTDT"] < start2)).all()
    assert set(adae.loc[p1, "APHASE"]) <= {"VEHICLE-CONTROLLED"}
    assert set(adae.loc[p2, "APHASE"]) <= {"LONG-TERM EXTENSION"}
    assert (adae.loc[p2, "TRTP"] == adae.loc[p2, "USUBJID"].map(a["TRT02P"])).all()
    assert (adae["APERSDT"] <= adae["ASTDT"]).all()
    rerand = adae.loc[p2, "USUBJID"].map(a["TRT01A"]) == "Vehicle cream BID"
    assert (adae.loc[p2 & rerand.reindex(adae.index, fill_value=False), "TRTA"] != "Vehicle cream BID").all()
