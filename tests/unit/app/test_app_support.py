"""The thin workflows only the web app uses (dermsim.workflows.app_support)."""

from __future__ import annotations

import pytest

from dermsim.errors import InvalidInputError
from dermsim.workflows import load_analysis_plan
from dermsim.workflows.app_support import body_map_regions, explore_course, restrict_population


def test_body_map_regions_follow_lund_browder_by_age() -> None:
    small, big = body_map_regions(2), body_map_regions(11)
    assert set(small) == set(big) and len(small) == 12
    assert sum(small.values()) == pytest.approx(100, abs=0.5)
    assert small["head"] > big["head"] and small["thighs"] < big["thighs"]  # the head shrinks with age


def test_population_condition_is_added_to_every_analysis_and_validated() -> None:
    plan = load_analysis_plan(None)
    narrowed = restrict_population(plan, 'SEX == "F"')
    for before, after in zip(plan.analyses, narrowed.analyses, strict=True):
        assert after.population == (
            f'({before.population}) and (SEX == "F")' if before.population else 'SEX == "F"'
        )
    assert restrict_population(plan, "  ") is plan
    with pytest.raises(InvalidInputError, match="population"):
        restrict_population(plan, "__import__('os').system('true')")


def test_explore_course_once_daily_and_refuses_schedules_it_cannot_run() -> None:
    with pytest.raises(InvalidInputError, match="schedules"):
        explore_course(n=10, weeks=1, schedule={"kind": "days_on_off", "on": 14, "off": 7})
    with pytest.raises(InvalidInputError, match="1 or 2"):
        explore_course(n=10, weeks=1, applications_per_day=3)
    run = explore_course(n=10, weeks=1, applications_per_day=1, posterior="prior")
    assert run.regimen.application_times_h == (0.0,) and run.days == 7 and run.trajectories.n == 10
