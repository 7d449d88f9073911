"""simulate_patients with regimens over time: restart from a saved state, disease memory, the
emollient state, as-needed rules, the documented example regimens and ``--regimen``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from _vp import make_population

from dermsim.cli import main
from dermsim.errors import InvalidInputError
from dermsim.model.disease.scores import compute_iga_grade
from dermsim.model.parameters import default_parameters
from dermsim.model.pharmacology.regimen import AsNeeded, Period, Regimen
from dermsim.model.simulate import _population_columns, prepare_patients, simulate_patients

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "regimens"
RECORD = ("easi", "easi_mean", "iga", "nrs", "nrs_weekly", "B", "P", "Th2", "Q", "M", "D", "cp_nM", "u",
          "occupancy", "emollient", "applications")


@pytest.fixture(scope="module")
def pop():
    return make_population(120, seed=21, adult=True)


def _joined(a, b, name):
    return np.concatenate([a[name], b[name][:, 1:]], axis=1)


@pytest.mark.parametrize("regimen", [
    Regimen.bid(1.5),
    Regimen(periods=(Period(days=20), Period(as_needed=AsNeeded(start_at=2, stop_at=0)))),
], ids=["bid", "as-needed"])
def test_restart_from_a_saved_state_equals_an_uninterrupted_run(pop, regimen):
    full = simulate_patients(pop, regimen, 56, seed=4, record=RECORD)
    first = simulate_patients(pop, regimen, 28, seed=4, record=RECORD, chunk_size=50)
    # the as-needed regimen restarts inside its rule period (its schedule starts again at the state's day)
    rest_regimen = regimen if regimen.is_continuous else Regimen(periods=(Period(as_needed=AsNeeded()),))
    second = simulate_patients(pop, rest_regimen, 28, seed=4, record=RECORD, initial_state=first.final_state)
    assert second.day[0] == 28 and second.day[-1] == 56 and second.final_state.day == 56
    for name in RECORD:
        joined = _joined(first, second, name)
        if name == "iga":
            assert np.array_equal(joined, full[name])
        else:
            np.testing.assert_allclose(joined, full[name], rtol=0, atol=1e-10, equal_nan=True, err_msg=name)
    for k in ("iga_ts", "easi75", "easi_pct_change", "nrs4"):
        np.testing.assert_allclose(second.endpoints(56)[k], full.endpoints(56)[k], atol=1e-10,
                                   equal_nan=True, err_msg=k)
    if not regimen.is_continuous:
        assert (full["applications"][:, 22:] == 0).any()  # the rule did switch patients off


def test_initial_state_must_match_the_run(pop):
    state = simulate_patients(pop, Regimen.bid(1.5), 3, seed=4, record=["D"]).final_state
    with pytest.raises(InvalidInputError, match="initial_state must come from a run with the same seed"):
        simulate_patients(pop, Regimen.bid(1.5), 3, seed=5, initial_state=state)
    with pytest.raises(InvalidInputError, match="initial_state must hold the population's 10 patients"):
        simulate_patients(make_population(10, seed=1), Regimen.bid(1.5), 3, seed=4, initial_state=state)


@pytest.mark.parametrize("stop", [
    Regimen(periods=(Period(days=21), Period(holiday=True))),
    Regimen(periods=(Period(days=21), Period(strength_pct=0.0))),
    Regimen(periods=(Period(days=21), Period(weekdays=("sat", "sun")))),
    Regimen(periods=(Period(days=14), Period(days=7, holiday=True), Period())),
], ids=["stop", "switch-to-vehicle", "weekend", "holiday"])
def test_stopping_never_leaves_the_skin_better_than_continuing(pop, stop):
    days = 84
    rec = ("easi", "iga", "D", "M")
    cont = simulate_patients(pop, Regimen.bid(1.5), days, seed=8, record=rec)
    less = simulate_patients(pop, stop, days, seed=8, record=rec)
    tol = 1e-9
    assert np.all(less["D"] >= cont["D"] - tol) and np.all(less["M"] >= cont["M"] - tol)
    # same patients, same noise per day: the scores follow the severity
    assert np.all(less["easi"] >= cont["easi"] * (1 - 1e-9)) and np.all(less["iga"] >= cont["iga"])


def test_disease_memory_makes_relapse_take_weeks(pop):
    """After 8 weeks BID, relapse of the treated patients follows the memory (weeks), and the
    memory slows it: with m_mem = 0 (the first model) the skin returns faster."""
    stop = Regimen(periods=(Period(days=56), Period(holiday=True)))
    with_mem = simulate_patients(pop, stop, 112, seed=2, record=["D", "M"])
    params = default_parameters().replace_omegas(m_mem=0.0).replace_values(m_mem=0.0)
    without = simulate_patients(pop, stop, 112, seed=2, record=["D", "M"], params=params)
    r, r0 = with_mem["D"] / with_mem["D"][:, :1], without["D"] / without["D"][:, :1]
    assert r[:, 56].mean() < 0.7 and with_mem["M"][:, 56].mean() < 0.8
    # two weeks after stopping most of the improvement is still there, and more of it than without memory
    assert (1 - r[:, 70]).mean() > 0.5 * (1 - r[:, 56]).mean()
    assert (1 - r[:, 70]).mean() > (1 - r0[:, 70]).mean()
    # an untreated patient stays where they were (the baseline is the steady state with M = 1)
    none = simulate_patients(pop, Regimen(periods=(Period(holiday=True),)), 60, seed=2, record=["D", "M"])
    np.testing.assert_allclose(none["D"], np.broadcast_to(none["D"][:, :1], none["D"].shape), rtol=1e-9)
    np.testing.assert_allclose(none["M"], 1.0, rtol=1e-12)


@pytest.mark.parametrize(("hi", "lo"), [
    (Regimen.bid(1.5), Regimen.bid(0.75)),
    (Regimen.bid(1.5), Regimen(strength_pct=1.5, application_times_h=(0,))),
    (Regimen.bid(1.5, grams_per_application=3.0), Regimen.bid(1.5, grams_per_application=1.0)),
    (Regimen.bid(1.5), Regimen(periods=(Period(days=10), Period(holiday=True)))),
], ids=["strength", "bid-vs-qd", "grams", "stop"])
def test_more_drug_never_means_less_inhibition(pop, hi, lo):
    a = simulate_patients(pop, hi, 35, seed=3, record=["occupancy", "D"])
    b = simulate_patients(pop, lo, 35, seed=3, record=["occupancy", "D"])
    assert np.all(a["occupancy"] >= b["occupancy"] - 1e-12)
    assert np.all(a["D"] <= b["D"] + 1e-9)


def test_the_vehicle_effect_follows_applications(pop):
    veh = Regimen(strength_pct=0.0)
    off = Regimen(strength_pct=0.0, periods=(Period(days=14), Period(days=14, holiday=True), Period()))
    qd = Regimen(strength_pct=0.0, application_times_h=(0,))
    rec = ["emollient", "D", "applications"]
    a, b, c = (simulate_patients(pop, r, 42, seed=5, record=rec) for r in (veh, off, qd))
    vp = default_parameters().group("vehicle")
    # daily BID use from day 0: E = 1 - exp(-t / tau_v), the first model's time course
    t_week = np.arange(43) / 7.0
    np.testing.assert_allclose(a["emollient"][0], -np.expm1(-t_week / vp["tau_v"].value), rtol=1e-12)
    # a holiday lets it fade, at the offset time constant; QD gives half the drive
    assert np.all(b["emollient"][:, 15:29] < a["emollient"][:, 15:29])
    assert np.all(np.diff(b["emollient"][:, 14:29], axis=1) < 0)
    assert np.all(b["applications"][:, 15:29] == 0) and np.all(b["applications"][:, 29:] == 2)
    assert np.all(c["emollient"][:, 1:] < a["emollient"][:, 1:]) and np.all(c["D"] >= a["D"] - 1e-12)


def test_as_needed_rule_reads_the_patients_own_latent_iga(pop):
    rule = AsNeeded(metric="iga", start_at=2, stop_at=0)
    reg = Regimen(periods=(Period(days=28), Period(as_needed=rule)))
    tr = simulate_patients(pop, reg, 120, seed=6, record=["easi_mean", "D", "applications"])
    prep = prepare_patients(_population_columns(pop), reg, default_parameters(), 6, 0, pop.n)
    ratio = tr["D"] / tr["D"][:, :1]
    grade = np.stack([compute_iga_grade(tr["easi_mean"][:, d], ratio[:, d], prep.iga_offset, prep.observation)
                      for d in range(121)], axis=1)
    applied = tr["applications"][:, 1:] > 0          # column d + 1: applications on day d
    assert applied[:, :28].all()
    # on each rule day: grade >= start_at -> applies; grade <= stop_at -> does not
    g = grade[:, 28:120]
    on = applied[:, 28:120]
    assert np.all(on[g >= 2]) and not np.any(on[g == 0])
    # grade 1: yesterday's decision holds (hysteresis)
    mid = g == 1
    prev = np.concatenate([applied[:, 27:28], on[:, :-1]], axis=1)
    assert np.array_equal(on[mid], prev[mid])
    assert 0 < (~on).mean() < 1


@pytest.mark.parametrize("name", ["continuous_bid_8wk", "qd_2wk_then_bid", "holiday_1wk",
                                  "weekend_maintenance", "as_needed_52wk"])
def test_example_regimens_run(pop, name):
    reg = Regimen.from_toml(EXAMPLES / f"{name}.toml")
    small = make_population(25, seed=3, adult=True)
    tr = simulate_patients(small, reg, reg.total_days, seed=1,
                           record=["easi", "iga", "applications", "cp_nM"])
    plan = reg.compile(reg.total_days)
    assert tr["easi"].shape == (25, reg.total_days + 1) and np.all(np.isfinite(tr["easi"]))
    if name != "as_needed_52wk":
        expected = np.broadcast_to(plan.n_applications, (25, reg.total_days))
        assert np.array_equal(tr["applications"][:, 1:], expected)
    else:
        off = tr["applications"][:, 57:] == 0
        assert off.any() and (~off).any()
    assert np.all(tr["cp_nM"][:, 1:][:, plan.n_applications > 0] > 0)


def test_cli_simulate_with_a_regimen_file(tmp_path, monkeypatch, capsys):
    import dermsim.workflows.model as sim_workflow

    monkeypatch.setattr(sim_workflow, "_sample",
                        lambda name, n, seed: make_population(n, seed=seed, name=name))
    out = tmp_path / "traj.parquet"
    reg = EXAMPLES / "qd_2wk_then_bid.toml"
    assert main(["simulate", "--regimen", str(reg), "--n", "8", "--seed", "1", "--out", str(out),
                 "--posterior", "prior"]) == 0
    table = pq.read_table(out)
    assert table.num_rows == 8 * 57
    meta = json.loads(table.schema.metadata[b"dermsim"])
    assert meta["regimen"]["periods"][0] == {"days": 14, "application_times_h": [0.0]}
    bad = tmp_path / "bad.toml"
    bad.write_text("[[periods]]\ndays = 0\n")
    assert main(["simulate", "--regimen", str(bad), "--n", "8", "--seed", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "regimen bad.toml: field periods.0" in err and len(err.splitlines()) == 1


def test_shorter_steps_on_days_when_drug_starts_or_is_applied_once():
    """Day 0 of a course and the first day after a holiday or vehicle period take shorter steps (the
    response is fastest then); a restart with drug on board does not. Once-daily days always do (the
    exposure swings to a deep trough within the day)."""
    from dermsim.model.simulate import _refined_days

    reg = Regimen(periods=(Period(days=3), Period(days=2, holiday=True), Period(days=2, strength_pct=0.0),
                           Period(days=2)))
    plan = reg.compile(9)
    assert np.flatnonzero(_refined_days(plan, drug_before=False)).tolist() == [0, 7]
    assert np.flatnonzero(_refined_days(plan, drug_before=True)).tolist() == [7]
    qd = Regimen(periods=(Period(days=2), Period(days=2, application_times_h=(0.0,))))
    assert np.flatnonzero(_refined_days(qd.compile(4), drug_before=True)).tolist() == [2, 3]


def test_once_daily_course_within_the_engine_bound():
    """EASI of a once-daily course with the default steps within 0.05 of 0.5 h steps (8 h steps
    were 0.52 off before once-daily days were refined)."""
    from dermsim.model.population.sampling import sample_population

    pop = sample_population("true-ad1", 200, seed=8)
    reg = Regimen(strength_pct=1.5, application_times_h=(0.0,))
    ref = simulate_patients(pop, reg, 21, 1, record=("easi",), max_step_h=0.5)["easi"]
    got = simulate_patients(pop, reg, 21, 1, record=("easi",))["easi"]
    assert np.abs(got - ref).max() <= 0.05
