"""Trajectories on any output grid in hours (issue 18)."""

from __future__ import annotations

import numpy as np
import pytest

from dermsim.errors import InvalidInputError
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.population.sampling import sample_population
from dermsim.model.simulate import simulate_patients

RECORD = ("cp_nM", "u", "D", "B", "easi_mean", "easi")


@pytest.fixture(scope="module")
def pop():
    return sample_population("true-ad3", 12, 4)


def test_hours_on_day_boundaries_equal_the_daily_output_and_change_nothing(pop):
    hours = np.arange(0.0, 24.0 * 4 + 0.5, 0.5)
    a = simulate_patients(pop, Regimen.bid(1.5), 4, 2, record=RECORD, output_hours=hours)
    # hourly outputs run the NumPy loop (they need its per-step states); compare it with itself (the
    # compiled kernel agrees with it to rounding, tests/unit/model/test_kernel.py)
    daily = simulate_patients(pop, Regimen.bid(1.5), 4, 2, record=RECORD, engine="numpy")
    for name in RECORD:
        np.testing.assert_array_equal(a[name], daily[name])  # the daily outputs are untouched
    cols = np.flatnonzero(np.isin(hours, 24.0 * np.arange(5)))
    for name in ("cp_nM", "u", "D", "B", "easi_mean"):
        np.testing.assert_allclose(a.at_hours[name][:, cols], daily[name], rtol=1e-12, atol=1e-12,
                                   err_msg=name)
    assert "easi" not in a.at_hours  # noisy scores are visit observations, daily only


def test_plasma_between_steps_is_exact(pop):
    # PK is linear with doses on step boundaries: 8 h steps evaluated in between must equal 1 h steps
    hours = np.arange(0.0, 24.0 * 3 + 1, 1.0)
    coarse = simulate_patients(pop, Regimen.bid(1.5, interval_h=8.0), 3, 2, record=("cp_nM", "u"),
                               output_hours=hours)
    fine = simulate_patients(pop, Regimen.bid(1.5, interval_h=8.0), 3, 2, record=("cp_nM", "u"),
                             output_hours=hours, max_step_h=1.0)
    for name in ("cp_nM", "u"):
        np.testing.assert_allclose(coarse.at_hours[name], fine.at_hours[name], rtol=1e-9, atol=1e-12)
    cp = coarse.at_hours["cp_nM"]
    # a time on a dose is before it: hour 8 (second application) is not above hour 7's fall
    assert np.all(cp[:, 1] > 0) and np.all(cp[:, 0] == 0)
    frame = coarse.to_frame(grid="hours")
    assert list(frame.columns) == ["patient", "time_h", "cp_nM", "u"] and len(frame) == pop.n * hours.size


def test_bad_grids_are_refused(pop):
    with pytest.raises(InvalidInputError, match="output_hours must be increasing hours within 0-48"):
        simulate_patients(pop, Regimen.bid(1.5), 2, 1, record=("cp_nM",), output_hours=[0, 50])
    with pytest.raises(InvalidInputError, match="output_hours must be increasing"):
        simulate_patients(pop, Regimen.bid(1.5), 2, 1, record=("cp_nM",), output_hours=[4, 2])
    with pytest.raises(InvalidInputError, match="record must name a variable from"):
        simulate_patients(pop, Regimen.bid(1.5), 2, 1, record=("easi",), output_hours=[0, 2])
    daily = simulate_patients(pop, Regimen.bid(1.5), 2, 1, record=("cp_nM",))
    with pytest.raises(InvalidInputError, match="grid 'hours' needs"):
        daily.to_frame(grid="hours")
