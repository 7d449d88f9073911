"""Regimen scenarios for one patient over 12 weeks: every day vs stopping at week 8 vs using the
cream only when the skin flares (the model's as-needed rule), and strength/amount comparisons.

A seeded cohort of copies of the patient is simulated with
:func:`dermsim.model.simulate.simulate_patients` for each regimen, spread over parameter sets drawn
from the shipped calibrated posterior by the same rule as the dose planner's exposure
(:func:`dermsim.clinic.dose.posterior_parameter_sets`; the prior when no posterior fits the model):
``n // sets`` copies per set. Each set's copies have their own random numbers (child seed per set),
the same under every regimen (common random numbers), so differences between regimens come from the
regimen. Reported per regimen: grams of cream used, expected days with clear or almost clear skin
(observed IGA 0-1), the share clear at the end, and the blood level (each copy's highest daily
plasma level) against the threshold; each with its 90% interval across the parameter sets (the
model's uncertainty about the average), and the posterior version in the provenance.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from dermsim._rng import as_generator, child_sequence
from dermsim.clinic.dose import DosePlan, posterior_parameter_sets
from dermsim.errors import InvalidInputError
from dermsim.model.pharmacology.regimen import AsNeeded, Period, Regimen
from dermsim.model.simulate import PatientColumns, simulate_patients

DAYS = 84
WEEK_STOP = 8
COHORT = 100
BID = (0.0, 8.0)
# Parameter sets drawn from the posterior for the scenarios: one simulate_patients call per set and
# regimen (a call takes a single parameter set; about 0.25 s each), so 10 sets keep the family sheet
# within seconds while the 90% interval across sets still shows the parameter uncertainty.
SCENARIO_SETS = 10
_KEY_SETS, _KEY_PATIENTS = 1, 2


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    description: str
    grams_used: float              # mean per patient over the whole period
    days_clear: float              # mean days with IGA 0 or 1
    clear_at_end: float            # share of patients with IGA 0-1 on the last day
    days_treated: float            # mean days with at least one application
    level_median_nM: float         # median over patients of their highest daily plasma level
    share_above_threshold: float   # share of patients whose daily level ever passed the threshold
    # 90% interval across parameter sets of each set's average (None with one set: the prior)
    days_clear_interval: tuple[float, float] | None = None
    clear_at_end_interval: tuple[float, float] | None = None
    share_above_interval: tuple[float, float] | None = None


@dataclass(frozen=True)
class ScenarioSet:
    results: tuple[ScenarioResult, ...]
    days: int
    n_patients: int
    seed: int
    threshold_nM: float
    provenance: str
    parameters: str = "prior"                 # "prior" or "calibrated posterior"
    posterior_version: str | None = None
    parameter_sets: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {"days": self.days, "n_patients": self.n_patients, "seed": self.seed,
                "threshold_nM": self.threshold_nM, "provenance": self.provenance,
                "parameters": self.parameters, "posterior_version": self.posterior_version,
                "parameter_sets": self.parameter_sets,
                "scenarios": [{k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(r).items()}
                              for r in self.results]}


def _cohort(plan: DosePlan, n: int) -> PatientColumns:
    """``n`` copies of the plan's patient; baseline severity a moderate flare (IGA 3, EASI of the
    typical TRuE-AD3 child) since the scenario starts from eczema that needs treating."""
    one = np.ones(n)
    return PatientColumns(age_y=plan.inp.age_y * one, weight_kg=plan.weight_kg * one,
                          bsa_m2=plan.bsa_m2 * one, affected_pct=plan.treated_pct * one,
                          easi0=8.6 * one, iga0=np.full(n, 3, dtype=np.int8), nrs0=5.0 * one,
                          name="copies of the planned patient")


def regimens(plan: DosePlan, days: int = DAYS) -> dict[str, tuple[str, Regimen]]:
    g, s = plan.grams_per_application, float(plan.inp.strength_pct)
    base = {"strength_pct": s, "application_times_h": BID, "grams_per_application": g}
    return {
        "every_day": ("every day (two times a day)", Regimen(**base, name="every day")),
        "stop_week_8": ("stop at week 8",
                        Regimen(**base, name="stop at week 8",
                                periods=(Period(days=7 * WEEK_STOP), Period(holiday=True)))),
        "as_needed": ("only when it flares (start at IGA >= 2, stop at 0)",
                      Regimen(**base, name="as needed", periods=(Period(as_needed=AsNeeded()),))),
    }


def _interval(per_set: np.ndarray) -> tuple[float, float] | None:
    if per_set.size < 2:
        return None
    lo, hi = np.quantile(per_set, [0.05, 0.95])
    return float(lo), float(hi)


def run_scenarios(plan: DosePlan, *, seed: int = 1, n: int = COHORT, days: int = DAYS,
                  only: tuple[str, ...] | None = None, sets: int = SCENARIO_SETS) -> ScenarioSet:
    if n < 1:
        raise InvalidInputError(f"n must be >= 1; got {n}.")
    if sets < 1:
        raise InvalidInputError(f"sets must be >= 1; got {sets}.")
    params, src = posterior_parameter_sets(float(plan.inp.age_y), min(sets, n),
                                           as_generator(child_sequence(seed, _KEY_SETS)))
    k = len(params)
    per = max(1, n // k)
    cohort = _cohort(plan, per)
    thr = plan.exposure.threshold_nM
    out = []
    for name, (desc, reg) in regimens(plan, days).items():
        if only and name not in only:
            continue
        grams, clear_days, end, treated, peaks = [], [], [], [], []
        for j, ps in enumerate(params):
            # the same child seed per set under every regimen: common random numbers
            tr = simulate_patients(cohort, reg, days, child_sequence(seed, _KEY_PATIENTS, j),
                                   record=("iga", "cp_nM", "applications"), params=ps)
            iga, cp, apps = tr["iga"][:, 1:], tr["cp_nM"][:, 1:], tr["applications"][:, 1:]
            clear = iga <= 1
            grams.append(apps.sum(axis=1) * plan.grams_per_application)
            clear_days.append(clear.sum(axis=1))
            end.append(clear[:, -1])
            treated.append((apps > 0).sum(axis=1))
            peaks.append(cp.max(axis=1))
        g, c, e, t, pk = (np.stack(x) for x in (grams, clear_days, end, treated, peaks))  # (sets, per)
        above = pk > thr
        out.append(ScenarioResult(
            name=name, description=desc, grams_used=float(g.mean()), days_clear=float(c.mean()),
            clear_at_end=float(e.mean()), days_treated=float(t.mean()),
            level_median_nM=float(np.median(pk)), share_above_threshold=float(above.mean()),
            days_clear_interval=_interval(c.mean(axis=1)), clear_at_end_interval=_interval(e.mean(axis=1)),
            share_above_interval=_interval(above.mean(axis=1))))
    version = None if src.posterior is None else src.posterior.version
    params_text = (f"calibrated posterior {version}, {k} parameter sets" if version is not None
                   else "prior parameters (no calibrated posterior fits the model)")
    prov = (f"dermsim model, {per * k} simulated copies of this patient per regimen, seed {seed}, "
            f"{days} days, "
            f"{params_text}")
    return ScenarioSet(tuple(out), days, per * k, seed, thr, prov, src.kind, version, k)


def parse_compare(text: str) -> list[tuple[float, float]]:
    """``"1.5:3g,0.75:3g"`` -> [(1.5, 3.0), (0.75, 3.0)]: cream strength in % and grams per day."""
    out = []
    for part in (p.strip() for p in str(text).split(",") if p.strip()):
        strength, sep, grams = part.partition(":")
        try:
            if not sep or not grams.strip().lower().endswith("g"):
                raise ValueError
            s, g = float(strength), float(grams.strip()[:-1])
        except ValueError:
            raise InvalidInputError(f"--compare items must be 'strength:grams-per-day' like '1.5:3g'; "
                                    f"got {part!r}.") from None
        out.append((s, g))
    if not out:
        raise InvalidInputError(f"--compare must name at least one 'strength:grams' item; got {text!r}.")
    return out
