"""ADSL: one record per subject, from the SDTM-like DM, EX, QS and DS of a virtual trial.

Population flags (ADaM IG 1.3 names): ITTFL every randomized subject; SAFFL at least one
application (EX); EFFFL ITT with a baseline and at least one post-baseline IGA; COMPLFL completed
the study (DS disposition COMPLETED). TRT01P/TRT01A is the randomized arm of the vehicle-controlled
period, TRT02P/TRT02A the arm of the long-term extension (blank for subjects who left before it).

Periods (ADaM IG 1.3 section 3.2.2): AP01SDT/AP01EDT are the first and last application dates of the
vehicle-controlled period and AP02SDT/AP02EDT of the long-term extension, from the EX records of
each EPOCH (blank for a subject who never entered the period); AP01DURD/AP02DURD their length in
days. ADAE assigns each event to the period whose dates hold its onset, and the safety analyses
use these dates for period exposure (patient-years).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dermsim.errors import InvalidInputError
from dermsim.trial.study_data import StudyData

RACEN: dict[str, int] = {
    "WHITE": 1,
    "BLACK OR AFRICAN AMERICAN": 2,
    "ASIAN": 3,
    "AMERICAN INDIAN OR ALASKA NATIVE": 4,
    "NATIVE HAWAIIAN OR OTHER PACIFIC ISLANDER": 5,
    "MULTIPLE": 6,
    "OTHER": 7,
}
# labels of the ADSL variables that the ADaM IG schema in cdisc.schemas does not carry
EXTRA_LABELS: dict[str, str] = {
    "TRT02P": "Planned Treatment for Period 02",
    "TRT02PN": "Planned Treatment for Period 02 (N)",
    "TRT02A": "Actual Treatment for Period 02",
    "TRT02AN": "Actual Treatment for Period 02 (N)",
    "COMP8FL": "Completers of Week 8 Population Flag",
    "ADHPCT": "Applications Applied (% of Prescribed)",
    "AGEGR1": "Pooled Age Group 1",
    "AP01SDT": "Period 01 Start Date",
    "AP01EDT": "Period 01 End Date",
    "AP01DURD": "Period 01 Duration (Days)",
    "AP02SDT": "Period 02 Start Date",
    "AP02EDT": "Period 02 End Date",
    "AP02DURD": "Period 02 Duration (Days)",
}
# EX epochs of the two periods, in period order
PERIOD_EPOCHS: tuple[str, ...] = ("VEHICLE-CONTROLLED", "LONG-TERM SAFETY")


def _arm_numbers(study: StudyData) -> tuple[dict[str, str], dict[str, float]]:
    """Treatment label and its number per ARMCD: the number ranks the strength (vehicle first)."""
    arms = sorted(study.design.arms, key=lambda a: (a.strength_pct, a.id))
    return ({a.armcd: a.label for a in arms}, {a.armcd: float(i + 1) for i, a in enumerate(arms)})


def _age_groups(study: StudyData, age: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    factor = next((f for f in study.design.stratification.factors if f.variable == "age_y"), None)
    if factor is not None:
        idx = np.searchsorted(np.asarray(factor.cutpoints_y, dtype=float), age, side="right")
        return np.array(factor.labels, dtype=object)[idx], (idx + 1).astype(float)
    cuts, labels = np.array([18.0, 65.0]), np.array(["12-17", "18-64", ">=65"], dtype=object)
    idx = np.searchsorted(cuts, age, side="right")
    return labels[idx], (idx + 1).astype(float)


def derive_adsl(study: StudyData) -> pd.DataFrame:
    """ADSL of ``study`` (see the module docstring for the flags)."""
    if not isinstance(study, StudyData):
        raise InvalidInputError(f"study must be a StudyData; got {type(study).__name__}.")
    dm, ex, qs, ds = study.dm, study.ex, study.qs, study.ds
    labels, numbers = _arm_numbers(study)
    age = dm["AGE"].to_numpy(dtype=float)
    agegr, agegrn = _age_groups(study, age)
    out = pd.DataFrame(
        {
            "STUDYID": dm["STUDYID"].to_numpy(),
            "USUBJID": dm["USUBJID"].to_numpy(),
            "SUBJID": dm["SUBJID"].to_numpy(),
            "SITEID": dm["SITEID"].to_numpy(),
            "AGE": age,
            "AGEU": dm["AGEU"].to_numpy(),
            "AGEGR1": agegr,
            "AGEGR1N": agegrn,
            "SEX": dm["SEX"].to_numpy(),
            "RACE": dm["RACE"].to_numpy(),
            "RACEN": dm["RACE"].map(RACEN).to_numpy(dtype=float),
            "ETHNIC": dm["ETHNIC"].to_numpy(),
            "ARM": dm["ARM"].to_numpy(),
            "ACTARM": dm["ACTARM"].to_numpy(),
            "TRT01P": dm["ARMCD"].map(labels).to_numpy(),
            "TRT01PN": dm["ARMCD"].map(numbers).to_numpy(dtype=float),
            "TRT01A": dm["ACTARMCD"].map(labels).to_numpy(),
            "TRT01AN": dm["ACTARMCD"].map(numbers).to_numpy(dtype=float),
        }
    )
    ext = dm["ARMCD2"].to_numpy()
    on_ext = ext != ""
    out["TRT02P"] = np.where(on_ext, pd.Series(ext).map(labels).fillna("").to_numpy(), "").astype(object)
    out["TRT02PN"] = np.where(on_ext, pd.Series(ext).map(numbers).to_numpy(dtype=float), np.nan)
    out["TRT02A"] = out["TRT02P"]
    out["TRT02AN"] = out["TRT02PN"]

    # treatment dates from EX; randomization from DS
    ex_d = ex.assign(_s=pd.to_datetime(ex["EXSTDTC"]), _e=pd.to_datetime(ex["EXENDTC"]))
    g = ex_d.groupby("USUBJID", sort=False)
    first, last = g["_s"].min(), g["_e"].max()
    adh = g["ADHPCT"].first() if "ADHPCT" in ex.columns else None
    uid = out["USUBJID"]
    out["RANDDT"] = pd.to_datetime(
        uid.map(ds.loc[ds["DSDECOD"] == "RANDOMIZED"].set_index("USUBJID")["DSSTDTC"])
    )
    out["TRTSDT"] = uid.map(first).astype("datetime64[ns]")
    out["TRTEDT"] = uid.map(last).astype("datetime64[ns]")
    out["TRTDURD"] = (out["TRTEDT"] - out["TRTSDT"]).dt.days.astype(float) + 1
    for i, epoch in enumerate(PERIOD_EPOCHS, start=1):
        per = ex_d.loc[ex_d["EPOCH"] == epoch].groupby("USUBJID", sort=False)
        sdt = uid.map(per["_s"].min()).astype("datetime64[ns]")
        edt = uid.map(per["_e"].max()).astype("datetime64[ns]")
        out[f"AP{i:02d}SDT"] = sdt
        out[f"AP{i:02d}EDT"] = edt
        out[f"AP{i:02d}DURD"] = (edt - sdt).dt.days.astype(float) + 1
    if adh is not None:
        out["ADHPCT"] = uid.map(adh).to_numpy(dtype=float)

    disp = ds.loc[ds["DSCAT"] == "DISPOSITION EVENT"].set_index("USUBJID")
    dec = uid.map(disp["DSDECOD"]).fillna("")
    out["EOSSTT"] = np.where(dec == "COMPLETED", "COMPLETED", np.where(dec == "", "ONGOING", "DISCONTINUED"))
    out["EOSSTT"] = out["EOSSTT"].astype(object)
    out["EOSDT"] = pd.to_datetime(uid.map(disp["DSSTDTC"]))
    out["DCSREAS"] = np.where(out["EOSSTT"] == "DISCONTINUED", dec, "").astype(object)

    # population flags
    out["ITTFL"] = "Y"
    out["RANDFL"] = "Y"
    out["SAFFL"] = np.where(uid.isin(ex["USUBJID"]), "Y", "N").astype(object)
    iga = qs.loc[qs["QSTESTCD"] == "IGA"]
    has_bl = uid.isin(iga.loc[iga["QSBLFL"] == "Y", "USUBJID"])
    has_post = uid.isin(iga.loc[iga["QSDY"] > 1, "USUBJID"])
    out["EFFFL"] = np.where(has_bl & has_post, "Y", "N").astype(object)
    out["COMPLFL"] = np.where(out["EOSSTT"] == "COMPLETED", "Y", "N").astype(object)
    vc_end = study.design.schedule.vc_end_day
    wk8 = [v for v in study.design.schedule.visits if v.day <= vc_end][-1]
    out["COMP8FL"] = np.where(uid.isin(qs.loc[qs["VISITNUM"] == wk8.visitnum, "USUBJID"]), "Y", "N").astype(
        object
    )

    # stratification as randomized
    factors = [f.name for f in study.design.stratification.factors]
    for f in factors:
        out[f] = dm[f].to_numpy()
    out["STRATAR"] = (
        dm[factors].astype(str).agg(" / ".join, axis=1).to_numpy().astype(object) if factors else ""
    )

    # baseline values
    bl = qs.loc[qs["QSBLFL"] == "Y"].pivot(index="USUBJID", columns="QSTESTCD", values="QSSTRESN")
    for var, cd in (("IGABL", "IGA"), ("EASIBL", "EASI"), ("BSABL", "BSA"), ("NRSBL", "ITCHNRS")):
        out[var] = uid.map(bl[cd]).to_numpy(dtype=float) if cd in bl.columns else np.nan
    return out
