"""Sensitivity benchmark (issue 18): week-8 IGA-TS of 100 virtual patients per parameter row, the
model output of ``dermsim model sensitivity --output iga_ts_w8``, over rows drawn from the shipped
posterior's 5-95 % box.

Rows, in one run so the ratio compares like with like:

* one ``simulate_patients`` call per row (how the first version evaluated rows) on ``N_BASE`` rows;
* the stacked rows of ``model.parameter_rows`` (what ``ModelOutputs`` now calls) on the same rows
  and on ``N_ROWS`` rows;
* the projected time of ``--method sobol --n 4096`` (4096 (D + 2) rows) at the stacked rate.

The numbers of the two ways are checked equal on the shared rows before anything is timed.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd

from dermsim.calibration.posterior import default_posterior
from dermsim.calibration.sensitivity import WEEK8_DAY, ModelOutputs, posterior_problem
from dermsim.model.parameter_rows import endpoints_by_row
from dermsim.model.simulate import simulate_patients

N_BASE = int(os.environ.get("DERMSIM_BENCH_BASE", "40"))
N_ROWS = int(os.environ.get("DERMSIM_BENCH_ROWS", "4000"))
SOBOL_N = 4096


def main() -> pd.DataFrame:
    post = default_posterior()
    problem = posterior_problem(post)
    model = ModelOutputs(post, problem)
    rng = np.random.default_rng(2026)
    width = problem.upper - problem.lower
    X = problem.lower + rng.random((max(N_ROWS, N_BASE), len(problem.names))) * width
    rows = [model.parameter_set(x) for x in X]
    pop, reg = model._pop, model.regimen  # the evaluator's fixed population and regimen
    endpoints_by_row(pop, reg, WEEK8_DAY, model.seed, rows[:2], day=WEEK8_DAY)  # compile, warm caches

    t0 = time.perf_counter()
    one = [100 * np.nanmean(simulate_patients(pop, reg, WEEK8_DAY, model.seed, params=ps,
                                              record=("easi", "iga")).endpoints(WEEK8_DAY)["iga_ts"])
           for ps in rows[:N_BASE]]
    t_one = time.perf_counter() - t0
    t0 = time.perf_counter()
    stacked = 100 * np.nanmean(endpoints_by_row(pop, reg, WEEK8_DAY, model.seed, rows[:N_BASE],
                                                day=WEEK8_DAY)["iga_ts"], axis=1)
    t_same = time.perf_counter() - t0
    if not np.allclose(one, stacked, rtol=0, atol=1e-9):
        worst = np.max(np.abs(np.subtract(one, stacked)))
        raise AssertionError(f"stacked rows differ from one call per row by up to {worst}")
    t0 = time.perf_counter()
    model(X[:N_ROWS], "iga_ts_w8")
    t_many = time.perf_counter() - t0

    per_row = t_many / N_ROWS
    sobol_rows = SOBOL_N * (len(problem.names) + 2)
    pd_rate = model.n_patients * WEEK8_DAY / per_row
    return pd.DataFrame([
        {"way": "one simulate_patients call per row", "rows": N_BASE, "seconds": round(t_one, 2),
         "rows_per_s": round(N_BASE / t_one, 1), "ratio": 1.0, "patient_days_per_s": ""},
        {"way": "stacked rows (model.parameter_rows), same rows", "rows": N_BASE,
         "seconds": round(t_same, 2), "rows_per_s": round(N_BASE / t_same, 1),
         "ratio": round(t_one / t_same, 1), "patient_days_per_s": ""},
        {"way": "stacked rows through ModelOutputs (sensitivity's evaluator)", "rows": N_ROWS,
         "seconds": round(t_many, 1), "rows_per_s": round(1 / per_row, 1),
         "ratio": round((t_one / N_BASE) / per_row, 1), "patient_days_per_s": f"{pd_rate:,.0f}"},
        {"way": f"projected: sobol --n {SOBOL_N} ({len(problem.names)} parameters, {sobol_rows:,} rows)",
         "rows": sobol_rows, "seconds": round(sobol_rows * per_row), "rows_per_s": "",
         "ratio": "", "patient_days_per_s": ""},
    ])
