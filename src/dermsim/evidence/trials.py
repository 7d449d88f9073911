"""Published trial summaries: TRuE-AD3 (children 2-11) and TRuE-AD1/AD2 (ages >= 12).

One file per source family (``data/trial_true_ad3.toml``, ``data/trial_true_ad1_ad2.toml``); each
holds ``[trials.<id>]`` tables and, where the sources report pooled data, ``[pooled.<id>]``.
Every number is a :class:`~dermsim.evidence._schema.Fact` or a cited record (endpoint result, AE
row) with its status; the validators below enforce the invariants a trial summary must keep.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator, model_validator

from dermsim.errors import DataValidationError
from dermsim.evidence._schema import DATA_DIR, Cited, Fact, Frozen, Source, at, check_pct, load_model

TRIAL_FILES = ("trial_true_ad3.toml", "trial_true_ad1_ad2.toml")
ArmId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]


class Stratum(Frozen):
    """A stratification factor; ``levels`` is NF where the source names the factor only."""

    name: str
    levels: Fact


class Eligibility(Frozen):
    """Entry criteria. ``age_max_exclusive_y`` is absent for trials with no upper age."""

    age_min_y: Fact
    age_max_exclusive_y: Fact | None = None
    iga_min: Fact
    iga_max: Fact
    bsa_min_pct: Fact
    bsa_max_pct: Fact
    ad_duration_min_months: Fact
    other: dict[str, Fact] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ordered(self) -> Eligibility:
        for low, high in (("iga_min", "iga_max"), ("bsa_min_pct", "bsa_max_pct"),
                          ("age_min_y", "age_max_exclusive_y")):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo.number is not None and hi.number is not None \
                    and lo.number >= hi.number and not (low == "iga_min" and lo.number == hi.number):
                raise ValueError(f"{low} ({lo.number:g}) must be below {high} ({hi.number:g})")
        return self


class Arm(Frozen):
    id: ArmId
    label: str
    product: str
    strength_pct: Annotated[float, Field(ge=0, le=100)]
    regimen: Literal["BID", "QD"]
    ratio: Annotated[int, Field(ge=1)]
    n_randomized: Fact
    n_safety: Fact | None = None

    @property
    def n(self) -> int | None:
        """Randomized N as an int, or None when not published."""
        v = self.n_randomized.number
        return None if v is None else int(v)


class EndpointResult(Cited):
    """One endpoint value for one arm at one visit (``value_pct`` None when NF)."""

    endpoint: str
    visit: str
    visit_week: Annotated[float, Field(ge=0)] | None = None
    arm: str
    population: str = "ITT"
    # "%" for responder rates (checked within [0, 100]); "% change" for a mean percent change from
    # baseline (e.g. EASI-PCHG, negative = improvement), which may lie below 0.
    unit: Literal["%", "% change"] = "%"
    value_pct: float | None = None
    sd: Annotated[float, Field(ge=0)] | None = None
    n_responders: Annotated[int, Field(ge=0)] | None = None
    n_arm: Annotated[int, Field(ge=1)] | None = None
    p_value: str | None = None

    @model_validator(mode="after")
    def _check(self) -> EndpointResult:
        if self.unit == "%":
            check_pct("value_pct", self.value_pct)
        elif self.value_pct is not None and not -100 <= self.value_pct:
            raise ValueError(at("value_pct", "a % change from baseline cannot be below -100; "
                                             f"got {self.value_pct:g}"))
        if self.status == "NF" and self.value_pct is not None:
            raise ValueError(at("value_pct", f"an NF result must have no value_pct; got {self.value_pct:g}"))
        if self.status != "NF" and self.value_pct is None:
            raise ValueError(f"a result with status {self.status} needs value_pct (use status NF for none)")
        if self.n_responders is not None and self.n_arm is not None and self.n_responders > self.n_arm:
            raise ValueError(at("n_responders", f"n_responders ({self.n_responders}) must not exceed "
                                                f"n_arm ({self.n_arm})"))
        return self


class AERow(Cited):
    """One adverse-event (or grouped-term) count for one arm in one period."""

    period: str
    term: str
    grouped_terms: list[str] = Field(default_factory=list)
    arm: str
    n: Annotated[int, Field(ge=0)] | None = None
    pct: float | None = None
    denominator: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _check(self) -> AERow:
        check_pct("pct", self.pct)
        if self.status != "NF" and self.n is None and self.pct is None:
            raise ValueError(f"an AE row with status {self.status} needs n or pct")
        if self.n is not None and self.denominator is not None:
            if self.n > self.denominator:
                raise ValueError(at("n", f"n ({self.n}) must not exceed the denominator "
                                         f"({self.denominator})"))
            if self.pct is not None:
                # Labels round to whole percent (and 132/499 = 26.5% is printed as 27%): allow 1 point.
                implied = 100.0 * self.n / self.denominator
                if abs(implied - self.pct) > 1.0:
                    raise ValueError(at("pct", f"pct ({self.pct:g}) does not match n/denominator "
                                               f"({self.n}/{self.denominator} = {implied:.1f}%)"))
        return self


class LongTermSafety(Frozen):
    weeks: Fact
    design: Fact
    vehicle_rerandomization: Fact


def check_results(arms: dict[str, int | None], results: list[EndpointResult], ae: list[AERow],
                   strict_arms: bool) -> None:
    for i, r in enumerate(results):
        if strict_arms and r.arm not in arms:
            raise ValueError(at(f"endpoint_results.{i}.arm",
                                f"arm {r.arm!r} is not one of {', '.join(arms)}"))
        n_arm = r.n_arm if r.n_arm is not None else arms.get(r.arm)
        if r.n_responders is not None and n_arm is not None and r.n_responders > n_arm:
            raise ValueError(at(f"endpoint_results.{i}.n_responders",
                                f"n_responders ({r.n_responders}) exceeds the N of arm {r.arm} ({n_arm})"))
    for i, row in enumerate(ae):
        if strict_arms and row.arm not in arms:
            raise ValueError(at(f"ae.{i}.arm", f"arm {row.arm!r} is not one of {', '.join(arms)}"))


class ArmSet:
    """Access to the arms and endpoint records of a trial-like model (a TRuE-AD trial, the phase 2
    dose-ranging trial); the model declares ``arms`` and ``endpoint_results`` itself and validates
    them with :func:`unique_arms` and :func:`check_arm_set`."""

    if TYPE_CHECKING:  # declared by the pydantic model; annotated here for type checkers only,
        arms: list[Arm]  # so that pydantic does not make them fields of the mixin (field order)
        endpoint_results: list[EndpointResult]

    def arm(self, arm_id: str) -> Arm:
        for a in self.arms:
            if a.id == arm_id:
                return a
        raise KeyError(arm_id)

    def results(self, endpoint: str | None = None, *, arm: str | None = None,
                visit_week: float | None = None) -> list[EndpointResult]:
        """Endpoint records filtered by endpoint, arm and visit week (data access only)."""
        return [r for r in self.endpoint_results
                if (endpoint is None or r.endpoint == endpoint) and (arm is None or r.arm == arm)
                and (visit_week is None or r.visit_week == visit_week)]


def unique_arms(arms: list[Arm]) -> list[Arm]:
    ids = [a.id for a in arms]
    if len(set(ids)) != len(ids):
        raise ValueError(f"arm ids must be unique; got {', '.join(ids)}")
    if not arms:
        raise ValueError("a trial needs at least one arm")
    return arms


def check_arm_set(arms: list[Arm], n_total: Fact, results: list[EndpointResult], ae: list[AERow]) -> None:
    """Arm N add up to a confirmed total (where every arm N is known); results and AE rows name
    arms of the trial and stay within their N."""
    ns = [a.n for a in arms]
    total = n_total.number
    if n_total.confirmed and total is not None and all(n is not None for n in ns):
        if sum(ns) != int(total):
            parts = " + ".join(str(n) for n in ns)
            raise ValueError(at("arms", f"arms n_randomized ({parts} = {sum(ns)}) must equal "
                                        f"n_total ({int(total)})"))
    check_results({a.id: a.n for a in arms}, results, ae, strict_arms=True)


class Trial(ArmSet, Frozen):
    """One trial as published: design, eligibility, arms, baseline, endpoints and AE tables."""

    id: Annotated[str, Field(pattern=r"^true-ad[0-9]+$")]
    name: str
    registry_id: str
    other_ids: list[str] = Field(default_factory=list)
    phase: str
    design: Fact
    population: str
    randomization: Fact
    stratification: Fact
    strata: list[Stratum] = Field(default_factory=list)
    eligibility: Eligibility
    arms: list[Arm]
    n_total: Fact
    vc_weeks: Fact
    lts: LongTermSafety
    baseline: dict[str, Fact]
    endpoint_results: list[EndpointResult] = Field(default_factory=list)
    ae: list[AERow] = Field(default_factory=list)
    facts: dict[str, Fact] = Field(default_factory=dict)

    @field_validator("arms")
    @classmethod
    def _unique_arms(cls, arms: list[Arm]) -> list[Arm]:
        return unique_arms(arms)

    @model_validator(mode="after")
    def _invariants(self) -> Trial:
        check_arm_set(self.arms, self.n_total, self.endpoint_results, self.ae)
        return self


class PooledData(Frozen):
    """Results the sources report only pooled over several trials (e.g. the AD1/AD2 label table)."""

    name: str
    trials: list[str]
    arms: dict[str, Fact]
    baseline: dict[str, Fact] = Field(default_factory=dict)
    endpoint_results: list[EndpointResult] = Field(default_factory=list)
    ae: list[AERow] = Field(default_factory=list)
    facts: dict[str, Fact] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _invariants(self) -> PooledData:
        arms = {k: (None if v.number is None else int(v.number)) for k, v in self.arms.items()}
        check_results(arms, self.endpoint_results, self.ae, strict_arms=False)
        return self


class TrialFile(Frozen):
    sources: dict[str, Source]
    trials: dict[str, Trial]
    pooled: dict[str, PooledData] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ids_match_keys(self) -> TrialFile:
        for key, trial in self.trials.items():
            if trial.id != key:
                raise ValueError(at(f"trials.{key}.id", f"id {trial.id!r} must equal its table key {key!r}"))
        return self


def load_trial_file(path: Path) -> TrialFile:
    return load_model(TrialFile, path)


def load_trials(data_dir: Path = DATA_DIR) -> dict[str, TrialFile]:
    """Every trial file in ``data_dir`` by file name; a trial id defined twice is an error."""
    files: dict[str, TrialFile] = {}
    seen: dict[str, str] = {}
    for name in TRIAL_FILES:
        f = load_trial_file(Path(data_dir) / name)
        for key in f.trials:
            if key in seen:
                raise DataValidationError(f"evidence file {name}: key trials.{key}: trial already "
                                          f"defined in {seen[key]}.")
            seen[key] = name
        files[name] = f
    return files
