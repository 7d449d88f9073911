"""Conduct: study data are consistent (visits, dropout, AEs, extension) and reproducible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dermsim.errors import InvalidInputError
from dermsim.trial import simulate_trial
from dermsim.trial.design import DCSREAS_TERMS
from dermsim.trial.randomization import compute_block_deviation_bound


def _days(study):
    dm = study.dm.set_index("USUBJID")
    start = pd.to_datetime(dm["RFSTDTC"])
    end = pd.to_datetime(dm["RFENDTC"])
    return start, end


@pytest.mark.parametrize("which", ["fake_study", "real_study"])
def test_no_record_after_discontinuation(request, which):
    study = request.getfixturevalue(which)
    disp = study.ds.loc[study.ds["DSCAT"] == "DISPOSITION EVENT"].set_index("USUBJID")
    assert disp.index.is_unique and len(disp) == study.n_subjects
    for dom, var in (("qs", "QSDY"), ("ex", "EXENDY"), ("ae", "AESTDY"), ("ds", "DSSTDY")):
        df = getattr(study, dom)
        last = df["USUBJID"].map(disp["DSSTDY"])
        assert (df[var] <= last).all(), dom
    # dates agree with study days (day 1 = RFSTDTC)
    start, _ = _days(study)
    qs = study.qs
    delta = (pd.to_datetime(qs["QSDTC"]) - qs["USUBJID"].map(start)).dt.days + 1
    np.testing.assert_array_equal(delta.to_numpy(), qs["QSDY"].to_numpy())


def test_ae_onset_within_participation(fake_study):
    ae = fake_study.ae
    assert len(ae) > 0
    start, end = _days(fake_study)
    st = pd.to_datetime(ae["AESTDTC"])
    assert (st >= ae["USUBJID"].map(start)).all()
    assert (st <= ae["USUBJID"].map(end)).all()
    assert (ae["AESTDY"] >= 1).all()
    closed = ae["AEENDTC"] != ""
    assert (pd.to_datetime(ae.loc[closed, "AEENDTC"]) >= st[closed]).all()
    assert set(ae["AESEV"]) <= {"MILD", "MODERATE", "SEVERE"}


def test_discontinuation_reasons_and_extension(fake_study, ad3):
    dm, ds = fake_study.dm, fake_study.ds
    disp = ds.loc[ds["DSCAT"] == "DISPOSITION EVENT", "DSDECOD"]
    assert set(disp) <= {"COMPLETED", *DCSREAS_TERMS}
    # vehicle subjects still on study after week 8 are re-randomized to the active arms
    veh = dm["ARMCD"] == "VEH"
    moved = veh & (dm["ARMCD2"] != "")
    assert moved.sum() > 0
    assert set(dm.loc[moved, "ARMCD2"]) == {"RUX075", "RUX150"}
    counts = dm.loc[moved, "ARMCD2"].value_counts()
    assert abs(counts["RUX075"] - counts["RUX150"]) <= 1  # 1:1 in blocks of 2
    active = ~veh & (dm["ARMCD2"] != "")
    assert (dm.loc[active, "ARMCD2"] == dm.loc[active, "ARMCD"]).all()
    # EX: vehicle then active cream for the re-randomized
    ex = fake_study.ex.loc[fake_study.ex["USUBJID"].isin(dm.loc[moved, "USUBJID"])]
    assert set(ex.loc[ex["EPOCH"] == "VEHICLE-CONTROLLED", "EXDOSE"]) == {0.0}
    assert set(ex.loc[ex["EPOCH"] == "LONG-TERM SAFETY", "EXDOSE"]) <= {0.75, 1.5}
    assert (ex.loc[ex["EPOCH"] == "LONG-TERM SAFETY", "EXSTDY"] == ad3.schedule.vc_end_day + 1).all()


def test_itch_only_at_design_ages(fake_study, ad3):
    qs = fake_study.qs
    age = qs["USUBJID"].map(fake_study.dm.set_index("USUBJID")["AGE"])
    itch = qs["QSTESTCD"] == "ITCHNRS"
    assert itch.any()
    assert (age[itch] >= ad3.itch_min_age_y).all()
    young = fake_study.dm.loc[fake_study.dm["AGE"] < 6, "USUBJID"]
    assert len(young) > 0 and not qs.loc[itch, "USUBJID"].isin(young).any()
    # visits within their windows
    win = {v.visitnum: (v.day - v.window_before_d, v.day + v.window_after_d) for v in ad3.schedule.visits}
    lo = qs["VISITNUM"].map(lambda x: win[x][0])
    hi = qs["VISITNUM"].map(lambda x: win[x][1])
    assert ((qs["QSDY"] >= lo) & (qs["QSDY"] <= hi)).all()


def test_same_seed_same_data_and_seed_matters(ad3, provider):
    a = simulate_trial(ad3, 11, n=80, trajectory_provider=provider)
    b = simulate_trial(ad3, 11, n=80, trajectory_provider=provider)
    c = simulate_trial(ad3, 12, n=80, trajectory_provider=provider)
    for name, df in a.domains().items():
        pd.testing.assert_frame_equal(df, b.domains()[name])
    assert not a.qs.equals(c.qs)


@pytest.mark.slow
def test_real_model_chunk_invariant(ad3):
    """The real path (sample_population + simulate_patients) gives the same data for any chunk."""
    a = simulate_trial(ad3, 3, n=40, chunk_size=40)
    b = simulate_trial(ad3, 3, n=40, chunk_size=7)
    for name, df in a.domains().items():
        pd.testing.assert_frame_equal(df, b.domains()[name])


def test_real_model_treatment_effect(real_study):
    """Week-8 EASI falls more on 1.5% cream than on vehicle (the real model is wired in)."""
    qs = real_study.qs
    easi = qs.loc[qs["QSTESTCD"] == "EASI"].pivot(index="USUBJID", columns="VISITNUM", values="QSSTRESN")
    arm = real_study.dm.set_index("USUBJID")["ARMCD"]
    pchg = (easi[5] - easi[1]) / easi[1]
    by = pchg.groupby(arm.reindex(pchg.index)).mean()
    assert by["RUX150"] < by["VEH"]


def test_no_extension_stops_at_week_8(ad3, provider):
    s = simulate_trial(ad3, 2, n=50, extension=False, trajectory_provider=provider)
    assert s.qs["QSDY"].max() <= ad3.schedule.vc_end_day
    assert (s.dm["ARMCD2"] == "").all()
    assert set(s.ex["EPOCH"]) == {"VEHICLE-CONTROLLED"}


def test_bad_arguments(ad3, provider):
    with pytest.raises(InvalidInputError, match="design must be a TrialDesign"):
        simulate_trial("true-ad3", 1)
    with pytest.raises(InvalidInputError, match="seed"):
        simulate_trial(ad3, -1, n=5, trajectory_provider=provider)
    with pytest.raises(InvalidInputError, match="n must"):
        simulate_trial(ad3, 1, n=0)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(5, 80), extension=st.booleans())
def test_participation_invariants_hold_for_any_seed(ad3, provider, seed, n, extension):
    """For any seed and size: no record after the disposition day, AE onset within participation,
    exactly one disposition per subject, arm sizes within one incomplete block per stratum."""
    s = simulate_trial(ad3, seed, n=n, extension=extension, trajectory_provider=provider)
    disp = s.ds.loc[s.ds["DSCAT"] == "DISPOSITION EVENT"].set_index("USUBJID")["DSSTDY"]
    assert disp.index.is_unique and len(disp) == n
    for df, var in ((s.qs, "QSDY"), (s.ex, "EXENDY"), (s.ae, "AESTDY"), (s.ds, "DSSTDY")):
        assert (df[var] <= df["USUBJID"].map(disp)).all()
    assert (s.ae["AESTDY"] >= 1).all()
    counts = s.dm["ARMCD"].value_counts().reindex(["RUX075", "RUX150", "VEH"]).fillna(0).to_numpy()
    bound = compute_block_deviation_bound(
        ad3.ratio, ad3.stratification.block_size, ad3.stratification.n_strata
    )
    assert (np.abs(counts - n * np.array([2, 2, 1]) / 5) <= bound).all()


def test_withdrawal_for_adverse_event_has_its_event(fake_study):
    """Every DCSREAS ADVERSE EVENT has an AE with AEACN DRUG WITHDRAWN on the disposition day."""
    disp = fake_study.ds.loc[fake_study.ds["DSCAT"] == "DISPOSITION EVENT"].set_index("USUBJID")
    ae_out = disp.loc[disp["DSDECOD"] == "ADVERSE EVENT"]
    wd = fake_study.ae.loc[fake_study.ae["AEACN"] == "DRUG WITHDRAWN"].set_index("USUBJID")
    assert len(ae_out) > 0
    assert set(wd.index) == set(ae_out.index)
    assert (wd["AESTDY"] == ae_out.loc[wd.index, "DSSTDY"]).all()
    assert (wd["AESEV"] == "MODERATE").all()
    assert set(fake_study.ae["AEACN"]) <= {"DRUG WITHDRAWN", "DOSE NOT CHANGED"}


@pytest.mark.parametrize("name", ["true-ad1", "true-ad2", "true-ad3"])
def test_every_builtin_design_runs_to_adam(name, provider):
    from dermsim.cdisc import derive_adae, derive_adeff, derive_adsl
    from dermsim.cdisc.schemas import check_dataset
    from dermsim.trial import load_design

    s = simulate_trial(load_design(name), 1, n=60, trajectory_provider=provider)
    adsl = derive_adsl(s)
    check_dataset("ADSL", adsl, strict=True)
    check_dataset("ADEFF", derive_adeff(s, adsl), strict=True)
    check_dataset("ADAE", derive_adae(s, adsl), strict=True)


def test_ae_incidence_matches_the_label_table(ad3, provider):
    """Without dropout, the share of subjects with >= 1 event in the VC period matches the
    constant-hazard calibration of each table row (binomial 4-SE band)."""
    from dermsim.trial.design import DropoutModel

    no_drop = ad3.replace(dropout=DropoutModel(hazard_per_week=0.0, reasons=ad3.dropout.reasons))
    s = simulate_trial(no_drop, 5, n=3000, extension=False, trajectory_provider=provider)
    arm = s.dm.set_index("USUBJID")["ARMCD"]
    vc_days = ad3.schedule.vc_end_day
    ae = s.ae.loc[s.ae["AEACN"] != "DRUG WITHDRAWN"].copy()
    by_pt = {pt.decod: t for t in ad3.adverse_events.terms for pt in t.preferred_terms}
    ae["TERM"] = ae["AEDECOD"].map(lambda d: by_pt[d].name)
    checked = 0
    for term in ad3.adverse_events.terms:
        for a in ad3.arms:
            p = 1 - np.exp(-term.hazard_per_day(a.id) * vc_days)
            subj = arm.index[arm == a.armcd]
            hit = ae.loc[(ae["TERM"] == term.name) & ae["USUBJID"].isin(subj), "USUBJID"].nunique()
            se = np.sqrt(max(p * (1 - p), 1e-4) / subj.size)
            assert abs(hit / subj.size - p) <= 4 * se, (term.name, a.id, hit / subj.size, p)
            checked += p > 0
    assert checked >= 10


def test_rerandomized_patients_continue_from_their_own_end_of_period_state(ad3, provider):
    """The extension of a re-randomized (vehicle) patient starts where that patient stood at the end
    of the vehicle-controlled period, not from baseline; patients who stay on their arm run on."""
    from dermsim._rng import child_sequence
    from dermsim.model.population.sampling import sample_population
    from dermsim.trial.conduct import _arm_regimen, _simulate_groups

    calls = []

    def recording(*args, **kw):
        calls.append(kw.get("initial_state"))
        return provider(*args, **kw)

    pop = sample_population(ad3.population, 40, 3)
    ids = ad3.arm_ids
    veh, rux = ids.index("vehicle"), ids.index("rux150")
    arm_idx = np.where(np.arange(40) % 2 == 0, veh, rux)
    vc, lts = ad3.schedule.vc_end_day, 28
    out, ext, _exposure = _simulate_groups(ad3, pop, arm_idx, np.zeros(40, dtype=np.int64), np.ones(40),
                                {veh: [rux]}, vc, lts, np.random.SeedSequence(1), 100, recording)
    starts = [s for s in calls if s is not None]
    assert len(starts) == 2 and all(s["day"] == vc - 1 for s in starts)
    moved = arm_idx == veh
    # continuous at the switch: one day of active treatment after the week-8 value (the fake decays
    # by at most 6 % per day), far below the baseline EASI a restart from baseline would give
    ratio = ext[rux]["easi"][moved, 0] / out["easi"][moved, vc - 1]
    assert np.all((ratio < 1) & (ratio > 0.94))
    # the same arm continued from the saved state equals one uninterrupted run (group 1: vehicle)
    whole = provider(pop.take(np.flatnonzero(moved)), _arm_regimen(ad3, "vehicle", 1.0), vc + lts - 1,
                     child_sequence(np.random.SeedSequence(1), 1), record=("easi",), chunk_size=100)
    np.testing.assert_allclose(out["easi"][moved], whole["easi"], rtol=1e-12)
