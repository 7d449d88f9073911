"""``TrialDesign``: a virtual trial as a frozen, validated spec loadable from TOML.

A design names the population spec it enrols from, the arms (product, strength, regimen,
allocation ratio), the stratification factors and the permuted-block size, the visit schedule
with windows, adherence, dropout, adverse-event hazards and the long-term extension. Built-in
designs live in ``data/scenarios/<name>.toml`` (:mod:`dermsim.trial.scenarios`); a commented
example a user can copy is ``examples/trial_design_example.toml``.

Every number that comes from a publication carries ``source`` (an evidence key) and ``status``
(C confirmed, D derived, U unconfirmed, A pre-specified modelling assumption), as in
:mod:`dermsim.model.population.spec`. A broken design is rejected when loaded, in one line that
names the file and the field.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import math
from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator

from dermsim._spec import Frozen, Spec
from dermsim.errors import DataValidationError

SpecStatus = Literal["C", "D", "U", "A"]
# products the model can simulate: strength 0 is the cream base (vehicle)
PRODUCTS: tuple[str, ...] = ("ruxolitinib cream", "vehicle cream")
REGIMEN_TIMES_H: dict[str, tuple[float, ...]] = {"QD": (0.0,), "BID": (0.0, 8.0)}
# CDISC controlled terminology for DS decoded reasons (codelist NCOMPLT, the subset a trial uses)
DCSREAS_TERMS: tuple[str, ...] = (
    "ADVERSE EVENT",
    "LACK OF EFFICACY",
    "LOST TO FOLLOW-UP",
    "WITHDRAWAL BY SUBJECT",
    "WITHDRAWAL BY PARENT/GUARDIAN",
    "PHYSICIAN DECISION",
    "PROTOCOL DEVIATION",
    "OTHER",
)
STRAT_VARIABLES: tuple[str, ...] = ("iga0", "age_y")
AESEV_LEVELS: tuple[str, ...] = ("MILD", "MODERATE", "SEVERE")
RACE_TERMS: tuple[str, ...] = (
    "AMERICAN INDIAN OR ALASKA NATIVE",
    "ASIAN",
    "BLACK OR AFRICAN AMERICAN",
    "NATIVE HAWAIIAN OR OTHER PACIFIC ISLANDER",
    "WHITE",
    "MULTIPLE",
    "OTHER",
)


_Frozen = Frozen


class Arm(_Frozen):
    """One randomized arm. ``ratio`` is its share in the allocation ratio (2:2:1 -> 2, 2, 1)."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,19}$")]
    label: Annotated[str, Field(min_length=1, max_length=200)]
    armcd: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,20}$")]
    product: str
    strength_pct: Annotated[float, Field(ge=0, le=100)]
    regimen: Literal["QD", "BID"] = "BID"
    interval_h: Annotated[float, Field(gt=0, lt=24)] = 8.0
    ratio: int
    planned_n: Annotated[int, Field(ge=0)] | None = None
    source: str = ""

    @field_validator("product")
    @classmethod
    def _known_product(cls, v: str) -> str:
        if v not in PRODUCTS:
            raise ValueError(f"product must be one of {', '.join(PRODUCTS)}; got {v!r}")
        return v

    @field_validator("ratio")
    @classmethod
    def _positive_ratio(cls, v: int) -> int:
        if v < 1:
            raise ValueError(
                f"ratio must be an integer >= 1 (an arm with ratio 0 receives nobody; "
                f"drop it instead); got {v}"
            )
        return v

    @model_validator(mode="after")
    def _vehicle_is_base(self) -> Self:
        if (self.product == "vehicle cream") != (self.strength_pct == 0):
            raise ValueError(
                f"strength_pct must be 0 exactly for the vehicle cream; got product "
                f"{self.product!r} with strength_pct {self.strength_pct:g}"
            )
        return self

    @property
    def application_times_h(self) -> tuple[float, ...]:
        return (0.0,) if self.regimen == "QD" else (0.0, float(self.interval_h))


class StratificationFactor(_Frozen):
    """A factor cut from a baseline covariate: ``iga0`` by ``levels`` or ``age_y`` by ``cutpoints_y``.

    Age groups are in completed years: cut-points ``[7]`` give ``<7`` and ``>=7`` (2-6 / 7-11).
    """

    name: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{0,7}$")]
    variable: Literal["iga0", "age_y"]
    levels: list[int] = Field(default_factory=list)
    cutpoints_y: list[float] = Field(default_factory=list)
    labels: list[str]
    status: SpecStatus = "C"
    source: str = ""
    note: str | None = None

    @model_validator(mode="after")
    def _levels(self) -> Self:
        if self.variable == "iga0":
            if not self.levels:
                raise ValueError("levels must list at least one baseline IGA grade; got none")
            if self.cutpoints_y:
                raise ValueError("cutpoints_y applies to age_y only; got cut-points for iga0")
            n = len(self.levels)
        else:
            if self.levels:
                raise ValueError("levels applies to iga0 only; age_y takes cutpoints_y")
            cuts = self.cutpoints_y
            if any(b <= a for a, b in itertools.pairwise(cuts)):
                raise ValueError(f"cutpoints_y must be strictly increasing; got {cuts}")
            n = len(cuts) + 1
        if len(self.labels) != n:
            raise ValueError(f"labels must hold one label per level ({n}); got {len(self.labels)}")
        if len(set(self.labels)) != n:
            raise ValueError(f"labels must be distinct; got {self.labels}")
        return self

    @property
    def n_levels(self) -> int:
        return len(self.labels)


class Stratification(_Frozen):
    factors: list[StratificationFactor] = Field(default_factory=list)
    block_size: Annotated[int, Field(ge=1)]

    @property
    def n_strata(self) -> int:
        return math.prod(f.n_levels for f in self.factors)


class Visit(_Frozen):
    """A scheduled visit on study day ``day`` (day 1 = randomization and first application), held
    within ``day - window_before_d`` .. ``day + window_after_d``."""

    name: Annotated[str, Field(min_length=1, max_length=40)]
    visitnum: Annotated[float, Field(ge=0)]
    day: Annotated[int, Field(ge=1)]
    window_before_d: Annotated[int, Field(ge=0)] = 0
    window_after_d: Annotated[int, Field(ge=0)] = 0
    period: Literal["VC", "LTS"] = "VC"
    assessments: list[Literal["IGA", "EASI", "BSA", "NRS"]] = Field(
        default_factory=lambda: ["IGA", "EASI", "BSA", "NRS"]
    )

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.day - self.window_before_d < 1:
            raise ValueError(
                f"window_before_d reaches before day 1 (day {self.day}, "
                f"window_before_d {self.window_before_d})"
            )
        return self


class VisitSchedule(_Frozen):
    visits: Annotated[list[Visit], Field(min_length=2)]
    vc_end_day: Annotated[int, Field(ge=2)]
    study_end_day: Annotated[int, Field(ge=2)]

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.visits[0].day != 1 or self.visits[0].window_before_d or self.visits[0].window_after_d:
            raise ValueError("visits[0] must be the baseline visit on day 1 with no window")
        days = [v.day for v in self.visits]
        if any(b <= a for a, b in itertools.pairwise(days)):
            raise ValueError(f"visits must be in strictly increasing day order; got days {days}")
        nums = [v.visitnum for v in self.visits]
        if len(set(nums)) != len(nums):
            raise ValueError(f"visitnum must be unique; got {nums}")
        if len({v.name for v in self.visits}) != len(self.visits):
            raise ValueError("visit names must be unique")
        if self.vc_end_day > self.study_end_day:
            raise ValueError(
                f"vc_end_day ({self.vc_end_day}) must not be after study_end_day ({self.study_end_day})"
            )
        for i, v in enumerate(self.visits):
            if v.day + v.window_after_d > self.study_end_day:
                raise ValueError(
                    f"visits[{i}] ({v.name!r}, day {v.day} + window {v.window_after_d}) "
                    f"is after study_end_day {self.study_end_day}"
                )
            if (v.period == "VC") != (v.day <= self.vc_end_day):
                raise ValueError(
                    f"visits[{i}] ({v.name!r}, day {v.day}) has period {v.period} but "
                    f"vc_end_day is {self.vc_end_day}"
                )
            if v.period == "VC" and v.day + v.window_after_d > self.vc_end_day:
                raise ValueError(f"visits[{i}] ({v.name!r}) window reaches past vc_end_day {self.vc_end_day}")
        return self


class Adherence(_Frozen):
    """Share of prescribed applications actually applied, Beta-distributed between patients."""

    mean: Annotated[float, Field(gt=0, le=1)]
    sd: Annotated[float, Field(ge=0)]
    status: SpecStatus = "A"
    source: str = ""

    @model_validator(mode="after")
    def _beta(self) -> Self:
        if self.mean < 1 and self.sd**2 >= self.mean * (1 - self.mean):
            raise ValueError(
                f"sd must be below sqrt(mean*(1-mean)) = "
                f"{math.sqrt(self.mean * (1 - self.mean)):.4g} for a Beta law; got {self.sd:g}"
            )
        if self.mean == 1 and self.sd != 0:
            raise ValueError("sd must be 0 when mean is 1")
        return self


class DropoutReason(_Frozen):
    reason: str
    weight: Annotated[float, Field(gt=0)]

    @field_validator("reason")
    @classmethod
    def _term(cls, v: str) -> str:
        if v not in DCSREAS_TERMS:
            raise ValueError(f"reason must be one of {', '.join(DCSREAS_TERMS)}; got {v!r}")
        return v


class DropoutModel(_Frozen):
    """Constant weekly hazard, multiplied by ``nonresponse_hr`` in weeks after
    ``nonresponse_from_week`` when the last observed EASI improvement is below
    ``nonresponse_pchg_threshold`` percent (lack of response drives dropout); LACK OF EFFICACY is
    then the recorded reason for the excess."""

    hazard_per_week: Annotated[float, Field(ge=0, lt=1)]
    lts_hazard_per_week: Annotated[float, Field(ge=0, lt=1)] | None = None
    nonresponse_hr: Annotated[float, Field(ge=1)] = 1.0
    nonresponse_from_week: Annotated[int, Field(ge=1)] = 2
    nonresponse_pchg_threshold: Annotated[float, Field(ge=0, le=100)] = 50.0
    reasons: Annotated[list[DropoutReason], Field(min_length=1)]
    status: SpecStatus = "A"
    source: str = ""
    note: str | None = None


class PreferredTerm(_Frozen):
    """A MedDRA-style preferred term (AEDECOD) with its primary system organ class (AEBODSYS)."""

    decod: Annotated[str, Field(min_length=1, max_length=200)]
    bodsys: Annotated[str, Field(min_length=1, max_length=200)]
    weight: Annotated[float, Field(gt=0)] = 1.0


class AdverseEventTerm(_Frozen):
    """A label-table row: the percent of patients with >= 1 event over ``period_weeks`` per arm.

    The hazard is constant: ``h = -ln(1 - pct/100) / period_weeks`` per week, so the simulated
    incidence over the same exposure equals the table's percent in expectation. A grouped row
    (e.g. upper respiratory tract infection) spreads its events over ``preferred_terms`` by weight.
    ``lts_pct``/``lts_weeks`` give the incidence on active cream in the long-term extension.
    """

    name: Annotated[str, Field(min_length=1)]
    period_weeks: Annotated[float, Field(gt=0)] = 8.0
    pct: dict[str, Annotated[float, Field(ge=0, lt=100)]]
    lts_pct: Annotated[float, Field(ge=0, lt=100)] | None = None
    lts_weeks: Annotated[float, Field(gt=0)] | None = None
    preferred_terms: Annotated[list[PreferredTerm], Field(min_length=1)]
    severity_pct: Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=3, max_length=3)] = Field(
        default_factory=lambda: [70.0, 25.0, 5.0]
    )
    mean_duration_d: Annotated[float, Field(gt=0)] = 7.0
    status: SpecStatus = "C"
    source: str = ""
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.lts_pct is None) != (self.lts_weeks is None):
            raise ValueError("lts_pct and lts_weeks must be given together")
        if not math.isclose(sum(self.severity_pct), 100.0, abs_tol=1e-6):
            raise ValueError(f"severity_pct must sum to 100; got {sum(self.severity_pct):g}")
        return self

    def hazard_per_day(self, arm_id: str) -> float:
        return -math.log1p(-self.pct[arm_id] / 100.0) / (7.0 * self.period_weeks)

    def lts_hazard_per_day(self) -> float:
        if self.lts_pct is None or self.lts_weeks is None:
            return 0.0
        return -math.log1p(-self.lts_pct / 100.0) / (7.0 * self.lts_weeks)


class AdverseEventModel(_Frozen):
    terms: list[AdverseEventTerm] = Field(default_factory=list)
    # days after the last application during which a new event still counts as emergent
    emergent_window_d: Annotated[int, Field(ge=0)] = 30


class Extension(_Frozen):
    """Long-term extension: arms in ``rerandomize_from`` are re-randomized at ``vc_end_day`` to
    ``rerandomize_to`` (equal ratio, permuted blocks of ``block_size``); other arms continue."""

    rerandomize_from: list[str] = Field(default_factory=list)
    rerandomize_to: list[str] = Field(default_factory=list)
    block_size: Annotated[int, Field(ge=1)] = 2
    status: SpecStatus = "C"
    source: str = ""


class TrialDesign(Spec):
    """A virtual randomized trial (see the module docstring and the example TOML)."""

    spec_kind: ClassVar[str] = "trial design"


    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
    studyid: Annotated[str, Field(pattern=r"^[A-Z0-9-]{1,20}$")]
    title: str
    population: str
    n_total: Annotated[int, Field(ge=1)]
    n_sites: Annotated[int, Field(ge=1)] = 1
    study_start: _dt.date
    enrollment_days: Annotated[int, Field(ge=1)] = 365
    arms: Annotated[list[Arm], Field(min_length=1)]
    stratification: Stratification
    schedule: VisitSchedule
    itch_min_age_y: Annotated[float, Field(ge=0)] = 0.0
    adherence: Adherence
    dropout: DropoutModel
    adverse_events: AdverseEventModel = Field(default_factory=AdverseEventModel)
    extension: Extension | None = None
    # A: race mix of the enrolled children is not in the evidence library for TRuE-AD3; the
    # default is close to the pooled TRuE-AD1/2 mix (White 70%, Black 23%, Asian 4%)
    race_pct: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: {
            "WHITE": 70.0,
            "BLACK OR AFRICAN AMERICAN": 23.0,
            "ASIAN": 4.0,
            "MULTIPLE": 3.0,
        }
    )
    sources: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [a.id for a in self.arms]
        if len(set(ids)) != len(ids):
            raise ValueError(f"arms must have distinct ids; got {ids}")
        cds = [a.armcd for a in self.arms]
        if len(set(cds)) != len(cds):
            raise ValueError(f"arms must have distinct armcd; got {cds}")
        total = sum(a.ratio for a in self.arms)
        if self.stratification.block_size % total:
            raise ValueError(
                f"stratification.block_size ({self.stratification.block_size}) must be a "
                f"multiple of the sum of the ratios ({total})"
            )
        if not math.isclose(sum(self.race_pct.values()), 100.0, abs_tol=1e-6):
            raise ValueError(f"race_pct must sum to 100; got {sum(self.race_pct.values()):g}")
        bad_race = [r for r in self.race_pct if r not in RACE_TERMS]
        if bad_race:
            raise ValueError(
                f"race_pct keys must be CDISC RACE terms ({', '.join(RACE_TERMS)}); got {bad_race}"
            )
        names = [f.name for f in self.stratification.factors]
        if len(set(names)) != len(names):
            raise ValueError(f"stratification factor names must be distinct; got {names}")
        for i, term in enumerate(self.adverse_events.terms):
            missing = [a for a in ids if a not in term.pct]
            extra = [a for a in term.pct if a not in ids]
            if missing or extra:
                raise ValueError(
                    f"adverse_events.terms[{i}] ({term.name!r}).pct must give one percent "
                    f"per arm {ids}; missing {missing}, unknown {extra}"
                )
        ext = self.extension
        if ext is not None:
            if self.schedule.study_end_day <= self.schedule.vc_end_day:
                raise ValueError("extension needs schedule.study_end_day after schedule.vc_end_day")
            for where, arm_ids in (
                ("rerandomize_from", ext.rerandomize_from),
                ("rerandomize_to", ext.rerandomize_to),
            ):
                bad = [a for a in arm_ids if a not in ids]
                if bad:
                    raise ValueError(f"extension.{where} names unknown arms {bad}; arms are {ids}")
            if ext.rerandomize_from and not ext.rerandomize_to:
                raise ValueError("extension.rerandomize_to must name at least one arm")
            if ext.block_size % max(len(ext.rerandomize_to), 1):
                raise ValueError(
                    f"extension.block_size ({ext.block_size}) must be a multiple of "
                    f"the number of arms in rerandomize_to ({len(ext.rerandomize_to)})"
                )
        elif self.schedule.study_end_day != self.schedule.vc_end_day:
            raise ValueError("schedule.study_end_day must equal vc_end_day without an extension")
        return self

    # ---- convenience -------------------------------------------------------------------------
    def arm(self, arm_id: str) -> Arm:
        for a in self.arms:
            if a.id == arm_id:
                return a
        raise DataValidationError(f"arm must be one of {', '.join(a.id for a in self.arms)}; got {arm_id!r}.")

    @property
    def arm_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.arms)

    @property
    def ratio(self) -> tuple[int, ...]:
        return tuple(a.ratio for a in self.arms)

    @property
    def study_days(self) -> int:
        """Last study day of the design (the extension end if there is one)."""
        return self.schedule.study_end_day
