"""The thin workflows only the web app uses (dermsim.workflows.app_support)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dermsim.design.resolve import resolve_design
from dermsim.errors import DermsimError, InvalidInputError
from dermsim.workflows import load_analysis_plan
from dermsim.workflows.app_support import (
    body_map_regions,
    describe_regimen,
    explore_course,
    read_regimen_file,
    restrict_population,
    schedule_regimen,
    strata_choices,
)
from dermsim.workflows.design import base_design

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "regimens"


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


def test_explore_course_once_daily_every_day() -> None:
    with pytest.raises(InvalidInputError, match="1 or 2"):
        explore_course(n=10, weeks=1, applications_per_day=3)
    run = explore_course(n=10, weeks=1, applications_per_day=1, posterior="prior")
    assert run.regimen.application_times_h == (0.0,) and run.days == 7 and run.trajectories.n == 10
    assert run.regimen.is_continuous


def test_schedule_from_a_regimen_file_runs_its_periods() -> None:
    """A regimen file (the holiday example) runs as written: its length by default, no cream in the
    holiday week (applications on day d count the day before)."""
    schedule = read_regimen_file(EXAMPLES / "holiday_1wk.toml")
    run = explore_course(n=10, weeks=None, schedule=schedule, posterior="prior")
    assert run.days == 56 and len(run.regimen.periods) == 3
    applied = run.trajectories.to_frame("wide").groupby("day")["applications"].max()
    assert (applied.loc[29:35] == 0).all()
    assert (applied.loc[1:28] == 2).all() and (applied.loc[36:] == 2).all()
    assert describe_regimen(run.regimen, run.days)[1] == "days 28-34: holiday, no cream"


def test_schedule_built_on_the_page_takes_the_top_level_defaults_and_repeats() -> None:
    sched = {"periods": [{"days": 14}, {"days": 7, "holiday": True}]}
    reg = schedule_regimen(sched, days=56, repeat=True, strength_pct=0.75, application_times_h=[0.0])
    assert reg.strength_pct == 0.75 and reg.application_times_h == (0.0,)
    plan = reg.compile(56)
    on = plan.n_applications > 0
    assert on[:14].all() and not on[14:21].any() and on[21:35].all() and not on[35:42].any()
    maint = schedule_regimen({"start_weekday": "mon", "periods": [{"days": 7}, {"weekdays": ["sat", "sun"]}]})
    assert "on Sat, Sun" in describe_regimen(maint, 21)[1]
    assert maint.compile(21).n_applications[7:14].tolist() == [0, 0, 0, 0, 0, 2, 2]
    rule = schedule_regimen({"periods": [{"as_needed": {"metric": "iga", "start_at": 2, "stop_at": 0}}]})
    assert "as needed: start at IGA >= 2" in describe_regimen(rule, 7)[0]


@pytest.mark.parametrize(
    ("schedule", "repeat", "words"),
    [
        ({"periods": [{"days": 0}]}, False, "periods.0: days must be an integer >= 1"),
        ({"periods": [{"days": 3, "weekdays": ["xyz"]}]}, False, "weekdays"),
        ({"periods": [{"as_needed": {"start_at": 1, "stop_at": 2}}]}, False, "stop_at must be below"),
        ({"periods": [{"days": 3}, {}]}, True, "repeat"),
        ({"periods": [{}, {"days": 3}]}, False, "only the last period"),
    ],
)
def test_bad_schedule_is_one_clear_line(schedule: dict, repeat: bool, words: str) -> None:
    with pytest.raises(DermsimError, match=words) as err:
        schedule_regimen(schedule, days=28, repeat=repeat)
    assert "\n" not in str(err.value)


def test_strata_choices_are_the_subsets_of_the_scenarios_factors() -> None:
    choices = strata_choices("true-ad3")
    assert list(choices) == ["", "none", "IGASTR", "AGESTR", "IGASTR+AGESTR"]
    n_strata = {
        s: resolve_design("true-ad3", base_design("x", 100, strata=s or None)).n_strata for s in choices
    }
    assert n_strata == {"": 4, "none": 1, "IGASTR": 2, "AGESTR": 2, "IGASTR+AGESTR": 4}
