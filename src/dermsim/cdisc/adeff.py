"""ADEFF (BDS): one record per subject, parameter, analysis visit and derivation type.

Observed parameters from QS: IGA, EASI, BSA (affected %BSA) and ITCHNRS (weekly-mean itch NRS),
with ABLFL (last assessment on or before day 1), BASE, CHG, PCHG. Responder parameters derived
from them at each post-baseline visit (AVAL 1/0, AVALC Y/N, CRIT1/CRIT1FL):

* IGATS: IGA 0 or 1 AND an improvement of >= 2 grades from baseline (AVAL <= 1 and CHG <= -2);
* EASI50 / EASI75 / EASI90: PCHG of EASI <= -50 / -75 / -90;
* NRS4: CHG of the weekly-mean itch NRS <= -4, only for subjects with baseline NRS >= 4.

Missing vehicle-controlled visits after discontinuation are imputed (ADaM DTYPE): LOCF for the
observed parameters, non-responder (NRI, AVAL 0) for the responder parameters. Every record has
ANL01FL "Y": observed and imputed records never share a visit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dermsim.cdisc.derive import (
    derive_var_base,
    derive_var_chg,
    derive_var_crit_flag,
    derive_var_extreme_flag,
    derive_var_pchg,
    derive_vars_dy,
    derive_vars_merged,
)
from dermsim.errors import InvalidInputError
from dermsim.trial.study_data import StudyData

PARAMS: dict[str, tuple[str, float]] = {
    "IGA": ("Investigator's Global Assessment Score", 1.0),
    "EASI": ("EASI Total Score", 2.0),
    "BSA": ("Affected Body Surface Area (%)", 3.0),
    "ITCHNRS": ("Itch NRS Weekly Mean Score", 4.0),
    "IGATS": ("IGA Treatment Success (IGA 0/1 and >=2-Grade Improvement)", 11.0),
    "EASI50": ("EASI-50 (>=50% Improvement from Baseline)", 12.0),
    "EASI75": ("EASI-75 (>=75% Improvement from Baseline)", 13.0),
    "EASI90": ("EASI-90 (>=90% Improvement from Baseline)", 14.0),
    "NRS4": ("Itch NRS4 (>=4-Point Improvement, Baseline NRS >=4)", 15.0),
}
# responder parameter -> (source parameter, criterion text)
RESPONDERS: dict[str, tuple[str, str]] = {
    "IGATS": ("IGA", "IGA 0 or 1 and CHG <= -2"),
    "EASI50": ("EASI", "PCHG <= -50"),
    "EASI75": ("EASI", "PCHG <= -75"),
    "EASI90": ("EASI", "PCHG <= -90"),
    "NRS4": ("ITCHNRS", "CHG <= -4 (BASE >= 4)"),
}
EXTRA_LABELS: dict[str, str] = {"APERIOD": "Period", "SRCDOM": "Source Data", "QSSEQ": "Sequence Number"}
_ADSL_VARS = (
    "SUBJID",
    "SITEID",
    "AGE",
    "AGEGR1",
    "SEX",
    "RACE",
    "TRT01P",
    "TRT01PN",
    "TRT01A",
    "TRT01AN",
    "TRT02P",
    "TRT02PN",
    "ITTFL",
    "SAFFL",
    "EFFFL",
    "TRTSDT",
)


def compute_responder(paramcd: str, aval: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Responder status (1.0 / 0.0; NaN when not evaluable) of ``paramcd`` from source AVAL, BASE."""
    aval = np.asarray(aval, dtype=float)
    base = np.asarray(base, dtype=float)
    chg = aval - base
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pchg = np.where(base > 0, 100.0 * chg / np.where(base > 0, base, 1.0), np.nan)
    if paramcd == "IGATS":
        res = (aval <= 1) & (chg <= -2)
        ok = ~np.isnan(chg)
    elif paramcd in ("EASI50", "EASI75", "EASI90"):
        res = pchg <= -float(paramcd[4:])
        ok = ~np.isnan(pchg)
    elif paramcd == "NRS4":
        res = chg <= -4
        ok = ~np.isnan(chg) & (base >= 4)
    else:
        raise InvalidInputError(f"paramcd must be one of {', '.join(RESPONDERS)}; got {paramcd!r}.")
    return np.where(ok, res.astype(float), np.nan)


def _avisit(name: pd.Series, day: pd.Series) -> tuple[pd.Series, pd.Series]:
    is_bl = day <= 1
    weeks = np.round((day.astype(float) - 1) / 7.0)
    return (
        pd.Series(np.where(is_bl, "Baseline", name.str.title()), index=name.index, dtype=object),
        pd.Series(np.where(is_bl, 0.0, weeks), index=name.index),
    )


def derive_adeff(study: StudyData, adsl: pd.DataFrame) -> pd.DataFrame:
    """ADEFF of ``study`` with subject variables from ``adsl`` (see the module docstring)."""
    if not isinstance(study, StudyData):
        raise InvalidInputError(f"study must be a StudyData; got {type(study).__name__}.")
    sched = study.design.schedule
    qs = study.qs.loc[study.qs["QSTESTCD"].isin(["IGA", "EASI", "BSA", "ITCHNRS"])]
    obs = pd.DataFrame(
        {
            "STUDYID": qs["STUDYID"].to_numpy(),
            "USUBJID": qs["USUBJID"].to_numpy(),
            "PARAMCD": qs["QSTESTCD"].to_numpy(),
            "AVAL": qs["QSSTRESN"].to_numpy(dtype=float),
            "VISIT": qs["VISIT"].to_numpy(),
            "VISITNUM": qs["VISITNUM"].to_numpy(dtype=float),
            "ADT": pd.to_datetime(qs["QSDTC"]).to_numpy(),
            "SRCDOM": "QS",
            "QSSEQ": qs["QSSEQ"].to_numpy(dtype=float),
            "DTYPE": "",
        }
    )
    obs["AVISIT"], obs["AVISITN"] = _avisit(obs["VISIT"], (qs["QSDY"]).reset_index(drop=True))
    obs = derive_vars_merged(obs, adsl, by_vars=["USUBJID"], new_vars=["TRTSDT"])
    obs = derive_vars_dy(obs, reference_date="TRTSDT", source_vars=["ADT"])
    obs = derive_var_extreme_flag(
        obs,
        by_vars=["USUBJID", "PARAMCD"],
        order=["ADY"],
        new_var="ABLFL",
        mode="last",
        filter_mask=(obs["ADY"] <= 1).to_numpy(),
    )
    obs = derive_var_base(obs, by_vars=["USUBJID", "PARAMCD"])

    # LOCF at the vehicle-controlled visits a subject missed after discontinuation
    vc = [v for v in sched.visits if v.day <= sched.vc_end_day and v.day > 1]
    grid = pd.DataFrame(
        {
            "AVISITN": [round((v.day - 1) / 7.0) for v in vc],
            "VISITNUM": [v.visitnum for v in vc],
            "VISIT": [v.name for v in vc],
            "_day": [v.day for v in vc],
        }
    )
    subj_par = obs.loc[obs["ABLFL"] == "Y", ["STUDYID", "USUBJID", "PARAMCD"]]
    full = subj_par.merge(grid, how="cross")
    have = obs[["USUBJID", "PARAMCD", "AVISITN"]].assign(_h=True)
    full = full.merge(have, on=["USUBJID", "PARAMCD", "AVISITN"], how="left")
    miss = full.loc[full["_h"].isna()].drop(columns="_h")
    last = obs.sort_values(["USUBJID", "PARAMCD", "ADY"], kind="stable")
    locf = pd.merge_asof(
        miss.assign(_day=miss["_day"].astype(float)).sort_values("_day"),
        last[["USUBJID", "PARAMCD", "ADY", "AVAL", "ADT"]]
        .rename(columns={"ADY": "_day"})
        .astype({"_day": float})
        .sort_values("_day"),
        on="_day",
        by=["USUBJID", "PARAMCD"],
        direction="backward",
    )
    locf = locf.assign(
        DTYPE="LOCF",
        SRCDOM="QS",
        QSSEQ=np.nan,
        ABLFL="",
        AVISIT=locf["VISIT"].str.title(),
        ADY=np.nan,
        ADT=pd.NaT,
    )
    locf = locf.drop(columns="_day")
    locf = derive_vars_merged(locf, adsl, by_vars=["USUBJID"], new_vars=["TRTSDT"])
    locf = derive_vars_merged(
        locf,
        obs.loc[obs["ABLFL"] == "Y", ["USUBJID", "PARAMCD", "BASE"]],
        by_vars=["USUBJID", "PARAMCD"],
        new_vars=["BASE"],
    )
    cont = pd.concat([obs, locf[obs.columns]], ignore_index=True)
    cont = derive_var_pchg(derive_var_chg(cont))

    # responder parameters from observed post-baseline records (NRI at missed VC visits)
    post = cont.loc[(cont["ABLFL"] != "Y") & (cont["DTYPE"] == "")]
    parts = []
    for cd, (src, text) in RESPONDERS.items():
        s = post.loc[post["PARAMCD"] == src]
        status = compute_responder(cd, s["AVAL"].to_numpy(), s["BASE"].to_numpy())
        keep = ~np.isnan(status)
        r = s.loc[keep].assign(PARAMCD=cd, AVAL=status[keep], BASE=np.nan, CHG=np.nan, PCHG=np.nan)
        imp = cont.loc[(cont["PARAMCD"] == src) & (cont["DTYPE"] == "LOCF")]
        if cd == "NRS4":
            imp = imp.loc[imp["BASE"] >= 4]
        imp = imp.assign(PARAMCD=cd, AVAL=0.0, BASE=np.nan, CHG=np.nan, PCHG=np.nan, DTYPE="NRI")
        both = pd.concat([r, imp], ignore_index=True)
        both = derive_var_crit_flag(both, condition=both["AVAL"].to_numpy(), description=text)
        parts.append(both)
    resp = pd.concat(parts, ignore_index=True)
    resp["AVALC"] = np.where(resp["AVAL"] == 1, "Y", "N").astype(object)
    cont["CRIT1"] = ""
    cont["CRIT1FL"] = ""
    cont["AVALC"] = ""
    out = pd.concat([cont, resp], ignore_index=True)
    out["PARAM"] = out["PARAMCD"].map({k: v[0] for k, v in PARAMS.items()})
    out["PARAMN"] = out["PARAMCD"].map({k: v[1] for k, v in PARAMS.items()})
    out["ANL01FL"] = "Y"
    out["APERIOD"] = np.where(out["AVISITN"] * 7 + 1 > sched.vc_end_day, 2.0, 1.0)
    out = derive_vars_merged(
        out.drop(columns=["TRTSDT"]), adsl, by_vars=["USUBJID"], new_vars=list(_ADSL_VARS)
    )
    p2 = out["APERIOD"] == 2
    out["TRTP"] = np.where(p2, out["TRT02P"], out["TRT01P"]).astype(object)
    out["TRTPN"] = np.where(p2, out["TRT02PN"], out["TRT01PN"])
    out["TRTA"] = out["TRTP"]
    out["TRTAN"] = out["TRTPN"]
    out = out.sort_values(["USUBJID", "PARAMN", "AVISITN", "DTYPE"], kind="stable").reset_index(drop=True)
    cols = [
        "STUDYID",
        "USUBJID",
        "SUBJID",
        "SITEID",
        "AGE",
        "AGEGR1",
        "SEX",
        "RACE",
        "ITTFL",
        "SAFFL",
        "EFFFL",
        "TRT01P",
        "TRT01PN",
        "TRT01A",
        "TRT01AN",
        "TRTP",
        "TRTPN",
        "TRTA",
        "TRTAN",
        "APERIOD",
        "PARAMCD",
        "PARAM",
        "PARAMN",
        "VISIT",
        "VISITNUM",
        "AVISIT",
        "AVISITN",
        "ADT",
        "ADY",
        "AVAL",
        "AVALC",
        "BASE",
        "CHG",
        "PCHG",
        "ABLFL",
        "ANL01FL",
        "CRIT1",
        "CRIT1FL",
        "DTYPE",
        "SRCDOM",
        "QSSEQ",
        "TRTSDT",
    ]
    return out[cols]
