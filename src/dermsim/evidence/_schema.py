"""Typed building blocks shared by every evidence file, and the one TOML loader.

A published number is a :class:`Fact`: value, unit, source key and status code (C confirmed,
D derived, U unconfirmed, NF not found; see ``../shared/evidence/clinical_facts.md``). Every
evidence file has a ``[sources]`` table mapping short source keys to citations; a fact whose
source is not in that table is rejected. Validation errors name the file, the dotted key and the
problem, in one line.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dermsim.errors import DataValidationError

Status = Literal["C", "D", "U", "NF"]
DATA_DIR = Path(__file__).parent / "data"


class Frozen(BaseModel):
    """Base of every evidence model: immutable, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(Frozen):
    citation: Annotated[str, Field(min_length=3)]
    url: str | None = None


class Fact(Frozen):
    """One published number with its unit, source key and status."""

    value: float | int | str | None
    unit: str
    source: Annotated[str, Field(min_length=1)]
    status: Status
    note: str | None = None

    @property
    def confirmed(self) -> bool:
        """True for C and D: numbers that may be shown to families and used as targets."""
        return self.status in ("C", "D")


M = TypeVar("M", bound=BaseModel)


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "<file>"


def check_sources(file: str, obj: Any, sources: dict[str, Source], loc: tuple[Any, ...] = ()) -> None:
    """Every Fact below ``obj`` must cite a key of ``sources`` (several keys: separated by ';')."""
    if isinstance(obj, Fact):
        for key in (s.strip() for s in obj.source.split(";")):
            if key not in sources:
                raise DataValidationError(
                    f"evidence file {file}: key {_dotted(loc)}: source {key!r} is not in [sources].")
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


def load_model(model: type[M], path: Path) -> M:
    """Parse the TOML file at ``path`` into ``model``; any problem is one line naming file and key."""
    name = path.name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataValidationError(f"evidence file {name}: not found at {path}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DataValidationError(f"evidence file {name}: not valid TOML: {exc}.") from exc
    try:
        parsed = model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        raise DataValidationError(f"evidence file {name}: key {_dotted(err['loc'])}: {msg}.") from exc
    sources = getattr(parsed, "sources", None)
    if isinstance(sources, dict):
        check_sources(name, parsed, sources)
    return parsed
