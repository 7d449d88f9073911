"""Frozen, validated specs loadable from TOML: the one base every user-facing spec builds on.

A spec (population, trial design, design grid, analysis plan ...) is a pydantic model with
``frozen=True`` and unknown keys rejected. Loading turns the first validation problem into one line
that names the kind of spec, the file and the dotted field:
"trial design my.toml: field arms.0.strength_pct: Input should be greater than or equal to 0."
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from dermsim.errors import DataValidationError


class Frozen(BaseModel):
    """Immutable pydantic model with unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def validation_message(exc: ValidationError) -> tuple[str, str]:
    """(dotted field, message) of the first error, in one line without pydantic's prefixes."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "<top>"
    msg = " ".join(str(err["msg"]).removeprefix("Value error, ").split()).rstrip(".")
    return where, msg


def read_toml(path: str | Path, *, kind: str) -> dict[str, Any]:
    """Parse a TOML file; a missing or malformed file is one line naming ``kind`` and the file."""
    p = Path(path)
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataValidationError(f"{kind} {p.name}: not found at {p}.") from exc
    except IsADirectoryError as exc:
        raise DataValidationError(f"{kind} {p.name}: is a directory, expected a TOML file.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DataValidationError(f"{kind} {p.name}: not valid TOML: {' '.join(str(exc).split())}.") from exc
    except UnicodeDecodeError as exc:
        raise DataValidationError(f"{kind} {p.name}: not UTF-8 text (byte {exc.start}); TOML files are "
                                  "UTF-8.") from None


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class Spec(Frozen):
    """Base of frozen specs with ``to_dict``/``from_dict``/``from_toml``/``replace``.

    Subclasses set ``spec_kind`` (the words that start an error message, e.g. "trial design").
    """

    spec_kind: ClassVar[str] = "spec"

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, file: str = "<dict>") -> Self:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            where, msg = validation_message(exc)
            raise DataValidationError(f"{cls.spec_kind} {file}: field {where}: {msg}.") from exc

    @classmethod
    def from_toml(cls, path: str | Path) -> Self:
        return cls.from_dict(read_toml(path, kind=cls.spec_kind), file=Path(path).name)

    def replace(self, **changes: Any) -> Self:
        """A validated copy with top-level fields changed (the original is untouched)."""
        label = getattr(self, "name", None) or self.spec_kind
        return type(self).from_dict({**self.to_dict(), **{k: _plain(v) for k, v in changes.items()}},
                                    file=f"{label} (replace)")
