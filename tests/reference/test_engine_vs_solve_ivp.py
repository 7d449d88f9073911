"""The batched engine against scipy.integrate.solve_ivp (LSODA, rtol 1e-9).

Reference call: ``solve_ivp(rhs, (t_k, t_k+1), z, method="LSODA", rtol=1e-9, atol=1e-12)`` between
consecutive dose times, dose added to the surface compartment at each application, the patients
stacked into one system (dermsim.model.reference.simulate_reference). The right-hand side is the
engine's own equation code at instantaneous exposure, so this checks the integrator, not a
transcription.
"""

from __future__ import annotations

import numpy as np
import pytest
from _vp import make_population

from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.reference import simulate_reference
from dermsim.model.simulate import simulate_patients


@pytest.mark.slow
@pytest.mark.parametrize(("strength", "seed"), [(1.5, 21), (0.75, 22)])
def test_engine_matches_lsoda_on_random_patients(strength, seed):
    # 2 x 25 random patients (about 15 s a case on a 2-core CI machine: the stacked system takes
    # about as many LSODA steps as one patient); the engine bench measures the same bound on 10 more
    pop = make_population(25, seed=seed)
    reg = Regimen(strength_pct=strength)
    days = 56
    eng = simulate_patients(pop, reg, days, seed=seed, record="all")
    ref = simulate_reference(pop, reg, days, seed=seed, method="LSODA", rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(eng["easi_mean"], ref["easi_mean"], rtol=0, atol=0.05)
    np.testing.assert_allclose(eng["easi"], ref["easi"], rtol=0, atol=0.05)
    np.testing.assert_allclose(eng["cp_nM"][:, 1:], ref["cp_nM"][:, 1:], rtol=1e-3, atol=0)
    np.testing.assert_allclose(eng["D"], ref["D"], rtol=0, atol=5e-3)


def test_engine_matches_lsoda_on_a_short_vehicle_course():
    pop = make_population(3, seed=5)
    eng = simulate_patients(pop, Regimen(strength_pct=0.0), 10, seed=5, record="all")
    ref = simulate_reference(pop, Regimen(strength_pct=0.0), 10, seed=5)
    np.testing.assert_allclose(eng["easi_mean"], ref["easi_mean"], rtol=0, atol=0.05)


@pytest.mark.parametrize("times", [(7.0,), (0.0, 12.0), (6.0, 13.0, 20.0)])
def test_engine_matches_lsoda_for_other_application_times(times):
    pop = make_population(2, seed=6)
    reg = Regimen(strength_pct=1.5, application_times_h=times)
    eng = simulate_patients(pop, reg, 10, seed=6, record="all")
    ref = simulate_reference(pop, reg, 10, seed=6)
    np.testing.assert_allclose(eng["easi_mean"], ref["easi_mean"], rtol=0, atol=0.05)
    np.testing.assert_allclose(eng["cp_nM"][:, 1:], ref["cp_nM"][:, 1:], rtol=1e-3, atol=0)
