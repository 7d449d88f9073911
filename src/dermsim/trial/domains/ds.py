"""DS: disposition (randomized, re-randomized, completed or the reason for leaving)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dermsim.trial.domains.dates import ad_dates

__all__ = ["build_ds"]


def build_ds(
    studyid: str,
    usubjid: np.ndarray,
    start: np.ndarray,
    dropped: np.ndarray,
    drop_day: np.ndarray,
    reason: np.ndarray,
    last_day: np.ndarray,
    rerand: np.ndarray,
    vc_end: int,
) -> pd.DataFrame:
    n = usubjid.shape[0]
    one = np.ones(n, dtype=np.int64)
    end_day = np.where(dropped, drop_day, last_day)
    dec = np.where(dropped, reason, "COMPLETED").astype(object)
    parts = [
        pd.DataFrame(
            {
                "_i": np.arange(n),
                "_o": 0,
                "DSDECOD": "RANDOMIZED",
                "DSCAT": "PROTOCOL MILESTONE",
                "DSSTDY": one,
                "EPOCH": "SCREENING",
            }
        ),
        pd.DataFrame(
            {
                "_i": np.flatnonzero(rerand),
                "_o": 1,
                "DSDECOD": "RE-RANDOMIZED",
                "DSCAT": "PROTOCOL MILESTONE",
                "DSSTDY": vc_end + 1,
                "EPOCH": "LONG-TERM SAFETY",
            }
        ),
        pd.DataFrame(
            {
                "_i": np.arange(n),
                "_o": 2,
                "DSDECOD": dec,
                "DSCAT": "DISPOSITION EVENT",
                "DSSTDY": end_day,
                "EPOCH": np.where(end_day > vc_end, "LONG-TERM SAFETY", "VEHICLE-CONTROLLED"),
            }
        ),
    ]
    ds = pd.concat(parts, ignore_index=True).sort_values(["_i", "_o"], kind="stable").reset_index(drop=True)
    i = ds["_i"].to_numpy()
    dy = ds["DSSTDY"].to_numpy().astype(np.int64)
    return pd.DataFrame(
        {
            "STUDYID": studyid,
            "DOMAIN": "DS",
            "USUBJID": usubjid[i],
            "DSSEQ": (ds.groupby("_i").cumcount() + 1).to_numpy().astype(float),
            "DSTERM": ds["DSDECOD"].to_numpy(),
            "DSDECOD": ds["DSDECOD"].to_numpy(),
            "DSCAT": ds["DSCAT"].to_numpy(),
            "EPOCH": ds["EPOCH"].to_numpy(),
            "DSSTDTC": ad_dates(start[i], dy),
            "DSSTDY": dy.astype(float),
        }
    )
