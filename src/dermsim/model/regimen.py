"""The dosing regimen of a cream: strength, application times, amount per application."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from dermsim._validate import check_positive, check_range
from dermsim.errors import InvalidInputError


@dataclass(frozen=True)
class Regimen:
    """A topical regimen, applied every day from day 0.

    ``strength_pct`` 0 is the vehicle (cream base only). ``application_times_h`` are clock times
    after the first application within each 24 h day (TRuE-AD: BID, 8 h apart -> ``(0, 8)``).
    The amount per application is ``grams_per_application`` if given, otherwise the fingertip-unit
    rule: treated area (cm2) x ``g_per_cm2`` (None: the value in ``pk.toml``, 0.5 g per 286 cm2).
    ``adherence`` scales every applied amount (1 = as prescribed); it is a placeholder until the
    trial layer passes per-application adherence.
    """

    strength_pct: float = 1.5
    application_times_h: tuple[float, ...] = (0.0, 8.0)
    grams_per_application: float | None = None
    g_per_cm2: float | None = None
    adherence: float = 1.0
    name: str = ""

    def __post_init__(self) -> None:
        check_range("strength_pct", self.strength_pct, 0.0, 100.0)
        times = tuple(float(t) for t in self.application_times_h)
        if not times:
            raise InvalidInputError("application_times_h must hold at least one time; got ().")
        for t in times:
            check_range("application_times_h", t, 0.0, 24.0, high_open=True)
        if any(b - a <= 0 for a, b in itertools.pairwise(times)):
            raise InvalidInputError(
                "application_times_h must be strictly increasing (a dosing interval of zero is not "
                f"allowed); got {self.application_times_h}.")
        if len(times) > 1 and times[0] + 24.0 - times[-1] <= 0:
            raise InvalidInputError(f"application_times_h must span less than 24 h; got {times}.")
        object.__setattr__(self, "application_times_h", times)
        if self.grams_per_application is not None:
            check_positive("grams_per_application", self.grams_per_application)
        if self.g_per_cm2 is not None:
            check_positive("g_per_cm2", self.g_per_cm2)
        check_range("adherence", self.adherence, 0.0, 1.0)

    @property
    def applications_per_day(self) -> int:
        return len(self.application_times_h)

    @property
    def is_vehicle(self) -> bool:
        return self.strength_pct == 0.0

    @property
    def strength_mg_per_g(self) -> float:
        return self.strength_pct * 10.0

    @property
    def dosing_intervals_h(self) -> tuple[float, ...]:
        t = self.application_times_h
        return tuple(b - a for a, b in zip(t, (*t[1:], t[0] + 24.0), strict=True))

    def replace(self, **changes: Any) -> Regimen:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["application_times_h"] = list(self.application_times_h)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Regimen:
        d = dict(data)
        if "application_times_h" in d:
            d["application_times_h"] = tuple(d["application_times_h"])
        return cls(**d)

    @classmethod
    def bid(cls, strength_pct: float, interval_h: float = 8.0, **kw: Any) -> Regimen:
        """Twice daily, ``interval_h`` apart (TRuE-AD: 8 h)."""
        if not math.isfinite(interval_h) or not 0 < interval_h < 24:
            raise InvalidInputError(f"interval_h must be within (0, 24); got {interval_h}.")
        return cls(strength_pct=strength_pct, application_times_h=(0.0, float(interval_h)), **kw)
