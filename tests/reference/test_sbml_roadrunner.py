"""The exported SBML, run in libRoadRunner, reproduces the batched engine.

Reference call: ``roadrunner.RoadRunner(sbml).simulate(0, 24*days, days + 1)`` with CVODE
relative tolerance 1e-10 and absolute tolerance 1e-12 (dermsim.model.sbml.simulate_roadrunner);
EASI is derived from the exported severity index D with the model's observation equation.
"""

from __future__ import annotations

import numpy as np
import pytest
from _vp import make_population

from dermsim.model.regimen import Regimen
from dermsim.model.sbml import build_patient_sbml, simulate_roadrunner
from dermsim.model.scores import compute_easi_trajectory
from dermsim.model.simulate import simulate_patients

roadrunner = pytest.importorskip("roadrunner", reason="libroadrunner (extra 'sbml') is not installed")


def _compare(n: int, seed: int, strength: float, days: int) -> None:
    pop = make_population(n, seed=seed)
    reg = Regimen(strength_pct=strength)
    eng = simulate_patients(pop, reg, days, seed=seed, record=["D", "cp_nM", "easi_mean"])
    p_easi = 1.5
    for i in range(n):
        rr = simulate_roadrunner(build_patient_sbml(pop, reg, seed, patient=i), days)
        easi_rr = compute_easi_trajectory(pop.easi0[i:i + 1], rr["D"][None, :], p_easi)[0]
        np.testing.assert_allclose(easi_rr, eng["easi_mean"][i], rtol=0, atol=0.05)
        if strength > 0:
            np.testing.assert_allclose(rr["cp_nM"][1:], eng["cp_nM"][i, 1:], rtol=1e-3, atol=0)


def test_exported_sbml_is_valid_sbml():
    """libSBML consistency checks as exposed by ``roadrunner.validateSBML`` (general, identifiers,
    MathML, over-determination): an empty report means no errors."""
    pop = make_population(1, seed=1)
    sbml = build_patient_sbml(pop, Regimen(strength_pct=1.5), 1)
    checks = (roadrunner.VALIDATE_GENERAL | roadrunner.VALIDATE_IDENTIFIER | roadrunner.VALIDATE_MATHML
              | roadrunner.VALIDATE_OVERDETERMINED)
    assert roadrunner.validateSBML(sbml, checks) == ""
    assert roadrunner.validateSBML(sbml.replace("<listOfParameters>", "<listOfParameterz>"), checks) != ""


def test_roadrunner_matches_engine_on_a_few_patients():
    _compare(4, seed=31, strength=1.5, days=56)


@pytest.mark.slow
@pytest.mark.parametrize(("strength", "seed"), [(1.5, 41), (0.75, 42)])
def test_roadrunner_matches_engine_on_50_patients(strength, seed):
    _compare(25, seed=seed, strength=strength, days=56)
