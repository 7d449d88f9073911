"""Thin workflows the web app needs beyond those the command line uses: the built-in scenarios, the
body map's Lund-Browder regions at an age, the pathways of the single-pathway what-ifs, an extra
population condition on every analysis of a plan, and a population's course on a regimen kept in
memory (the model explorer draws it; nothing is written).

The regimen here is the model's current :class:`~dermsim.model.regimen.Regimen` (every day, once or
twice daily). Where the model's richer schedules (days on/off, maintenance, as-needed) arrive, they
plug in as the ``schedule`` argument of :func:`explore_course`, which refuses any schedule until then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dermsim.analysis.plan import AnalysisPlan
from dermsim.errors import InvalidInputError
from dermsim.model.body import compute_region_sizes_pct, region_names
from dermsim.model.jak import PATHWAYS
from dermsim.model.regimen import Regimen
from dermsim.model.simulate import Trajectories
from dermsim.trial.scenarios import list_scenarios
from dermsim.workflows.model import ResolvedModel, simulate_regimen
from dermsim.workflows.progress import NO_PROGRESS, CancelToken, Progress

__all__ = [
    "PATHWAYS",
    "CourseRun",
    "body_map_regions",
    "explore_course",
    "list_scenarios",
    "restrict_population",
]


def body_map_regions(age_y: float) -> dict[str, float]:
    """Lund-Browder regions -> size in % of total body surface at ``age_y`` (the charts' table,
    interpolated in age)."""
    sizes = compute_region_sizes_pct(float(age_y))[0]
    return {name: float(s) for name, s in zip(region_names(), sizes, strict=True)}


def restrict_population(plan: AnalysisPlan, condition: str) -> AnalysisPlan:
    """``plan`` with ``condition`` (the plan's filter language, e.g. ``SEX == "F"``) added to every
    analysis's population; the plan's own validation checks the condition."""
    condition = condition.strip()
    if not condition:
        return plan
    data = plan.to_dict()
    for a in data["analysis"]:
        own = str(a.get("population") or "").strip()
        a["population"] = f"({own}) and ({condition})" if own else condition
    return AnalysisPlan.from_dict(data, source="population filter")


@dataclass(frozen=True)
class CourseRun:
    """A virtual population's daily course on one regimen (in memory)."""

    trajectories: Trajectories
    regimen: Regimen
    days: int
    model: ResolvedModel


def explore_course(
    *,
    population: str = "true-ad3",
    n: int = 200,
    seed: int = 1,
    weeks: float = 8.0,
    strength: float = 1.5,
    applications_per_day: int = 2,
    interval_h: float = 8.0,
    grams_per_application: float | None = None,
    blocked: str = "jak1/2",
    schedule: Mapping[str, Any] | None = None,
    posterior: str = "shipped",
    progress: Progress = NO_PROGRESS,
    cancel: CancelToken | None = None,
) -> CourseRun:
    """Sample ``n`` patients of ``population`` and simulate them for ``weeks`` on the cream, once
    (at 0 h) or twice daily (0 h and ``interval_h``), recording plasma level and EASI."""
    if applications_per_day not in (1, 2):
        raise InvalidInputError(f"applications per day must be 1 or 2; got {applications_per_day}.")
    if schedule:
        raise InvalidInputError(
            "a days-on/off, maintenance or as-needed schedule needs the model's regimen "
            "schedules, which this version does not have yet; choose every day."
        )
    days = round(float(weeks) * 7)
    if days < 1:
        raise InvalidInputError(f"weeks must give at least one day; got {weeks}.")
    times = (0.0,) if applications_per_day == 1 else (0.0, float(interval_h))
    regimen = Regimen(strength_pct=strength, application_times_h=times,
                      grams_per_application=grams_per_application)
    traj, model = simulate_regimen(regimen, days, seed=seed, population=population, n=n, blocked=blocked,
                                   record=("cp_nM", "easi"), workers=1, posterior=posterior,
                                   progress=progress, cancel=cancel)
    return CourseRun(traj, regimen, days, model)
