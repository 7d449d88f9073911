"""SBML/Antimony export of virtual patients, for libRoadRunner, COPASI, Tellurium or any SBML tool.

One patient is one model, in hours, with that patient's own parameter values (as ``simulate_patients``
draws them under the chosen parameter set: the shipped posterior, the prior or a posterior file),
baseline steady state and regimen:

* the equations come from :mod:`dermsim.model.equations`, which traces the engine's own functions (PK,
  JAK occupancy, disease core, itch, memory) into sympy, so the export cannot drift from the engine;
* states: PK amounts (mg) ``A_surf, A_sc, A_vs, A_p, A_e``, the disease states ``B, P, Th1, Th2,
  Th17, Th22, Q, M`` and the emollient state ``E_emol``;
* observables (assignment rules): plasma ``cp_nM``, local exposure ``u``, occupancy ``occ``, severity
  ``D``, ``EASI`` (noise-free), the latent IGA ``IGA_z`` (with the patient's own rater offset
  ``iga_u``, without visit noise) and its grade ``IGA``, the itch ``NRS`` (noise-free daily value;
  dermsim reports it missing below the self-report age);
* the regimen as events: each application adds its absorbed amount (``pk.compute_absorbed_mg`` at the
  patient's baseline barrier damage, as the engine applies it) to ``A_surf``. A regimen of one daily
  pattern is one self-rescheduling event per daily time (``next_dose_k += 24``), so the file runs for
  any duration; a schedule with periods (strengths, holidays, weekdays) is written out application by
  application for ``days`` days, with the emollient drive changed at the day boundaries where it
  changes. As-needed rules are not exported (they read each patient's state once a day).

Residual observation noise (EASI, IGA visit, NRS) is not part of the file: it is the error model,
as in an NLME model file.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np

from dermsim._rng import SeedLike, as_seed_sequence
from dermsim.errors import InvalidInputError, SolverError
from dermsim.model import disease, pk
from dermsim.model.equations import EMOLLIENT, OBSERVABLES, PK_STATES, antimony_expr, model_equations
from dermsim.model.jak import PATHWAYS, Blocked
from dermsim.model.parameters import ParameterSet, default_parameters
from dermsim.model.regimen import Regimen
from dermsim.model.simulate import (
    PreparedPatients,
    _grams_by_period,
    _population_columns,
    prepare_patients,
)

DISPLAY_NAMES = {
    "A_surf": "absorbable drug on/in the outer skin (mg)", "A_sc": "stratum corneum reservoir (mg)",
    "A_vs": "viable skin (mg)", "A_p": "plasma compartment (mg)",
    "A_e": "effect-site equivalent of A_vs (mg)",
    "cp_nM": "plasma ruxolitinib (nM)", "u": "local exposure index (unbound skin conc / IC50)",
    "occ": "JAK occupancy u^h/(1+u^h)", "B": "barrier integrity (0-1)", "P": "pathogen load",
    "Q": "itch state", "M": "disease memory (1 = untreated)", "D": "severity index P + 1 - B",
    "E_emol": "emollient state (0-1)", "EASI": "EASI without residual noise",
    "IGA_z": "latent IGA (with the patient's rater offset, without visit noise)",
    "IGA": "IGA grade of the latent IGA (0-4)", "NRS": "daily itch NRS without residual noise",
}
DEFAULT_SCHEDULE_DAYS = 56  # a schedule without an end is written out for 8 weeks unless told


def _fmt(v: float) -> str:
    return repr(float(v))


def _patient_values(prep: PreparedPatients, i: int) -> dict[str, float]:
    """Every number patient ``i`` gives the equations' parameters."""
    values: dict[str, float] = {f.name: float(getattr(prep.pk, f.name)[i]) for f in fields(pk.PatientPK)}
    for group in (prep.disease, prep.itch, prep.vehicle):
        values.update({k: float(v[i]) for k, v in group.items()})
    values.update({k: float(v) for k, v in prep.observation.items()})
    values.update({f"Imax_{name}": float(prep.imax[j]) for j, name in enumerate(PATHWAYS)})
    values.update(hill=prep.hill, EASI0=float(prep.covariates["easi0"][i]),
                  NRS0=float(prep.covariates["nrs0"][i]), Q0=float(prep.y0[disease.Q, i]),
                  iga_u=float(prep.iga_offset[i]))
    return values


def _dosing(prep: PreparedPatients, i: int, regimen: Regimen, days: int | None
            ) -> tuple[float, list[str], list[str]]:
    """(initial emollient drive, parameter lines, event lines) of patient ``i``'s regimen."""
    vp = {k: v[i] for k, v in prep.vehicle.items()}
    one = prep.pk.select(slice(i, i + 1))
    damage0 = 1.0 - prep.y0[disease.B, i:i + 1]
    params: list[str] = []
    events: list[str] = []
    if regimen.is_continuous:
        drive = float(disease.compute_emollient_drive(regimen.applications_per_day, regimen.adherence, vp))
        times = ", ".join(f"{t:g}" for t in regimen.application_times_h)
        params.append(f"  // {regimen.strength_pct:g} % cream, {one.grams[0]:.4g} g at {times} h every day")
        if regimen.strength_pct > 0:
            absorbed = float(pk.compute_absorbed_mg(one, one.grams, regimen.strength_pct, damage0)[0])
            dose = float(pk.compute_dose_mg(one.grams, regimen.strength_pct)[0])
            params += [f"  dose_mg = {_fmt(dose)}", f"  absorbed_mg = {_fmt(absorbed)}"]
            for k, t in enumerate(regimen.application_times_h):
                params.append(f"  next_dose_{k} = {_fmt(t)}")
                events.append(f"  dose_{k}: at (time >= next_dose_{k}), t0=false: "
                              f"A_surf = A_surf + absorbed_mg, next_dose_{k} = next_dose_{k} + 24")
        return drive, params, events
    for k, per in enumerate(regimen.resolved_periods()):
        if per.as_needed is not None:
            raise InvalidInputError(f"regimen period {k + 1} has an as-needed rule, which the SBML export "
                                    "does not write (it reads each patient's state once a day); export a "
                                    "fixed schedule instead.")
    if days is None:
        days = regimen.total_days or DEFAULT_SCHEDULE_DAYS
    plan = regimen.compile(days)
    grams = [g[i:i + 1] for g in _grams_by_period(prep, regimen, plan)]
    for k, per in enumerate(plan.periods):
        if per.strength_pct > 0:
            absorbed = float(pk.compute_absorbed_mg(one, grams[k], per.strength_pct, damage0)[0])
            params.append(f"  absorbed_mg_p{k + 1} = {_fmt(absorbed)}  // period {k + 1}: "
                          f"{per.strength_pct:g} %, {grams[k][0]:.4g} g per application")
    n_app = plan.n_applications
    drives = disease.compute_emollient_drive(n_app, regimen.adherence, vp)
    for d in range(days):
        if d > 0 and drives[d] != drives[d - 1]:
            events.append(f"  drive_day{d}: at (time >= {24 * d}), t0=false: drive = {_fmt(drives[d])}")
        pi = int(plan.period[d])
        if pi < 0 or plan.periods[pi].strength_pct <= 0:
            continue
        for e, t in enumerate(plan.event_times_h):
            if plan.applies[d, e]:
                events.append(f"  dose_day{d}_{e}: at (time >= {_fmt(24.0 * d + t)}), t0=false: "
                              f"A_surf = A_surf + absorbed_mg_p{pi + 1}")
    params.insert(0, f"  // schedule written out for {days} days ({int(n_app.sum())} applications)")
    return float(drives[0]), params, events


def build_patient_antimony(prep: PreparedPatients, regimen: Regimen, patient: int = 0,
                           parameters_label: str = "package parameter files", *,
                           days: int | None = None) -> str:
    """Antimony text of patient ``patient`` (row of ``prep``); ``parameters_label`` names the
    parameter set in a comment of the file; ``days``: how long a schedule with periods is written
    out (default: the schedule's length, else 8 weeks; a single daily pattern runs for any time)."""
    if not 0 <= patient < prep.n:
        raise InvalidInputError(f"patient must be within 0-{prep.n - 1}; got {patient}.")
    i = patient
    eq = model_equations(tuple(prep.disease), tuple(prep.itch), tuple(prep.vehicle))
    values = _patient_values(prep, i)
    drive, dose_params, events = _dosing(prep, i, regimen, days)
    values["drive"] = drive
    missing = [name for name in eq.parameters if name not in values]
    if missing:  # a new symbol in the engine's equations that no patient value names
        raise SolverError(f"the model's equations use {', '.join(missing)}, which the export has no "
                          "value for.")
    lines = [f"model dermsim_patient_{prep.start + i}",
             f"  // dermsim virtual patient {prep.start + i}; parameters: {parameters_label}",
             "  // time in hours; equations traced from the engine (dermsim.model.equations); "
             "observables without residual noise",
             "  // ---- rates ----"]
    lines += [f"  {name}' = {antimony_expr(expr)}" for name, expr in eq.rates.items()]
    lines.append("  // ---- assignment rules (w*: shared terms of the traced rates) ----")
    lines += [f"  {name} := {antimony_expr(expr)}" for name, expr in eq.rules]
    lines.append("  // ---- initial state: untreated steady state, no drug, no emollient ----")
    lines += [f"  {name} = 0" for name in (*PK_STATES, EMOLLIENT)]
    lines += [f"  {name} = {_fmt(prep.y0[k, i])}" for k, name in enumerate(disease.STATES)]
    lines.append("  // ---- parameters ----")
    lines += [f"  {name} = {_fmt(values[name])}" for name in eq.parameters]
    lines.append("  // ---- regimen ----")
    lines += dose_params + events
    lines.append("  // ---- names ----")
    lines += [f'  {name} is "{label}"' for name, label in DISPLAY_NAMES.items()]
    lines.append("end")
    # the model's SBML name says which patient and parameters (Antimony comments do not reach SBML)
    title = f"dermsim virtual patient {prep.start + i}; parameters: {parameters_label}".replace('"', "'")
    lines.append(f'dermsim_patient_{prep.start + i} is "{title}"')
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


def build_patients_antimony(population: Any, regimen: Regimen, seed: SeedLike, *,
                            patients: Any = None, params: ParameterSet | None = None,
                            blocked: Blocked = None, parameters_label: str | None = None,
                            days: int | None = None) -> list[str]:
    """Antimony text of ``patients`` (indices; default all) of ``population`` with the parameters
    simulate_patients gives them under ``params`` (default: the package's parameter files) and
    ``seed``."""
    cols = _population_columns(population)
    n = cols["age_y"].shape[0]
    idx = np.arange(n) if patients is None else np.atleast_1d(np.asarray(patients, int))
    if idx.size == 0 or idx.min() < 0 or idx.max() >= n:
        raise InvalidInputError(f"patient must be within 0-{n - 1}; got {idx.tolist()}.")
    label = parameters_label or ("package parameter files" if params is None else "parameter set passed in")
    lo, hi = int(idx.min()), int(idx.max()) + 1
    prep = prepare_patients(cols, regimen, default_parameters() if params is None else params,
                            as_seed_sequence(seed), lo, hi, blocked)
    return [build_patient_antimony(prep, regimen, int(i) - lo, label, days=days) for i in idx]


def build_patient_sbml(population: Any, regimen: Regimen, seed: SeedLike, *, patient: int = 0,
                       params: ParameterSet | None = None, blocked: Blocked = None,
                       parameters_label: str | None = None, days: int | None = None) -> str:
    """SBML of one patient of ``population`` (see :func:`build_patients_antimony`)."""
    text = build_patients_antimony(population, regimen, seed, patients=patient, params=params,
                                   blocked=blocked, parameters_label=parameters_label, days=days)[0]
    return antimony_to_sbml(text)


def simulate_roadrunner(sbml: str, days: int, *, rtol: float = 1e-10,
                        atol: float = 1e-12) -> dict[str, np.ndarray]:
    """Run an exported patient in libRoadRunner; daily states and observables (shape (days + 1,))."""
    import roadrunner

    rr = roadrunner.RoadRunner(sbml)
    rr.integrator.relative_tolerance = rtol
    rr.integrator.absolute_tolerance = atol
    names = [*OBSERVABLES, "B", "P", "Q", "M"]
    rr.timeCourseSelections = ["time", *names]
    res = rr.simulate(0.0, 24.0 * days, days + 1)
    return {name: np.asarray(res[:, k + 1]) for k, name in enumerate(names)}
