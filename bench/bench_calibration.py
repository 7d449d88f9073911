"""Calibration benchmark (issue 16): what one generation of the second-version calibration costs.

The second version's sampler (``dermsim calibrate --mode emulator``, calibration/emulator.py) spends
its simulation time in one "generation" of exact likelihood evaluations: the emulator's design of
``N_DESIGN`` = 400 candidates, each simulating every calibration arm (TRuE-AD1/2, phase 2, the PK
studies) with its virtual patients. Rows:

* building the objective (the arms' virtual populations, once per calibration);
* one exact evaluation at the shipped posterior's median, repeated ``N_EVAL`` times (the first
  call also loads the compiled kernel);
* the generation of 400 evaluations on 2 processes (``--workers 2``), measured on ``N_GEN``
  candidates drawn from the posterior and scaled.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd

from dermsim.calibration.laplace import Evaluator
from dermsim.calibration.likelihood import Objective
from dermsim.calibration.posterior import default_posterior
from dermsim.calibration.priors import v2_prior
from dermsim.calibration.targets import V2_TARGETS, load_targets

N_EVAL = int(os.environ.get("DERMSIM_BENCH_EVAL", "3"))
N_GEN = int(os.environ.get("DERMSIM_BENCH_GEN", "20"))
N_DESIGN = 400
SEED = 20261125


def main() -> pd.DataFrame:
    prior = v2_prior()
    post = default_posterior()
    t0 = time.perf_counter()
    objective = Objective(load_targets(V2_TARGETS), prior, SEED)
    t_build = time.perf_counter() - t0
    # the worker processes fork before the compiled kernel first runs here (engine.compiled.fork_is_safe)
    evaluate = Evaluator(objective, workers=2)
    rng = np.random.default_rng(SEED)
    draws = post.draws[rng.choice(len(post.draws), N_GEN, replace=False)]
    try:
        evaluate(prior.to_unconstrained(draws[:2]))  # each worker's first kernel call
        t0 = time.perf_counter()
        evaluate(prior.to_unconstrained(draws))
        t_gen = (time.perf_counter() - t0) / N_GEN * N_DESIGN
    finally:
        evaluate.close()
    median = np.array([post.summary()[n]["median"] for n in prior.names])
    z = prior.to_unconstrained(median[None, :])
    objective.expected(z)  # the compiled kernel's first call in this process
    t0 = time.perf_counter()
    for _ in range(N_EVAL):
        objective.expected(z)
    t_one = (time.perf_counter() - t0) / N_EVAL
    patients = sum(s.population.n for s in objective.setups.values())
    return pd.DataFrame([
        {"step": "build the objective (virtual populations of every arm)", "seconds": round(t_build, 2),
         "notes": f"{len(objective.setups)} arms, {patients:,} virtual patients"},
        {"step": "one exact likelihood evaluation (every arm simulated)", "seconds": round(t_one, 2),
         "notes": f"mean of {N_EVAL}, at the posterior median, 1 process"},
        {"step": f"one generation: {N_DESIGN} exact evaluations, 2 processes", "seconds": round(t_gen, 1),
         "notes": f"scaled from {N_GEN} posterior draws"},
    ])
