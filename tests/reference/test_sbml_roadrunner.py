"""The exported SBML, run in libRoadRunner, reproduces the batched engine (issue 18's "done means").

Reference call: ``roadrunner.RoadRunner(sbml).simulate(0, 24*days, days + 1)`` with CVODE
relative tolerance 1e-10 and absolute tolerance 1e-12 (dermsim.model.sbml.simulate_roadrunner).
The scores come out of the SBML (its EASI, latent IGA and NRS assignment rules) and are compared
with the engine's noise-free EASI, its plasma, and the NRS the engine's own observation function
gives from its itch state. Bounds: the engine's accuracy bounds against LSODA (ARCHITECTURE.md,
tests/reference: EASI 0.05 absolute, plasma rtol 1e-3).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from _vp import make_population

from dermsim.calibration.posterior import resolve_model
from dermsim.model.disease.itch import compute_itch_placebo
from dermsim.model.disease.scores import compute_nrs_daily
from dermsim.model.parameters import default_parameters
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.sbml import (
    antimony_to_sbml,
    build_patient_sbml,
    build_patients_antimony,
    simulate_roadrunner,
)
from dermsim.model.simulate import prepare_patients, simulate_patients

roadrunner = pytest.importorskip("roadrunner", reason="libroadrunner (extra 'sbml') is not installed")
REGIMENS = Path(__file__).parents[2] / "examples" / "regimens"
EASI_ATOL = 0.05
PLASMA_RTOL = 1e-3


_NUMBER_LINE = re.compile(r"^  (\w+) = (\S+)$", re.M)


def _structure(text: str) -> str:
    """An exported patient without its numbers, ids and comments (the part all patients share)."""
    text = _NUMBER_LINE.sub(r"  \1 = #", text)
    text = re.sub(r"dermsim_patient_\d+|virtual patient \d+", "ID", text)
    return "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("//"))


class _OneCompile:
    """libRoadRunner on many exported patients at one compilation: every patient's file has the same
    structure (asserted), so the first is compiled and each patient's own numbers (parameters and
    initial states, read from its file) are set before its run. Equal to compiling each file (1e-11
    on EASI), at 0.1 s instead of ~1 s per patient."""

    def __init__(self, first: str) -> None:
        self.structure = _structure(first)
        self.states = set(re.findall(r"^  (\w+)' =", first, re.M))
        self.rr = roadrunner.RoadRunner(antimony_to_sbml(first))
        self.rr.integrator.relative_tolerance = 1e-10
        self.rr.integrator.absolute_tolerance = 1e-12

    def simulate(self, text: str, days: int) -> dict[str, np.ndarray]:
        assert _structure(text) == self.structure
        rr, model = self.rr, self.rr.model
        rr.resetAll()
        for name, value in _NUMBER_LINE.findall(text):
            model[f"init({name})" if name in self.states else name] = float(value)
        rr.reset()
        names = ["EASI", "cp_nM", "E_emol", "NRS", "IGA"]
        res = rr.simulate(0.0, 24.0 * days, days + 1, ["time", *names])
        return {name: np.asarray(res[:, k + 1]) for k, name in enumerate(names)}


def _compare(n: int, seed: int, regimen: Regimen, days: int, posterior: str = "prior",
             patients: list[int] | None = None, one_compile: bool = False) -> None:
    pop = make_population(n, seed=seed)
    params = resolve_model(posterior).parameters or default_parameters()
    eng = simulate_patients(pop, regimen, days, seed=seed, params=params,
                            record=["D", "cp_nM", "easi_mean", "Q", "emollient"])
    idx = list(range(n)) if patients is None else patients
    texts = build_patients_antimony(pop, regimen, seed, params=params, patients=idx)
    weeks = np.arange(days + 1) / 7.0
    cols = {k: getattr(pop, k) for k in ("age_y", "weight_kg", "bsa_m2", "affected_pct", "easi0", "iga0",
                                         "nrs0")}
    vehicle = prepare_patients(cols, regimen, params, seed, 0, n).vehicle  # the patients' own values
    runner = _OneCompile(texts[0]) if one_compile else None
    for i, text in zip(idx, texts, strict=True):
        rr = runner.simulate(text, days) if runner else simulate_roadrunner(antimony_to_sbml(text), days)
        np.testing.assert_allclose(rr["EASI"], eng["easi_mean"][i], rtol=0, atol=EASI_ATOL)
        np.testing.assert_allclose(rr["E_emol"], eng["emollient"][i], rtol=0, atol=1e-6)
        dosed = eng["cp_nM"][i, 1:] > 0
        np.testing.assert_allclose(rr["cp_nM"][1:][dosed], eng["cp_nM"][i, 1:][dosed], rtol=PLASMA_RTOL,
                                   atol=0)
        # NRS: the SBML's rule on its own Q against the engine's observation function on the engine's Q
        pbo = compute_itch_placebo(weeks[None, :], {k: v[i:i + 1, None] for k, v in vehicle.items()})
        nrs = compute_nrs_daily(pop.nrs0[i:i + 1], eng["Q"][i:i + 1] / eng["Q"][i, 0], pbo,
                                np.zeros((1, days + 1)))
        np.testing.assert_allclose(rr["NRS"], nrs[0], rtol=0, atol=0.05)
        assert set(np.unique(rr["IGA"])) <= {0, 1, 2, 3, 4}


def test_exported_sbml_is_valid_sbml():
    """libSBML consistency checks as exposed by ``roadrunner.validateSBML`` (general, identifiers,
    MathML, over-determination): an empty report means no errors."""
    pop = make_population(1, seed=1)
    sbml = build_patient_sbml(pop, Regimen(strength_pct=1.5), 1)
    checks = (roadrunner.VALIDATE_GENERAL | roadrunner.VALIDATE_IDENTIFIER | roadrunner.VALIDATE_MATHML
              | roadrunner.VALIDATE_OVERDETERMINED)
    assert roadrunner.validateSBML(sbml, checks) == ""
    assert roadrunner.validateSBML(sbml.replace("<listOfParameters>", "<listOfParameterz>"), checks) != ""
    # a schedule with weekdays and an as-needed rule (priorities, execution-time values) is valid too
    for name in ("weekend_maintenance.toml", "as_needed_52wk.toml"):
        sched = build_patient_sbml(pop, Regimen.from_toml(REGIMENS / name), 1)
        assert roadrunner.validateSBML(sched, checks) == ""


def test_roadrunner_matches_engine_on_a_few_patients():
    _compare(3, seed=31, regimen=Regimen(strength_pct=1.5), days=28, posterior="shipped")


def test_roadrunner_matches_engine_on_a_schedule_with_a_holiday():
    _compare(1, seed=5, regimen=Regimen.from_toml(REGIMENS / "holiday_1wk.toml"), days=42)


@pytest.mark.slow
def test_roadrunner_matches_engine_on_50_patients_under_the_shipped_posterior():
    """Issue 18's "done means": 50 random patients, the posterior the package ships (EASI max abs
    difference 0.018, plasma 4e-9 relative when written)."""
    _compare(50, seed=41, regimen=Regimen(strength_pct=1.5), days=56, posterior="shipped", one_compile=True)


@pytest.mark.slow
def test_roadrunner_matches_engine_at_075_percent_under_the_prior():
    _compare(5, seed=42, regimen=Regimen(strength_pct=0.75), days=56, posterior="prior")


@pytest.mark.slow
def test_roadrunner_matches_engine_on_an_as_needed_rule():
    """Once-a-day decisions on the latent IGA: patient 3 stops and restarts (139 of 200 days with
    cream); patient 5 is off for 80 days, where A_surf nears the smallest double (the export's
    underflow guard keeps CVODE going)."""
    regimen = Regimen.from_toml(REGIMENS / "as_needed_52wk.toml")
    _compare(8, seed=8, regimen=regimen, days=200, posterior="shipped", patients=[3, 5])
