"""Steady-state plasma kinetics of a simulated arm's patients (no time integration).

The adult maximum-use trial's kinetics (Bissonnette 2022 Table 3: apparent t1/2, Cmax/Cmin, tmax)
are computed per patient by PKPD's analytic steady state of the linear topical PK
(:func:`dermsim.model.pharmacology.pk.compute_kinetic_summaries`, matrix exponentials of each patient's rate
matrix), on the same virtual patients and parameter draws as the arm's simulation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dermsim.model.pharmacology import pk
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.simulate import _population_columns, prepare_patients


def patient_pk(population: Any, regimen: Regimen, params: Any, seed: Any) -> pk.PatientPK:
    """The PK quantities of every patient, as the simulation of the same population, regimen,
    parameters and seed draws them."""
    cols = _population_columns(population)
    return prepare_patients(cols, regimen, params, seed, 0, cols["age_y"].shape[0]).pk


def compute_steady_state_kinetics(population: Any, regimen: Regimen, params: Any,
                                  seed: Any) -> dict[str, np.ndarray]:
    """Per patient: ``t_half_h``, ``cmax_cmin`` and ``tmax_h`` at steady state under ``regimen``."""
    return pk.compute_kinetic_summaries(patient_pk(population, regimen, params, seed),
                                        regimen.application_times_h)
