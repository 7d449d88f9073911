"""Regimen scenarios for one patient over 12 weeks: every day vs stopping at week 8 vs using the
cream only when the skin flares (the model's as-needed rule), and strength/amount comparisons.

A small seeded cohort of copies of the patient (the model's between-patient variability; the
shipped parameter set) is simulated with :func:`dermsim.model.simulate.simulate_patients` for each
regimen with common random numbers (same seed, same patients), so differences come from the
regimen. Reported per regimen: grams of cream used, expected days with clear or almost clear skin
(latent-free observed IGA 0-1), the share clear at the end, and the blood level (mean over days on
treatment of the daily plasma concentration record) against the threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from dermsim.clinic.dose import DosePlan
from dermsim.errors import InvalidInputError
from dermsim.model.regimen import AsNeeded, Period, Regimen
from dermsim.model.simulate import PatientColumns, simulate_patients

DAYS = 84
WEEK_STOP = 8
COHORT = 100
BID = (0.0, 8.0)


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


@dataclass(frozen=True)
class ScenarioSet:
    results: tuple[ScenarioResult, ...]
    days: int
    n_patients: int
    seed: int
    threshold_nM: float
    provenance: str

    def to_dict(self) -> dict[str, Any]:
        return {"days": self.days, "n_patients": self.n_patients, "seed": self.seed,
                "threshold_nM": self.threshold_nM, "provenance": self.provenance,
                "scenarios": [asdict(r) for r in self.results]}


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


def run_scenarios(plan: DosePlan, *, seed: int = 1, n: int = COHORT, days: int = DAYS,
                  only: tuple[str, ...] | None = None) -> ScenarioSet:
    if n < 1:
        raise InvalidInputError(f"n must be >= 1; got {n}.")
    cohort = _cohort(plan, n)
    thr = plan.exposure.threshold_nM
    out = []
    for name, (desc, reg) in regimens(plan, days).items():
        if only and name not in only:
            continue
        tr = simulate_patients(cohort, reg, days, seed, record=("iga", "cp_nM", "applications"))
        iga, cp, apps = tr["iga"][:, 1:], tr["cp_nM"][:, 1:], tr["applications"][:, 1:]
        clear = iga <= 1
        peak = cp.max(axis=1)
        out.append(ScenarioResult(
            name=name, description=desc,
            grams_used=float(np.mean(apps.sum(axis=1)) * plan.grams_per_application),
            days_clear=float(np.mean(clear.sum(axis=1))), clear_at_end=float(np.mean(clear[:, -1])),
            days_treated=float(np.mean((apps > 0).sum(axis=1))),
            level_median_nM=float(np.median(peak)), share_above_threshold=float(np.mean(peak > thr))))
    # simulate_patients without params uses the model's default parameter set (between-patient
    # variability only), not the dose planner's posterior particles: say so.
    prov = (f"dermsim model, {n} simulated copies of this patient per regimen, seed {seed}, {days} days, "
            f"default parameter set")
    return ScenarioSet(tuple(out), days, n, seed, thr, prov)


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
