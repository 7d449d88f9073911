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
from dermsim.evidence.trials import Arm, Eligibility, EndpointResult, check_results

TRIAL_PHASE2_FILE = "trial_phase2.toml"


class DoseRangingTrial(Frozen):
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
        ids = [a.id for a in arms]
        if not arms or len(set(ids)) != len(ids):
            raise ValueError(f"arm ids must be unique and at least one; got {', '.join(ids) or 'none'}")
        return arms

    @model_validator(mode="after")
    def _invariants(self) -> DoseRangingTrial:
        ns = [a.n for a in self.arms]
        total = self.n_total.number
        if total is not None and all(n is not None for n in ns) and sum(ns) != int(total):  # type: ignore[arg-type]
            raise ValueError(at("arms", f"arms n_randomized (sum {sum(ns)}) must equal "  # type: ignore[arg-type]
                                        f"n_total ({int(total)})"))
        check_results({a.id: a.n for a in self.arms}, self.endpoint_results, [], strict_arms=True)
        return self

    def arm(self, arm_id: str) -> Arm:
        for a in self.arms:
            if a.id == arm_id:
                return a
        raise KeyError(arm_id)

    def results(self, endpoint: str | None = None, *, arm: str | None = None,
                visit_week: float | None = None) -> list[EndpointResult]:
        return [r for r in self.endpoint_results
                if (endpoint is None or r.endpoint == endpoint) and (arm is None or r.arm == arm)
                and (visit_week is None or r.visit_week == visit_week)]


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
