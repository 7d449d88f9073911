"""Typed building blocks shared by every evidence file, and the one TOML loader.

A published number is a :class:`Fact`: value, unit, source key and status code (C confirmed,
D derived, U unconfirmed, NF not found; see ``../shared/evidence/clinical_facts.md``). Every
evidence file has a ``[sources]`` table mapping short source keys to citations; a fact whose
source is not in that table is rejected. Validation errors name the file, the dotted key and the
problem, in one line.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dermsim.errors import DataValidationError

Status = Literal["C", "D", "U", "NF"]
DATA_DIR = Path(__file__).parent / "data"


class Frozen(BaseModel):
    """Base of every evidence model: immutable, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_dict(self) -> dict[str, Any]:
        """Plain (JSON-ready) dict that :meth:`from_dict` turns back into an equal object."""
        return self.model_dump(mode="json", exclude_none=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls.model_validate(data)


class Source(Frozen):
    citation: Annotated[str, Field(min_length=3)]
    url: str | None = None


class KeyedMessage(str):
    """A validator message that also names the key below the validated model it concerns."""

    subkey: tuple[str, ...]


def at(subkey: str | int, problem: str) -> KeyedMessage:
    """``ValueError(at("arms", "..."))`` in a validator: :func:`load_model` then reports the dotted
    key down to ``arms`` (or ``endpoint_results.2``), while ``str(error)`` stays the plain problem."""
    msg = KeyedMessage(problem)
    msg.subkey = tuple(str(subkey).split("."))
    return msg


def _subkey(err: Any) -> tuple[str, ...]:
    exc = (err.get("ctx") or {}).get("error")
    first = exc.args[0] if isinstance(exc, ValueError) and exc.args else None
    return getattr(first, "subkey", ())


class Cited(Frozen):
    """Anything that carries a source key and a status (a fact, an endpoint record, an AE row)."""

    source: Annotated[str, Field(min_length=1)]
    status: Status
    note: str | None = None

    @property
    def confirmed(self) -> bool:
        """True for C and D: numbers that may be shown to families and used as targets."""
        return self.status in ("C", "D")


def check_pct(name: str, value: float | None) -> None:
    """Raise ValueError unless ``value`` is None or a percentage in [0, 100]."""
    if value is not None and not 0 <= value <= 100:
        raise ValueError(at(name, f"{name} must be a percentage within [0, 100]; got {value:g}"))


class Fact(Cited):
    """One published number with its unit, source key and status.

    ``value`` is a number, a list of numbers (e.g. pack sizes) or a text; ``sd`` is the published
    standard deviation where the source gives "mean (SD)". An NF fact has no value, any other
    fact has one. A value in unit "%" must lie in [0, 100] (changes use unit "% change").
    """

    value: float | int | list[float] | str | None = None
    unit: str
    sd: Annotated[float, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Fact:
        if self.status == "NF" and self.value is not None:
            raise ValueError(at("value", f"a fact with status NF must have no value; got {self.value!r}"))
        if self.status != "NF" and self.value is None:
            raise ValueError(f"a fact with status {self.status} needs a value (use status NF for none)")
        if self.unit == "%":
            values = self.value if isinstance(self.value, list) else [self.value]
            for v in values:
                if isinstance(v, int | float):
                    check_pct("value", v)
        return self

    @property
    def number(self) -> float | None:
        """The value as a float, or None when it is missing or not a single number."""
        return float(self.value) if isinstance(self.value, int | float) else None


M = TypeVar("M", bound=BaseModel)


def _one_line(text: str) -> str:
    return " ".join(text.split()).rstrip(".")


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "<file>"


def check_sources(file: str, obj: Any, sources: dict[str, Source], loc: tuple[Any, ...] = ()) -> None:
    """Every Fact (any :class:`Cited`) below ``obj`` must cite a key of ``sources`` (several keys:
    separated by ';')."""
    if isinstance(obj, Cited):
        for key in (s.strip() for s in obj.source.split(";")):
            if key not in sources:
                raise DataValidationError(
                    f"evidence file {file}: key {_dotted(loc)}: source {key!r} is not in [sources].")
        if isinstance(obj, Fact):
            return
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            check_sources(file, getattr(obj, name), sources, (*loc, name))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            check_sources(file, v, sources, (*loc, k))
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            check_sources(file, v, sources, (*loc, i))


def _is_cited(obj: Any) -> bool:
    # Duck-typed so that row models of other evidence modules (e.g. charts' ChartRow) count too.
    if isinstance(obj, Cited):
        return True
    return (isinstance(obj, BaseModel) and isinstance(getattr(obj, "source", None), str)
            and getattr(obj, "status", None) in ("C", "D", "U", "NF"))


def iter_cited(obj: Any, loc: tuple[Any, ...] = ()) -> Iterator[tuple[str, Any]]:
    """Every cited value (a :class:`Cited`, or any model with ``source`` and ``status``) below
    ``obj`` with its dotted key, in file order."""
    if _is_cited(obj):
        yield _dotted(loc), obj
        if isinstance(obj, Fact) or not isinstance(obj, Cited):
            return
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from iter_cited(getattr(obj, name), (*loc, name))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from iter_cited(v, (*loc, k))
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            yield from iter_cited(v, (*loc, i))


def count_by_status(obj: Any) -> dict[str, int]:
    """Number of cited values below ``obj`` per status code (C, D, U, NF)."""
    counts: dict[str, int] = dict.fromkeys(("C", "D", "U", "NF"), 0)
    for _, item in iter_cited(obj):
        counts[item.status] += 1
    return counts


def load_model(model: type[M], path: Path) -> M:
    """Parse the TOML file at ``path`` into ``model``; any problem is one line naming file and key."""
    name = path.name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataValidationError(f"evidence file {name}: not found at {path}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DataValidationError(f"evidence file {name}: not valid TOML: {_one_line(str(exc))}.") from exc
    try:
        parsed = model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = _one_line(err["msg"].removeprefix("Value error, "))
        key = _dotted((*err["loc"], *_subkey(err)))
        raise DataValidationError(f"evidence file {name}: key {key}: {msg}.") from exc
    sources = getattr(parsed, "sources", None)
    if isinstance(sources, dict):
        check_sources(name, parsed, sources)
    return parsed
