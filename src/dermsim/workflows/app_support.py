"""Thin workflows the web app needs beyond those the command line uses: the built-in scenarios, the
body map's Lund-Browder regions at an age, the pathways of the single-pathway what-ifs, an extra
population condition on every analysis of a plan, a population's course on a regimen kept in
memory (the model explorer draws it; nothing is written), and the compiled engine readied while the
app starts.

The explorer's regimen is the model's :class:`~dermsim.model.pharmacology.regimen.Regimen`: once or
twice daily every day, or a ``schedule`` over days in the regimen files' own form
(``examples/regimens/*.toml``: ``periods`` with days, strength, application times, weekdays for
maintenance, holidays and an ``as_needed`` rule on the patient's own state), validated by the same
spec as those files.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dermsim.analysis.plan import AnalysisPlan
from dermsim.errors import InvalidInputError
from dermsim.model.pharmacology.jak import PATHWAYS
from dermsim.model.pharmacology.regimen import RULE_METRICS, WEEKDAYS, Regimen, RegimenSpec
from dermsim.model.population.body import compute_region_sizes_pct, region_names
from dermsim.model.simulate import Trajectories
from dermsim.trial.scenarios import list_scenarios, load_design
from dermsim.workflows.model import ResolvedModel, simulate_regimen
from dermsim.workflows.progress import NO_PROGRESS, CancelToken, Progress

__all__ = [
    "PATHWAYS",
    "RULE_METRICS",
    "WEEKDAYS",
    "CourseRun",
    "body_map_regions",
    "describe_regimen",
    "explore_course",
    "list_scenarios",
    "read_regimen_file",
    "restrict_population",
    "schedule_regimen",
    "strata_choices",
    "warm_up_engine",
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


def strata_choices(scenario: str) -> dict[str, str]:
    """The ``strata`` values a design on ``scenario`` can take (the design layer's
    :func:`~dermsim.workflows.design.base_design` text) -> a label: the scenario's own factors (""),
    none, and every non-empty subset of its stratification factors."""
    factors = [f.name for f in load_design(scenario).stratification.factors]
    out = {"": f"all ({'+'.join(factors) or 'none'})", "none": "none (unstratified)"}
    for k in range(1, len(factors) + 1):
        for combo in itertools.combinations(factors, k):
            out.setdefault("+".join(combo), " + ".join(combo))
    return out


def read_regimen_file(path: str | Path) -> dict[str, Any]:
    """A regimen file (TOML, as ``examples/regimens/``) as the ``schedule`` mapping of
    :func:`explore_course`; bad input is one line naming the file and the field."""
    return RegimenSpec.from_toml(path).to_dict()


def schedule_regimen(schedule: Mapping[str, Any], *, days: int | None = None,
                     repeat: bool = False, **defaults: Any) -> Regimen:
    """The :class:`Regimen` of ``schedule`` (the regimen files' fields: ``periods``, ``strength_pct``,
    ``application_times_h``, ``start_weekday`` ...), its top-level fields taken from ``defaults``
    where the schedule leaves them out. ``repeat``: the periods run again in turn until ``days``
    (days on / days off cycles; every period then needs its length)."""
    data = {k: v for k, v in defaults.items() if v is not None}
    data |= {k: v for k, v in schedule.items() if v is not None}
    periods = list(data.get("periods") or [])
    if repeat:
        if days is None or not periods:
            raise InvalidInputError("repeat needs periods and a number of days to fill; got none.")
        if any(not isinstance(p, Mapping) or p.get("days") is None for p in periods):
            raise InvalidInputError("periods must each give their days to repeat; one is open-ended.")
        cycle = sum(int(p["days"]) for p in periods)
        data["periods"] = periods * max(1, -(-days // cycle))
    return RegimenSpec.from_dict(data, file="(calendar)").to_regimen()


def _times(times: tuple[float, ...]) -> str:
    n = {1: "once", 2: "twice"}.get(len(times), f"{len(times)} times")
    return f"{n} daily ({', '.join(f'{t:g}' for t in times)} h)"


def describe_regimen(regimen: Regimen, days: int) -> list[str]:
    """The calendar in words, one line per period within the first ``days`` days (what the explorer
    ran, shown beside its plots)."""
    lines = []
    for p in regimen.resolved_periods():
        if p.start_day >= days:
            break
        end = days if p.end_day is None else min(p.end_day, days)
        when = f"days {p.start_day}-{end - 1}"
        if not p.application_times_h:
            lines.append(f"{when}: holiday, no cream")
            continue
        what = f"{p.strength_pct:g}% cream {_times(p.application_times_h)}"
        if p.weekdays is not None:
            what += " on " + ", ".join(WEEKDAYS[w].capitalize() for w in p.weekdays)
        if p.as_needed is not None:
            a = p.as_needed
            name = "IGA" if a.metric == "iga" else "severity (D/D0)"
            what += f", as needed: start at {name} >= {a.start_at:g}, stop at <= {a.stop_at:g}"
        lines.append(f"{when}: {what}")
    if regimen.periods and (regimen.total_days or days) < days:
        lines.append(f"days {regimen.total_days}-{days - 1}: no cream (the calendar has ended)")
    return lines


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
    weeks: float | None = 8.0,
    strength: float = 1.5,
    applications_per_day: int = 2,
    interval_h: float = 8.0,
    grams_per_application: float | None = None,
    blocked: str = "jak1/2",
    schedule: Mapping[str, Any] | None = None,
    repeat: bool = False,
    posterior: str = "shipped",
    progress: Progress = NO_PROGRESS,
    cancel: CancelToken | None = None,
) -> CourseRun:
    """Sample ``n`` patients of ``population`` and simulate them for ``weeks`` on the cream, recording
    plasma level, EASI and the applications of each day. Without ``schedule``: every day, once (at
    0 h) or twice daily (0 h and ``interval_h``). With ``schedule`` (the regimen files' form, see
    :func:`schedule_regimen`): its periods, the arguments above giving the top-level strength,
    times and amount where it leaves them out. ``weeks`` None: the schedule's length (8 weeks for
    an open-ended one)."""
    if applications_per_day not in (1, 2):
        raise InvalidInputError(f"applications per day must be 1 or 2; got {applications_per_day}.")
    times = (0.0,) if applications_per_day == 1 else (0.0, float(interval_h))
    top = {"strength_pct": strength, "application_times_h": list(times),
           "grams_per_application": grams_per_application}
    days = None if weeks is None else round(float(weeks) * 7)
    if schedule:
        regimen = schedule_regimen(schedule, days=days, repeat=repeat, **top)
        if days is None:
            days = regimen.total_days or 56
    else:
        regimen = Regimen(strength_pct=strength, application_times_h=times,
                          grams_per_application=grams_per_application)
        days = 56 if days is None else days
    if days < 1:
        raise InvalidInputError(f"weeks must give at least one day; got {weeks}.")
    traj, model = simulate_regimen(regimen, days, seed=seed, population=population, n=n, blocked=blocked,
                                   record=("cp_nM", "easi", "applications"), workers=1,
                                   posterior=posterior, progress=progress, cancel=cancel)
    return CourseRun(traj, regimen, days, model)


def warm_up_engine() -> None:
    """Ready the compiled engine before the app's first run (:func:`dermsim.model.precompile.warm_up`:
    compile the kernels where numba's disk cache lacks them, then load them). A head start only: an
    error here is left to the first run, which compiles, loads and reports for itself."""
    from dermsim.model.precompile import warm_up

    try:
        warm_up()
    except Exception:
        return
