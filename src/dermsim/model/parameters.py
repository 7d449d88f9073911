"""Annotated model parameters: value, unit, between-patient variability, description, source.

Parameters live in TOML files under ``model/data/parameters/`` (like mrgsolve's ``$PARAM
@annotated``), one file per model part (``pk.toml``, ``disease.toml``, ``itch.toml``,
``observation.toml``, ``vehicle.toml``, ``jak.toml``). Each parameter is a table::

    [parameters.CL]
    value = 19.0            # typical value (median of the log-normal when omega > 0)
    unit = "L/h"
    omega = 0.35            # between-patient SD on the log scale; 0 = no variability
    description = "Apparent systemic clearance of a 70 kg adult"
    source = "Jakafi label (17.7 L/h women, 22.1 L/h men in MF) [R26]"

``source`` is either a citation or the literal ``"prior, to be calibrated"``. A missing unit or
source is rejected with one line naming the file and the parameter. Optional keys: ``lower`` and
``upper`` (hard bounds applied after sampling) and ``calibrate`` (true when a later calibration
step is expected to move the value).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from dermsim.errors import DataValidationError, InvalidInputError

PARAMETER_DIR = Path(__file__).parent / "data" / "parameters"
PRIOR = "prior, to be calibrated"
GROUPS = ("pk", "jak", "disease", "itch", "vehicle", "observation")
_KEYS = {"value", "unit", "omega", "description", "source", "lower", "upper", "calibrate"}


@dataclass(frozen=True)
class Parameter:
    """One annotated parameter (typical value on its own unit; log-normal IIV ``omega``)."""

    name: str
    value: float
    unit: str
    description: str
    source: str
    omega: float = 0.0
    lower: float | None = None
    upper: float | None = None
    calibrate: bool = False

    @property
    def is_prior(self) -> bool:
        return self.source.strip().lower().startswith("prior")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "unit": self.unit, "omega": self.omega,
                               "description": self.description, "source": self.source}
        if self.lower is not None:
            out["lower"] = self.lower
        if self.upper is not None:
            out["upper"] = self.upper
        if self.calibrate:
            out["calibrate"] = True
        return out

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any], *, where: str = "<dict>") -> Parameter:
        return _parse_parameter(where, name, data)


def _fail(where: str, name: str, msg: str) -> DataValidationError:
    return DataValidationError(f"{where}: parameter '{name}' {msg}")


def _parse_parameter(where: str, name: str, data: Mapping[str, Any]) -> Parameter:
    if not isinstance(data, Mapping):
        raise _fail(where, name, f"must be a table; got {type(data).__name__}.")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise _fail(where, name,
                    f"has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}.")
    for key in ("value", "unit", "description", "source"):
        if key not in data:
            raise _fail(where, name, f"has no '{key}'; every parameter needs value, unit, description "
                                     f"and source (a citation or \"{PRIOR}\").")
    for key in ("unit", "description", "source"):
        if not isinstance(data[key], str) or not data[key].strip():
            raise _fail(where, name, f"'{key}' must be a non-empty string; got {data[key]!r}.")
    value = data["value"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(where, name, f"'value' must be a finite number; got {value!r}.")
    omega = data.get("omega", 0.0)
    if isinstance(omega, bool) or not isinstance(omega, int | float) or not (0 <= omega < 5):
        raise _fail(where, name, f"'omega' (log-scale SD) must be within [0, 5); got {omega!r}.")
    if omega > 0 and value <= 0:
        raise _fail(where, name, f"has omega > 0 (log-normal) so 'value' must be > 0; got {value!r}.")
    lower, upper = data.get("lower"), data.get("upper")
    if lower is not None and upper is not None and not lower < upper:
        raise _fail(where, name, f"needs lower < upper; got {lower!r} and {upper!r}.")
    return Parameter(name=name, value=float(value), unit=data["unit"].strip(),
                     description=data["description"].strip(), source=data["source"].strip(),
                     omega=float(omega), lower=None if lower is None else float(lower),
                     upper=None if upper is None else float(upper),
                     calibrate=bool(data.get("calibrate", False)))


@dataclass(frozen=True)
class ParameterSet:
    """All model parameters, by group (``pk``, ``disease``...) then name. Frozen; edits copy."""

    groups: Mapping[str, Mapping[str, Parameter]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Parameter:
        for params in self.groups.values():
            if name in params:
                return params[name]
        raise InvalidInputError(f"parameter name must be one of the model parameters; got {name!r}.")

    def group(self, group: str) -> Mapping[str, Parameter]:
        if group not in self.groups:
            raise InvalidInputError(f"group must be one of {', '.join(self.groups)}; got {group!r}.")
        return self.groups[group]

    def names(self) -> list[str]:
        return [n for params in self.groups.values() for n in params]

    def value(self, name: str) -> float:
        return self[name].value

    def replace_values(self, **updates: float) -> ParameterSet:
        """A copy with new typical values (e.g. a calibration draw): ``ps.replace_values(CL=20)``."""
        return self._replace_fields({k: {"value": float(v)} for k, v in updates.items()})

    def replace_omegas(self, **updates: float) -> ParameterSet:
        return self._replace_fields({k: {"omega": float(v)} for k, v in updates.items()})

    def _replace_fields(self, updates: Mapping[str, Mapping[str, float]]) -> ParameterSet:
        groups = {g: dict(p) for g, p in self.groups.items()}
        for name, fields in updates.items():
            owner = next((g for g, p in groups.items() if name in p), None)
            if owner is None:
                raise InvalidInputError(f"parameter name must be one of the model parameters; got {name!r}.")
            for key, val in fields.items():
                if not math.isfinite(val):
                    raise InvalidInputError(f"{name}.{key} must be a finite number; got {val}.")
            new = replace(groups[owner][name], **fields)
            _parse_parameter("<update>", name, new.to_dict())  # re-validate
            groups[owner][name] = new
        return ParameterSet(groups=groups)

    def to_dict(self) -> dict[str, dict[str, dict[str, Any]]]:
        return {g: {n: p.to_dict() for n, p in params.items()} for g, params in self.groups.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> ParameterSet:
        return cls(groups={g: {n: _parse_parameter(g, n, d) for n, d in params.items()}
                           for g, params in data.items()})

    def to_frame(self):  # pandas imported lazily: the simulation path never needs it
        import pandas as pd

        rows = [{"group": g, "name": n, "value": p.value, "unit": p.unit, "omega": p.omega,
                 "description": p.description, "source": p.source}
                for g, params in self.groups.items() for n, p in params.items()]
        return pd.DataFrame(rows)


def read_parameter_file(path: str | Path) -> dict[str, Parameter]:
    """Parse and validate one annotated parameter TOML file."""
    path = Path(path)
    where = path.name
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise DataValidationError(f"{where}: not valid TOML ({exc}).") from None
    params = data.get("parameters")
    if not isinstance(params, dict) or not params:
        raise DataValidationError(f"{where}: needs a non-empty [parameters] table.")
    return {name: _parse_parameter(where, name, spec) for name, spec in params.items()}


def load_parameters(directory: str | Path | None = None, groups: Iterable[str] = GROUPS) -> ParameterSet:
    """Load the annotated parameter files (default: the package's own) into a ParameterSet."""
    base = PARAMETER_DIR if directory is None else Path(directory)
    out: dict[str, dict[str, Parameter]] = {}
    seen: dict[str, str] = {}
    for group in groups:
        path = base / f"{group}.toml"
        if not path.exists():
            raise DataValidationError(f"{path}: parameter file for group '{group}' is missing.")
        params = read_parameter_file(path)
        for name in params:
            if name in seen:
                raise DataValidationError(
                    f"{path.name}: parameter '{name}' is also defined in {seen[name]}.toml.")
            seen[name] = group
        out[group] = params
    return ParameterSet(groups=out)


_DEFAULT: ParameterSet | None = None


def default_parameters() -> ParameterSet:
    """The package's parameter files, loaded once."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_parameters()
    return _DEFAULT


def typical_values(params: ParameterSet, group: str) -> dict[str, float]:
    return {n: p.value for n, p in params.group(group).items()}


def compute_individual_values(params: ParameterSet, group: str, z: Mapping[str, np.ndarray] | None,
                              n: int) -> dict[str, np.ndarray]:
    """Patient values ``value * exp(omega * z)`` for every parameter of ``group`` (clipped to bounds).

    ``z`` maps parameter name -> standard-normal draws of shape (n,); parameters without IIV or
    without a draw get their typical value.
    """
    out: dict[str, np.ndarray] = {}
    for name, p in params.group(group).items():
        if p.omega > 0 and z is not None and name in z:
            v = p.value * np.exp(p.omega * z[name])
        else:
            v = np.full(n, p.value)
        if p.lower is not None or p.upper is not None:
            v = np.clip(v, p.lower, p.upper)
        out[name] = v
    return out
