"""The within-day step grid: dose events fall on step boundaries, outputs at day boundaries."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from dermsim._validate import check_positive
from dermsim.errors import InvalidInputError


@dataclass(frozen=True)
class DayGrid:
    """Steps of one period (a day): ``starts_h[i]`` + ``steps_h[i]``; ``event_at_start[i]`` is the
    index of the event (dose) applied at the start of step i, or -1."""

    period_h: float
    starts_h: tuple[float, ...]
    steps_h: tuple[float, ...]
    event_at_start: tuple[int, ...]

    @property
    def n_steps(self) -> int:
        return len(self.steps_h)

    def distinct_steps_h(self) -> tuple[float, ...]:
        return tuple(sorted(set(self.steps_h)))


def build_day_grid(event_times_h: tuple[float, ...], *, max_step_h: float,
                   period_h: float = 24.0) -> DayGrid:
    """Split a period at its event times and at most every ``max_step_h`` hours."""
    check_positive("max_step_h", max_step_h)
    events = sorted(float(t) for t in event_times_h)
    if any(not 0 <= t < period_h for t in events):
        raise InvalidInputError(f"event times must be within [0, {period_h:g}); got {tuple(events)}.")
    cuts = sorted({0.0, *events, period_h})
    starts, steps, ev = [], [], []
    for a, b in itertools.pairwise(cuts):
        m = max(1, math.ceil((b - a) / max_step_h - 1e-9))
        h = (b - a) / m
        for s in range(m):
            t0 = a + s * h
            starts.append(t0)
            steps.append(round(h, 12))
            ev.append(events.index(a) if s == 0 and a in events else -1)
    return DayGrid(period_h=period_h, starts_h=tuple(starts), steps_h=tuple(steps), event_at_start=tuple(ev))


@lru_cache(maxsize=8)
def gauss_legendre_unit(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 1] (weights sum to 1)."""
    x, w = np.polynomial.legendre.leggauss(m)
    return (x + 1.0) / 2.0, w / 2.0
