"""Height and weight for age and sex from the CDC 2000 growth reference (via ``rcpchgrowth``).

A patient's height and weight are given as standard deviation scores (SDS, z) and turned into
measurements with the reference's LMS parameters: x = M (1 + L S z)^(1/L) (Cole 1990).

How this is vectorized, and why: ``rcpchgrowth`` (RCPCH, maintained, ships the CDC 2-20 y
tables and their interpolation) works on one age at a time. We call its ``fetch_lms`` once per
point of a fixed age grid (2 to 20 y every 1/24 y, 433 points per sex and measurement, built once
and cached), then interpolate L, M and S linearly between grid points for any number of patients
with NumPy. The grid is twice as fine as the CDC table (about monthly), so the linear step adds no error
a measurement could show (checked against the library at off-grid ages in the tests). We do not
hand-type or re-derive any table.

Limits, stated: the CDC reference ends at 20 y, so adults are given the 20-year reference (heights
are final; adult weights are then those of 20-year-olds, lighter than the NHANES adult means).
It starts at 2 y here (the WHO 0-2 y part is not needed by the built-in trials).
"""

from __future__ import annotations

import functools
import importlib.metadata

import numpy as np

from dermsim import _disk_cache
from dermsim.errors import InvalidInputError

CDC_MIN_AGE_Y = 2.0
CDC_MAX_AGE_Y = 20.0
GRID_STEP_Y = 1.0 / 24.0
MEASUREMENTS = ("height", "weight")
SEXES = ("F", "M")
# SDS beyond +-3 lie outside the range the CDC LMS curves were fitted to; a draw beyond it is
# clipped so that no patient gets an extrapolated (or, for weight with L < 0, undefined) value.
SDS_LIMIT = 3.0


@functools.cache
def _lms_grid(measurement: str, sex: str) -> tuple[np.ndarray, np.ndarray]:
    """(ages, lms[3, n]) from rcpchgrowth's CDC reference at every grid age, kept in the process and
    on disk (:mod:`dermsim._disk_cache`, keyed by rcpchgrowth's version, the numeric platform and
    this module): importing rcpchgrowth imports scipy.stats, about 1 s of every simulating process."""
    n = round((CDC_MAX_AGE_Y - CDC_MIN_AGE_Y) / GRID_STEP_Y) + 1
    ages = np.linspace(CDC_MIN_AGE_Y, CDC_MAX_AGE_Y, n)

    def decode(entry: dict) -> np.ndarray:
        lms = np.array(entry["lms"], dtype=np.float64)
        if lms.shape != (3, n) or not np.all(np.isfinite(lms)):
            raise ValueError("not a finite (3, n) table")
        return lms

    inputs = {"measurement": measurement, "sex": sex, "n": n,
              "rcpchgrowth": importlib.metadata.version("rcpchgrowth"), **_disk_cache.numeric_platform()}
    key = _disk_cache.entry_key("cdc-lms", inputs, ("model/population/growth.py",))
    lms = _disk_cache.cached("cdc-lms", key, lambda: _fetch_lms_grid(measurement, sex, ages),
                             lambda t: {"lms": t.tolist()}, decode)
    return ages, lms


def _fetch_lms_grid(measurement: str, sex: str, ages: np.ndarray) -> np.ndarray:
    from rcpchgrowth.constants import CDC, FEMALE, HEIGHT, MALE, WEIGHT
    from rcpchgrowth.global_functions import fetch_lms, lms_value_array_for_measurement_for_reference

    method = {"height": HEIGHT, "weight": WEIGHT}[measurement]
    rsex = {"F": FEMALE, "M": MALE}[sex]
    table = lms_value_array_for_measurement_for_reference(
        reference=CDC, age=float(ages[ages.size // 2]), measurement_method=method, sex=rsex)
    lms = np.empty((3, ages.size))
    for j, age in enumerate(ages):
        # The 2-20 y table is one array for all these ages; fetch_lms interpolates within it.
        row = fetch_lms(float(age), table)
        lms[:, j] = (row["l"], row["m"], row["s"])
    return lms


def _check(measurement: str, sex: np.ndarray, age_y: np.ndarray) -> None:
    if measurement not in MEASUREMENTS:
        raise InvalidInputError(f"measurement must be one of {', '.join(MEASUREMENTS)}; got {measurement!r}.")
    bad = ~np.isin(sex, SEXES)
    if np.any(bad):
        raise InvalidInputError(f"sex must be 'F' or 'M'; got {str(sex[bad][0])!r}.")
    if not np.all(np.isfinite(age_y)) or np.any(age_y < CDC_MIN_AGE_Y):
        raise InvalidInputError(f"age_y must be >= {CDC_MIN_AGE_Y:g} (CDC 2-20 y reference); "
                                f"got {float(np.nanmin(age_y)):g}.")


def compute_lms(measurement: str, sex: np.ndarray, age_y: np.ndarray) -> np.ndarray:
    """CDC L, M, S at each patient's age and sex: array (3, n). Ages above 20 y use 20 y."""
    sex = np.atleast_1d(np.asarray(sex))
    age = np.atleast_1d(np.asarray(age_y, dtype=np.float64))
    if sex.shape != age.shape:
        raise InvalidInputError(f"sex and age_y must have the same length; got {sex.size} and {age.size}.")
    _check(measurement, sex, age)
    age = np.minimum(age, CDC_MAX_AGE_Y)
    out = np.empty((3, age.size))
    for s in SEXES:
        mask = sex == s
        if np.any(mask):
            grid, lms = _lms_grid(measurement, s)
            for k in range(3):
                out[k, mask] = np.interp(age[mask], grid, lms[k])
    return out


def compute_measurement_from_sds(sds: np.ndarray, measurement: str, sex: np.ndarray,
                                 age_y: np.ndarray) -> np.ndarray:
    """Height (cm) or weight (kg) for SDS ``sds`` (clipped to +-3) at age and sex (CDC LMS)."""
    z = np.clip(np.atleast_1d(np.asarray(sds, dtype=np.float64)), -SDS_LIMIT, SDS_LIMIT)
    lam, mu, sig = compute_lms(measurement, sex, age_y)
    if z.shape != mu.shape:
        raise InvalidInputError(f"sds must have one value per patient ({mu.size}); got {z.size}.")
    small = np.abs(lam) < 1e-8
    base = np.maximum(1.0 + lam * sig * z, 1e-6)
    return np.where(small, mu * np.exp(sig * z), mu * base ** (1.0 / np.where(small, 1.0, lam)))


def compute_sds(value: np.ndarray, measurement: str, sex: np.ndarray, age_y: np.ndarray) -> np.ndarray:
    """SDS of a height (cm) or weight (kg) at age and sex (the inverse of the above)."""
    x = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if np.any(x <= 0):
        raise InvalidInputError(f"{measurement} must be > 0; got {float(x.min()):g}.")
    lam, mu, sig = compute_lms(measurement, sex, age_y)
    small = np.abs(lam) < 1e-8
    safe = np.where(small, 1.0, lam)
    return np.where(small, np.log(x / mu) / sig, ((x / mu) ** safe - 1.0) / (safe * sig))


def compute_height_weight(age_y: np.ndarray, sex: np.ndarray, height_sds: np.ndarray,
                          weight_sds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(height_cm, weight_kg) for each patient's age, sex and pair of SDS."""
    return (compute_measurement_from_sds(height_sds, "height", sex, age_y),
            compute_measurement_from_sds(weight_sds, "weight", sex, age_y))
