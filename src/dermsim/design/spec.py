"""Design specs for operating characteristics: what changes from one candidate design to the next.

A :class:`DesignSpec` is a variation of a scenario (a :class:`dermsim.trial.TrialDesign`): total
sample size, the arms kept and their allocation ratio, the stratification factors used in
randomization and analysis, the primary timepoint, the ordered hypotheses of the fixed-sequence
multiplicity rule and the two-sided alpha. ``null=True`` gives every arm the vehicle, so the
rejection rate is the type I error. A :class:`BinomialDesign` has fixed response rates and no
model: its power has an analytic answer, which is how the simulation machinery is checked.

:class:`DesignGrid` expands a TOML grid (n, ratio, strata, primary timepoint) into designs.
All specs are frozen pydantic models with ``to_dict``/``from_dict``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dermsim._validate import LIMITS
from dermsim.errors import DataValidationError, InvalidInputError

Endpoint = Literal["iga_ts", "easi50", "easi75", "easi90", "nrs4"]
ENDPOINTS: tuple[str, ...] = ("iga_ts", "easi50", "easi75", "easi90", "nrs4")
# the primary and the two key secondaries of the TRuE-AD programme
DEFAULT_ENDPOINTS: tuple[Endpoint, ...] = ("iga_ts", "easi75", "nrs4")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "<dict>") -> Self:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"]) or "<top>"
            msg = " ".join(str(err["msg"]).removeprefix("Value error, ").split()).rstrip(".")
            raise InvalidInputError(f"{cls.__name__} {where}: field {loc}: {msg}.") from exc

    def replace(self, **changes: Any) -> Self:
        return type(self).from_dict({**self.to_dict(), **changes}, where="(replace)")

    @property
    def key(self) -> int:
        """Stable 32-bit key of the spec's id: the design's random stream below the run seed."""
        return int.from_bytes(hashlib.sha256(self.id.encode()).digest()[:4], "big")


class Hypothesis(_Frozen):
    """One test of the fixed sequence: ``endpoint`` responders, ``treatment`` arm vs ``control``."""

    endpoint: Endpoint
    treatment: str
    control: str

    @property
    def label(self) -> str:
        return f"{self.endpoint}:{self.treatment}-vs-{self.control}"


class DesignSpec(_Frozen):
    """A candidate design derived from a scenario (see the module docstring).

    ``ratio`` maps arm id -> allocation share (arms not named are dropped; None keeps the
    scenario's arms and ratio). ``strata``: stratification factor names of the scenario used for
    randomization and the stratified analysis (None: all of the scenario's; ``[]``: none).
    ``primary_day``: study day of the primary visit (day 1 = first application; None: the end of
    the vehicle-controlled period). ``hypotheses``: the fixed testing sequence (None: each
    endpoint of ``endpoints`` in order, each active arm from the highest strength down, against
    the vehicle arm).
    """

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:+=-]{0,119}$")]
    n_total: Annotated[int, Field(ge=2, le=1_000_000)]
    ratio: dict[str, Annotated[int, Field(ge=1)]] | None = None
    strata: list[str] | None = None
    primary_day: Annotated[int, Field(ge=2, le=3650)] | None = None
    endpoints: list[Endpoint] = Field(default_factory=lambda: list(DEFAULT_ENDPOINTS))
    hypotheses: list[Hypothesis] | None = None
    alpha: Annotated[float, Field(gt=0, lt=1)] = 0.05
    null: bool = False
    dropout: bool = True

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.ratio is not None and len(self.ratio) < 2:
            raise ValueError(f"ratio must name at least 2 arms; got {list(self.ratio)}")
        if not self.endpoints:
            raise ValueError("endpoints must name at least one endpoint; got none")
        return self


class BinomialDesign(_Frozen):
    """Fixed true response rates per arm, no model: ``rates[endpoint]`` gives one rate per arm.

    Arms get exactly ``n_total x ratio / sum(ratio)`` patients (``n_total`` must divide); the
    analysis is the same batched CMH test (one stratum: the Mantel-Haenszel chi-square, (N-1)/N
    times Pearson's) and RD interval as the model-based designs.
    """

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:+=-]{0,119}$")]
    n_total: Annotated[int, Field(ge=2, le=10_000_000)]
    arms: Annotated[list[str], Field(min_length=2)]
    ratio: list[Annotated[int, Field(ge=1)]]
    rates: dict[str, list[Annotated[float, Field(ge=0, le=1)]]]
    hypotheses: Annotated[list[Hypothesis], Field(min_length=1)]
    alpha: Annotated[float, Field(gt=0, lt=1)] = 0.05

    @model_validator(mode="after")
    def _check(self) -> Self:
        if len(self.ratio) != len(self.arms):
            raise ValueError(f"ratio must give one share per arm ({len(self.arms)}); got {len(self.ratio)}")
        if len(set(self.arms)) != len(self.arms):
            raise ValueError(f"arms must be distinct; got {self.arms}")
        if self.n_total % sum(self.ratio):
            raise ValueError(f"n_total ({self.n_total}) must be a multiple of sum(ratio) = {sum(self.ratio)}")
        for ep, r in self.rates.items():
            if ep not in ENDPOINTS:
                raise ValueError(f"rates keys must be endpoints ({', '.join(ENDPOINTS)}); got {ep!r}")
            if len(r) != len(self.arms):
                raise ValueError(f"rates[{ep}] must give one rate per arm ({len(self.arms)}); got {len(r)}")
        for h in self.hypotheses:
            if h.endpoint not in self.rates:
                raise ValueError(f"hypothesis endpoint {h.endpoint!r} has no rates")
            for a in (h.treatment, h.control):
                if a not in self.arms:
                    raise ValueError(f"hypothesis arm {a!r} is not one of {self.arms}")
        return self

    @property
    def arm_sizes(self) -> tuple[int, ...]:
        m = self.n_total // sum(self.ratio)
        return tuple(m * r for r in self.ratio)

    def true_effect(self, h: Hypothesis) -> float:
        r = self.rates[h.endpoint]
        return float(r[self.arms.index(h.treatment)] - r[self.arms.index(h.control)])


AnyDesign = DesignSpec | BinomialDesign


def design_from_dict(data: dict[str, Any]) -> AnyDesign:
    """A DesignSpec or BinomialDesign from its ``to_dict`` (told apart by the ``rates`` field)."""
    return BinomialDesign.from_dict(data) if "rates" in data else DesignSpec.from_dict(data)


def design_to_json(design: AnyDesign) -> str:
    return json.dumps(design.to_dict(), sort_keys=True, separators=(",", ":"))


def parse_range(text: str, *, name: str = "n") -> list[int]:
    """``"150:600:50"`` -> 150, 200, ..., 600 (inclusive); ``"200,330"`` -> 200, 330; ``"330"``."""
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) != 3 or parts[2] <= 0 or parts[1] < parts[0]:
                raise ValueError
            out = list(range(parts[0], parts[1] + 1, parts[2]))
        else:
            out = [int(p) for p in text.split(",") if p.strip()]
        if not out or len(out) > LIMITS["designs"]:
            raise ValueError
    except ValueError:
        raise InvalidInputError(
            f"{name} must be START:STOP:STEP (STEP > 0, STOP >= START) or a comma "
            f"list of at most {LIMITS['designs']:,} integers; got {text!r}."
        ) from None
    return out


def _ratio_label(ratio: dict[str, int] | None) -> str:
    return "scenario" if ratio is None else ".".join(f"{k}{v}" for k, v in ratio.items())


def _strata_label(strata: list[str] | None) -> str:
    return "scenario" if strata is None else ("none" if not strata else "+".join(strata))


def make_design_id(
    n_total: int,
    ratio: dict[str, int] | None,
    strata: list[str] | None,
    primary_day: int | None,
    null: bool = False,
) -> str:
    """Readable id from the grid coordinates, e.g. ``n330_r-scenario_s-IGASTR+AGESTR_d57``."""
    day = "vc" if primary_day is None else str(primary_day)
    return f"n{n_total}_r-{_ratio_label(ratio)}_s-{_strata_label(strata)}_d{day}" + ("_null" if null else "")


class DesignGrid(_Frozen):
    """A sweep: the cartesian product of ``n_total x ratio x strata x primary_day`` on a base.

    TOML::

        scenario = "true-ad3"
        [base]                 # any DesignSpec field except id and the grid axes
        alpha = 0.05
        [grid]
        n_total = [200, 330]
        ratio = [{rux075 = 2, rux150 = 2, vehicle = 1}, {rux150 = 1, vehicle = 1}]
        strata = [["IGASTR", "AGESTR"], []]
        primary_day = [29, 57]
    """

    scenario: str
    base: dict[str, Any] = Field(default_factory=dict)
    n_total: Annotated[list[Annotated[int, Field(ge=2)]], Field(min_length=1)]
    ratio: list[dict[str, int] | None] = Field(default_factory=lambda: [None])
    strata: list[list[str] | None] = Field(default_factory=lambda: [None])
    primary_day: list[int | None] = Field(default_factory=lambda: [None])

    @model_validator(mode="after")
    def _base(self) -> Self:
        bad = {"id", "n_total", "ratio", "strata", "primary_day"} & set(self.base)
        if bad:
            raise ValueError(f"base must not set the grid axes or id; got {sorted(bad)}")
        return self

    def designs(self) -> list[DesignSpec]:
        out = []
        for n, r, s, d in itertools.product(self.n_total, self.ratio, self.strata, self.primary_day):
            null = bool(self.base.get("null", False))
            out.append(
                DesignSpec.from_dict(
                    {
                        **self.base,
                        "id": make_design_id(n, r, s, d, null),
                        "n_total": n,
                        "ratio": r,
                        "strata": s,
                        "primary_day": d,
                    },
                    where="(grid)",
                )
            )
        return out

    @classmethod
    def from_toml(cls, path: str | Path) -> DesignGrid:
        p = Path(path)
        try:
            raw = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise DataValidationError(f"design grid {p.name}: not found at {p}.") from exc
        except tomllib.TOMLDecodeError as exc:
            raise DataValidationError(
                f"design grid {p.name}: not valid TOML: {' '.join(str(exc).split())}."
            ) from exc
        grid = raw.pop("grid", {})
        if not isinstance(grid, dict):
            raise DataValidationError(f"design grid {p.name}: [grid] must be a table.")

        # TOML has no null: an empty table / the string "scenario" means "as in the scenario"
        def none_if(v: Any) -> Any:
            return None if v in ("scenario", {}) else v

        data = {
            **raw,
            **{k: ([none_if(x) for x in v] if isinstance(v, list) else v) for k, v in grid.items()},
        }
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(q) for q in err["loc"]) or "<top>"
            msg = " ".join(str(err["msg"]).removeprefix("Value error, ").split()).rstrip(".")
            raise DataValidationError(f"design grid {p.name}: field {loc}: {msg}.") from exc
