"""Regimen: the first version's meaning kept, schedules over days, as-needed rules, TOML files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.model.pharmacology.regimen import AsNeeded, Period, Regimen

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "regimens"


def test_first_version_regimens_mean_one_pattern_every_day():
    r = Regimen.bid(1.5)
    assert r == Regimen(strength_pct=1.5, application_times_h=(0, 8))
    # the dict of a regimen without a schedule is exactly the first version's (run records, hashes)
    assert r.to_dict() == {"strength_pct": 1.5, "application_times_h": [0.0, 8.0],
                           "grams_per_application": None, "g_per_cm2": None, "adherence": 1.0, "name": ""}
    assert Regimen.from_dict(r.to_dict()) == r
    assert r.replace(strength_pct=0.75).strength_pct == 0.75 and r.is_continuous and r.total_days is None
    plan = r.compile(30)
    assert plan.event_times_h == (0.0, 8.0) and plan.applies.all() and (plan.period == 0).all()
    assert (plan.rule == -1).all() and not Regimen(strength_pct=1.5).is_vehicle
    assert Regimen(strength_pct=0.0).is_vehicle


def test_periods_inherit_and_the_schedule_ends():
    r = Regimen(strength_pct=1.5, periods=(Period(days=14, application_times_h=(0,)),
                                           Period(days=7, strength_pct=0.75, application_times_h=(2, 12)),
                                           Period(days=7, holiday=True)))
    plan = r.compile(35)
    assert plan.event_times_h == (0.0, 2.0, 12.0)
    assert plan.n_applications.tolist() == [1] * 14 + [2] * 7 + [0] * 14
    assert plan.applies[14].tolist() == [False, True, True]
    assert plan.period.tolist() == [0] * 14 + [1] * 7 + [2] * 7 + [-1] * 7
    assert [p.strength_pct for p in plan.periods] == [1.5, 0.75, 1.5]
    assert r.total_days == 28 and not r.is_vehicle
    assert Regimen.from_dict(r.to_dict()) == r


def test_weekdays_count_from_the_start_weekday():
    r = Regimen(periods=(Period(days=7), Period(weekdays=("sat", "sun"))), start_weekday="wed")
    plan = r.compile(21)
    # day 0 is a Wednesday: days 10, 11 (Sat, Sun) and 17, 18 are maintenance days
    on = np.flatnonzero(plan.n_applications[7:] > 0) + 7
    assert on.tolist() == [10, 11, 17, 18]


def test_as_needed_days_and_rule_validation():
    r = Regimen(periods=(Period(days=56), Period(as_needed=AsNeeded(metric="iga", start_at=2, stop_at=0))))
    plan = r.compile(70)
    assert (plan.rule[:56] == -1).all() and (plan.rule[56:] == 1).all()
    assert plan.applies[56:].all()  # the rule, not the schedule, decides on those days
    with pytest.raises(InvalidInputError, match="stop_at must be below start_at"):
        AsNeeded(start_at=1, stop_at=1)
    with pytest.raises(InvalidInputError, match="metric must be one of iga, severity"):
        AsNeeded(metric="easi")


@pytest.mark.parametrize(("kwargs", "msg"), [
    ({"periods": ({}, {"days": 3})}, r"periods.0.days must be given"),
    ({"periods": ({"days": 0},)}, r"periods.days must be an integer >= 1"),
    ({"periods": ({"days": 3, "weekdays": ("someday",)},)}, r"periods.weekdays must hold weekdays"),
    ({"periods": ({"days": 3, "application_times_h": (8, 2)},)}, r"strictly increasing"),
    ({"application_times_h": ()}, r"at least one time"),
])
def test_bad_regimens_name_the_field(kwargs, msg):
    with pytest.raises(InvalidInputError, match=msg):
        Regimen(**kwargs)


@pytest.mark.parametrize("name", ["continuous_bid_8wk", "qd_2wk_then_bid", "holiday_1wk",
                                  "weekend_maintenance", "as_needed_52wk"])
def test_example_files_load_and_round_trip(name):
    r = Regimen.from_toml(EXAMPLES / f"{name}.toml")
    assert r.name and r.total_days is not None
    assert Regimen.from_dict(r.to_dict()) == r


def test_example_schedules_mean_what_they_say():
    load = lambda n: Regimen.from_toml(EXAMPLES / f"{n}.toml").compile(364)  # noqa: E731
    assert load("continuous_bid_8wk").n_applications[:58].tolist() == [2] * 56 + [0, 0]
    assert load("qd_2wk_then_bid").n_applications[:57].tolist() == [1] * 14 + [2] * 42 + [0]
    assert load("holiday_1wk").n_applications[:57].tolist() == [2] * 28 + [0] * 7 + [2] * 21 + [0]
    weekend = load("weekend_maintenance").n_applications[56:]
    assert weekend.sum() == 2 * 2 * 44 and weekend[:7].tolist() == [0, 0, 0, 0, 0, 2, 2]
    as_needed = load("as_needed_52wk")
    assert (as_needed.rule[56:] == 1).all() and (as_needed.rule[:56] == -1).all()


@pytest.mark.parametrize(("text", "where"), [
    ('strength_pct = 1.5\nbogus = 1\n', "field bogus: Extra inputs are not permitted"),
    ('[[periods]]\ndays = 7\n[[periods]]\ndays = 7\napplication_times_h = [8, 2]\n',
     "field periods.1: application_times_h must be strictly increasing"),
    ('[[periods]]\ndays = 7\n[periods.as_needed]\nstart_at = 0\nstop_at = 1\n',
     "field periods.0: as_needed.stop_at must be below start_at"),
    ('strength_pct = -1\n', "strength_pct must be within [0, 100]"),
    ('[[periods]]\n[[periods]]\ndays = 3\n', "periods.0.days must be given"),
])
def test_bad_regimen_files_are_one_line_naming_file_and_field(tmp_path, text, where):
    f = tmp_path / "my.toml"
    f.write_text(text)
    with pytest.raises(DataValidationError) as err:
        Regimen.from_toml(f)
    msg = str(err.value)
    assert msg.startswith("regimen my.toml: ") and where in msg and "\n" not in msg


def test_missing_regimen_file_is_one_line(tmp_path):
    with pytest.raises(DataValidationError, match=r"regimen nope\.toml: not found"):
        Regimen.from_toml(tmp_path / "nope.toml")
