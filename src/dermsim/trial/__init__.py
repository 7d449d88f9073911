"""Virtual trials: frozen designs (:mod:`~dermsim.trial.design`), stratified permuted-block
randomization, built-in scenarios, conduct into SDTM-like :class:`StudyData`."""

from __future__ import annotations

from dermsim.trial.conduct import simulate_trial
from dermsim.trial.design import (
    Adherence,
    AdverseEventModel,
    AdverseEventTerm,
    Arm,
    DropoutModel,
    Extension,
    PreferredTerm,
    Stratification,
    StratificationFactor,
    TrialDesign,
    Visit,
    VisitSchedule,
)
from dermsim.trial.randomization import compute_strata, sample_block_allocation
from dermsim.trial.scenarios import list_scenarios, load_design
from dermsim.trial.study_data import StudyData

__all__ = [
    "Adherence",
    "AdverseEventModel",
    "AdverseEventTerm",
    "Arm",
    "DropoutModel",
    "Extension",
    "PreferredTerm",
    "Stratification",
    "StratificationFactor",
    "StudyData",
    "TrialDesign",
    "Visit",
    "VisitSchedule",
    "compute_strata",
    "list_scenarios",
    "load_design",
    "sample_block_allocation",
    "simulate_trial",
]
