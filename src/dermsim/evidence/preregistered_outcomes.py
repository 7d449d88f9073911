"""Published outcomes of the studies the second model version PREDICTED before seeing them.

Data in ``data/preregistered_outcomes.toml``: one ``[[outcome]]`` per pre-registered row of
``validation/preregistered/v2.csv`` that a publication reports (study, arm, quantity and visit as
in that file; the published number as a fact with its source and status). The file may only be
written after the pre-registration is committed on main (issue 12); until then it does not exist
and :func:`load_preregistered_outcomes` returns no outcomes. These numbers are never calibration
targets (calibration/targets.py refuses every one of these studies).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from dermsim.evidence._schema import DATA_DIR, Fact, Frozen, Source, at, load_model

OUTCOMES_FILE = "preregistered_outcomes.toml"


class Outcome(Fact):
    study: str
    arm: str
    quantity: str
    visit: str


class PreregisteredOutcomes(Frozen):
    description: str
    sources: dict[str, Source] = Field(default_factory=dict)
    outcome: list[Outcome] = Field(default_factory=list)

    @model_validator(mode="after")
    def _sources_known_and_rows_unique(self) -> PreregisteredOutcomes:
        seen = set()
        for i, o in enumerate(self.outcome):
            if o.source not in self.sources:
                raise ValueError(at(f"outcome.{i}.source",
                                    f"source must be a key of [sources]; got {o.source!r}"))
            key = (o.study, o.arm, o.quantity)
            if key in seen:
                raise ValueError(at(f"outcome.{i}", f"outcome {key} is given twice"))
            seen.add(key)
        return self

    def find(self, study: str, arm: str, quantity: str) -> Outcome | None:
        for o in self.outcome:
            if (o.study, o.arm, o.quantity) == (study, arm, quantity):
                return o
        return None


def load_preregistered_outcomes(data_dir: Path = DATA_DIR) -> PreregisteredOutcomes:
    path = Path(data_dir) / OUTCOMES_FILE
    if not path.exists():
        return PreregisteredOutcomes(description="not written yet (outcomes held out)")
    return load_model(PreregisteredOutcomes, path)
