"""Engine benchmark: 100,000 virtual children, 1.5 % cream BID 8 h apart, 8 weeks, daily outputs.

Rows: the batched engine (parameter draw + steady state + 56 days, NumPy, 1 and 2 threads), and
on the first ``N_BASE`` of the same patients, patient by patient: scipy solve_ivp (LSODA, rtol
1e-9; the accuracy reference) and libRoadRunner running each patient's exported SBML (load +
simulate; CVODE rtol 1e-10). Ratios are engine patient-days/s over each row's patient-days/s;
"max |dEASI|" is the largest noise-free EASI difference from LSODA at any daily output.
"""

from __future__ import annotations

import os
import resource
import time

import numpy as np
import pandas as pd

from dermsim.model.reference import simulate_reference
from dermsim.model.regimen import Regimen
from dermsim.model.sbml import build_patient_sbml
from dermsim.model.scores import compute_easi_trajectory
from dermsim.model.simulate import PatientColumns, simulate_patients

N = 100_000
N_BASE = 20
DAYS = 56
SEED = 2026


def _children(n: int, seed: int) -> PatientColumns:
    """Stand-in TRuE-AD3-like children 2-11 y, used only when the population sampler is absent."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(2, 12, n)
    height = 80 + 6.0 * age + rng.normal(0, 5, n)
    weight = np.clip(2.3 * age + 8 + rng.normal(0, 2, n), 9, 60)
    iga0 = np.where(rng.random(n) < 0.7, 3, 2).astype(np.int8)
    return PatientColumns(age_y=age, weight_kg=weight, bsa_m2=np.sqrt(height * weight / 3600),
                          affected_pct=rng.uniform(3, 20, n),
                          easi0=np.where(iga0 == 3, rng.uniform(6, 18, n), rng.uniform(2, 7, n)),
                          iga0=iga0, nrs0=rng.uniform(2, 8, n), name="bench children")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _population(n: int, seed: int):
    """TRuE-AD3 virtual children from the population sampler, or the stand-in if it is absent."""
    try:
        from dermsim.model.population import sample_population
    except ImportError:
        return _children(n, seed), "stand-in children"
    t0 = time.perf_counter()
    pop = sample_population("true-ad3", n, seed)
    return pop, f"sample_population('true-ad3') {time.perf_counter() - t0:.1f} s (not in the engine time)"


def main():
    pop, pop_note = _population(N, SEED)
    reg = Regimen(strength_pct=1.5)
    rows = []
    rss0 = _peak_rss_mib()
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    record = ["easi_mean", "cp_nM"]
    eng2 = simulate_patients(pop, reg, DAYS, SEED, workers=2, chunk_size=12_500, record=record)
    t_eng2, c_eng2 = time.perf_counter() - t0, time.process_time() - c0
    rss_eng = _peak_rss_mib()
    t0, c0 = time.perf_counter(), time.process_time()
    eng1 = simulate_patients(pop, reg, DAYS, SEED, workers=1, chunk_size=12_500, record=record)
    t_eng1, c_eng1 = time.perf_counter() - t0, time.process_time() - c0
    assert np.array_equal(eng1["easi_mean"], eng2["easi_mean"])  # threads never change the numbers
    rate_eng = N * DAYS / t_eng2

    base = np.arange(N_BASE)
    t0 = time.perf_counter()
    ref = simulate_reference(pop, reg, DAYS, SEED, patients=base, method="LSODA", rtol=1e-9, atol=1e-12)
    t_ref = time.perf_counter() - t0
    import roadrunner

    rr_easi, t_rr_load, t_rr_sim = [], 0.0, 0.0
    for i in base:
        t0 = time.perf_counter()
        model = roadrunner.RoadRunner(build_patient_sbml(pop, reg, SEED, patient=int(i)))
        model.integrator.relative_tolerance = 1e-10
        model.integrator.absolute_tolerance = 1e-12
        model.timeCourseSelections = ["time", "D"]
        t1 = time.perf_counter()
        res = model.simulate(0.0, 24.0 * DAYS, DAYS + 1)
        t2 = time.perf_counter()
        t_rr_load += t1 - t0
        t_rr_sim += t2 - t1
        rr_easi.append(compute_easi_trajectory(pop.easi0[i:i + 1], np.asarray(res[:, 1])[None, :], 1.5)[0])
    rr_easi = np.array(rr_easi)

    def diff(easi):
        return float(np.max(np.abs(easi - ref["easi_mean"])))

    cp_rel = float(np.max(np.abs(eng2["cp_nM"][base, 1:] - ref["cp_nM"][:, 1:]) / ref["cp_nM"][:, 1:]))
    notes = (f"peak RSS {rss_eng:.0f} MiB; plasma max rel. diff vs LSODA {cp_rel:.1e}; {pop_note}; "
             f"1-min load average at start {load:.1f} on {os.cpu_count()} CPUs")
    for label, n, secs, d, note in [
        ("dermsim engine, NumPy, 2 threads (draw + steady state + 8 wk)", N, t_eng2,
         diff(eng2["easi_mean"][base]), notes + f"; CPU {c_eng2:.1f} s"),
        ("dermsim engine, NumPy, 1 thread", N, t_eng1, diff(eng1["easi_mean"][base]),
         f"CPU {c_eng1:.1f} s = {N * DAYS / c_eng1:.0f} patient-days per CPU-second"),
        ("scipy solve_ivp LSODA rtol 1e-9, per patient", N_BASE, t_ref, 0.0, "accuracy reference"),
        ("libRoadRunner, exported SBML, per patient: simulate only", N_BASE, t_rr_sim, diff(rr_easi),
         "CVODE rtol 1e-10"),
        ("libRoadRunner, exported SBML, per patient: load + simulate", N_BASE, t_rr_load + t_rr_sim,
         diff(rr_easi), "includes SBML parse and JIT"),
    ]:
        rate = n * DAYS / secs
        rows.append({"implementation": label, "patients": n, "seconds": round(secs, 2),
                     "patient_days_per_s": round(rate), "ratio_engine_over_this": round(rate_eng / rate, 1),
                     "max_abs_easi_diff_vs_lsoda": f"{d:.1e}", "notes": note})
    print(f"100k patients draw -> week 8 in {t_eng2:.2f} s; {notes} (before the engine run {rss0:.0f} MiB)")
    return pd.DataFrame(rows)


if __name__ == "__main__":
    print(main().to_string(index=False))
