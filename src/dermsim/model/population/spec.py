"""``PopulationSpec``: who a trial enrolled, as targets for the virtual population sampler.

A spec is a frozen pydantic model loaded from TOML (``data/populations/<name>.toml`` for the
built-in trials). Every number carries ``source`` (an evidence key, e.g.
``trial_true_ad3.toml:AD3-region``) and ``status``:

* C: confirmed in the cited source; D: derived from C numbers (calculation in ``note``);
* U: unconfirmed (provisional);
* A: a pre-specified modelling assumption (a prior, not data). An A value is never fitted to the
  outcomes it is later compared with.

A broken spec is rejected when loaded, in one line naming the file and the field.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator

from dermsim._spec import Frozen, Spec
from dermsim.errors import InvalidInputError

KNOWN_TRIALS: tuple[str, ...] = ("true-ad1", "true-ad2", "true-ad3", "maxuse-adult", "phase2-dose-ranging",
                                 "peds-maxuse", "true-ad-lts")
# the spec files stay in model/data/ beside the parameter files (one data folder for the model)
SPEC_DIR = Path(__file__).parents[1] / "data" / "populations"
SpecStatus = Literal["C", "D", "U", "A"]


_Frozen = Frozen


class Cited(_Frozen):
    source: Annotated[str, Field(min_length=1)]
    status: SpecStatus
    note: str | None = None


class Value(Cited):
    """One number with its source and status."""

    value: float


class Moments(Cited):
    """A published (or assumed) mean and SD."""

    mean: float
    sd: float

    @field_validator("sd")
    @classmethod
    def _sd_nonneg(cls, v: float) -> float:
        if not v >= 0:
            raise ValueError(f"sd must be >= 0; got {v:g}")
        return v


def beta_sd_limit(lo: float, hi: float, mean: float) -> float:
    """Largest SD any distribution on [lo, hi] with this mean can have (mass at both ends)."""
    return math.sqrt(max((mean - lo) * (hi - mean), 0.0))


def _check_bounded(name: str, m: Moments, lo: float, hi: float) -> None:
    if not lo < m.mean < hi:
        raise ValueError(f"{name}.mean must be within ({lo:g}, {hi:g}); got {m.mean:g}")
    limit = beta_sd_limit(lo, hi, m.mean)
    if not 0 < m.sd < limit:
        raise ValueError(f"{name}.sd must be within (0, {limit:.3g}) for mean {m.mean:g} on "
                         f"[{lo:g}, {hi:g}]; got {m.sd:g}")


class AgeBand(Cited):
    """Ages in [min_y, max_y) with weight ``weight_pct``; moments of age within the band (a Beta
    on the band matched to them) or, without them, uniform within the band. ``integer``: the
    moments are of age in completed years, as trials report them. ``status`` is that of
    ``weight_pct`` (and of the moments unless ``moments_status`` says otherwise)."""

    min_y: Annotated[float, Field(ge=0)]
    max_y: float
    weight_pct: Annotated[float, Field(gt=0, le=100)]
    mean_y: float | None = None
    sd_y: float | None = None
    integer: bool = False
    moments_status: SpecStatus | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.max_y > self.min_y:
            raise ValueError(f"max_y ({self.max_y:g}) must be above min_y ({self.min_y:g}); "
                             f"the age range is reversed or empty")
        if (self.mean_y is None) != (self.sd_y is None):
            raise ValueError("mean_y and sd_y must be given together or not at all")
        if self.sd_y is not None and self.sd_y < 0:
            raise ValueError(f"sd_y must be >= 0; got {self.sd_y:g}")
        if self.mean_y is not None and self.sd_y is not None:
            lo, hi = self.min_y, self.max_y
            if self.integer:
                hi = hi - 1  # completed years run from min_y to max_y - 1
            m = Moments(mean=self.mean_y, sd=self.sd_y, source=self.source, status=self.status)
            _check_bounded("age", m, lo, hi)
        return self


class AgeSpec(_Frozen):
    bands: Annotated[list[AgeBand], Field(min_length=1)]

    @model_validator(mode="after")
    def _cover(self) -> Self:
        total = sum(b.weight_pct for b in self.bands)
        if abs(total - 100.0) > 1e-6:
            raise ValueError(f"bands weight_pct must sum to 100; got {total:g}")
        for a, b in itertools.pairwise(self.bands):
            if b.min_y < a.max_y:
                raise ValueError(f"bands must be ordered and not overlap; got [{a.min_y:g}, {a.max_y:g}) "
                                 f"then [{b.min_y:g}, {b.max_y:g})")
        return self

    @property
    def min_y(self) -> float:
        return self.bands[0].min_y

    @property
    def max_y(self) -> float:
        return self.bands[-1].max_y


class Eligibility(Cited):
    """Entry criteria applied to every sampled patient."""

    iga: Annotated[list[int], Field(min_length=1)]
    affected_min_pct: float
    affected_max_pct: float

    @model_validator(mode="after")
    def _valid(self) -> Self:
        if any(g not in (0, 1, 2, 3, 4) for g in self.iga):
            raise ValueError(f"iga must hold IGA grades 0-4; got {self.iga}")
        if not set(self.iga) <= {2, 3}:
            raise ValueError(f"iga must be a subset of [2, 3] (the sampler models mild-moderate AD); "
                             f"got {self.iga}")
        for name in ("affected_min_pct", "affected_max_pct"):
            v = getattr(self, name)
            if not 0 < v <= 100:
                raise ValueError(f"{name} must be within (0, 100]; got {v:g}")
        if not self.affected_min_pct < self.affected_max_pct:
            raise ValueError(f"affected_min_pct ({self.affected_min_pct:g}) must be below affected_max_pct "
                             f"({self.affected_max_pct:g})")
        return self


class Severity(_Frozen):
    iga3_pct: Value
    affected_pct: Moments
    easi: Moments
    nrs: Moments
    easi_ratio_iga3_to_iga2: Value

    @model_validator(mode="after")
    def _ranges(self) -> Self:
        if not 0 <= self.iga3_pct.value <= 100:
            raise ValueError(f"iga3_pct.value must be within [0, 100]; got {self.iga3_pct.value:g}")
        if not 0 < self.affected_pct.mean <= 100:
            raise ValueError(f"affected_pct.mean must be within (0, 100]; got {self.affected_pct.mean:g}")
        if not 0 < self.easi.mean < 72 or not self.easi.sd > 0:
            raise ValueError(f"easi must have mean within (0, 72) and sd > 0; got {self.easi.mean:g} "
                             f"({self.easi.sd:g})")
        _check_bounded("nrs", self.nrs, 0.0, 10.0)
        if not self.easi_ratio_iga3_to_iga2.value >= 1:
            raise ValueError(f"easi_ratio_iga3_to_iga2.value must be >= 1; got "
                             f"{self.easi_ratio_iga3_to_iga2.value:g}")
        return self


class Correlations(_Frozen):
    """Latent (normal-scale) correlations of the copula, chained IGA -> %BSA -> sign severity ->
    itch, and of height and weight SDS (EASI follows from area and severity)."""

    iga_affected: Value
    affected_severity: Value
    severity_nrs: Value
    height_weight_sds: Value

    @model_validator(mode="after")
    def _range(self) -> Self:
        for name in type(self).model_fields:
            v = getattr(self, name).value
            if not -1 < v < 1:
                raise ValueError(f"{name}.value must be within (-1, 1); got {v:g}")
        return self


class Lesions(Cited):
    """Dirichlet concentration of the lesion map (larger: lesions spread like the site prior)."""

    concentration: Annotated[float, Field(gt=0)]


class PopulationSpec(Spec):
    """Baseline targets of one trial population (see the module docstring for status codes)."""

    spec_kind: ClassVar[str] = "population spec"


    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    trial: str
    description: str = ""
    growth_reference: Literal["cdc"] = "cdc"
    bsa_formula: Literal["mosteller", "haycock", "dubois", "gehan_george"] = "mosteller"
    female_pct: Value
    age: AgeSpec
    eligibility: Eligibility
    severity: Severity
    correlations: Correlations
    lesions: Lesions

    @field_validator("trial")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in KNOWN_TRIALS:
            raise ValueError(f"trial must be one of {', '.join(KNOWN_TRIALS)}; got {v!r}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not 0 <= self.female_pct.value <= 100:
            raise ValueError(f"female_pct.value must be within [0, 100]; got {self.female_pct.value:g}")
        if self.age.min_y < 2:
            raise ValueError(f"age must start at >= 2 y (the CDC 2-20 y growth reference); "
                             f"got {self.age.min_y:g}")
        el = self.eligibility
        _check_bounded("severity.affected_pct", self.severity.affected_pct,
                       el.affected_min_pct, el.affected_max_pct)
        p3 = self.severity.iga3_pct.value
        if (el.iga == [2] and p3 > 0) or (el.iga == [3] and p3 < 100):
            raise ValueError(f"severity.iga3_pct ({p3:g}) contradicts eligibility.iga {el.iga}")
        return self

def builtin_populations() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in SPEC_DIR.glob("*.toml")))


_VALUE_KEYS = ("status", "source", "note", "moments_status")


def _demote(user: Any, ref: Any, where: str, path: str, changed: list[str]) -> Any:
    """``user`` (a spec's plain data) with the status of every number that differs from ``ref``
    (the built-in spec's data at the same place) set to U: a confirmed (C) or derived (D) label
    belongs to the published number, not to an edited one."""
    if isinstance(user, dict) and isinstance(ref, dict):
        out = {k: _demote(v, ref.get(k), where, f"{path}.{k}" if path else k, changed)
               for k, v in user.items()}
        if "status" in out:
            diff = [k for k in out if k not in _VALUE_KEYS and out[k] != ref.get(k)]
            if diff and out["status"] in ("C", "D"):
                shown = ", ".join(f"{k} {ref.get(k)!r} -> {out[k]!r}" for k in diff)
                out["note"] = (f"changed in {where} ({shown}); was {out['status']} "
                               f"({out.get('source', '')})")
                out["status"] = "U"
                if out.get("moments_status") in ("C", "D"):
                    out["moments_status"] = "U"
                changed.append(path)
        return out
    if isinstance(user, list) and isinstance(ref, list) and len(user) == len(ref):
        return [_demote(u, r, where, f"{path}[{i}]", changed)
                for i, (u, r) in enumerate(zip(user, ref, strict=True))]
    return user


def mark_user_changes(spec: PopulationSpec, where: str) -> tuple[PopulationSpec, tuple[str, ...]]:
    """A user population file against the built-in spec of its trial (same ``trial`` name among
    the built-ins): every number it changes loses its C/D status (becomes U, with the built-in value
    in ``note``). Returns the spec and the changed fields; a trial without a built-in is unchanged."""
    if spec.trial not in builtin_populations():
        return spec, ()
    ref = PopulationSpec.from_toml(SPEC_DIR / f"{spec.trial}.toml").to_dict()
    changed: list[str] = []
    data = _demote(spec.to_dict(), ref, where, "", changed)
    return (PopulationSpec.from_dict(data, file=where) if changed else spec), tuple(changed)


def load_population_spec(name_or_path: str | Path) -> PopulationSpec:
    """A built-in spec by name (``true-ad3``) or a spec file by path (a user file: the numbers it
    changes from the built-in spec of its trial lose their C/D status, see :func:`mark_user_changes`)."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        spec = PopulationSpec.from_toml(p)
        if p.resolve().parent == SPEC_DIR.resolve():
            return spec
        return mark_user_changes(spec, str(p))[0]
    name = str(name_or_path).lower()
    if name not in builtin_populations():
        raise InvalidInputError(f"population must be one of {', '.join(builtin_populations())} or a "
                                f".toml path; got {str(name_or_path)!r}.")
    return PopulationSpec.from_toml(SPEC_DIR / f"{name}.toml")
