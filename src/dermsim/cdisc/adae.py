"""ADAE (OCCDS): one record per adverse event, with the subject's treatment at onset.

APERIOD/APHASE is the period whose dates (ADSL AP01SDT/AP02SDT) hold the onset: 1 "VEHICLE-CONTROLLED"
from the first application, 2 "LONG-TERM EXTENSION" from the first extension application (events in
the emergent window after a period's last application stay in that period); blank before the first
application. TRTP/TRTA are the period's planned and actual treatment (TRT01x or TRT02x), so an event
of a vehicle subject re-randomized to 0.75% in the extension counts under 0.75%; APERSDT/APEREDT are
the period dates. TRTEMFL flags events starting on or after the first application and no
later than the design's emergent window after the last. AOCCPFL flags the first treatment-emergent
occurrence of each preferred term per subject (admiral ``derive_var_extreme_flag``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dermsim.cdisc.derive import (
    derive_var_extreme_flag,
    derive_var_trtemfl,
    derive_vars_dy,
    derive_vars_merged,
)
from dermsim.errors import InvalidInputError
from dermsim.trial.study_data import StudyData

_ADSL_VARS = (
    "SUBJID",
    "SITEID",
    "AGE",
    "AGEGR1",
    "SEX",
    "RACE",
    "SAFFL",
    "TRT01A",
    "TRT01AN",
    "TRT02A",
    "TRT02AN",
    "TRTSDT",
    "TRTEDT",
    "TRT01P",
    "TRT01PN",
    "TRT02P",
    "TRT02PN",
    "AP01SDT",
    "AP01EDT",
    "AP02SDT",
    "AP02EDT",
)
PHASES: dict[int, str] = {1: "VEHICLE-CONTROLLED", 2: "LONG-TERM EXTENSION"}
EXTRA_LABELS: dict[str, str] = {
    "APERIOD": "Period",
    "APHASE": "Phase",
    "APERSDT": "Period Start Date",
    "APEREDT": "Period End Date",
    "AEOUT": "Outcome of Adverse Event",
    "AEACN": "Action Taken with Study Treatment",
    "EPOCH": "Epoch",
}


def derive_adae(study: StudyData, adsl: pd.DataFrame) -> pd.DataFrame:
    """ADAE of ``study`` with subject variables from ``adsl``."""
    if not isinstance(study, StudyData):
        raise InvalidInputError(f"study must be a StudyData; got {type(study).__name__}.")
    ae = study.ae
    out = pd.DataFrame(
        {
            "STUDYID": ae["STUDYID"].to_numpy(),
            "USUBJID": ae["USUBJID"].to_numpy(),
            "AESEQ": ae["AESEQ"].to_numpy(dtype=float),
            "AETERM": ae["AETERM"].to_numpy(),
            "AEDECOD": ae["AEDECOD"].to_numpy(),
            "AEBODSYS": ae["AEBODSYS"].to_numpy(),
            "AESOC": ae["AESOC"].to_numpy(),
            "AESEV": ae["AESEV"].to_numpy(),
            "ASEV": ae["AESEV"].to_numpy(),
            "AESER": ae["AESER"].to_numpy(),
            "AEOUT": ae["AEOUT"].to_numpy(),
            "AEACN": ae["AEACN"].to_numpy(),
            "EPOCH": ae["EPOCH"].to_numpy(),
            "ASTDT": pd.to_datetime(ae["AESTDTC"]).to_numpy(),
            "AENDT": pd.to_datetime(ae["AEENDTC"].replace("", None)).to_numpy(),
        }
    )
    out = derive_vars_merged(out, adsl, by_vars=["USUBJID"], new_vars=list(_ADSL_VARS))
    out = derive_vars_dy(out, reference_date="TRTSDT", source_vars=["ASTDT", "AENDT"])
    out = derive_var_trtemfl(out, end_window_d=study.design.adverse_events.emergent_window_d)
    onset = out["ASTDT"]
    p2 = (onset >= out["AP02SDT"]).to_numpy()  # NaT (no extension) compares False
    p1 = (onset >= out["AP01SDT"]).to_numpy() & ~p2
    period = np.where(p2, 2.0, np.where(p1, 1.0, np.nan))
    out["APERIOD"] = period
    out["APHASE"] = np.where(p2, PHASES[2], np.where(p1, PHASES[1], "")).astype(object)
    for var in ("TRTP", "TRTA"):
        kind = var[-1]
        out[var] = np.where(p2, out[f"TRT02{kind}"], np.where(p1, out[f"TRT01{kind}"], "")).astype(object)
        out[f"{var}N"] = np.where(p2, out[f"TRT02{kind}N"], np.where(p1, out[f"TRT01{kind}N"], np.nan))
    out["APERSDT"] = out["AP02SDT"].where(p2, out["AP01SDT"].where(p1))
    out["APEREDT"] = out["AP02EDT"].where(p2, out["AP01EDT"].where(p1))
    te = (out["TRTEMFL"] == "Y").to_numpy()
    out = derive_var_extreme_flag(
        out, by_vars=["USUBJID"], order=["ASTDT", "AESEQ"], new_var="AOCCFL", mode="first", filter_mask=te
    )
    out = derive_var_extreme_flag(
        out,
        by_vars=["USUBJID", "AEBODSYS"],
        order=["ASTDT", "AESEQ"],
        new_var="AOCCSFL",
        mode="first",
        filter_mask=te,
    )
    out = derive_var_extreme_flag(
        out,
        by_vars=["USUBJID", "AEBODSYS", "AEDECOD"],
        order=["ASTDT", "AESEQ"],
        new_var="AOCCPFL",
        mode="first",
        filter_mask=te,
    )
    cols = [
        "STUDYID",
        "USUBJID",
        "SUBJID",
        "SITEID",
        "AGE",
        "AGEGR1",
        "SEX",
        "RACE",
        "SAFFL",
        "TRTSDT",
        "TRTEDT",
        "TRTP",
        "TRTPN",
        "TRTA",
        "TRTAN",
        "APERIOD",
        "APHASE",
        "APERSDT",
        "APEREDT",
        "AESEQ",
        "AETERM",
        "AEDECOD",
        "AEBODSYS",
        "AESOC",
        "AESEV",
        "ASEV",
        "AESER",
        "AEACN",
        "AEOUT",
        "EPOCH",
        "ASTDT",
        "AENDT",
        "ASTDY",
        "AENDY",
        "TRTEMFL",
        "AOCCFL",
        "AOCCSFL",
        "AOCCPFL",
    ]
    return out[cols].sort_values(["USUBJID", "AESEQ"], kind="stable").reset_index(drop=True)
