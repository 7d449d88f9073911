"""SBML export of one virtual patient (via Antimony), for libRoadRunner, COPASI or Tellurium.

The exported model is the same ODE system the engine integrates, written out in hours with the
patient's own parameter values, baseline steady state and dosing schedule: PK amounts (mg), the
local exposure index u, JAK inhibition per pathway, quasi-steady cytokines, the slow disease
states and the itch state. Each daily application time is one self-rescheduling event
(``next_dose_k += 24``), so the file runs for any duration. Each event adds the absorbed input of
that application (the saturable flux of pk.compute_absorbed_mg, written out as an assignment rule
``absorbed`` at the patient's baseline barrier damage, capped at the applied dose).
Observables: ``D`` (severity index; EASI = EASI0 (D/D0)^p), ``cp_nM`` (plasma), ``u``, ``Q``.

Parameter values come from the ParameterSet passed in (default: the package's files), so a
calibrated posterior (e.g. its median, ``Posterior.parameter_set``) exports the same way; the
file notes which set it was.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dermsim._rng import SeedLike, as_seed_sequence
from dermsim.errors import InvalidInputError, SolverError
from dermsim.model import disease, pk
from dermsim.model.jak import PATHWAYS, Blocked
from dermsim.model.parameters import ParameterSet, default_parameters
from dermsim.model.regimen import Regimen
from dermsim.model.simulate import HOURS_PER_WEEK, PreparedPatients, _population_columns, prepare_patients

_EQUATIONS = """
  // ---- topical PK (amounts in mg, time in h) ----
  // absorbed input of one application (mg): saturable flux through the treated skin
  load := grams*1000/area_cm2
  flux_ref := area_cm2*Jmax_mg_cm2*(strength/s_ref)^gamma_s*load/(load + L50)
  flux_abs := flux_ref*(damage/damage_ref)^theta_damage*age_term
  absorbed := piecewise(flux_abs, flux_abs < dose_mg, dose_mg)
  A_surf' = -k_a*A_surf
  A_sc' = (1 - f_fast)*k_a*A_surf - k_sv*A_sc
  A_vs' = f_fast*k_a*A_surf + k_sv*A_sc - k_vs*A_vs
  A_p' = k_vs*A_vs - ke*A_p
  A_e' = k_e0*(A_vs - A_e)
  cp_nM := nM_per_mg*A_p
  u := u_vs*A_e
  occ := u^hill/(1 + u^hill)
  I_IL4 := Imax_IL4*occ
  I_IL13 := Imax_IL13*occ
  I_IL31 := Imax_IL31*occ
  I_IL22 := Imax_IL22*occ
  I_TSLP := Imax_TSLP*occ
  I_IFNg := Imax_IFNg*occ
  // ---- quasi-steady cytokines (fold-change) and JAK-blocked signalling ----
  memory := (1 - m_mem) + m_mem*M
  IL4 := memory*(k11*Th2 + k12)/d10
  IL13 := memory*(k13*Th2 + k14)/d11
  IL31 := memory*(k19*Th2 + k20)/d14
  IL22 := memory*(k17*Th22 + k18)/d13
  IL17 := memory*(k15*Th17 + k16)/d12
  IFNg := memory*(k21*Th1 + k22)/d15
  TSLP := memory*(k23*P + k24)/d16
  IL4e := (1 - I_IL4)*IL4
  IL13e := (1 - I_IL13)*IL13
  IL31e := (1 - I_IL31)*IL31
  IL22e := (1 - I_IL22)*IL22
  TSLPe := (1 - I_TSLP)*TSLP
  IFNge := (1 - I_IFNg)*IFNg
  OX40L := (k25*TSLPe + k26)/d17
  // ---- vehicle (all arms): the emollient state under the same daily applications ----
  k_veh := k_v*drive*(1 - exp(-(time/168)/tau_v))
  // ---- disease core (rates per week, divided by 168 for hours) ----
  R_B := (k1 + k2*IL22e + k_veh)/((1 + b1*IL4e)*(1 + b2*IL13e)*(1 + b3*IL17)*(1 + b4*IL22e)*(1 + b5*IL31e))
  B' = (R_B*(1 - B) - B*(d1*(1 + d3*P + d_scr*Q) + d2*IL31e))/168
  L_P := (1 + d4*P)*(1 + d5*IL17)*(1 + d6*IL22e)*(1 + d7*IFNge)/((1 + b7*IL4e)*(1 + b8*IL13e)) + d8
  P' = (d8/(1 + b6*B) - P*L_P)/168
  Den := 4 + k9*IFNge + k10*IL4e
  Surv := d9/(1 + b9*OX40L)
  Th1' = (k5*P*(1 + k9*IFNge)/Den - Surv*Th1)/168
  Th2' = (k6*P*(1 + k10*IL4e)/Den - Surv*Th2)/168
  Th17' = (k7*P/Den - Surv*Th17)/168
  Th22' = (k8*P/Den - Surv*Th22)/168
  // ---- itch and the itch-scratch loop ----
  IL413e := 0.5*(IL4e + IL13e)
  S0 := q0 + q31*IL31e/(IL31e + x50_IL31) + q2*IL413e/(IL413e + x50_IL413) + qT*TSLPe/(TSLPe + x50_TSLP)
  S := S0*(1 + qB*(1 - B))*(1 - psi*I_IL31)
  Q' = k_Q*(S - Q)/168
  D := P + 1 - B
  // ---- disease memory (weeks) ----
  M' = (D/severity0 - M)/tau_mem/168
"""


def _fmt(v: float) -> str:
    return repr(float(v))


def build_patient_antimony(prep: PreparedPatients, regimen: Regimen, patient: int = 0,
                           parameters_label: str = "package parameter files") -> str:
    """Antimony text of patient ``patient`` (row of ``prep``); ``parameters_label`` names the
    parameter set in a comment of the file."""
    if not 0 <= patient < prep.n:
        raise InvalidInputError(f"patient must be within 0-{prep.n - 1}; got {patient}.")
    i = patient
    p = prep.pk
    values: dict[str, float] = {
        "k_a": p.k_a[i], "f_fast": p.f_fast[i], "k_sv": p.k_sv[i], "k_vs": p.k_vs[i], "k_e0": p.k_e0[i],
        "ke": p.CL_L_h[i] / p.V_L[i], "nM_per_mg": p.nM_per_mg_p[i], "u_vs": p.u_per_mg_vs[i],
        "hill": prep.hill, "grams": p.grams[i], "strength": regimen.strength_pct,
        "dose_mg": float(pk.compute_dose_mg(p.grams[i], regimen.strength_pct)),
        "area_cm2": p.area_cm2[i], "Jmax_mg_cm2": p.Jmax_mg_cm2[i], "s_ref": p.s_ref[i],
        "gamma_s": p.gamma[i], "L50": p.L50_mg_cm2[i], "damage_ref": p.damage_ref[i],
        "theta_damage": p.theta_damage[i], "age_term": p.age_term[i],
        "damage": float(np.clip(1.0 - prep.y0[disease.B, i], pk.MIN_DAMAGE, 1.0)),
    }
    values.update({f"Imax_{name}": prep.imax[j] for j, name in enumerate(PATHWAYS)})
    for group in (prep.disease, prep.itch):
        values.update({k: v[i] for k, v in group.items()})
    vehicle = {k: v[i] for k, v in prep.vehicle.items()}
    values.update({k: vehicle[k] for k in ("k_v", "tau_v")})
    values["drive"] = float(disease.compute_emollient_drive(regimen.applications_per_day, regimen.adherence,
                                                            vehicle))
    if not regimen.is_continuous:
        raise InvalidInputError("regimen must be one daily pattern (no periods) for the SBML export; "
                                f"got {len(regimen.periods)} periods.")
    lines = [f"model dermsim_patient_{prep.start + i}", f"  // parameters: {parameters_label}", _EQUATIONS,
             "  // ---- initial state: untreated steady state ----"]
    lines += ["  A_surf = 0; A_sc = 0; A_vs = 0; A_p = 0; A_e = 0"]
    lines += [f"  {name} = {_fmt(prep.y0[k, i])}" for k, name in enumerate(disease.STATES)]
    lines.append("  // ---- parameters ----")
    lines += [f"  {k} = {_fmt(v)}" for k, v in values.items()]
    times = ", ".join(f"{t:g}" for t in regimen.application_times_h)
    lines.append(f"  // ---- dosing: {regimen.strength_pct:g} % cream at {times} h each day ----")
    for k, t in enumerate(regimen.application_times_h):
        lines.append(f"  next_dose_{k} = {_fmt(t)}")
        lines.append(f"  dose_{k}: at (time >= next_dose_{k}), t0=false: A_surf = A_surf + absorbed, "
                     f"next_dose_{k} = next_dose_{k} + 24")
    lines.append("end")
    return "\n".join(lines) + "\n"


def antimony_to_sbml(text: str) -> str:
    """SBML (level 3) text from Antimony text."""
    import antimony

    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(text) < 0:
        raise SolverError(f"Antimony could not parse the model: {antimony.getLastError().strip()}")
    sbml = antimony.getSBMLString(antimony.getMainModuleName())
    if not sbml:
        raise SolverError("Antimony produced no SBML.")
    return sbml


def build_patient_sbml(population: Any, regimen: Regimen, seed: SeedLike, *, patient: int = 0,
                       params: ParameterSet | None = None, blocked: Blocked = None,
                       parameters_label: str | None = None) -> str:
    """SBML of one patient of ``population`` with the parameters simulate_patients would give it
    under ``params`` (default: the package's parameter files; pass a posterior's ParameterSet to
    export calibrated values, and ``parameters_label`` to say which in the file)."""
    cols = _population_columns(population)
    n = cols["age_y"].shape[0]
    if not 0 <= patient < n:
        raise InvalidInputError(f"patient must be within 0-{n - 1}; got {patient}.")
    label = parameters_label or ("package parameter files" if params is None else "parameter set passed in")
    prep = prepare_patients(cols, regimen, default_parameters() if params is None else params,
                            as_seed_sequence(seed), patient, patient + 1, blocked)
    return antimony_to_sbml(build_patient_antimony(prep, regimen, 0, label))


def simulate_roadrunner(sbml: str, days: int, *, rtol: float = 1e-10,
                        atol: float = 1e-12) -> dict[str, np.ndarray]:
    """Run an exported patient in libRoadRunner; daily D, Q, cp_nM, u (shape (days + 1,))."""
    import roadrunner

    rr = roadrunner.RoadRunner(sbml)
    rr.integrator.relative_tolerance = rtol
    rr.integrator.absolute_tolerance = atol
    rr.timeCourseSelections = ["time", "D", "Q", "cp_nM", "u", "B", "P"]
    res = rr.simulate(0.0, 24.0 * days, days + 1)
    return {name: np.asarray(res[:, k + 1]) for k, name in enumerate(["D", "Q", "cp_nM", "u", "B", "P"])}


assert HOURS_PER_WEEK == 168.0  # the Antimony text divides weekly rates by 168
