"""Height and weight from the CDC 2000 reference: the vectorized LMS grid against rcpchgrowth."""

from __future__ import annotations

import numpy as np
import pytest

from dermsim.errors import InvalidInputError
from dermsim.model.population import growth

rcpch = pytest.importorskip("rcpchgrowth.global_functions")


def test_vectorized_lms_matches_rcpchgrowth_at_off_grid_ages() -> None:
    """Reference: rcpchgrowth.global_functions.measurement_from_sds(reference="cdc", ...) called one
    patient at a time; our grid plus linear interpolation must agree to 1e-4 relative."""
    rng = np.random.default_rng(3)
    ages = rng.uniform(2.0, 20.0, 30)
    sds = rng.uniform(-2.5, 2.5, 30)
    for sex, rsex in (("F", "female"), ("M", "male")):
        for method in ("height", "weight"):
            ours = growth.compute_measurement_from_sds(sds, method, np.full(30, sex), ages)
            ref = [rcpch.measurement_from_sds(reference="cdc", requested_sds=float(z),
                                              measurement_method=method, sex=rsex, age=float(a))
                   for z, a in zip(sds, ages, strict=True)]
            np.testing.assert_allclose(ours, ref, rtol=1e-4)


def test_median_child_and_sds_round_trip() -> None:
    sex = np.array(["F", "M", "F", "M"])
    age = np.array([2.0, 6.5, 11.0, 16.0])
    z = np.array([-1.5, 0.0, 0.7, 2.2])
    for method in ("height", "weight"):
        x = growth.compute_measurement_from_sds(z, method, sex, age)
        np.testing.assert_allclose(growth.compute_sds(x, method, sex, age), z, atol=1e-10)
    h, w = growth.compute_height_weight(age[1:2], sex[1:2], np.zeros(1), np.zeros(1))
    assert 115 < h[0] < 122 and 19 < w[0] < 24  # CDC median boy at 6.5 y: about 119 cm, 22 kg


def test_adults_use_the_20_year_reference_and_sds_are_clipped() -> None:
    sex = np.array(["F", "F"])
    x = growth.compute_measurement_from_sds(np.zeros(2), "height", sex, np.array([20.0, 45.0]))
    assert x[0] == pytest.approx(x[1], rel=1e-15)
    capped = growth.compute_measurement_from_sds(np.array([3.0, 9.0]), "weight", sex, np.array([8.0, 8.0]))
    assert capped[0] == pytest.approx(capped[1], rel=1e-15)
    assert np.all(np.isfinite(growth.compute_measurement_from_sds(
        np.array([-9.0, 9.0]), "weight", sex, np.array([15.0, 15.0]))))


def test_weight_and_height_rise_with_age_at_fixed_sds() -> None:
    ages = np.linspace(2, 18, 50)
    for s in ("F", "M"):
        h = growth.compute_measurement_from_sds(np.zeros(50), "height", np.full(50, s), ages)
        w = growth.compute_measurement_from_sds(np.zeros(50), "weight", np.full(50, s), ages)
        assert np.all(np.diff(h) > 0) and np.all(np.diff(w) > 0)


def test_bad_input() -> None:
    with pytest.raises(InvalidInputError, match=r"age_y must be >= 2 \(CDC 2-20 y reference\); got 1.5"):
        growth.compute_lms("height", np.array(["F"]), np.array([1.5]))
    with pytest.raises(InvalidInputError, match="sex must be 'F' or 'M'; got 'X'"):
        growth.compute_lms("height", np.array(["X"]), np.array([5.0]))
    with pytest.raises(InvalidInputError, match="measurement must be one of height, weight; got 'bmi'"):
        growth.compute_lms("bmi", np.array(["F"]), np.array([5.0]))
