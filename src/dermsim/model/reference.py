"""Patient-by-patient reference solution with scipy's solve_ivp (LSODA), for tests and benchmarks.

The right-hand side is the SAME equation code as the batched engine (pk.compute_pk_rhs,
pk.compute_local_exposure, jak inhibition, dynamics.compute_rhs), evaluated on 1-element arrays
with the instantaneous local exposure and vehicle rate, so a comparison checks the integrator,
not a second transcription. Slow by design: never use it in a hot path.
"""

from __future__ import annotations

import itertools
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


def _one(d: dict[str, np.ndarray], i: int) -> dict[str, np.ndarray]:
    return {k: v[i:i + 1] for k, v in d.items()}


def _patient_pk(p: pk.PatientPK, i: int) -> pk.PatientPK:
    return p.select(slice(i, i + 1))


def make_patient_rhs(prep: PreparedPatients, i: int, drive: float = 1.0):
    """f(t_h, z) for patient i of ``prep``; z = 4 PK amounts (mg) then the 8 disease states
    (dynamics.STATES); ``drive``: the emollient drive of the daily pattern (1 = BID)."""
    dp, ip, vp = _one(prep.disease, i), _one(prep.itch, i), _one(prep.vehicle, i)
    ppk = _patient_pk(prep.pk, i)
    imax = prep.imax[:, None]

    def rhs(t_h: float, z: np.ndarray) -> np.ndarray:
        x = z[:pk.N_PK, None]
        y = z[pk.N_PK:, None]
        u = pk.compute_local_exposure(x, ppk)
        inhib = imax * compute_occupancy(u, prep.hill)[None, :]
        kveh = dynamics.compute_vehicle_rate(t_h / HOURS_PER_WEEK, vp, drive)
        dx = pk.compute_pk_rhs(x, ppk)
        dy = dynamics.compute_rhs(y, dp, ip, inhib, kveh) / HOURS_PER_WEEK
        return np.concatenate([dx[:, 0], dy[:, 0]])

    return rhs, ppk


def simulate_reference(population: Any, regimen: Regimen, days: int, seed: SeedLike, *,
                       params: ParameterSet | None = None, blocked: Blocked = None,
                       method: str = "LSODA", rtol: float = 1e-9, atol: float = 1e-12,
                       patients: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Daily states and scores of ``patients`` (default all) by solve_ivp, dose by dose.

    Patients get exactly the parameters, baseline and observation noise that simulate_patients
    gives them with the same seed.
    """
    if not regimen.is_continuous:
        raise InvalidInputError("regimen must be one daily pattern (no periods) for the reference solver; "
                                f"got {len(regimen.periods)} periods.")
    seq = as_seed_sequence(seed)
    params = default_parameters() if params is None else params
    cols = _population_columns(population)
    n = cols["age_y"].shape[0]
    idx = np.arange(n) if patients is None else np.asarray(patients)
    out: dict[str, list[np.ndarray]] = {}
    for i in idx:
        prep = prepare_patients(cols, regimen, params, seq, int(i), int(i) + 1, blocked)
        states = _solve_one(prep, regimen, days, method, rtol, atol)
        scores = observe_patients(prep, states, seq, days)
        for k, v in {**states, **scores}.items():
            out.setdefault(k, []).append(v[0])
    return {k: np.vstack(v) for k, v in out.items()}


def _solve_one(prep: PreparedPatients, regimen: Regimen, days: int, method: str, rtol: float,
               atol: float) -> dict[str, np.ndarray]:
    drive = float(dynamics.compute_emollient_drive(regimen.applications_per_day, regimen.adherence,
                                                  {k: v[0] for k, v in prep.vehicle.items()}))
    rhs, ppk = make_patient_rhs(prep, 0, drive)
    dose_times = {24.0 * d + t for d in range(days) for t in regimen.application_times_h}
    cuts = sorted(dose_times | {24.0 * d for d in range(days + 1)})
    z = np.concatenate([np.zeros(pk.N_PK), prep.y0[:, 0]])
    rec = np.empty((days + 1, z.size))
    rec[0] = z
    for a, b in itertools.pairwise(cuts):
        if a in dose_times and not regimen.is_vehicle:
            z = z.copy()
            # the same absorbed input as the engine: flux at the baseline barrier damage
            z[pk.SURF] += pk.compute_absorbed_mg(ppk, ppk.grams, regimen.strength_pct,
                                                 1.0 - prep.y0[dynamics.B])[0]
        sol = solve_ivp(rhs, (a, b), z, method=method, rtol=rtol, atol=atol, t_eval=[b])
        if not sol.success:
            raise SolverError(f"reference solve_ivp failed: {sol.message}")
        z = sol.y[:, -1]
        if b % 24.0 == 0.0:
            rec[round(b / 24.0)] = z  # day boundary, before that day's first dose
    x = rec[:, :pk.N_PK].T
    y = rec[:, pk.N_PK:].T
    states = {name: y[i][None, :] for i, name in enumerate(dynamics.STATES)}
    states["D"] = dynamics.compute_severity(y)[None, :]
    states["cp_nM"] = pk.compute_plasma_nM(x, ppk)[None, :]
    states["u"] = pk.compute_local_exposure(x, ppk)[None, :]
    return states

