"""The Opzelura (ruxolitinib cream 1.5%) US label: strengths, dose limits by age, warnings.

Data in ``data/label.toml`` (clinical_facts.md section 3). The 2-11 year gram limit is NF: the
label has the heading but the number was not returned, so :meth:`Label.max_amount_for_age`
gives an NF fact there, never the adult 60 g/week.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from dermsim.errors import InvalidInputError
from dermsim.evidence._schema import DATA_DIR, Cited, Fact, Frozen, Source, load_model

LABEL_FILE = "label.toml"
_REQUIRED = ("strength_pct", "strength_mg_per_g", "pack_sizes_g", "indication", "indication_min_age_y",
             "dose_frequency_per_day", "max_bsa_pct", "dose")


class MaxAmount(Frozen):
    """Maximum weekly amount for an age group [age_min_y, age_max_exclusive_y)."""

    age_min_y: Annotated[float, Field(ge=0)]
    age_max_exclusive_y: Annotated[float, Field(gt=0)] | None = None
    g_per_week: Fact
    g_per_2_weeks: Fact

    @model_validator(mode="after")
    def _ordered(self) -> MaxAmount:
        if self.age_max_exclusive_y is not None and self.age_max_exclusive_y <= self.age_min_y:
            raise ValueError(f"age_max_exclusive_y ({self.age_max_exclusive_y:g}) must exceed age_min_y "
                             f"({self.age_min_y:g})")
        return self


class WarningTopic(Cited):
    id: str
    title: str
    detail: str


class BoxedWarning(Frozen):
    topics: list[WarningTopic]
    basis: Fact


class Label(Frozen):
    product: str
    sources: dict[str, Source]
    facts: dict[str, Fact]
    max_amount: list[MaxAmount]
    boxed_warning: BoxedWarning
    other_warnings: list[WarningTopic]

    @model_validator(mode="after")
    def _required(self) -> Label:
        missing = [k for k in _REQUIRED if k not in self.facts]
        if missing:
            raise ValueError(f"facts must include {', '.join(missing)}")
        return self

    def max_amount_for_age(self, age_y: float) -> MaxAmount:
        """The label's maximum-amount entry for a patient aged ``age_y`` (data access only)."""
        for entry in self.max_amount:
            if age_y >= entry.age_min_y and (entry.age_max_exclusive_y is None
                                             or age_y < entry.age_max_exclusive_y):
                return entry
        ages = ", ".join(f">= {e.age_min_y:g}" for e in self.max_amount)
        raise InvalidInputError(f"age_y must fall in a labelled age group ({ages} y); got {age_y:g}.")


def load_label(data_dir: Path = DATA_DIR) -> Label:
    return load_model(Label, Path(data_dir) / LABEL_FILE)
