"""The dosing regimen of a cream over days: strength, application times, amount, schedule, rules.

A :class:`Regimen` without ``periods`` is one daily pattern applied every day from day 0 (the first
version's meaning, kept exactly: ``Regimen.bid(1.5)``, ``Regimen(strength_pct=1.5,
application_times_h=(0, 8))``). With ``periods`` it is a schedule over days: consecutive
:class:`Period` s, each with its own strength, application times, amount, weekdays (proactive
weekend maintenance) or none at all (a holiday), and optionally an :class:`AsNeeded` rule on the
patient's own state (treat active disease, stop at clear, restart at worsening). A period field left
``None`` takes the regimen's top-level value. After the last period ends, nothing is applied.

Day 0 of the schedule is the first simulated day (day 0 of a fresh run, or the saved day when a run
restarts from a state); ``start_weekday`` is the weekday of that day (0 = Monday).

The engine never asks the regimen per patient in Python: :meth:`Regimen.compile` turns the
schedule into per-day arrays (period, which of the day's event times apply, which days a rule
governs), and the integrator combines them with per-patient arrays (grams, the rule's on/off).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from pydantic import Field, model_validator

from dermsim._spec import Frozen, Spec
from dermsim._validate import check_int, check_positive, check_range
from dermsim.errors import InvalidInputError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RULE_METRICS = ("iga", "severity")


def _check_times(name: str, times_in: Any, *, allow_empty: bool) -> tuple[float, ...]:
    times = tuple(float(t) for t in times_in)
    if not times and not allow_empty:
        raise InvalidInputError(f"{name} must hold at least one time; got ().")
    for t in times:
        check_range(name, t, 0.0, 24.0, high_open=True)
    if any(b - a <= 0 for a, b in itertools.pairwise(times)):
        raise InvalidInputError(
            f"{name} must be strictly increasing (a dosing interval of zero is not allowed); got {times_in}.")
    return times


def _weekday(name: str, value: Any) -> int:
    if isinstance(value, str):
        key = value.strip().lower()[:3]
        if key not in WEEKDAYS:
            raise InvalidInputError(
                f"{name} must hold weekdays ({', '.join(WEEKDAYS)} or 0-6); got {value!r}.")
        return WEEKDAYS.index(key)
    return int(check_range(name, value, 0, 6))


@dataclass(frozen=True)
class AsNeeded:
    """Treat on the patient's own state, checked once a day at the start of the day.

    ``metric`` "iga": the patient's noise-free latent IGA grade (0-4: the same latent scale and
    cut-points as the observed IGA, without the visit noise, so the rule does not flicker);
    "severity": the severity index relative to the patient's baseline, D/D0. Treatment starts
    (or restarts at worsening) when the metric is >= ``start_at`` and stops when it is <=
    ``stop_at``; in between, yesterday's decision holds. A patient entering an as-needed period
    while on treatment (any application the day before) continues until ``stop_at``.
    """

    metric: str = "iga"
    start_at: float = 2.0
    stop_at: float = 0.0

    def __post_init__(self) -> None:
        if self.metric not in RULE_METRICS:
            raise InvalidInputError(f"as_needed.metric must be one of {', '.join(RULE_METRICS)}; "
                                    f"got {self.metric!r}.")
        hi = 4.0 if self.metric == "iga" else 100.0
        check_range("as_needed.start_at", self.start_at, 0.0, hi)
        check_range("as_needed.stop_at", self.stop_at, 0.0, hi)
        if not self.stop_at < self.start_at:
            raise InvalidInputError(f"as_needed.stop_at must be below start_at ({self.start_at:g}); "
                                    f"got {self.stop_at:g}.")
        object.__setattr__(self, "start_at", float(self.start_at))
        object.__setattr__(self, "stop_at", float(self.stop_at))


@dataclass(frozen=True)
class Period:
    """A run of consecutive days with one pattern. ``None`` fields take the regimen's values.

    ``days`` None: until the end of the simulation (last period only). ``application_times_h`` ()
    or ``holiday=True``: no application at all (no drug, no cream base). ``weekdays``: apply only on
    these days of the week (0 = Monday or "mon".."sun"), e.g. ("sat", "sun") for twice-weekly
    proactive maintenance.
    """

    days: int | None = None
    strength_pct: float | None = None
    application_times_h: tuple[float, ...] | None = None
    grams_per_application: float | None = None
    g_per_cm2: float | None = None
    weekdays: tuple[int, ...] | None = None
    as_needed: AsNeeded | None = None
    holiday: bool = False

    def __post_init__(self) -> None:
        if self.days is not None:
            object.__setattr__(self, "days", check_int("periods.days", self.days, minimum=1))
        if self.strength_pct is not None:
            check_range("periods.strength_pct", self.strength_pct, 0.0, 100.0)
        if self.application_times_h is not None:
            object.__setattr__(self, "application_times_h",
                               _check_times("periods.application_times_h", self.application_times_h,
                                            allow_empty=True))
        if self.grams_per_application is not None:
            check_positive("periods.grams_per_application", self.grams_per_application)
        if self.g_per_cm2 is not None:
            check_positive("periods.g_per_cm2", self.g_per_cm2)
        if self.weekdays is not None:
            days = tuple(sorted({_weekday("periods.weekdays", w) for w in self.weekdays}))
            if not days:
                raise InvalidInputError(
                    "periods.weekdays must hold at least one day (or be left out); got ().")
            object.__setattr__(self, "weekdays", days)
        if isinstance(self.as_needed, Mapping):
            object.__setattr__(self, "as_needed", AsNeeded(**self.as_needed))
        if self.as_needed is not None and not isinstance(self.as_needed, AsNeeded):
            raise InvalidInputError(f"periods.as_needed must be an AsNeeded rule; got {self.as_needed!r}.")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in asdict(self).items():
            if v is None or (k == "holiday" and not v):
                continue
            out[k] = list(v) if isinstance(v, tuple) else v
        return out


@dataclass(frozen=True)
class ResolvedPeriod:
    """A period with every field filled in from the regimen (what the engine reads)."""

    start_day: int
    end_day: int | None                  # exclusive; None = open-ended
    strength_pct: float
    application_times_h: tuple[float, ...]
    grams_per_application: float | None
    g_per_cm2: float | None
    weekdays: tuple[int, ...] | None
    as_needed: AsNeeded | None


@dataclass(frozen=True)
class DayPlan:
    """A compiled schedule for ``days`` days (arrays over days; the integrator adds patients).

    ``event_times_h``: the union of every period's application times (the day grid's events);
    ``period[d]``: index into ``periods`` (-1: nothing applied); ``applies[d, e]``: event e is an
    application on day d under the fixed schedule (before any rule); ``rule[d]``: index into
    ``periods`` whose as-needed rule governs day d (-1: none).
    """

    event_times_h: tuple[float, ...]
    periods: tuple[ResolvedPeriod, ...]
    period: np.ndarray
    applies: np.ndarray
    rule: np.ndarray

    @property
    def n_applications(self) -> np.ndarray:
        """Applications on each day under the fixed schedule (days,)."""
        return self.applies.sum(axis=1)


@dataclass(frozen=True)
class Regimen:
    """A topical regimen: one daily pattern from day 0, or a schedule of ``periods``.

    ``strength_pct`` 0 is the vehicle (cream base only). ``application_times_h`` are clock times
    after the first application within each 24 h day (TRuE-AD: BID, 8 h apart -> ``(0, 8)``).
    The amount per application is ``grams_per_application`` if given, otherwise the fingertip-unit
    rule: treated area (cm2) x ``g_per_cm2`` (None: the value in ``pk.toml``, 0.5 g per 286 cm2).
    ``adherence`` scales every applied amount (1 = as prescribed). With ``periods``, these
    top-level values are the defaults each period may override (module docstring).
    """

    strength_pct: float = 1.5
    application_times_h: tuple[float, ...] = (0.0, 8.0)
    grams_per_application: float | None = None
    g_per_cm2: float | None = None
    adherence: float = 1.0
    name: str = ""
    periods: tuple[Period, ...] = ()
    start_weekday: int = 0

    def __post_init__(self) -> None:
        check_range("strength_pct", self.strength_pct, 0.0, 100.0)
        times = _check_times("application_times_h", self.application_times_h, allow_empty=False)
        if len(times) > 1 and times[0] + 24.0 - times[-1] <= 0:
            raise InvalidInputError(f"application_times_h must span less than 24 h; got {times}.")
        object.__setattr__(self, "application_times_h", times)
        if self.grams_per_application is not None:
            check_positive("grams_per_application", self.grams_per_application)
        if self.g_per_cm2 is not None:
            check_positive("g_per_cm2", self.g_per_cm2)
        check_range("adherence", self.adherence, 0.0, 1.0)
        periods = tuple(Period(**p) if isinstance(p, Mapping) else p for p in self.periods)
        for i, p in enumerate(periods):
            if not isinstance(p, Period):
                raise InvalidInputError(f"periods.{i} must be a Period; got {type(p).__name__}.")
            if p.days is None and i < len(periods) - 1:
                raise InvalidInputError(f"periods.{i}.days must be given (only the last period may run "
                                        "to the end of the simulation); got None.")
        object.__setattr__(self, "periods", periods)
        object.__setattr__(self, "start_weekday", int(_weekday("start_weekday", self.start_weekday)))

    # ---- the first version's view (the top-level daily pattern) ------------------------------
    @property
    def applications_per_day(self) -> int:
        """Applications per day of the top-level pattern (the periods' default)."""
        return len(self.application_times_h)

    @property
    def is_vehicle(self) -> bool:
        """No period applies drug (strength 0 everywhere)."""
        return all(p.strength_pct == 0.0 for p in self.resolved_periods())

    @property
    def strength_mg_per_g(self) -> float:
        return self.strength_pct * 10.0

    @property
    def dosing_intervals_h(self) -> tuple[float, ...]:
        t = self.application_times_h
        return tuple(b - a for a, b in zip(t, (*t[1:], t[0] + 24.0), strict=True))

    @property
    def is_continuous(self) -> bool:
        """One pattern every day from day 0 (no schedule)."""
        return not self.periods

    # ---- the schedule -------------------------------------------------------------------------
    def resolved_periods(self) -> tuple[ResolvedPeriod, ...]:
        """Periods with every field filled in; one open-ended period when there is no schedule."""
        if not self.periods:
            return (ResolvedPeriod(0, None, self.strength_pct, self.application_times_h,
                                   self.grams_per_application, self.g_per_cm2, None, None),)
        out, start = [], 0
        for p in self.periods:
            times = () if p.holiday else (p.application_times_h if p.application_times_h is not None
                                          else self.application_times_h)
            if p.grams_per_application is not None or p.g_per_cm2 is not None:
                grams, g_cm2 = p.grams_per_application, p.g_per_cm2
            else:
                grams, g_cm2 = self.grams_per_application, self.g_per_cm2
            end = None if p.days is None else start + p.days
            out.append(ResolvedPeriod(start, end,
                                      self.strength_pct if p.strength_pct is None else p.strength_pct,
                                      times, grams, g_cm2, p.weekdays, p.as_needed))
            if end is None:
                break
            start = end
        return tuple(out)

    @property
    def event_times_h(self) -> tuple[float, ...]:
        """Every clock time at which some period applies cream (the union, sorted)."""
        return tuple(sorted({t for p in self.resolved_periods() for t in p.application_times_h}))

    @property
    def total_days(self) -> int | None:
        """Days the schedule lasts (None: open-ended)."""
        return self.resolved_periods()[-1].end_day

    def compile(self, days: int) -> DayPlan:
        """Per-day arrays for ``days`` days from the schedule's day 0 (see :class:`DayPlan`)."""
        days = check_int("days", days, minimum=1)
        periods = self.resolved_periods()
        events = self.event_times_h
        period = np.full(days, -1, dtype=np.int64)
        applies = np.zeros((days, len(events)), dtype=bool)
        rule = np.full(days, -1, dtype=np.int64)
        d = np.arange(days)
        weekday = (self.start_weekday + d) % 7
        for i, p in enumerate(periods):
            on = (d >= p.start_day) & ((d < p.end_day) if p.end_day is not None else True)
            period[on] = i
            if p.weekdays is not None:
                on = on & np.isin(weekday, p.weekdays)
            cols = [events.index(t) for t in p.application_times_h]
            if cols:
                applies[np.ix_(np.flatnonzero(on), cols)] = True
            if p.as_needed is not None:
                rule[(period == i)] = i
        return DayPlan(event_times_h=events, periods=periods, period=period, applies=applies, rule=rule)

    # ---- construction and round trips ---------------------------------------------------------
    def replace(self, **changes: Any) -> Regimen:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["application_times_h"] = list(self.application_times_h)
        # a regimen without a schedule keeps the first version's dict (run records, hashes)
        if self.periods:
            d["periods"] = [p.to_dict() for p in self.periods]
        else:
            del d["periods"]
        if self.start_weekday == 0:
            del d["start_weekday"]
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Regimen:
        d = dict(data)
        if "application_times_h" in d:
            d["application_times_h"] = tuple(d["application_times_h"])
        if "periods" in d:
            d["periods"] = tuple(_period_from_dict(p) for p in d["periods"])
        return cls(**d)

    @classmethod
    def from_toml(cls, path: str | Path) -> Regimen:
        """A regimen from a TOML file (examples/regimens/); bad input is one line naming the file
        and the field."""
        return RegimenSpec.from_toml(path).to_regimen()

    @classmethod
    def bid(cls, strength_pct: float, interval_h: float = 8.0, **kw: Any) -> Regimen:
        """Twice daily, ``interval_h`` apart (TRuE-AD: 8 h)."""
        if not math.isfinite(interval_h) or not 0 < interval_h < 24:
            raise InvalidInputError(f"interval_h must be within (0, 24); got {interval_h}.")
        return cls(strength_pct=strength_pct, application_times_h=(0.0, float(interval_h)), **kw)


def _period_from_dict(p: Any) -> Period:
    if isinstance(p, Period):
        return p
    if not isinstance(p, Mapping):
        raise InvalidInputError(f"periods must hold tables; got {type(p).__name__}.")
    d = dict(p)
    for k in ("application_times_h", "weekdays"):
        if d.get(k) is not None:
            d[k] = tuple(d[k])
    if isinstance(d.get("as_needed"), Mapping):
        d["as_needed"] = AsNeeded(**d["as_needed"])
    return Period(**d)


# ---- TOML: the house spec form (dermsim._spec) over the dataclasses above ---------------------


class _AsNeededSpec(Frozen):
    metric: str = "iga"
    start_at: float = 2.0
    stop_at: float = 0.0


class _PeriodSpec(Frozen):
    days: int | None = None
    strength_pct: float | None = None
    application_times_h: list[float] | None = None
    grams_per_application: float | None = None
    g_per_cm2: float | None = None
    weekdays: list[int | str] | None = None
    as_needed: _AsNeededSpec | None = None
    holiday: bool = False

    @model_validator(mode="after")
    def _valid(self) -> Self:
        try:
            _period_from_dict(self.model_dump(exclude_none=True))
        except InvalidInputError as exc:
            raise ValueError(str(exc).removeprefix("periods.")) from None
        return self


class RegimenSpec(Spec):
    """A regimen file (examples/regimens/*.toml); fields as :class:`Regimen`."""

    spec_kind: ClassVar[str] = "regimen"

    name: str = ""
    strength_pct: float = 1.5
    application_times_h: list[float] = Field(default_factory=lambda: [0.0, 8.0])
    grams_per_application: float | None = None
    g_per_cm2: float | None = None
    adherence: float = 1.0
    start_weekday: int | str = 0
    description: str = ""
    periods: list[_PeriodSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _valid(self) -> Self:
        try:
            self.to_regimen()
        except InvalidInputError as exc:
            raise ValueError(str(exc)) from None
        return self

    def to_regimen(self) -> Regimen:
        d = self.model_dump(exclude_none=True)
        d.pop("description")
        return Regimen.from_dict(d)
