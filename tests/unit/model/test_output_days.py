"""Trajectories kept on some days only (output_days): a trial's visits, a design's primary visit."""

from __future__ import annotations

import numpy as np
import pytest

from dermsim.errors import InvalidInputError
from dermsim.model.disease.scores import compute_weekly_mean
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.population.sampling import sample_population
from dermsim.model.simulate import simulate_patients

VISITS = (0, 1, 7, 14, 15, 28)


@pytest.fixture(scope="module")
def pop():
    return sample_population("true-ad3", 400, 8)


@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_kept_days_are_the_numbers_of_a_run_keeping_every_day(pop, engine):
    every = simulate_patients(pop, Regimen.bid(0.75), 28, 6, record="all", engine=engine)
    visits = simulate_patients(pop, Regimen.bid(0.75), 28, 6, record="all", engine=engine,
                               output_days=VISITS)
    assert visits.day.tolist() == list(VISITS) and visits.n_days == 28
    for name, full in every.values.items():
        np.testing.assert_array_equal(visits[name], full[:, list(VISITS)], err_msg=name)
    for day in (14, 28):
        for name, value in every.endpoints(day).items():
            np.testing.assert_array_equal(visits.endpoints(day)[name], value, err_msg=name)
    # the state a continuing run starts from does not depend on the days kept
    for name in ("disease", "pk", "nrs_tail"):
        np.testing.assert_array_equal(getattr(visits.final_state, name), getattr(every.final_state, name))
    with pytest.raises(InvalidInputError, match="day must be a day the run kept"):
        visits.endpoints(21)


def test_kept_days_of_a_continuing_run(pop):
    first = simulate_patients(pop, Regimen.bid(1.5), 14, 3, record=("easi", "nrs_weekly"))
    every = simulate_patients(pop, Regimen.bid(1.5), 14, 3, record=("easi", "iga", "nrs_weekly"),
                              initial_state=first.final_state)
    some = simulate_patients(pop, Regimen.bid(1.5), 14, 3, record=("easi", "iga", "nrs_weekly"),
                             initial_state=first.final_state, output_days=(14, 16, 28))
    for name in ("easi", "iga", "nrs_weekly"):
        np.testing.assert_array_equal(some[name], every[name][:, [0, 2, 14]], err_msg=name)
    np.testing.assert_array_equal(some.endpoints(28)["iga_ts"], every.endpoints(28)["iga_ts"])


@pytest.mark.parametrize("days, expected", [
    ((1, 7), "from the run's first day 0"),
    ((0, 7, 7), "increasing"),
    ((0, 29), "to at most 28"),
    ((0, 2.5), "whole days"),
    ((), "got 0 values"),
])
def test_bad_output_days_are_rejected_with_what_was_expected(pop, days, expected):
    with pytest.raises(InvalidInputError, match=f"output_days must .*{expected}"):
        simulate_patients(pop, Regimen.bid(1.5), 28, 1, output_days=days)


def test_weekly_mean_of_some_columns_equals_those_of_all():
    rng = np.random.default_rng(0)
    daily = rng.uniform(0, 10, (5, 40))
    nrs0 = rng.uniform(4, 10, 5)
    tail = rng.uniform(0, 10, (5, 6))
    for t in (None, tail):
        full = compute_weekly_mean(daily, nrs0, tail=t)
        cols = np.array([0, 3, 6, 7, 39])
        np.testing.assert_array_equal(compute_weekly_mean(daily, nrs0, tail=t, columns=cols), full[:, cols])
    # the week ending at day 10 is days 4-10, added in day order
    assert compute_weekly_mean(daily, nrs0)[2, 10] == sum(daily[2, 4:11]) / 7
