"""``StudyData``: the SDTM-like domains of one conducted virtual trial.

Domains are pandas frames with CDISC (SDTMIG 3.x) variable names, upper case:

* DM: one record per subject (USUBJID, SITEID, AGE, SEX, RACE, ARMCD/ARM, ACTARMCD/ACTARM,
  RFSTDTC/RFENDTC, RFXSTDTC/RFXENDTC) plus the randomization strata as supplemental qualifiers
  (one column per factor, e.g. IGASTR, AGESTR) and ARMCD2/ARM2 for the extension period.
* EX: one record per subject and treatment period (EPOCH), with EXTRT, EXDOSE (strength, %),
  EXDOSFRQ, EXROUTE, EXSTDTC/EXENDTC, EXSTDY/EXENDY and the supplemental ADHPCT (percent of the
  prescribed applications applied).
* QS: one record per subject, visit and test (IGA, EASI and its four regional scores, affected
  %BSA, weekly-mean itch NRS), with VISITNUM/VISIT, QSDTC/QSDY and QSBLFL.
* AE: one record per event (AETERM, AEDECOD, AEBODSYS, AESEV, AESER, AESTDTC/AEENDTC, AESTDY/AEENDY).
* DS: disposition events and protocol milestones (RANDOMIZED, RE-RANDOMIZED, COMPLETED or the
  reason for discontinuation).

Dates are ISO 8601 text, as in SDTM; study day follows the SDTM rule (no day 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

DOMAINS: tuple[str, ...] = ("DM", "EX", "QS", "AE", "DS")

# SDTMIG labels of the variables the domains carry (supplemental qualifiers labelled too)
SDTM_LABELS: dict[str, str] = {
    "STUDYID": "Study Identifier",
    "DOMAIN": "Domain Abbreviation",
    "USUBJID": "Unique Subject Identifier",
    "SUBJID": "Subject Identifier for the Study",
    "SITEID": "Study Site Identifier",
    "RFSTDTC": "Subject Reference Start Date/Time",
    "RFENDTC": "Subject Reference End Date/Time",
    "RFXSTDTC": "Date/Time of First Study Treatment",
    "RFXENDTC": "Date/Time of Last Study Treatment",
    "RFICDTC": "Date/Time of Informed Consent",
    "AGE": "Age",
    "AGEU": "Age Units",
    "SEX": "Sex",
    "RACE": "Race",
    "ETHNIC": "Ethnicity",
    "ARMCD": "Planned Arm Code",
    "ARM": "Description of Planned Arm",
    "ACTARMCD": "Actual Arm Code",
    "ACTARM": "Description of Actual Arm",
    "COUNTRY": "Country",
    "ARMCD2": "Planned Arm Code, Extension",
    "ARM2": "Description of Planned Arm, Extension",
    "EXSEQ": "Sequence Number",
    "EXTRT": "Name of Treatment",
    "EXDOSE": "Dose",
    "EXDOSU": "Dose Units",
    "EXDOSFRM": "Dose Form",
    "EXDOSFRQ": "Dosing Frequency per Interval",
    "EXROUTE": "Route of Administration",
    "EXSTDTC": "Start Date/Time of Treatment",
    "EXENDTC": "End Date/Time of Treatment",
    "EXSTDY": "Study Day of Start of Treatment",
    "EXENDY": "Study Day of End of Treatment",
    "EPOCH": "Epoch",
    "ADHPCT": "Applications Applied (% of Prescribed)",
    "QSSEQ": "Sequence Number",
    "QSTESTCD": "Question Short Name",
    "QSTEST": "Question Name",
    "QSCAT": "Category of Question",
    "QSORRES": "Finding in Original Units",
    "QSSTRESC": "Character Result/Finding in Std Format",
    "QSSTRESN": "Numeric Finding in Standard Units",
    "QSBLFL": "Baseline Flag",
    "VISITNUM": "Visit Number",
    "VISIT": "Visit Name",
    "QSDTC": "Date/Time of Finding",
    "QSDY": "Study Day of Finding",
    "AESEQ": "Sequence Number",
    "AETERM": "Reported Term for the Adverse Event",
    "AEDECOD": "Dictionary-Derived Term",
    "AEBODSYS": "Body System or Organ Class",
    "AESOC": "Primary System Organ Class",
    "AESEV": "Severity/Intensity",
    "AESER": "Serious Event",
    "AEOUT": "Outcome of Adverse Event",
    "AEACN": "Action Taken with Study Treatment",
    "AESTDTC": "Start Date/Time of Adverse Event",
    "AEENDTC": "End Date/Time of Adverse Event",
    "AESTDY": "Study Day of Start of Adverse Event",
    "AEENDY": "Study Day of End of Adverse Event",
    "DSSEQ": "Sequence Number",
    "DSTERM": "Reported Term for the Disposition Event",
    "DSDECOD": "Standardized Disposition Term",
    "DSCAT": "Category for Disposition Event",
    "DSSTDTC": "Start Date/Time of Disposition Event",
    "DSSTDY": "Study Day of Start of Disposition Event",
}


@dataclass(frozen=True)
class StudyData:
    """The SDTM-like domains of one virtual trial, with the design and seed that made them."""

    dm: pd.DataFrame
    ex: pd.DataFrame
    qs: pd.DataFrame
    ae: pd.DataFrame
    ds: pd.DataFrame
    design: Any
    seed: dict[str, Any]
    extension: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)
    # the model's per-patient average steady-state plasma level (columns arm, strength_pct,
    # adherence, css_nM), one row per patient of the vehicle-controlled period, in arm order
    exposure: pd.DataFrame | None = None
    # the model's plasma level at each attended visit (USUBJID, VISITNUM, VISIT, DAY, CP_NM: the
    # level at the start of that study day, before its first application); None without a model
    pk_samples: pd.DataFrame | None = None
    # each subject's baseline covariates (USUBJID + Population.to_frame() columns, the cream per
    # application the model applied and the adherence it used)
    covariates: pd.DataFrame | None = None

    def domains(self) -> dict[str, pd.DataFrame]:
        """Domain name -> frame (copies), in the SDTM order DM, EX, QS, AE, DS."""
        return {name: getattr(self, name.lower()).copy() for name in DOMAINS}

    @property
    def n_subjects(self) -> int:
        return int(self.dm.shape[0])

    @staticmethod
    def labels(columns: list[str] | pd.Index) -> dict[str, str]:
        """SDTM labels for ``columns`` (strata columns get a generic label)."""
        return {c: SDTM_LABELS.get(c, f"Randomization Stratum {c}") for c in columns}
