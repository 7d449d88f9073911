"""L4 clinic: the dose and exposure planner and the family benefit-risk sheet.

>>> from dermsim.clinic import DosePlanInput, plan_dose
>>> plan = plan_dose(DosePlanInput(age_y=6, weight_kg=21, height_cm=116,
...                                regions={"arms": 50, "legs": 30, "trunk": 10}), seed=1)
"""

from __future__ import annotations

from .benefit_risk import BenefitRisk, SheetNumber, compute_benefit_risk
from .dose import DosePlan, DosePlanInput, Exposure, LabelCheck, RegionDose, parse_regions, plan_dose
from .evidence_keys import Cite, cite, evidence_keys
from .sheet import FamilySheet, build_family_sheet

__all__ = ["BenefitRisk", "Cite", "DosePlan", "DosePlanInput", "Exposure", "FamilySheet", "LabelCheck",
           "RegionDose", "SheetNumber", "build_family_sheet", "cite", "compute_benefit_risk",
           "evidence_keys", "parse_regions", "plan_dose"]
