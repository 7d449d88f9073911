"""The cytokine -> receptor -> JAKs -> STATs map of atopic dermatitis, and which pathways a
JAK1/2 inhibitor (ruxolitinib) blocks.

Data in ``data/mechanism.toml`` (clinical_facts.md section 5). :func:`cytokine_jaks` is data
access for the model layer (``dermsim.model.pharmacology.jak``), which decides how blocking is computed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from dermsim.evidence._schema import DATA_DIR, Cited, Frozen, Source, load_model

MECHANISM_FILE = "mechanism.toml"
Jak = Literal["JAK1", "JAK2", "JAK3", "TYK2"]


class Cytokine(Cited):
    """One cytokine row: receptor, the JAKs and STATs it uses, and ruxolitinib's reach."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9/-]+$")]
    name: str
    role: str
    receptor: str
    jaks: list[Jak]
    jaks_note: str | None = None
    stats: list[str]
    blocked_by_ruxolitinib: Literal["yes", "partly", "no"]

    @model_validator(mode="after")
    def _consistent(self) -> Cytokine:
        if not self.jaks:
            raise ValueError("jaks must name at least one JAK")
        # A JAK1/2 inhibitor cannot reach a receptor that uses neither JAK1 nor JAK2.
        if self.blocked_by_ruxolitinib != "no" and not {"JAK1", "JAK2"} & set(self.jaks):
            raise ValueError(f"blocked_by_ruxolitinib is {self.blocked_by_ruxolitinib!r} but jaks "
                             f"({', '.join(self.jaks)}) include neither JAK1 nor JAK2")
        return self


class Mechanism(Frozen):
    sources: dict[str, Source]
    cytokines: list[Cytokine]

    @model_validator(mode="after")
    def _unique(self) -> Mechanism:
        ids = [c.id for c in self.cytokines]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"cytokine ids must be unique; repeated: {', '.join(dup)}")
        return self

    def cytokine(self, cytokine_id: str) -> Cytokine:
        for c in self.cytokines:
            if c.id == cytokine_id:
                return c
        raise KeyError(cytokine_id)


def load_mechanism(data_dir: Path = DATA_DIR) -> Mechanism:
    return load_model(Mechanism, Path(data_dir) / MECHANISM_FILE)
