"""The words of the clinic pages, one TOML file per language (``clinic/i18n/<lang>.toml``).

A clinician or translator edits the TOML, not Python. Two kinds of slot: ``{name}`` is a number
filled later from a traced :class:`~dermsim.clinic.benefit_risk.SheetNumber` (so no digit may be
typed into a translation: a test refuses it), ``[[name]]`` a word the program supplies (an option
name, a list of risks) and is filled here.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from dermsim.errors import InvalidInputError

LANGS = ("en", "es")
_SLOT = re.compile(r"\[\[([a-z0-9_]+)\]\]")


@cache
def _load(lang: str) -> dict[str, Any]:
    if lang not in LANGS:
        raise InvalidInputError(f"--lang must be one of {', '.join(LANGS)}; got {lang!r}.")
    text = resources.files("dermsim.clinic").joinpath("i18n", f"{lang}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@dataclass(frozen=True)
class Words:
    """The phrases of one language; ``w("sheet", "title")`` or ``w("sheet", "choices", label=...)``."""

    lang: str = "en"

    def table(self, section: str) -> dict[str, str]:
        return dict(_load(self.lang)[section])

    def __call__(self, section: str, key: str, **slots: str) -> str:
        table = _load(self.lang)[section]
        if key not in table:
            raise KeyError(f"clinic/i18n/{self.lang}.toml: [{section}] has no {key!r}")
        text: str = table[key]

        def fill(m: re.Match[str]) -> str:
            if m.group(1) not in slots:
                raise KeyError(f"clinic/i18n/{self.lang}.toml [{section}].{key}: "
                               f"no value for [[{m.group(1)}]]")
            return slots[m.group(1)]

        return _SLOT.sub(fill, text)


def words(lang: str = "en") -> Words:
    _load(lang)  # refuse an unknown language at once (one line, exit 2 from the CLI)
    return Words(lang)
