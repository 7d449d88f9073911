"""Operating characteristics at scale: 10,000 TRuE-AD3 trials vs the straightforward loop; Dask 2 vs 1.

Run: ``.venv/bin/python bench/run.py design`` (writes ``bench/results/design.csv`` and ``.md``).
Each measurement runs in its own Python process so that its peak RSS (``ru_maxrss``) is its own.

1. dermsim: 10,000 replicates of TRuE-AD3 (330 children, 2:2:1, stratified by IGA and age, 8 weeks,
   IGA-TS primary, EASI-75 and itch NRS4 key secondaries, both strengths vs vehicle: 6 hypotheses
   under fixed-sequence testing), no --workers (a forked process per core), results committed to
   DuckDB chunk by chunk.
2. The straightforward approach on a subsample of trials: a Python loop over trials, each calling
   ``sample_population``, stratified randomization, ``simulate_patients`` per arm, a pandas frame
   of patient endpoints, and statsmodels (``StratifiedTable`` CMH test, ``confint_proportions_2indep``
   Wald RD) per hypothesis; its per-trial time is extrapolated to 10,000 trials.
3. Dask ``LocalCluster`` with 1 and then 2 worker processes (started and warmed first, then the same
   command pointed at it with ``scheduler=``) on the same replicates; per-chunk cost
   (one chunk timed alone in process) and per-chunk overhead (worker wall time minus chunk cost) and
   the DuckDB commit time per chunk give the 100-worker estimate in the notes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

N_REP = int(os.environ.get("DERMSIM_BENCH_DESIGN_REPLICATES", "10000"))
N_LOOP = int(os.environ.get("DERMSIM_BENCH_DESIGN_LOOP", "20"))
N_DASK = int(os.environ.get("DERMSIM_BENCH_DESIGN_DASK", "1600"))
BLOCK = 200
SEED = 20261125

_BATCHED = """
import json, resource, sys, time
from dermsim.design import DesignSpec, simulate_operating_characteristics, summarise_designs
from dermsim.model.population.sampling import sample_population
sample_population("true-ad3", 10, 0)  # population law calibration, cached per process
d = DesignSpec(id="true-ad3", n_total=330)
t0 = time.perf_counter()
run = simulate_operating_characteristics("true-ad3", [d], {n}, {seed}, replicate_block={block},
                                         chunk_size={block}, store=sys.argv[1], chunk_patients=1 << 16)
sec = time.perf_counter() - t0
s = summarise_designs(run.results, [d])
print(json.dumps({{"seconds": sec, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "p_success": float(s["probability_of_success"].iloc[0]), "rows": len(run.results)}}))
"""

_LOOP = """
import json, resource, time
import numpy as np, pandas as pd
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.proportion import confint_proportions_2indep
from dermsim._rng import child_sequence
from dermsim.model.population.sampling import sample_population
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.simulate import simulate_patients
from dermsim.trial import compute_strata, load_design, sample_block_allocation
sample_population("true-ad3", 10, 0)
design = load_design("true-ad3")
arms = design.arms
t0 = time.perf_counter()
for i in range({n}):
    seq = child_sequence({seed}, 99, i)
    pop = sample_population("true-ad3", 330, child_sequence(seq, 0))
    stratum, _ = compute_strata(design.stratification.factors, {{"iga0": pop.iga0, "age_y": pop.age_y}})
    arm = sample_block_allocation(stratum, design.ratio, design.stratification.block_size,
                                  child_sequence(seq, 1))
    frames = []
    for a, spec in enumerate(arms):
        idx = np.flatnonzero(arm == a)
        reg = Regimen(strength_pct=spec.strength_pct, application_times_h=spec.application_times_h,
                      adherence=design.adherence.mean)
        traj = simulate_patients(pop.take(idx), reg, 56, child_sequence(seq, 2, a),
                                 record=("easi", "iga", "nrs_weekly"))
        ends = traj.endpoints(56)
        frames.append(pd.DataFrame({{"arm": spec.id, "stratum": stratum[idx], "iga_ts": ends["iga_ts"],
                                    "easi75": ends["easi75"], "nrs4": ends["nrs4"]}}))
    df = pd.concat(frames, ignore_index=True)
    for ep in ("iga_ts", "easi75", "nrs4"):
        for trt in ("rux150", "rux075"):
            sub = df[df["arm"].isin([trt, "vehicle"]) & df[ep].notna()]
            tables = []
            for _, g in sub.groupby("stratum"):
                t = pd.crosstab(g["arm"] == trt, g[ep] == 1).reindex(
                    index=[True, False], columns=[True, False], fill_value=0)
                tables.append(t.to_numpy())
            p = StratifiedTable(tables).test_null_odds(correction=False).pvalue
            x1 = int(sub.loc[sub["arm"] == trt, ep].sum()); n1 = int((sub["arm"] == trt).sum())
            x2 = int(sub.loc[sub["arm"] == "vehicle", ep].sum()); n2 = int((sub["arm"] == "vehicle").sum())
            lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="wald", compare="diff")
sec = time.perf_counter() - t0
print(json.dumps({{"seconds": sec, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""

_DASK = """
import json, sys, time
import numpy as np
from dermsim.design import DesignSpec, simulate_chunk, simulate_operating_characteristics
from dermsim.design.storage import ResultStore
from dermsim.model.population.sampling import sample_population
from dermsim.trial import load_design

def warm():
    from dermsim.model.population.sampling import sample_population
    sample_population("true-ad3", 10, 0)
    return 0

def cpu():
    import resource
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

def main():
    sample_population("true-ad3", 10, 0)
    d = DesignSpec(id="true-ad3-dask", n_total=330)
    scen = load_design("true-ad3")
    block = {block}
    t0 = time.perf_counter(); frame = simulate_chunk(scen, d, {seed}, 0, block, replicate_block=block)
    chunk_s = time.perf_counter() - t0
    commits = []
    with ResultStore(sys.argv[1] + "/commit.duckdb") as st:
        st.begin_run(designs=[d], n_replicates=block, seed=np.random.SeedSequence({seed}),
                     replicate_block=block, scenario="true-ad3", parameters="x", resume=False)
        for k in range(5):
            t0 = time.perf_counter(); st.insert_chunk(frame.assign(replicate=frame["replicate"] + k * block))
            commits.append(time.perf_counter() - t0)
    out = {{"chunk_s": chunk_s, "commit_s": float(np.median(commits))}}
    import dask
    from distributed import Client, LocalCluster
    env = {{k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ").items()
           if not k.startswith("MALLOC_")}}
    for w in (1, 2):
        t0 = time.perf_counter()
        with dask.config.set({{"distributed.nanny.pre-spawn-environ": env}}):
            cluster = LocalCluster(n_workers=w, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
        client.run(warm)
        out[f"w{{w}}_startup_s"] = time.perf_counter() - t0
        # the cluster is running: time the throughput of the same command pointed at it
        cpu0 = sum(client.run(cpu).values())
        t0 = time.perf_counter()
        run = simulate_operating_characteristics("true-ad3", [d], {n}, {seed}, replicate_block=block,
                                                 chunk_size=block, scheduler=cluster.scheduler_address,
                                                 store=sys.argv[1] + f"/w{{w}}.duckdb")
        out[f"w{{w}}_s"] = time.perf_counter() - t0
        # CPU seconds the workers got during the run: with other jobs on the machine, the cores
        # obtained (CPU / wall) bound the speed-up whatever Dask does
        out[f"w{{w}}_cpu_s"] = sum(client.run(cpu).values()) - cpu0
        out[f"w{{w}}_psuccess"] = float(run.results.query("hypothesis == 0")["success"].mean())
        client.close(); cluster.close()
    print(json.dumps(out))

if __name__ == "__main__":
    main()
"""


def _child(code: str, *args: str) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(code)
    try:
        res = subprocess.run([sys.executable, f.name, *args], capture_output=True, text=True, check=False)
    finally:
        os.unlink(f.name)
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-3000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> pd.DataFrame:
    load0 = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        b = _child(_BATCHED.format(n=N_REP, seed=SEED, block=BLOCK), str(Path(tmp) / "b.duckdb"))
        per_trial_b = b["seconds"] / N_REP
        rows.append(
            {
                "implementation": "dermsim design, batched, a forked process per core (DuckDB store)",
                "trials": N_REP,
                "seconds": round(b["seconds"], 1),
                "trials_per_s": round(N_REP / b["seconds"], 1),
                "peak_rss_mib": round(b["maxrss_kib"] / 1024),
                "ratio_vs_batched": 1.0,
                "notes": f"{N_REP * 330:,} patients, 6 hypotheses; P(success) {b['p_success']:.3f}; "
                f"replicate block {BLOCK}",
            }
        )
        lp = _child(_LOOP.format(n=N_LOOP, seed=SEED))
        per_trial_l = lp["seconds"] / N_LOOP
        rows.append(
            {
                "implementation": "straightforward loop: per-trial simulate + pandas + statsmodels",
                "trials": N_LOOP,
                "seconds": round(lp["seconds"], 1),
                "trials_per_s": round(1 / per_trial_l, 2),
                "peak_rss_mib": round(lp["maxrss_kib"] / 1024),
                "ratio_vs_batched": round(per_trial_l / per_trial_b, 1),
                "notes": f"extrapolated to {N_REP} trials: {per_trial_l * N_REP / 60:.0f} min",
            }
        )
        dk = _child(_DASK.format(n=N_DASK, seed=SEED, block=BLOCK), tmp)
        n_chunks = N_DASK // BLOCK
        for w in (1, 2):
            sec = dk[f"w{w}_s"]
            rows.append(
                {
                    "implementation": f"dask LocalCluster, {w} worker process(es)",
                    "trials": N_DASK,
                    "seconds": round(sec, 1),
                    "trials_per_s": round(N_DASK / sec, 1),
                    "peak_rss_mib": "",
                    "ratio_vs_batched": round(dk["w1_s"] / sec, 2) if w == 2 else 1.0,
                    "notes": (
                        f"{n_chunks} chunks of {BLOCK} on a running cluster (start-up + warm-up "
                        f"{dk[f'w{w}_startup_s']:.1f} s not included); worker CPU {dk[f'w{w}_cpu_s']:.0f} s, "
                        f"cores obtained {dk[f'w{w}_cpu_s'] / sec:.2f}"
                        + ("; ratio = 2 vs 1 worker throughput" if w == 2 else "")
                    ),
                }
            )
        # per-chunk overhead: one worker's wall time per chunk beyond the in-process chunk cost
        overhead = max(0.0, dk["w1_s"] / n_chunks - dk["chunk_s"])
        c, o, k = dk["chunk_s"], overhead, dk["commit_s"]
        # W workers run chunks in parallel at (c + o) each; the one writer commits k per chunk, so
        # throughput is W x BLOCK/(c + o) until the writer saturates at BLOCK/k
        est_100 = min(100 * c / (c + o), c / k) if k > 0 else 100 * c / (c + o)
        rows.append(
            {
                "implementation": "scaling estimate, 100 workers",
                "trials": "",
                "seconds": "",
                "trials_per_s": round(est_100 * BLOCK / c, 1),
                "peak_rss_mib": "",
                "ratio_vs_batched": round(est_100, 1),
                "notes": f"per-chunk cost {c:.2f} s, overhead {o:.2f} s, DuckDB commit {k * 1000:.0f} ms; "
                f"speed-up vs one process = min(100 c/(c+o), c/commit); load avg at start {load0:.1f}",
            }
        )
    return pd.DataFrame(rows)


if __name__ == "__main__":  # pragma: no cover
    t = time.perf_counter()
    print(main().to_string(index=False))
    print(f"{time.perf_counter() - t:.0f} s")
