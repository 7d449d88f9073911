"""Dose-ranging trials (the phase 2 ruxolitinib cream trial NCT03011892), kept apart from the
TRuE-AD trial files.

Data in ``data/trial_phase2.toml``, one ``[trials.<id>]`` table per trial in the same form as the
TRuE-AD files (eligibility, arms with N, endpoint results, facts) and validated with the same
building blocks (:class:`~dermsim.evidence.trials.Arm`, ``EndpointResult``, ``Eligibility``).
They are not part of ``Evidence.trials`` on purpose: the clinic lists trial strengths and arms
from there, and a 0.15% arm or a triamcinolone comparator must not appear as an Opzelura option.
Evidence keys: ``trial_phase2.toml:trials.phase2-ad.endpoint_results.1``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from dermsim.evidence._schema import DATA_DIR, Fact, Frozen, Source, at, load_model
from dermsim.evidence.trials import Arm, ArmSet, Eligibility, EndpointResult, check_arm_set, unique_arms

TRIAL_PHASE2_FILE = "trial_phase2.toml"


class DoseRangingTrial(ArmSet, Frozen):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
    name: str
    registry_id: str
    phase: str
    population: str
    design: Fact
    randomization: Fact
    n_total: Fact
    vc_weeks: Fact
    primary_endpoint: Fact
    eligibility: Eligibility
    arms: list[Arm]
    baseline: dict[str, Fact] = Field(default_factory=dict)
    endpoint_results: list[EndpointResult] = Field(default_factory=list)
    facts: dict[str, Fact] = Field(default_factory=dict)

    @field_validator("arms")
    @classmethod
    def _unique_arms(cls, arms: list[Arm]) -> list[Arm]:
        return unique_arms(arms)

    @model_validator(mode="after")
    def _invariants(self) -> DoseRangingTrial:
        check_arm_set(self.arms, self.n_total, self.endpoint_results, [])
        return self


class DoseRangingFile(Frozen):
    description: str
    sources: dict[str, Source]
    trials: dict[str, DoseRangingTrial]

    @model_validator(mode="after")
    def _ids_match_keys(self) -> DoseRangingFile:
        for key, trial in self.trials.items():
            if trial.id != key:
                raise ValueError(at(f"trials.{key}.id", f"id {trial.id!r} must equal its table key {key!r}"))
        return self


def load_trial_phase2(data_dir: Path = DATA_DIR) -> DoseRangingFile:
    return load_model(DoseRangingFile, Path(data_dir) / TRIAL_PHASE2_FILE)
