"""EX: one exposure record per subject and period (vehicle-controlled, long-term extension) with the
subject's share of applied doses."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dermsim.trial.design import TrialDesign
from dermsim.trial.domains.dates import ad_dates

__all__ = ["build_ex"]


def build_ex(
    design: TrialDesign,
    usubjid: np.ndarray,
    start: np.ndarray,
    arm_idx: np.ndarray,
    ext_arm_idx: np.ndarray,
    adherence: np.ndarray,
    last_day: np.ndarray,
    lts_on: np.ndarray,
    vc_end: int,
    with_ext: bool,
) -> pd.DataFrame:
    n = usubjid.shape[0]
    p1_end = np.minimum(last_day, vc_end)
    ex_parts = [
        pd.DataFrame(
            {
                "USUBJID": usubjid,
                "_arm": arm_idx,
                "EXSTDY": 1,
                "EXENDY": p1_end,
                "EPOCH": "VEHICLE-CONTROLLED",
                "_s": start,
            }
        )
    ]
    if with_ext:
        sel = np.flatnonzero(lts_on)
        ex_parts.append(
            pd.DataFrame(
                {
                    "USUBJID": usubjid[sel],
                    "_arm": ext_arm_idx[sel],
                    "EXSTDY": vc_end + 1,
                    "EXENDY": last_day[sel],
                    "EPOCH": "LONG-TERM SAFETY",
                    "_s": start[sel],
                }
            )
        )
    ex = pd.concat(ex_parts, ignore_index=True)
    ex["_subj"] = ex["USUBJID"].map(dict(zip(usubjid, range(n), strict=True)))
    ex = ex.sort_values(["_subj", "EXSTDY"], kind="stable").reset_index(drop=True)
    strength = np.array([a.strength_pct for a in design.arms])
    trt = np.array(["VEHICLE" if a.strength_pct == 0 else "RUXOLITINIB" for a in design.arms], dtype=object)
    freq = np.array([a.regimen for a in design.arms], dtype=object)
    s_ex = ex["_s"].to_numpy().astype("datetime64[D]")
    return pd.DataFrame(
        {
            "STUDYID": design.studyid,
            "DOMAIN": "EX",
            "USUBJID": ex["USUBJID"].to_numpy(),
            "EXSEQ": (ex.groupby("_subj").cumcount() + 1).to_numpy().astype(float),
            "EXTRT": trt[ex["_arm"]],
            "EXDOSE": strength[ex["_arm"]],
            "EXDOSU": "%",
            "EXDOSFRM": "CREAM",
            "EXDOSFRQ": freq[ex["_arm"]],
            "EXROUTE": "TOPICAL",
            "EXSTDTC": ad_dates(s_ex, ex["EXSTDY"].to_numpy()),
            "EXENDTC": ad_dates(s_ex, ex["EXENDY"].to_numpy()),
            "EXSTDY": ex["EXSTDY"].to_numpy().astype(float),
            "EXENDY": ex["EXENDY"].to_numpy().astype(float),
            "EPOCH": ex["EPOCH"].to_numpy(),
            "ADHPCT": np.round(100.0 * adherence[ex["_subj"].to_numpy()], 1),
        }
    )
