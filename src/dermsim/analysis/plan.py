"""The analysis plan: a validated list of analyses, loadable from TOML.

A plan names, for every analysis, the dataset, the population (a filter expression), the
parameter, variable and visit, the grouping variable and comparator, strata or covariates, the
ICH E9(R1) estimand strategy and the method. Plans are frozen pydantic models with
``to_dict``/``from_dict``; :func:`load_plan` reads a TOML file and names the file, the analysis id
and the field in every error. Whether a named parameter or variable exists is a property of the
data, so it is checked when the plan is run (:mod:`dermsim.analysis.run`).

Population filters use a small expression language, parsed with :mod:`ast` and never evaluated as
Python: comparisons (``==, !=, <, <=, >, >=``, chained), ``in``/``not in`` a list of constants,
``and``/``or``/``not``, variable names and constants. ``EFFFL == "Y" and AGE >= 6`` is one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dermsim.analysis.method_base import MethodSpec
from dermsim.analysis.methods import METHODS
from dermsim.analysis.mmrm import COVARIANCES, DF_METHODS
from dermsim.analysis.population_filter import PopulationFilter, parse_population
from dermsim.errors import InvalidInputError

__all__ = [
    "ESTIMAND_STRATEGIES",
    "METHOD_SPECS",
    "AnalysisPlan",
    "AnalysisSpec",
    "MethodSpec",
    "PopulationFilter",
    "default_plan_path",
    "load_plan",
    "parse_population",
]

# --------------------------------------------------------------------------------------------
# methods and estimands

ESTIMAND_STRATEGIES = ("observed", "composite_nri", "locf", "mi")

# What each method needs from an analysis, as declared with the method in analysis/methods.py
# (the one declaration of the methods; this is a read-only view for validation).
METHOD_SPECS: Mapping[str, MethodSpec] = MappingProxyType({k: m.spec for k, m in METHODS.items()})

# option values with a closed set of choices, checked when the plan is loaded
_OPTION_CHOICES: dict[str, tuple[str, ...]] = {
    "covariance": COVARIANCES, "df_method": DF_METHODS, "information": ("observed", "expected"),
    "weights": ("equal", "observed"),
}

_Scalar = str | int | float | bool
_OptionValue = _Scalar | list[_Scalar]


class AnalysisSpec(BaseModel):
    """One analysis of the plan."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    title: str = ""
    dataset: str = Field(min_length=1)
    population: str = ""
    parameter: str | None = None
    variable: str | None = None
    variables: tuple[str, ...] = ()
    visit: tuple[str, ...] = ()
    group: str | None = None
    comparator: str | None = None
    strata: tuple[str, ...] = ()
    covariates: tuple[str, ...] = ()
    subgroups: tuple[str, ...] = ()
    estimand: str | None = None
    method: str
    options: dict[str, _OptionValue] = Field(default_factory=dict)

    @field_validator("dataset")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.strip().lower()

    @field_validator("visit", mode="before")
    @classmethod
    def _visit_list(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v

    @field_validator("population")
    @classmethod
    def _population(cls, v: str) -> str:
        parse_population(v)
        return v.strip()

    @field_validator("method")
    @classmethod
    def _method(cls, v: str) -> str:
        if v not in METHOD_SPECS:
            raise ValueError(f"must be one of {', '.join(sorted(METHOD_SPECS))}; got {v!r}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> AnalysisSpec:
        spec = METHOD_SPECS[self.method]
        for name in spec.required:
            if not getattr(self, name):
                raise ValueError(f"field {name!r} is required by method {self.method!r}")
        # level_labels goes with levels (any method with that option): run_plan names the codes
        allowed = {*spec.options, *(("level_labels",) if "levels" in spec.options else ())}
        unknown = sorted(set(self.options) - allowed)
        if unknown:
            allowed = ", ".join(sorted(allowed, key=[*spec.options, "level_labels"].index)) or "none"
            raise ValueError(f"field 'options': {unknown[0]!r} is not an option of method "
                             f"{self.method!r} (allowed: {allowed})")
        if self.estimand is not None:
            if self.estimand not in ESTIMAND_STRATEGIES:
                raise ValueError(f"field 'estimand' must be one of {', '.join(ESTIMAND_STRATEGIES)}; "
                                 f"got {self.estimand!r}")
            if self.estimand not in spec.estimands:
                raise ValueError(f"field 'estimand': {self.estimand!r} does not apply to method "
                                 f"{self.method!r} (allowed: {', '.join(spec.estimands) or 'none'})")
        for opt, choices in _OPTION_CHOICES.items():
            value = self.options.get(opt)
            if value is not None and value not in choices:
                raise ValueError(f"field 'options.{opt}' must be one of {', '.join(choices)}; got {value!r}")
        labels = self.options.get("level_labels")
        if labels is not None:
            levels = self.options.get("levels")
            n_lev = len(levels) if isinstance(levels, list) else 0
            if not isinstance(labels, list) or len(labels) != n_lev:
                raise ValueError(f"field 'options.level_labels' must be a list with one label per entry of "
                                 f"'options.levels' ({n_lev}); got {labels!r}")
        den_pop = self.options.get("denominator_population")
        if den_pop is not None:
            try:
                parse_population(str(den_pop))
            except InvalidInputError as exc:
                raise ValueError(f"field 'options.denominator_population': {exc}") from None
        if self.strata and self.covariates:
            raise ValueError("give either 'strata' (stratified methods) or 'covariates' (models), not both")
        return self

    @property
    def population_filter(self) -> PopulationFilter:
        return parse_population(self.population)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnalysisSpec:
        return cls.model_validate(dict(data))

    def replace(self, **changes: Any) -> AnalysisSpec:
        return type(self).model_validate({**self.to_dict(), **changes})


class AnalysisPlan(BaseModel):
    """A named, ordered list of analyses with unique ids."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "plan"
    description: str = ""
    analyses: tuple[AnalysisSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> AnalysisPlan:
        seen: set[str] = set()
        for a in self.analyses:
            if a.id in seen:
                raise ValueError(f"analysis id {a.id!r} appears twice; ids must be unique")
            seen.add(a.id)
        return self

    def get(self, analysis_id: str) -> AnalysisSpec:
        for a in self.analyses:
            if a.id == analysis_id:
                return a
        raise InvalidInputError(f"analysis_id must be one of {', '.join(self.ids)}; got {analysis_id!r}.")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.analyses)

    def select(self, ids: list[str]) -> AnalysisPlan:
        """A copy holding only the analyses named in ``ids`` (in plan order)."""
        for i in ids:
            self.get(i)
        return self.model_copy(update={"analyses": tuple(a for a in self.analyses if a.id in ids)})

    def to_dict(self) -> dict[str, Any]:
        return {"plan": {"name": self.name, "description": self.description},
                "analysis": [a.to_dict() for a in self.analyses]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "plan") -> AnalysisPlan:
        """Build from the TOML layout (``[plan]`` table, ``[[analysis]]`` array); errors name
        ``source``, the analysis id and the field."""
        if not isinstance(data, Mapping):
            raise InvalidInputError(f"{source}: expected a table with [plan] and [[analysis]].")
        extra = sorted(set(data) - {"plan", "analysis"})
        if extra:
            raise InvalidInputError(f"{source}: unknown top-level key {extra[0]!r}; "
                                    "expected [plan] and [[analysis]].")
        head = dict(data.get("plan", {}))
        unknown = sorted(set(head) - {"name", "description"})
        if unknown:
            raise InvalidInputError(f"{source}: [plan] has unknown key {unknown[0]!r}; allowed: name, "
                                    "description.")
        raw = data.get("analysis")
        if not isinstance(raw, list) or not raw:
            raise InvalidInputError(f"{source}: field 'analysis' must be a non-empty array of tables "
                                    "([[analysis]]); got none.")
        analyses = []
        for i, entry in enumerate(raw):
            aid = entry.get("id", f"#{i + 1}") if isinstance(entry, Mapping) else f"#{i + 1}"
            try:
                analyses.append(AnalysisSpec.model_validate(entry))
            except ValidationError as exc:
                raise InvalidInputError(f"{source}: analysis {aid!r}: {_first_error(exc)}") from None
            except InvalidInputError as exc:
                raise InvalidInputError(f"{source}: analysis {aid!r}: field 'population': {exc}") from None
        try:
            return cls(name=head.get("name", "plan"), description=head.get("description", ""),
                       analyses=tuple(analyses))
        except ValidationError as exc:
            raise InvalidInputError(f"{source}: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    ctx = err.get("ctx", {})
    if isinstance(ctx.get("error"), InvalidInputError):
        msg = str(ctx["error"])
    if msg.startswith("field "):
        return msg + "."
    got = err.get("input")
    got_txt = "" if loc == "" or isinstance(got, Mapping) else f"; got {got!r}"
    return f"field {loc!r}: {msg}{got_txt}." if loc else f"{msg}."


def load_plan(path: str | Path) -> AnalysisPlan:
    """Read and validate a plan TOML file."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"plan file {p} does not exist.") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"{p}: not valid TOML: {' '.join(str(exc).split())}.") from None
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{p}: not UTF-8 text (byte {exc.start}); TOML files are UTF-8.") from None
    except IsADirectoryError:
        raise InvalidInputError(f"plan file {p} is a folder; expected a TOML file.") from None
    return AnalysisPlan.from_dict(data, source=str(p))


def default_plan_path() -> Path:
    """The built-in atopic dermatitis plan (``plans/ad_default.toml``)."""
    return Path(str(resources.files("dermsim.analysis").joinpath("plans/ad_default.toml")))
