"""Relapse after topical treatment of atopic dermatitis is stopped: withdrawal and proactive
maintenance trials of other topical drugs, as priors for the model's disease-memory process.

Data in ``data/maintenance.toml``: one ``[studies.<id>]`` table per trial (design as text facts,
then numbers: medians of time to first relapse in days, flare-free days, N) and ``[priors]`` with
derived summaries (status D, calculation in the note), e.g. an exponential relapse hazard
ln(2)/median. Each study must state what counted as a relapse and must give at least one time in
days, so a study without its key number fails on load.
"""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import Field, model_validator

from dermsim.evidence._schema import DATA_DIR, Fact, Frozen, Source, at, load_model

MAINTENANCE_FILE = "maintenance.toml"


class MaintenanceStudy(Frozen):
    name: str
    drug: str
    population: Fact
    induction: Fact
    maintenance: Fact
    relapse_definition: Fact
    facts: dict[str, Fact] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _collect(cls, data: object) -> object:
        # Numbers are written inline beside the design keys; gather them under ``facts``.
        if isinstance(data, dict) and "facts" not in data:
            fixed = set(cls.model_fields) - {"facts"}
            return {**{k: v for k, v in data.items() if k in fixed},
                    "facts": {k: v for k, v in data.items() if k not in fixed}}
        return data

    @model_validator(mode="after")
    def _has_a_time(self) -> MaintenanceStudy:
        if not any(f.unit == "days" and f.number is not None for f in self.facts.values()):
            raise ValueError("a maintenance study needs at least one time in days (e.g. "
                             "vehicle_median_days_to_relapse)")
        return self


class Maintenance(Frozen):
    description: str
    sources: dict[str, Source]
    studies: dict[str, MaintenanceStudy]
    priors: dict[str, Fact]

    @model_validator(mode="after")
    def _hazards_match_medians(self) -> Maintenance:
        # A derived hazard must be ln 2 over the median it names (kept in step with the study).
        for key, study_id in (("vehicle_relapse_hazard_tcs_per_day", "berth-jones-2003"),
                              ("vehicle_relapse_hazard_tci_per_day", "breneman-2008"),
                              ("vehicle_relapse_hazard_pde4_per_day", "crisade-control")):
            hazard, study = self.priors.get(key), self.studies.get(study_id)
            if hazard is None or study is None:
                continue
            median = study.facts["vehicle_median_days_to_relapse"].number
            if hazard.number is None or median is None or abs(hazard.number - math.log(2) / median) > 5e-4:
                raise ValueError(at(f"priors.{key}", f"{key} must be ln 2 / {study_id} "
                                                     f"vehicle_median_days_to_relapse ({median})"))
        return self

    def vehicle_medians_days(self) -> dict[str, float]:
        """Study id -> published median days to first relapse on vehicle, where given."""
        out = {}
        for sid, s in self.studies.items():
            f = s.facts.get("vehicle_median_days_to_relapse")
            if f is not None and f.number is not None:
                out[sid] = f.number
        return out


def load_maintenance(data_dir: Path = DATA_DIR) -> Maintenance:
    return load_model(Maintenance, Path(data_dir) / MAINTENANCE_FILE)
