"""ADAE (OCCDS): one record per adverse event, with the subject's treatment at onset.

TRTA is the treatment the subject was on when the event started (the extension arm for events
in the long-term period); TRTEMFL flags events starting on or after the first application and no
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
)
EXTRA_LABELS: dict[str, str] = {
    "APERIOD": "Period",
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
    p2 = out["ASTDY"].to_numpy() > study.design.schedule.vc_end_day
    out["APERIOD"] = np.where(p2, 2.0, 1.0)
    out["TRTA"] = np.where(p2, out["TRT02A"], out["TRT01A"]).astype(object)
    out["TRTAN"] = np.where(p2, out["TRT02AN"], out["TRT01AN"])
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
        "TRTA",
        "TRTAN",
        "APERIOD",
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
