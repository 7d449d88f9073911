"""Engine benchmark (issue 16's table): 100,000 TRuE-AD3 virtual children, 1.5 % cream BID 8 h
apart, 8 weeks, daily outputs, second-version model.

Rows, all in one run so that ratios compare like with like:

* the compiled engine (numba kernel, all cores and one thread) and the NumPy reference path on the
  same patients, from parameter draw to week 8 (draw + steady state + 56 days + scores);
* on the first ``N_BASE`` of them: scipy solve_ivp (LSODA rtol 1e-9, the accuracy reference, the
  patients stacked into one system) and libRoadRunner patient by patient on each one's exported SBML;
* cold and warm start: a fresh process simulating 2,000 patients for 8 weeks with an empty numba
  cache directory (compiles) and an empty dermsim disk cache (fits the population's severity law),
  and again with both filled;
* ``dermsim simulate ... --n 100000 --weeks 8 --out t.parquet`` end to end (process start to file
  closed) and ``dermsim design power true-ad3 --n 330 --replicates R`` end to end (R from
  ``DERMSIM_BENCH_REPLICATES``, default the issue's 10,000; a smaller R's time is also given scaled
  to 10,000), both warm (the caches filled), and the design command again cold (empty numba and
  dermsim caches: it compiles the kernels and fits the population's severity law first).

Peak memory: the bench process's own peak RSS for the in-process engine run (its threads), and the
peak PSS of a command's whole process tree, forked workers included, for the commands
(``tree_memory.py``). The profile of a 20,000-patient engine run (where the time goes) is written to
``bench/results/engine_profile.txt``. "max |dEASI|" is the largest noise-free EASI difference
from LSODA at any daily output.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dermsim.engine.compiled import HAVE_NUMBA, max_threads
from dermsim.model.disease.scores import compute_easi_trajectory
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.reference import simulate_reference
from dermsim.model.sbml import build_patient_sbml
from dermsim.model.simulate import simulate_patients
from tree_memory import run_with_peak  # bench/, on the path of a bench run

# DERMSIM_BENCH_N / DERMSIM_BENCH_BASE shrink the run for a smoke test of this script
N = int(os.environ.get("DERMSIM_BENCH_N", "100000"))
N_BASE = int(os.environ.get("DERMSIM_BENCH_BASE", "10"))
DAYS = 56
SEED = 2026
REPLICATES = int(os.environ.get("DERMSIM_BENCH_REPLICATES", "10000"))
RESULTS = Path(__file__).parent / "results"
BIN = Path(sys.executable).parent
START_SCRIPT = ("import time; t = time.perf_counter(); "
                "from dermsim.model.population.sampling import sample_population; "
                "from dermsim.model.pharmacology.regimen import Regimen; "
                "from dermsim.model.simulate import simulate_patients; "
                "pop = sample_population('true-ad3', 2000, 1); "
                "simulate_patients(pop, Regimen(strength_pct=1.5), 56, 1, record=('easi',)); "
                "print(time.perf_counter() - t)")


# figures of the rows that measure them; blank elsewhere
ACCURACY_COLUMNS = ("plasma_rel_diff_vs_lsoda", "max_abs_easi_diff_vs_numpy", "plasma_rel_diff_vs_numpy")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def _profile(pop) -> None:
    prof = cProfile.Profile()
    sub = pop.take(np.arange(min(20_000, N)))
    prof.runcall(simulate_patients, sub, Regimen(strength_pct=1.5), DAYS, SEED, workers=1, threads=1,
                 record=["easi_mean", "cp_nM"])
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
    (RESULTS / "engine_profile.txt").write_text(
        f"{min(20_000, N):,} patients x 56 days, compiled engine, 1 thread, 1 worker (tottime = own time)\n"
        + buf.getvalue())


def main():
    from dermsim.model.population.sampling import sample_population

    RESULTS.mkdir(exist_ok=True)
    load = os.getloadavg()
    pop = sample_population("true-ad3", N, SEED)
    reg = Regimen(strength_pct=1.5)
    record = ["easi_mean", "cp_nM"]
    simulate_patients(pop.take(np.arange(50)), reg, 3, SEED)  # load the compiled kernel (cached on disk)
    rss0 = _peak_rss_mib()
    fast, t_fast, c_fast = _timed(lambda: simulate_patients(pop, reg, DAYS, SEED, workers=2,
                                                            chunk_size=12_500, record=record))
    rss_fast = _peak_rss_mib()  # this process's own peak: the engine runs in threads here
    one, t_one, c_one = _timed(lambda: simulate_patients(pop, reg, DAYS, SEED, workers=1, threads=1,
                                                         chunk_size=12_500, record=record))
    ref_np, t_np, c_np = _timed(lambda: simulate_patients(pop, reg, DAYS, SEED, workers=2, chunk_size=12_500,
                                                          record=record, engine="numpy"))
    assert np.array_equal(fast["easi_mean"], one["easi_mean"])  # threads never change the numbers
    np_easi = float(np.max(np.abs(fast["easi_mean"] - ref_np["easi_mean"])))
    pos = ref_np["cp_nM"] > 0
    np_cp = float(np.max(np.abs(fast["cp_nM"][pos] - ref_np["cp_nM"][pos]) / ref_np["cp_nM"][pos]))
    rate_fast = N * DAYS / t_fast

    base = np.arange(N_BASE)
    ref, t_ref, _ = _timed(lambda: simulate_reference(pop.take(base), reg, DAYS, SEED, method="LSODA",
                                                      rtol=1e-9, atol=1e-12))
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
        return f"{float(np.max(np.abs(easi - ref['easi_mean']))):.1e}"

    cp_rel = float(np.max(np.abs(fast["cp_nM"][base, 1:] - ref["cp_nM"][:, 1:]) / ref["cp_nM"][:, 1:]))

    # cold (empty numba and dermsim caches: compiles, fits) and warm start of a fresh process
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as tmp:
        caches = {"NUMBA_CACHE_DIR": str(Path(cache) / "numba"),
                  "DERMSIM_CACHE_DIR": str(Path(cache) / "dermsim")}
        t_cold, out_cold, _ = run_with_peak([sys.executable, "-c", START_SCRIPT], env=caches)
        t_warm, out_warm, _ = run_with_peak([sys.executable, "-c", START_SCRIPT], env=caches)
        # what a user runs, end to end, warm: the kernel as installed (numba cache beside it), the
        # dermsim cache filled above
        warm = {"DERMSIM_CACHE_DIR": caches["DERMSIM_CACHE_DIR"]}
        dermsim = str(BIN / "dermsim")
        design = [dermsim, "design", "power", "true-ad3", "--n", "330", "--replicates", str(REPLICATES),
                  "--seed", "1", "--out"]
        simulate = [dermsim, "simulate", "--population", "true-ad3", "--strength", "1.5", "--n", str(N),
                    "--weeks", "8", "--seed", "1", "--out", "t.parquet"]
        t_cli, _, mem_cli = run_with_peak(simulate, env=warm, cwd=tmp)
        t_design, _, mem_design = run_with_peak([*design, "dp"], env=warm, cwd=tmp)
        cold = {"NUMBA_CACHE_DIR": str(Path(cache) / "numba-design"),
                "DERMSIM_CACHE_DIR": str(Path(cache) / "dermsim-design")}
        t_design_cold, _, mem_design_cold = run_with_peak([*design, "dp-cold"], env=cold, cwd=tmp)
    _profile(pop)

    load_note = (f"load average {load[0]:.1f}/{load[1]:.1f} (1/5 min) at start on {os.cpu_count()} CPUs; "
                 f"numba {'yes' if HAVE_NUMBA else 'NO'}, kernel threads {max_threads()}")
    rows = []

    def row(label, n, secs, d, note, memory=None, trials=None, **extra):
        rate = n * DAYS / secs
        rows.append({"implementation": label, "patients": n, "trials": "" if trials is None else trials,
                     "seconds": round(secs, 2),
                     "patient_days_per_s": round(rate),
                     "ratio_engine_over_this": round(rate_fast / rate, 1),
                     "max_abs_easi_diff_vs_lsoda": d,
                     "peak_memory_mib": "" if memory is None else round(memory),
                     **{k: extra.get(k, "") for k in ACCURACY_COLUMNS},
                     "notes": note})

    row("engine, compiled kernel, all cores (draw + steady state + 8 wk)", N, t_fast,
        diff(fast["easi_mean"][base]),
        f"peak RSS before {rss0:.0f} MiB; CPU {c_fast:.1f} s; {load_note}", memory=rss_fast,
        plasma_rel_diff_vs_lsoda=f"{cp_rel:.1e}")
    row("engine, compiled kernel, 1 thread, 1 worker", N, t_one, diff(one["easi_mean"][base]),
        f"CPU {c_one:.1f} s; same numbers as all cores (asserted)")
    row("engine, NumPy reference path, 2 worker threads", N, t_np, diff(ref_np["easi_mean"][base]),
        f"CPU {c_np:.1f} s; the compiled path's differences from it in the next columns",
        max_abs_easi_diff_vs_numpy=f"{np_easi:.1e}", plasma_rel_diff_vs_numpy=f"{np_cp:.1e}")
    row("scipy solve_ivp LSODA rtol 1e-9, patients stacked", N_BASE, t_ref, "0.0e+00", "accuracy reference")
    row("libRoadRunner, exported SBML, per patient: simulate only", N_BASE, t_rr_sim, diff(rr_easi),
        "CVODE rtol 1e-10")
    row("libRoadRunner, exported SBML, per patient: load + simulate", N_BASE, t_rr_load + t_rr_sim,
        diff(rr_easi),
        "includes SBML parse and JIT")
    row("cold start: new process, empty numba and dermsim caches, 2,000 patients x 8 wk", 2000, t_cold, "",
        f"process wall (import + compile + run); in-process {float(out_cold.split()[-1]):.1f} s")
    row("warm start: new process, filled caches, 2,000 patients x 8 wk", 2000, t_warm, "",
        f"process wall; in-process {float(out_warm.split()[-1]):.1f} s")
    row(f"dermsim simulate --n {N} --weeks 8 -> Parquet, end to end", N, t_cli, "",
        "process start to file closed; memory: peak PSS of the process tree", memory=mem_cli)
    row(f"dermsim design power true-ad3 --n 330 --replicates {REPLICATES}, end to end", 330 * REPLICATES,
        t_design, "", ("" if REPLICATES == 10_000 else
                       f"{t_design * 10_000 / REPLICATES:.0f} s per 10,000 replicates (scaled); ")
        + "memory: peak PSS of the process tree (parent and forked workers)", memory=mem_design,
        trials=REPLICATES)
    row("the same design command, cold: empty numba and dermsim caches", 330 * REPLICATES, t_design_cold, "",
        ("" if REPLICATES == 10_000 else f"{t_design_cold * 10_000 / REPLICATES:.0f} s per 10,000 replicates "
         "(scaled, compile included: an overestimate); ") + "compiles the kernels, fits the severity law",
        memory=mem_design_cold, trials=REPLICATES)
    print(f"{N:,} patients draw -> week 8 in {t_fast:.2f} s ({rate_fast:,.0f} patient-days/s); {load_note}")
    return pd.DataFrame(rows)


if __name__ == "__main__":
    print(main().to_string(index=False))
