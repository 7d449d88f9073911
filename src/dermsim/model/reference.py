"""Reference solution with scipy's solve_ivp (LSODA), for tests and benchmarks.

The right-hand side is the SAME equation code as the batched engine (pk.compute_pk_rhs,
pk.compute_local_exposure, jak inhibition, dynamics.compute_rhs), evaluated with the
instantaneous local exposure and vehicle rate (no step means, no splitting), so a comparison
checks the integrator, not a second transcription. All patients are one stacked ODE system: the
equations are independent across patients, and one solve_ivp over the stack takes about as many
steps as one patient alone, so 12 patients cost about what one did solved one by one. LSODA
controls the RMS of the weighted error over the stack, at most sqrt(12 n) times one component's;
at rtol 1e-9 that stays orders of magnitude below the bounds the references are used to check.
Slow by design: never use it in a hot path.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.integrate import solve_ivp

from dermsim._rng import SeedLike, as_seed_sequence
from dermsim.errors import InvalidInputError, SolverError
from dermsim.model.disease import dynamics
from dermsim.model.parameters import ParameterSet, default_parameters
from dermsim.model.pharmacology import pk
from dermsim.model.pharmacology.jak import Blocked, compute_occupancy
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.simulate import (
    HOURS_PER_WEEK,
    PreparedPatients,
    _population_columns,
    observe_patients,
    prepare_patients,
)


def make_rhs(prep: PreparedPatients,
             drive: np.ndarray | float = 1.0) -> Callable[[float, np.ndarray], np.ndarray]:
    """f(t_h, z) for all patients of ``prep``; z is the (4 PK amounts in mg, then the 8 disease
    states of dynamics.STATES) x n array, flattened row by row; ``drive``: the emollient drive of
    the daily pattern (1 = BID)."""
    imax = prep.imax if prep.imax.ndim == 2 else prep.imax[:, None]
    n = prep.n

    def rhs(t_h: float, z: np.ndarray) -> np.ndarray:
        x = z[:pk.N_PK * n].reshape(pk.N_PK, n)
        y = z[pk.N_PK * n:].reshape(-1, n)
        u = pk.compute_local_exposure(x, prep.pk)
        inhib = imax * compute_occupancy(u, prep.hill)[None, :]
        kveh = dynamics.compute_vehicle_rate(t_h / HOURS_PER_WEEK, prep.vehicle, drive)
        dx = pk.compute_pk_rhs(x, prep.pk)
        dy = dynamics.compute_rhs(y, prep.disease, prep.itch, inhib, kveh) / HOURS_PER_WEEK
        return np.concatenate([dx.ravel(), dy.ravel()])

    return rhs


def simulate_reference(population: Any, regimen: Regimen, days: int, seed: SeedLike, *,
                       params: ParameterSet | None = None, blocked: Blocked = None,
                       method: str = "LSODA", rtol: float = 1e-9,
                       atol: float = 1e-12) -> dict[str, np.ndarray]:
    """Daily states and scores of every patient of ``population`` by solve_ivp, dose by dose.

    Patients get exactly the parameters, baseline and observation noise that simulate_patients
    gives them with the same seed (take a subset of a population with ``population.take``: the
    first k patients draw what they draw in the whole population).
    """
    if not regimen.is_continuous:
        raise InvalidInputError("regimen must be one daily pattern (no periods) for the reference solver; "
                                f"got {len(regimen.periods)} periods.")
    seq = as_seed_sequence(seed)
    params = default_parameters() if params is None else params
    cols = _population_columns(population)
    prep = prepare_patients(cols, regimen, params, seq, 0, cols["age_y"].shape[0], blocked)
    states = _solve(prep, regimen, days, method, rtol, atol)
    return {**states, **observe_patients(prep, states, seq, days)}


def _solve(prep: PreparedPatients, regimen: Regimen, days: int, method: str, rtol: float,
           atol: float) -> dict[str, np.ndarray]:
    n = prep.n
    drive = dynamics.compute_emollient_drive(regimen.applications_per_day, regimen.adherence, prep.vehicle)
    rhs = make_rhs(prep, drive)
    # the same absorbed input as the engine: flux at the baseline barrier damage
    dose = (np.zeros(n) if regimen.is_vehicle else
            pk.compute_absorbed_mg(prep.pk, prep.pk.grams, regimen.strength_pct, 1.0 - prep.y0[dynamics.B]))
    dose_times = {24.0 * d + t for d in range(days) for t in regimen.application_times_h}
    cuts = sorted(dose_times | {24.0 * d for d in range(days + 1)})
    z = np.concatenate([np.zeros((pk.N_PK, n)), prep.y0])          # (12, n)
    rec = np.empty((days + 1, *z.shape))
    rec[0] = z
    for a, b in itertools.pairwise(cuts):
        if a in dose_times:
            z = z.copy()
            z[pk.SURF] += dose
        sol = solve_ivp(rhs, (a, b), z.ravel(), method=method, rtol=rtol, atol=atol, t_eval=[b])
        if not sol.success:
            raise SolverError(f"reference solve_ivp failed: {sol.message}")
        z = sol.y[:, -1].reshape(z.shape)
        if b % 24.0 == 0.0:
            rec[round(b / 24.0)] = z  # day boundary, before that day's first dose
    x = np.moveaxis(rec[:, :pk.N_PK], 0, 1)                         # (4, days + 1, n)
    y = np.moveaxis(rec[:, pk.N_PK:], 0, 1)                         # (8, days + 1, n)
    states = {name: y[i] for i, name in enumerate(dynamics.STATES)}
    states["D"] = dynamics.compute_severity(y)
    states["cp_nM"] = pk.compute_plasma_nM(x, prep.pk)
    states["u"] = pk.compute_local_exposure(x, prep.pk)
    return {k: np.ascontiguousarray(v.T) for k, v in states.items()}  # (n, days + 1)
