"""L0: published facts as data files with citations, and their typed loader.

>>> from dermsim.evidence import load_evidence, get_trial
>>> ev = load_evidence()
>>> get_trial("true-ad3").arm("rux150").n_randomized.value
131

Every number is a :class:`Fact` (value, unit, source key, status C/D/U/NF) read from one TOML file
per source family in ``data/``; the files are validated on load and a broken file raises
:class:`~dermsim.errors.DataValidationError` naming the file, the dotted key and the problem.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from dermsim.errors import InvalidInputError

from ._schema import DATA_DIR, Cited, Fact, Source, Status, count_by_status, iter_cited
from .comparators import Comparators, load_comparators
from .dose_ranging import DoseRangingFile, DoseRangingTrial, load_trial_phase2
from .label import Label, load_label
from .maintenance import Maintenance, MaintenanceStudy, load_maintenance
from .mechanism import Mechanism, load_mechanism
from .natural_history import NaturalHistory, load_natural_history
from .pharmacology import Pharmacology, load_pharmacology
from .pk_maxuse import MaxUseGroup, MaxUseTrial, load_pk_maxuse_adult
from .skin_age import SkinAge, load_skin_age
from .trials import AERow, Arm, EndpointResult, PooledData, Trial, TrialFile, load_trials

__all__ = [
    "DATA_DIR", "AERow", "Arm", "Cited", "Comparators", "DoseRangingFile", "DoseRangingTrial",
    "EndpointResult", "Evidence", "Fact", "Label", "Maintenance", "MaintenanceStudy",
    "MaxUseGroup", "MaxUseTrial", "Mechanism", "NaturalHistory", "Pharmacology", "PooledData", "SkinAge",
    "Source", "Status", "Trial",
    "count_by_status", "cytokine_jaks", "get_trial", "iter_cited", "load_evidence",
]


@dataclass(frozen=True)
class Evidence:
    """Everything in the evidence library, validated. Obtain it from :func:`load_evidence`."""

    data_dir: Path
    trial_files: dict[str, TrialFile]
    label: Label
    pharmacology: Pharmacology
    mechanism: Mechanism
    comparators: Comparators
    natural_history: NaturalHistory
    pk_maxuse_adult: MaxUseTrial
    dose_ranging: DoseRangingFile
    maintenance: Maintenance
    skin_age: SkinAge
    _charts: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def trials(self) -> dict[str, Trial]:
        return {k: t for f in self.trial_files.values() for k, t in f.trials.items()}

    @property
    def pooled(self) -> dict[str, PooledData]:
        return {k: p for f in self.trial_files.values() for k, p in f.pooled.items()}

    def trial_sources(self, trial_id: str) -> dict[str, Source]:
        """The ``[sources]`` table of the file that holds ``trial_id``."""
        for f in self.trial_files.values():
            if trial_id in f.trials:
                return f.sources
        raise InvalidInputError(_unknown_trial(trial_id, self.trials))

    def pooled_for(self, trial_id: str) -> list[PooledData]:
        """Pooled data sets that include ``trial_id`` (e.g. the AD1/AD2 label AE table)."""
        return [p for p in self.pooled.values() if trial_id in p.trials]

    def families(self) -> dict[str, Any]:
        """File name -> parsed model, for listing and counting."""
        return {**self.trial_files, "label.toml": self.label, "pharmacology.toml": self.pharmacology,
                "mechanism.toml": self.mechanism, "comparators.toml": self.comparators,
                "natural_history.toml": self.natural_history, "pk_maxuse_adult.toml": self.pk_maxuse_adult,
                "trial_phase2.toml": self.dose_ranging, "maintenance.toml": self.maintenance,
                "skin_age.toml": self.skin_age}

    @property
    def charts(self) -> Any:
        """Reference charts (Lund-Browder, EASI weights, BSA formulas, FTU), loaded on first use
        from ``dermsim.evidence.charts`` (a separate module owned with the population model)."""
        if "charts" not in self._charts:
            try:
                module = importlib.import_module("dermsim.evidence.charts")
            except ModuleNotFoundError as exc:
                raise AttributeError("Evidence.charts: dermsim.evidence.charts is not available") from exc
            loader = module.load_charts
            try:
                self._charts["charts"] = loader(self.data_dir)
            except TypeError:  # a loader that takes no directory reads the package data
                self._charts["charts"] = loader()
        return self._charts["charts"]


def _unknown_trial(trial_id: object, trials: dict[str, Trial]) -> str:
    return f"trial must be one of {', '.join(sorted(trials))}; got {trial_id!r}."


@lru_cache(maxsize=4)
def _load(data_dir: Path) -> Evidence:
    return Evidence(
        data_dir=data_dir,
        trial_files=load_trials(data_dir),
        label=load_label(data_dir),
        pharmacology=load_pharmacology(data_dir),
        mechanism=load_mechanism(data_dir),
        comparators=load_comparators(data_dir),
        natural_history=load_natural_history(data_dir),
        pk_maxuse_adult=load_pk_maxuse_adult(data_dir),
        dose_ranging=load_trial_phase2(data_dir),
        maintenance=load_maintenance(data_dir),
        skin_age=load_skin_age(data_dir),
    )


def load_evidence(data_dir: str | Path | None = None) -> Evidence:
    """Load and validate every evidence file in ``data_dir`` (default: the package data).

    Results are cached per directory; a file edited after the first call is not re-read in the
    same process (call ``load_evidence.cache_clear()`` to force it).
    """
    return _load(Path(data_dir).resolve() if data_dir is not None else DATA_DIR.resolve())


load_evidence.cache_clear = _load.cache_clear


def get_trial(trial_id: str, data_dir: str | Path | None = None) -> Trial:
    """The published summary of one trial: ``true-ad1``, ``true-ad2`` or ``true-ad3``
    (case-insensitive)."""
    trials = load_evidence(data_dir).trials
    key = trial_id.strip().lower() if isinstance(trial_id, str) else trial_id
    if key not in trials:
        raise InvalidInputError(_unknown_trial(trial_id, trials))
    return trials[key]


def cytokine_jaks(data_dir: str | Path | None = None) -> dict[str, tuple[str, ...]]:
    """Cytokine id (``IL-4``, ``IL-13``, ``IFN-gamma``, ``TPO`` ...) -> the JAKs its receptor uses.

    Data access only; which pathways a JAK1/2 inhibitor blocks, and how much, is the model's
    business (``dermsim.model.pharmacology.jak``).
    """
    return {c.id: tuple(c.jaks) for c in load_evidence(data_dir).mechanism.cytokines}
