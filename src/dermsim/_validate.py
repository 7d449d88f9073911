"""Small argument checks that raise :class:`InvalidInputError` with the house message form:
"<name> must be <expected>; got <value>."
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from dermsim.errors import InvalidInputError


def _fmt(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def check_finite(name: str, value: float) -> float:
    if value is None or not math.isfinite(float(value)):
        raise InvalidInputError(f"{name} must be a finite number; got {_fmt(value)}.")
    return float(value)


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    v = check_finite(name, value)
    if v < 0 or (v == 0 and not allow_zero):
        expected = ">= 0" if allow_zero else "> 0"
        raise InvalidInputError(f"{name} must be {expected}; got {_fmt(value)}.")
    return v


def check_range(name: str, value: float, low: float, high: float, *,
                low_open: bool = False, high_open: bool = False) -> float:
    v = check_finite(name, value)
    bad_low = v <= low if low_open else v < low
    bad_high = v >= high if high_open else v > high
    if bad_low or bad_high:
        lb = "(" if low_open else "["
        hb = ")" if high_open else "]"
        raise InvalidInputError(f"{name} must be within {lb}{low:g}, {high:g}{hb}; got {_fmt(value)}.")
    return v


def check_int(name: str, value: int, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InvalidInputError(f"{name} must be an integer >= {minimum}; got {_fmt(value)}.")
    if int(value) < minimum:
        raise InvalidInputError(f"{name} must be an integer >= {minimum}; got {value}.")
    return int(value)


def check_choice(name: str, value: str, choices: Iterable[str]) -> str:
    options = list(choices)
    if value not in options:
        raise InvalidInputError(
            f"{name} must be one of {', '.join(map(str, options))}; got {_fmt(value)}.")
    return value


def check_array_finite(name: str, values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{name} must hold finite numbers only; got NaN or infinity.")
    return arr
