"""Many parameter sets on one virtual population, in one engine call per block of rows.

Why: a global sensitivity analysis (calibration.sensitivity) evaluates tens of thousands of
parameter rows on the same patients. One ``simulate_patients`` call per row spends its time on
per-call work (baseline steady state, transition matrices, the day loop in Python) for a hundred
patients; here K rows x n patients are stacked into one block of K n patients, each patient with
its row's parameters, and advanced by the same integrator (the compiled kernel or the NumPy
reference) as ``simulate_patients``. Each row is then scored with its own observation parameters
and the same noise: the patients of every row are patients 0..n-1 of the population under the
same seed (common random numbers). Row r equals ``simulate_patients(population, regimen, days,
seed, params=param_sets[r])`` to rounding (tests/unit/model/test_parameter_rows.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from dermsim._rng import SeedLike, as_seed_sequence, child_sequence
from dermsim._validate import check_int
from dermsim.engine.compiled import resolve_backend
from dermsim.engine.cores import one_blas_thread
from dermsim.errors import InvalidInputError
from dermsim.model.disease.scores import compute_patient_endpoints
from dermsim.model.parameters import ParameterSet
from dermsim.model.pharmacology.jak import Blocked, derive_pathway_imax
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.simulate import (
    MODEL_STREAM_KEY,
    PreparedPatients,
    _integrate,
    _population_columns,
    assemble_patients,
    draw_iga_offsets,
    draw_observation_noise,
    individual_values,
    observe_patients,
)

PATIENTS_PER_BLOCK = 16_384  # stacked patients per integrator call (memory ~ 2 KB per patient)


def endpoints_by_row(population: Any, regimen: Regimen, days: int, seed: SeedLike,
                     param_sets: Sequence[ParameterSet], *, day: int, blocked: Blocked = None,
                     engine: str = "auto", threads: int | None = None, max_step_h: float = 8.0,
                     quadrature_nodes: int = 6,
                     progress: Callable[[int], None] | None = None) -> dict[str, np.ndarray]:
    """Patient endpoints at ``day`` (IGA-TS, EASI-50/75/90, % change of EASI, NRS4; as
    ``Trajectories.endpoints``) of every parameter row: name -> (K, n). ``progress(k)`` is called
    after each block with the number of rows it finished."""
    if not param_sets:
        raise InvalidInputError("param_sets must hold at least one parameter set; got none.")
    if not isinstance(regimen, Regimen):
        raise InvalidInputError(f"regimen must be a Regimen; got {type(regimen).__name__}.")
    days = check_int("days", days, minimum=1)
    day = check_int("day", day, minimum=1, maximum=days)
    backend = resolve_backend(engine)
    cols = _population_columns(population)
    n = int(cols["age_y"].shape[0])
    seq = as_seed_sequence(seed)
    model_seq = child_sequence(seq, MODEL_STREAM_KEY)
    cov = {k: np.asarray(v, float) for k, v in cols.items()}
    per_block = max(1, PATIENTS_PER_BLOCK // n)
    # the same patients on the same days in every row: their noise is drawn once
    noise = draw_observation_noise(seq, 0, n, 0, days + 1)
    out: dict[str, np.ndarray] = {}
    with one_blas_thread():
        for b0 in range(0, len(param_sets), per_block):
            rows = param_sets[b0:b0 + per_block]
            prep, row_preps = _stack(rows, cov, regimen, model_seq, n, blocked, backend)
            states, _ = _integrate(prep, regimen, days, max_step_h, quadrature_nodes, keep=("D", "Q"),
                                   backend=backend, threads=threads)
            for r, row_prep in enumerate(row_preps):
                sl = slice(r * n, (r + 1) * n)
                # only what the endpoints compare: baseline and ``day``
                scores = observe_patients(row_prep, {"D": states["D"][:, sl].T, "Q": states["Q"][:, sl].T},
                                          seq, days, noise=noise, columns=np.array([0, day]),
                                          names=("easi", "iga", "nrs_weekly"))
                ends = compute_patient_endpoints(scores["easi"], scores["iga"], scores["nrs_weekly"], 1)
                for name, v in ends.items():
                    out.setdefault(name, np.empty((len(param_sets), n)))[b0 + r] = v
            if progress is not None:
                progress(len(rows))
    return out


def _stack(rows: Sequence[ParameterSet], cov: dict[str, np.ndarray], regimen: Regimen,
           model_seq: np.random.SeedSequence, n: int, blocked: Blocked,
           backend: str) -> tuple[PreparedPatients, list[PreparedPatients]]:
    """One PreparedPatients of len(rows) x n patients (row-major) for the integrator, and each
    row's own view of it (its observation parameters and IGA offsets) for the scores."""
    inds = [individual_values(ps, model_seq, 0, n) for ps in rows]
    stacked = {g: {name: np.concatenate([ind[g][name] for ind in inds]) for name in inds[0][g]}
               for g in inds[0]}
    observations = [{k: float(v[0]) for k, v in ind["observation"].items()} for ind in inds]
    if any(o != observations[0] for o in observations) and _reads_observation(regimen):
        raise InvalidInputError("an as-needed rule on IGA reads the observation parameters during the "
                                "run; vary them in separate runs, not as stacked parameter rows.")
    jak = [{k: float(v[0]) for k, v in ind["jak"].items()} for ind in inds]
    imax = np.repeat(np.stack([derive_pathway_imax(j["Imax"], j["phi_partial"], blocked) for j in jak],
                              axis=1), n, axis=1)
    hill = np.repeat([j["hill"] for j in jak], n)
    offsets = [draw_iga_offsets(cov, o, model_seq, 0, n) for o in observations]
    k = len(rows)
    cov_k = {name: np.concatenate([v] * k) for name, v in cov.items()}
    iga = (np.concatenate([o[0] for o in offsets]), np.concatenate([o[1] for o in offsets]))
    prep = assemble_patients(stacked, cov_k, regimen, 0, imax=imax, hill=hill, observation=observations[0],
                             iga=iga, individual={}, backend=backend)
    row_preps = []
    for r in range(k):
        sl = slice(r * n, (r + 1) * n)
        row_preps.append(replace(
            prep, disease={a: v[sl] for a, v in prep.disease.items()},
            itch={a: v[sl] for a, v in prep.itch.items()},
            vehicle={a: v[sl] for a, v in prep.vehicle.items()}, observation=observations[r],
            pk=prep.pk.select(sl), y0=prep.y0[:, sl], imax=imax[:, sl], hill=hill[sl], covariates=cov,
            iga_offset=offsets[r][0], iga_e0=offsets[r][1]))
    return prep, row_preps


def _reads_observation(regimen: Regimen) -> bool:
    """Whether some period's as-needed rule reads the IGA grade (observation parameters)."""
    return any(p.as_needed is not None and p.as_needed.metric == "iga" for p in regimen.periods)
