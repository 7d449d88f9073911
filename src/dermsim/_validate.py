"""Small argument checks that raise :class:`InvalidInputError` with the house message form:
"<name> must be <expected>; got <value>."

:data:`LIMITS` are the documented upper bounds of every size argument (README, "Limits"): far above
any real use, low enough that a typo (``--n 1e23``, ``--weeks 1e9``) is refused at once instead of
running for hours or dying of MemoryError. :func:`check_memory` refuses a run whose estimated
memory exceeds what the machine has, with the estimate and how to split the work.
"""

from __future__ import annotations

import math
import os
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


# Upper bounds of size arguments (the README's "Limits" table lists them).
LIMITS: dict[str, int] = {
    "subjects": 1_000_000,       # subjects of one virtual trial (run, trial simulate)
    "patients": 10_000_000,      # virtual patients of a population or model simulation (chunked)
    "days": 3_660,               # simulated days (10 years)
    "replicates": 1_000_000,     # replicate trials (run --n-replicates, design --replicates)
    "chunk": 10_000_000,         # chunk sizes
    "workers": 1_024,            # worker processes or threads
    "draws": 1_000_000,          # Monte-Carlo draws (dose planner)
    "particles": 100_000,        # SMC particles, proposals
    "generations": 1_000,        # SMC generations
    "designs": 10_000,           # designs in one design run (grid points)
}


def check_int(name: str, value: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InvalidInputError(f"{name} must be an integer >= {minimum}; got {_fmt(value)}.")
    if int(value) < minimum:
        raise InvalidInputError(f"{name} must be an integer >= {minimum}; got {value}.")
    if maximum is not None and int(value) > maximum:
        raise InvalidInputError(f"{name} must be an integer within [{minimum}, {maximum:,}]; got {value:,} "
                                "(the documented limit; split the work into several runs).")
    return int(value)


def total_memory_bytes() -> int | None:
    """Physical memory of the machine (None where the OS does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return None


def check_memory(what: str, nbytes: float, *, hint: str) -> None:
    """Refuse ``what`` when its estimated memory ``nbytes`` exceeds 80% of the machine's memory."""
    total = total_memory_bytes()
    if total is not None and nbytes > 0.8 * total:
        raise InvalidInputError(
            f"{what} would need about {nbytes / 2**30:,.1f} GiB of memory; this machine has "
            f"{total / 2**30:,.1f} GiB; {hint}.")


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
