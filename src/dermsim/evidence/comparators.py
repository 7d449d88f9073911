"""Other topical and systemic AD treatments, one summary each, for context only.

Data in ``data/comparators.toml`` (clinical_facts.md section 7). Endpoints, timepoints, severity
and background therapy differ between these trials; ``caveat`` says so and the CLI prints it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from dermsim.evidence._schema import DATA_DIR, Cited, Fact, Frozen, Source, check_pct, load_model

COMPARATORS_FILE = "comparators.toml"


class ComparatorResult(Cited):
    """Active vs control value of one endpoint in one trial (None when NF)."""

    trial: str
    endpoint: str
    visit: str
    visit_week: Annotated[float, Field(ge=0)] | None = None
    active_label: str
    active_value: float | None = None
    control_label: str = "vehicle"
    control_value: float | None = None
    unit: Literal["%", "% change"] = "%"
    p_value: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ComparatorResult:
        if self.unit == "%":
            check_pct("active_value", self.active_value)
            check_pct("control_value", self.control_value)
        if self.status != "NF" and (self.active_value is None or self.control_value is None):
            raise ValueError(f"a result with status {self.status} needs active_value and control_value")
        return self


class Comparator(Frozen):
    id: str
    agent: str
    trials: list[str]
    regimen: str
    population: str
    n_total: list[Fact] = Field(default_factory=list)
    results: list[ComparatorResult]
    note: str | None = None


class Comparators(Frozen):
    sources: dict[str, Source]
    caveat: str
    comparators: list[Comparator]

    def comparator(self, comparator_id: str) -> Comparator:
        for c in self.comparators:
            if c.id == comparator_id:
                return c
        raise KeyError(comparator_id)


def load_comparators(data_dir: Path = DATA_DIR) -> Comparators:
    return load_model(Comparators, Path(data_dir) / COMPARATORS_FILE)
