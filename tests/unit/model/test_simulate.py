"""simulate_patients: reproducibility, chunking, mechanistic sanity, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _vp import make_population

from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.model.parameters import load_parameters, read_parameter_file
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.simulate import simulate_patients

DAYS = 28


@pytest.fixture(scope="module")
def pop():
    return make_population(300, seed=11)


def test_baseline_scores_equal_the_population(pop):
    tr = simulate_patients(pop, Regimen(strength_pct=1.5), DAYS, seed=3, record="all")
    np.testing.assert_allclose(tr["easi"][:, 0], pop.easi0, rtol=1e-12)
    assert np.array_equal(tr["iga"][:, 0], pop.iga0)
    old = pop.age_y >= 6
    np.testing.assert_allclose(tr["nrs_weekly"][old, 0], pop.nrs0[old], rtol=1e-12)
    assert np.all(np.isnan(tr["nrs_weekly"][~old]))
    assert tr["cp_nM"][:, 0].max() == 0.0 and tr["easi"].shape == (300, DAYS + 1)
    assert np.all((tr["easi"] >= 0) & (tr["easi"] <= 72))
    assert tr.to_frame("wide").shape == (300 * (DAYS + 1), 2 + len(tr.values))
    assert set(tr.metadata()) >= {"seed", "version", "regimen", "population"}


def test_chunk_size_and_workers_do_not_change_results(pop):
    a = simulate_patients(pop, Regimen(strength_pct=0.75), DAYS, seed=5, chunk_size=1000)
    b = simulate_patients(pop, Regimen(strength_pct=0.75), DAYS, seed=5, chunk_size=37, workers=2)
    for name in a.values:
        np.testing.assert_array_equal(a[name], b[name])


_RUN = """
import sys, numpy as np
sys.path.insert(0, {here!r})
from _vp import make_population
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.simulate import simulate_patients
tr = simulate_patients(make_population(300, seed=11), Regimen(strength_pct=1.5), {days}, seed=9)
np.savez({out!r}, **tr.values)
"""


@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_noise_free_records_skip_the_score_noise_and_keep_every_number(pop, engine, monkeypatch):
    from dermsim.model import simulate

    noisy = simulate_patients(pop, Regimen.bid(1.5), DAYS, 4, engine=engine,
                              record=("easi", "iga", "easi_mean", "nrs_weekly", "cp_nM", "D"))
    streams: list[int] = []
    draw = simulate.block_normals_by_day

    def counted(seed, stream, *args, **kwargs):
        streams.append(stream)
        return draw(seed, stream, *args, **kwargs)

    monkeypatch.setattr(simulate, "block_normals_by_day", counted)
    quiet = simulate_patients(pop, Regimen.bid(1.5), DAYS, 4, engine=engine,
                              record=("easi_mean", "nrs_weekly", "cp_nM", "D"))
    assert set(streams) == {simulate._S_NRS}  # the EASI and IGA-visit noise only for noisy scores
    for name in ("easi_mean", "nrs_weekly", "cp_nM", "D"):
        np.testing.assert_array_equal(quiet[name], noisy[name], err_msg=name)
    np.testing.assert_array_equal(quiet.final_state.nrs_tail, noisy.final_state.nrs_tail)


def test_same_seed_gives_identical_arrays_in_two_independent_runs(tmp_path):
    outs = []
    for k in range(2):
        out = tmp_path / f"run{k}.npz"
        code = _RUN.format(here=str(Path(__file__).parent), days=DAYS, out=str(out))
        subprocess.run([sys.executable, "-c", code], check=True)
        outs.append(np.load(out))
    for name in outs[0].files:
        np.testing.assert_array_equal(outs[0][name], outs[1][name])
    other = simulate_patients(make_population(300, seed=11), Regimen(strength_pct=1.5), DAYS, seed=10)
    assert not np.array_equal(other["easi"], outs[0]["easi"])


def test_vehicle_improves_less_than_active(pop):
    res = {s: simulate_patients(pop, Regimen(strength_pct=s), 56, seed=2) for s in (0.0, 0.75, 1.5)}
    change = {s: np.mean(r.endpoints(56)["easi_pct_change"]) for s, r in res.items()}
    success = {s: np.mean(r.endpoints(56)["iga_ts"]) for s, r in res.items()}
    assert change[0.0] < 0                          # the vehicle (emollient) helps a little
    assert change[1.5] < change[0.75] < change[0.0]
    assert success[1.5] >= success[0.75] > success[0.0]
    # same patients, common random numbers: active beats vehicle patient by patient in D
    assert np.all(res[1.5]["D"][:, -1] <= res[0.0]["D"][:, -1] + 1e-9)


def test_blocking_all_pathways_beats_any_single_one(pop):
    reg = Regimen(strength_pct=1.5)
    d_all = simulate_patients(pop, reg, DAYS, seed=4, blocked="all", record=["D"])["D"][:, -1]
    for name in ("IL4", "IL13", "IL31", "IL22", "TSLP", "IFNg"):
        d_one = simulate_patients(pop, reg, DAYS, seed=4, blocked=[name], record=["D"])["D"][:, -1]
        assert np.mean(d_all) < np.mean(d_one), name


def test_more_strength_more_exposure_patient_by_patient(pop):
    rec = ["u", "cp_nM", "D", "occupancy"]
    lo = simulate_patients(pop, Regimen(strength_pct=0.75), 14, seed=6, record=rec)
    hi = simulate_patients(pop, Regimen(strength_pct=1.5), 14, seed=6, record=rec)
    assert np.all(hi["u"] >= lo["u"]) and np.all(hi["cp_nM"] >= lo["cp_nM"])
    assert np.all(hi["occupancy"] >= lo["occupancy"])          # hence every pathway's block
    assert np.all(hi["css_nM"] >= lo["css_nM"])


def test_label_use_adult_css_is_tens_of_nM():
    """Targets, not outputs: Gong 2021 mean Css 23.8 nM (0.75 %) and 35.7 nM (1.5 %); 281 nM threshold."""
    adults = make_population(2000, seed=1, adult=True)   # 3-20 % BSA: label-conforming
    for strength in (0.75, 1.5):
        css = simulate_patients(adults, Regimen(strength_pct=strength), 1, seed=1, record=["D"])["css_nM"]
        assert 10.0 <= np.median(css) <= 60.0
        assert np.mean(css) < 100.0 and np.median(css) < 281.0 / 5


def test_bad_input_is_rejected_with_the_field_named(pop, tmp_path):
    with pytest.raises(InvalidInputError, match="days must be an integer >= 1"):
        simulate_patients(pop, Regimen(), 0, seed=1)
    with pytest.raises(InvalidInputError, match="at least 1 patient"):
        simulate_patients(make_population(0, seed=1), Regimen(), 5, seed=1)
    with pytest.raises(InvalidInputError, match="record must hold names"):
        simulate_patients(pop, Regimen(), 5, seed=1, record=["nope"])
    with pytest.raises(InvalidInputError, match="seed is required"):
        simulate_patients(pop, Regimen(), 5, seed=None)
    bad = tmp_path / "pk.toml"
    bad.write_text('[parameters.CL]\nvalue = 19.0\ndescription = "clearance"\nsource = "label"\n')
    with pytest.raises(DataValidationError, match=r"pk.toml: parameter 'CL' has no 'unit'"):
        read_parameter_file(bad)
    bad.write_text('[parameters.CL]\nvalue = 19.0\nunit = "L/h"\ndescription = "clearance"\nsource = ""\n')
    with pytest.raises(DataValidationError, match=r"pk.toml: parameter 'CL' 'source' must be a non-empty"):
        read_parameter_file(bad)


def test_parameter_set_round_trip_and_copy_on_write():
    ps = load_parameters()
    assert type(ps).from_dict(json.loads(json.dumps(ps.to_dict()))) == ps
    changed = ps.replace_values(CL=20.0)
    assert changed.value("CL") == 20.0 and ps.value("CL") == 19.0
    with pytest.raises(InvalidInputError, match="parameter name must be one of"):
        ps.replace_values(nope=1.0)
    missing_source = [p.name for g in ps.groups.values() for p in g.values() if not p.source or not p.unit]
    assert missing_source == []


def test_daily_inhibition_per_pathway_and_a_single_pathway_biologic(pop):
    jak = simulate_patients(pop, Regimen(strength_pct=1.5), 7, seed=8, record=["occupancy"])
    il13 = simulate_patients(pop, Regimen(strength_pct=1.5), 7, seed=8, record=["occupancy"],
                             blocked=["IL13"])
    inh, inh13 = jak.inhibition(), il13.inhibition()
    assert np.all(inh["IL13"][:, 0] == 0) and np.all(inh["IL13"][:, 1:] > 0)
    assert np.all(inh["IL4"] <= inh["IL13"])          # IL-4 (JAK1 + JAK3) is only partly blocked
    assert np.all(inh13["IL31"] == 0) and np.all(inh13["IL13"] == inh["IL13"])
    assert np.all(inh["IL13"] < 1)


def test_runs_on_the_population_contract_class(pop):
    population = pytest.importorskip("dermsim.model.population.sampling")
    n = pop.n
    real = population.Population(
        name="contract", seed={"entropy": 0, "spawn_key": []}, age_y=pop.age_y, sex=pop.sex,
        weight_kg=pop.weight_kg, height_cm=pop.height_cm, bsa_m2=pop.bsa_m2, regions=("trunk",),
        region_pct=pop.affected_pct[:, None], affected_pct=pop.affected_pct,
        easi_region_pct=np.full((n, 4), 10.0), iga0=pop.iga0, easi0=pop.easi0, nrs0=pop.nrs0)
    a = simulate_patients(real, Regimen(strength_pct=1.5), 5, seed=3)
    b = simulate_patients(pop, Regimen(strength_pct=1.5), 5, seed=3)
    np.testing.assert_array_equal(a["easi"], b["easi"])
    assert a.population_name == "contract"


def test_more_treated_area_more_exposure_patient_by_patient():
    small = make_population(200, seed=12, affected_pct=5.0)
    large = make_population(200, seed=12, affected_pct=15.0)     # same patients, 3x the treated area
    reg = Regimen(strength_pct=0.75)
    lo = simulate_patients(small, reg, 14, seed=6, record=["u", "cp_nM", "occupancy"])
    hi = simulate_patients(large, reg, 14, seed=6, record=["u", "cp_nM", "occupancy"])
    assert np.all(hi["cp_nM"] >= lo["cp_nM"]) and np.all(hi["css_nM"] > lo["css_nM"])
    # the FTU rule keeps the cream load per cm2 equal, so the local exposure (flux per area) is the
    # same on 3x the area (issue 12); only the systemic amount grows
    np.testing.assert_allclose(hi["u"], lo["u"], rtol=1e-9)
    np.testing.assert_allclose(hi["occupancy"], lo["occupancy"], rtol=1e-9)
    assert np.all(hi["grams_per_week"] > lo["grams_per_week"])


def test_regional_easi_on_the_sampled_population():
    population = pytest.importorskip("dermsim.model.population.sampling")
    if not hasattr(population, "sample_population"):
        pytest.skip("sample_population is not present")
    pop = population.sample_population("true-ad3", 200, 4)
    tr = simulate_patients(pop, Regimen(strength_pct=1.5), 28, seed=4, record=["easi", "easi_regional"])
    np.testing.assert_allclose(tr["easi_regional"][:, 0], pop.easi0, rtol=1e-9)
    assert np.mean(tr["easi_regional"][:, -1]) < np.mean(pop.easi0)
    with pytest.raises(InvalidInputError, match="easi_region_pct"):
        simulate_patients(make_population(5, seed=1), Regimen(), 3, seed=1, record=["easi_regional"])
