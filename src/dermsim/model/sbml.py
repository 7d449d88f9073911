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
  any duration; a schedule with periods (strengths, holidays, weekdays, as-needed rules) is one
  self-rescheduling event per period and daily time, running over the period's days, plus a daily
  ``day_tick`` that sets the emollient drive and decides an as-needed rule (``treating``) on the
  patient's own noise-free latent IGA grade (or D/D0) with the rule's hysteresis, as the engine does.

Residual observation noise (EASI, IGA visit, NRS) is not part of the file: it is the error model,
as in an NLME model file.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np

from dermsim._rng import SeedLike, as_seed_sequence
from dermsim.errors import InvalidInputError, SolverError
from dermsim.model.disease import dynamics
from dermsim.model.equations import EMOLLIENT, OBSERVABLES, PK_STATES, antimony_expr, model_equations
from dermsim.model.parameters import ParameterSet, default_parameters
from dermsim.model.pharmacology import pk
from dermsim.model.pharmacology.jak import PATHWAYS, Blocked
from dermsim.model.pharmacology.regimen import Regimen
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
                  NRS0=float(prep.covariates["nrs0"][i]), Q0=float(prep.y0[dynamics.Q, i]),
                  iga_u=float(prep.iga_offset[i]))
    return values


def _weekday_gate(weekdays: tuple[int, ...] | None, start_weekday: int, day: str) -> str:
    """1 on the period's weekdays, else 0, for the day index expression ``day`` (0 = Monday)."""
    if weekdays is None:
        return "1"
    w = f"(({day} + {start_weekday}) - 7*floor(({day} + {start_weekday})/7))"
    pairs = ", ".join(f"1, {w} == {k}" for k in weekdays)
    return f"piecewise({pairs}, 0)"


def _dosing(prep: PreparedPatients, i: int, regimen: Regimen) -> tuple[float, list[str], list[str]]:
    """(initial emollient drive, parameter lines, event lines) of patient ``i``'s regimen.

    A schedule is a few self-rescheduling events, not one event per application (libRoadRunner
    compiles every event: a year of daily events took minutes): per period and daily time one dose
    event that runs from the period's first day to its end; and one ``day_tick`` at each day's start
    (before that day's applications: priority 10 over 0, and the doses read ``treating`` when they
    execute) that sets the day's emollient drive and, under an as-needed rule, decides ``treating``
    on the patient's own state as the engine does (simulate._integrate: noise-free latent IGA grade
    or D/D0, with the rule's hysteresis)."""
    vp = {k: v[i] for k, v in prep.vehicle.items()}
    one = prep.pk.select(slice(i, i + 1))
    damage0 = 1.0 - prep.y0[dynamics.B, i:i + 1]
    params: list[str] = []
    events: list[str] = []
    if regimen.is_continuous:
        drive = float(dynamics.compute_emollient_drive(regimen.applications_per_day, regimen.adherence, vp))
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
    plan = regimen.compile(1)
    periods = plan.periods
    grams = [g[i:i + 1] for g in _grams_by_period(prep, regimen, plan)]
    has_rule = any(per.as_needed is not None for per in periods)
    day = "(next_day/24)"  # the day index while day_tick executes (next_day not yet advanced)
    drive_chain, treat_chain = [], []
    for k, per in enumerate(periods):
        n = k + 1
        end = per.end_day
        times = per.application_times_h
        full = float(dynamics.compute_emollient_drive(len(times), regimen.adherence, vp))
        gate = _weekday_gate(per.weekdays, regimen.start_weekday, day) if times else "0"
        what = (f"{per.strength_pct:g} %, {grams[k][0]:.4g} g at {', '.join(f'{t:g}' for t in times)} h"
                if times else "no application")
        params.append(f"  // period {n}: days {per.start_day}-{'' if end is None else end - 1}: {what}"
                      + (f" on weekdays {list(per.weekdays)}" if per.weekdays is not None else ""))
        if per.as_needed is not None:
            rule = per.as_needed
            metric = "IGA" if rule.metric == "iga" else "(D/severity0)"
            decide = (f"piecewise(piecewise(1, {metric} > {_fmt(rule.stop_at)}, 0), treating > 0.5, "
                      f"piecewise(1, {metric} >= {_fmt(rule.start_at)}, 0))")
            treat, drive = decide, f"{decide}*{gate}*{_fmt(full)}"
        else:
            treat, drive = gate, f"{gate}*{_fmt(full)}"
        cond = "" if end is None else f"{day} < {end}"
        drive_chain.append((drive, cond))
        treat_chain.append((treat, cond))
        if per.strength_pct <= 0 or not times:
            continue
        absorbed = float(pk.compute_absorbed_mg(one, grams[k], per.strength_pct, damage0)[0])
        params.append(f"  absorbed_mg_p{n} = {_fmt(absorbed)}")
        for e, t in enumerate(times):
            nxt = f"next_p{n}_{e}"
            params.append(f"  {nxt} = {_fmt(24.0 * per.start_day + t)}")
            until = "" if end is None else f" && {nxt} < {_fmt(24.0 * end)}"
            dose_gate = _weekday_gate(per.weekdays, regimen.start_weekday, f"floor({nxt}/24)")
            if per.as_needed is not None:
                dose_gate += "*treating"
            events.append(f"  dose_p{n}_{e}: at (time >= {nxt}{until}), priority=0, t0=false, "
                          f"fromTrigger=false: A_surf = A_surf + absorbed_mg_p{n}*{dose_gate}, "
                          f"{nxt} = {nxt} + 24")

    def chain(parts: list[tuple[str, str]]) -> str:
        body = ", ".join(f"{v}, {c}" if c else v for v, c in parts)
        return f"piecewise({body}{', 0' if parts[-1][1] else ''})"

    params.append("  next_day = 0")
    tick = f"next_day = next_day + 24, drive = {chain(drive_chain)}"
    if has_rule:
        params.append("  treating = 0  // as-needed rule: on (1) or off (0), decided at each day's start")
        tick += f", treating = {chain(treat_chain)}"
    events.insert(0, f"  day_tick: at (time >= next_day), priority=10, t0=false, fromTrigger=false: {tick}")
    return 0.0, params, events


def build_patient_antimony(prep: PreparedPatients, regimen: Regimen, patient: int = 0,
                           parameters_label: str = "package parameter files") -> str:
    """Antimony text of patient ``patient`` (row of ``prep``); ``parameters_label`` names the
    parameter set in the file (the SBML model's name)."""
    if not 0 <= patient < prep.n:
        raise InvalidInputError(f"patient must be within 0-{prep.n - 1}; got {patient}.")
    i = patient
    eq = model_equations(tuple(prep.disease), tuple(prep.itch), tuple(prep.vehicle))
    values = _patient_values(prep, i)
    drive, dose_params, events = _dosing(prep, i, regimen)
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
    lines += [f"  {name} = {_fmt(prep.y0[k, i])}" for k, name in enumerate(dynamics.STATES)]
    lines.append("  // ---- parameters ----")
    lines += [f"  {name} = {_fmt(values[name])}" for name in eq.parameters]
    lines.append("  // ---- regimen ----")
    lines += dose_params + events
    # A_surf empties fast (k_a ~ 0.3/h); after weeks without cream it nears the smallest double and
    # CVODE stops with CV_TOO_MUCH_ACC (seen on an as-needed patient after 80 days off). 1e-200 mg is
    # no drug: set it to 0 once it falls below (the engine's exact PK has no such limit).
    lines.append("  underflow_guard: at (A_surf > 0 && A_surf < 1e-200), t0=false: A_surf = 0")
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
                            blocked: Blocked = None, parameters_label: str | None = None) -> list[str]:
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
    return [build_patient_antimony(prep, regimen, int(i) - lo, label) for i in idx]


def build_patient_sbml(population: Any, regimen: Regimen, seed: SeedLike, *, patient: int = 0,
                       params: ParameterSet | None = None, blocked: Blocked = None,
                       parameters_label: str | None = None) -> str:
    """SBML of one patient of ``population`` (see :func:`build_patients_antimony`)."""
    text = build_patients_antimony(population, regimen, seed, patients=patient, params=params,
                                   blocked=blocked, parameters_label=parameters_label)[0]
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
