"""ADEFF: responder flags agree with their definitions from AVAL and BASE (property tests), BDS
derivations (ABLFL, BASE, CHG, PCHG), imputation records and the ADaM schema."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dermsim.cdisc import compute_responder, derive_adeff, derive_adsl
from dermsim.cdisc.derive import derive_var_base, derive_var_chg, derive_var_extreme_flag, derive_var_pchg
from dermsim.cdisc.schemas import check_dataset
from dermsim.errors import InvalidInputError
from dermsim.trial import load_design, simulate_trial


@functools.lru_cache(maxsize=1)
def _adeff() -> tuple[pd.DataFrame, pd.DataFrame, object]:
    study = simulate_trial(load_design("true-ad3"), 5, n=80)
    adsl = derive_adsl(study)
    return derive_adeff(study, adsl), adsl, study


def test_schema_and_keys():
    adeff, _, _ = _adeff()
    check_dataset("ADEFF", adeff, strict=True)
    assert not adeff.duplicated(["USUBJID", "PARAMCD", "AVISITN", "DTYPE"]).any()
    # observed and imputed records never share a visit, so every record can be analysed
    assert not adeff.duplicated(["USUBJID", "PARAMCD", "AVISITN"]).any()
    assert (adeff["ANL01FL"] == "Y").all()
    assert set(adeff["PARAMCD"]) == {
        "IGA",
        "EASI",
        "BSA",
        "ITCHNRS",
        "IGATS",
        "EASI50",
        "EASI75",
        "EASI90",
        "NRS4",
    }


def test_bds_base_chg_pchg():
    adeff, _, _ = _adeff()
    cont = adeff.loc[adeff["PARAMCD"].isin(["IGA", "EASI", "BSA", "ITCHNRS"])]
    bl = cont.loc[cont["ABLFL"] == "Y"]
    assert not bl.duplicated(["USUBJID", "PARAMCD"]).any()
    assert (bl["ADY"] <= 1).all() and (bl["AVISITN"] == 0).all()
    base = cont.set_index(["USUBJID", "PARAMCD"]).index.map(bl.set_index(["USUBJID", "PARAMCD"])["AVAL"])
    np.testing.assert_allclose(cont["BASE"].to_numpy(), np.asarray(base, dtype=float), rtol=0, atol=0)
    np.testing.assert_allclose(cont["CHG"], cont["AVAL"] - cont["BASE"], rtol=0, atol=1e-12)
    pos = cont["BASE"] > 0
    np.testing.assert_allclose(
        cont.loc[pos, "PCHG"], 100 * cont.loc[pos, "CHG"] / cont.loc[pos, "BASE"], rtol=1e-12
    )


@pytest.mark.parametrize("paramcd", ["IGATS", "EASI50", "EASI75", "EASI90", "NRS4"])
def test_every_responder_flag_agrees_with_its_definition(paramcd):
    adeff, _, _ = _adeff()
    src = {"IGATS": "IGA", "NRS4": "ITCHNRS"}.get(paramcd, "EASI")
    r = adeff.loc[(adeff["PARAMCD"] == paramcd) & (adeff["DTYPE"] == "")]
    s = adeff.loc[(adeff["PARAMCD"] == src) & (adeff["DTYPE"] == "")].set_index(["USUBJID", "AVISITN"])
    key = pd.MultiIndex.from_frame(r[["USUBJID", "AVISITN"]])
    aval, base = s["AVAL"].reindex(key).to_numpy(), s["BASE"].reindex(key).to_numpy()
    assert not np.isnan(aval).any()
    if paramcd == "IGATS":
        expect = (aval <= 1) & (base - aval >= 2)
    elif paramcd == "NRS4":
        assert (base >= 4).all()
        expect = base - aval >= 4
    else:
        expect = 100 * (aval - base) / base <= -float(paramcd[4:])
    np.testing.assert_array_equal(r["AVAL"].to_numpy(), expect.astype(float))
    np.testing.assert_array_equal(r["CRIT1FL"].to_numpy(), np.where(expect, "Y", "N"))
    np.testing.assert_array_equal(r["AVALC"].to_numpy(), np.where(expect, "Y", "N"))
    assert len(r) > 0 and 0 < expect.mean() < 1  # both outcomes occur: the check can fail


def test_imputed_records():
    adeff, adsl, study = _adeff()
    vc_end = study.design.schedule.vc_end_day
    imp = adeff.loc[adeff["DTYPE"] != ""]
    assert set(imp["DTYPE"]) <= {"LOCF", "NRI"}
    assert (imp["AVISITN"] * 7 + 1 <= vc_end).all()
    assert (imp.loc[imp["DTYPE"] == "NRI", "AVAL"] == 0).all()
    disc = set(adsl.loc[adsl["EOSDT"] < adsl["TRTSDT"] + pd.Timedelta(days=vc_end - 1), "USUBJID"])
    assert set(imp["USUBJID"]) <= disc
    # LOCF carries the last observed value forward
    locf = imp.loc[(imp["DTYPE"] == "LOCF") & (imp["PARAMCD"] == "EASI")]
    obs = adeff.loc[(adeff["PARAMCD"] == "EASI") & (adeff["DTYPE"] == "")]
    for _, row in locf.head(5).iterrows():
        prior = obs.loc[(obs["USUBJID"] == row["USUBJID"]) & (obs["AVISITN"] < row["AVISITN"])]
        assert row["AVAL"] == prior.sort_values("AVISITN")["AVAL"].iloc[-1]


@settings(max_examples=200, deadline=None)
@given(aval=st.lists(st.integers(0, 4), min_size=1, max_size=30), data=st.data())
def test_compute_responder_iga(aval, data):
    base = data.draw(st.lists(st.integers(2, 3), min_size=len(aval), max_size=len(aval)))
    got = compute_responder("IGATS", np.array(aval), np.array(base))
    want = [(a <= 1) and (b - a >= 2) for a, b in zip(aval, base, strict=True)]
    np.testing.assert_array_equal(got, np.array(want, dtype=float))


@settings(max_examples=200, deadline=None)
@given(aval=st.floats(0, 72), base=st.floats(0.1, 72), nrs=st.floats(0, 10), nrs0=st.floats(0, 10))
def test_compute_responder_easi_nrs(aval, base, nrs, nrs0):
    for cut in (50, 75, 90):
        got = compute_responder(f"EASI{cut}", np.array([aval]), np.array([base]))[0]
        assert got == float(100 * (aval - base) / base <= -cut)
    got = compute_responder("NRS4", np.array([nrs]), np.array([nrs0]))[0]
    if nrs0 < 4:
        assert np.isnan(got)
    else:
        assert got == float(nrs - nrs0 <= -4)


def test_derive_helpers():
    df = pd.DataFrame(
        {
            "USUBJID": ["a", "a", "a", "b", "b"],
            "PARAMCD": "X",
            "ADY": [-3, 1, 8, 1, 15],
            "AVAL": [5.0, 4.0, 2.0, 0.0, 1.0],
        }
    )
    out = derive_var_extreme_flag(
        df,
        by_vars=["USUBJID", "PARAMCD"],
        order=["ADY"],
        new_var="ABLFL",
        mode="last",
        filter_mask=(df["ADY"] <= 1).to_numpy(),
    )
    assert list(out["ABLFL"]) == ["", "Y", "", "Y", ""]
    assert "ABLFL" not in df.columns  # inputs are never modified
    out = derive_var_pchg(derive_var_chg(derive_var_base(out)))
    assert list(out["BASE"]) == [4.0, 4.0, 4.0, 0.0, 0.0]
    assert list(out["CHG"]) == [1.0, 0.0, -2.0, 0.0, 1.0]
    assert out["PCHG"].iloc[2] == -50.0 and np.isnan(out["PCHG"].iloc[4])  # BASE 0 -> missing
    with pytest.raises(InvalidInputError, match="must contain ABLFL"):
        derive_var_base(df)
    with pytest.raises(InvalidInputError, match="paramcd"):
        compute_responder("EASI60", np.array([1.0]), np.array([2.0]))
