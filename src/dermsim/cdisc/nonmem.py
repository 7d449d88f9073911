"""A NONMEM/Monolix-style dataset of a virtual trial: one record per dose event and observation.

``build_nonmem_dataset(study)`` -> (frame, dictionary). The columns (``DICTIONARY`` says each one's
meaning, unit and codes; it is written beside the data as ``nonmem_dictionary.csv``):

* dosing: one record per subject, treatment period and daily application time, repeated with
  ``II = 24`` h and ``ADDL`` = days - 1 (NONMEM's ADDL/II, mrgsolve's ``ev(amt, ii, addl)``,
  rxode2's ``et()``): expanded, they give exactly the applications of the EX periods (first study
  day to last, each daily application time of the arm), and ``AMT`` is the drug applied per
  application, mg = grams x strength % x 10 mg/g, with the grams the model applied (the patient's
  usual load on the treated area, pk.compute_usual_load_g_per_cm2, x the adherence the model ran
  at). Vehicle periods apply no drug and have no dosing record (NONMEM refuses a dose of 0 mg);
  their cream is in ``GRAMS``.
* observations: plasma ruxolitinib (nM) at each attended visit, at the start of the visit's study
  day before that day's first application (a trough; the trial draws no other samples), and the
  visit's EASI, IGA and weekly-mean itch NRS as in QS (itch only where collected).
* ``TIME`` is hours since the subject's first application (study day 1, 0 h); at equal times an
  observation comes before a dose, so it is pre-dose.
* covariates (baseline, on every record) and the time-varying arm, period and strength.

Everything is numeric except ``USUBJID`` (last column; ``USUBJID=DROP`` in ``$INPUT``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dermsim.errors import InvalidInputError
from dermsim.trial.study_data import StudyData

HOURS_PER_DAY = 24.0
# compartment and observation-type codes
CMT_DOSE, CMT_PLASMA, CMT_EASI, CMT_IGA, CMT_NRS = 1, 2, 3, 4, 5
DVID = {"dose": 0, "plasma": 1, "EASI": 2, "IGA": 3, "ITCHNRS": 4}
_QS_TESTS = {"EASI": CMT_EASI, "IGA": CMT_IGA, "ITCHNRS": CMT_NRS}
EPOCH_CODES = {"VEHICLE-CONTROLLED": 1, "LONG-TERM SAFETY": 2}

# column -> (label, unit, codes / note)
DICTIONARY: dict[str, tuple[str, str, str]] = {
    "ID": ("subject number (1..N in DM order)", "", "integer"),
    "TIME": ("time since the subject's first application", "h", "study day d starts at 24 (d - 1)"),
    "AMT": ("ruxolitinib applied per application", "mg", "0 on observation records"),
    "EVID": ("event identifier", "", "0 observation, 1 dose"),
    "MDV": ("missing dependent variable", "", "1 on dose records, 0 on observations"),
    "CMT": ("compartment", "", "1 skin surface (dose), 2 plasma, 3 EASI, 4 IGA, 5 itch NRS"),
    "DVID": ("observation type (Monolix YTYPE)", "", "0 dose, 1 plasma, 2 EASI, 3 IGA, 4 itch NRS"),
    "II": ("interdose interval of the additional doses", "h", "24 where ADDL > 0, else 0"),
    "ADDL": ("additional doses, each II after the previous", "", "days of the period - 1"),
    "DV": ("dependent variable", "nM (plasma); score units (EASI 0-72, IGA 0-4, NRS 0-10)",
           "0 on dose records"),
    "ARMN": ("randomized arm in this period", "", "1.. in the design's arm order (see ARM codes in "
             "nonmem.json)"),
    "EPOCH": ("treatment period", "", "1 vehicle-controlled, 2 long-term safety"),
    "STRENGTH": ("cream strength in this period", "%", "0 = vehicle"),
    "GRAMS": ("cream per application the model applied", "g", "FTU rule x model adherence"),
    "ADHPCT": ("applications applied", "% of prescribed", "per subject (EX ADHPCT)"),
    "AGE": ("age at baseline", "years", "exact (DM AGE is completed years)"),
    "SEX": ("sex", "", "1 female, 0 male"),
    "WT": ("body weight", "kg", ""),
    "HT": ("height", "cm", ""),
    "BSA": ("body surface area", "m2", ""),
    "AFFPCT": ("affected (treated) body surface", "% BSA", ""),
    "IGA0": ("baseline IGA", "", "2 mild, 3 moderate"),
    "EASI0": ("baseline EASI", "", "0-72"),
    "NRS0": ("baseline weekly-mean itch NRS (true value)", "", "0-10"),
    "USUBJID": ("unique subject identifier", "", "text: USUBJID=DROP in NONMEM $INPUT"),
}
REGION_PREFIX = "BSA_"  # BSA_<REGION>: affected % of total BSA in each Lund-Browder region


def _region_columns(regions: list[str]) -> dict[str, tuple[str, str, str]]:
    return {f"{REGION_PREFIX}{r.upper()}": (f"affected skin in region {r}", "% of total BSA", "")
            for r in regions}


def build_nonmem_dataset(study: StudyData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(dataset, dictionary) of ``study``; see the module docstring."""
    cov = study.covariates
    if cov is None or "grams_per_application" not in cov:
        raise InvalidInputError("study must come from simulate_trial with the model (it records each "
                                "subject's covariates and cream amount); got a study without them.")
    design = study.design
    arms = {a.label: (i + 1, a) for i, a in enumerate(design.arms)}
    ids = {u: i + 1 for i, u in enumerate(study.dm["USUBJID"])}
    cov = cov.set_index("USUBJID")
    grams = cov["grams_per_application"]

    # dosing: one record per EX period and daily application time, repeated daily with ADDL/II
    dm = study.dm.set_index("USUBJID")
    vc = (study.ex["EPOCH"] == "VEHICLE-CONTROLLED").to_numpy()
    ex = study.ex.assign(_ARM=np.where(vc, study.ex["USUBJID"].map(dm["ARM"]),
                                       study.ex["USUBJID"].map(dm["ARM2"])))
    ex["_ARMN"] = ex["_ARM"].map({k: v[0] for k, v in arms.items()}).astype(np.int64)
    ex["_STRENGTH"] = ex["_ARM"].map({k: v[1].strength_pct for k, v in arms.items()}).astype(float)
    doses = []
    for label, (armn, arm) in arms.items():
        part = ex[(ex["_ARM"] == label).to_numpy()]
        if arm.strength_pct <= 0 or part.empty:
            continue
        first, last = part["EXSTDY"].to_numpy().astype(np.int64), part["EXENDY"].to_numpy().astype(np.int64)
        for t in arm.application_times_h:
            doses.append(pd.DataFrame({
                "USUBJID": part["USUBJID"].to_numpy(), "TIME": (first - 1) * HOURS_PER_DAY + t,
                "AMT": grams.loc[part["USUBJID"]].to_numpy() * arm.strength_pct * 10.0,
                "EVID": 1, "MDV": 1, "CMT": CMT_DOSE, "DVID": DVID["dose"],
                "II": np.where(last > first, HOURS_PER_DAY, 0.0), "ADDL": last - first, "DV": 0.0,
                "EPOCH": part["EPOCH"].map(EPOCH_CODES).to_numpy(), "ARMN": armn,
                "STRENGTH": arm.strength_pct}))
    # observations: plasma at visits, then the QS scores
    obs = []
    if study.pk_samples is not None:
        pk = study.pk_samples
        obs.append(pd.DataFrame({"USUBJID": pk["USUBJID"], "TIME": (pk["DAY"] - 1) * HOURS_PER_DAY,
                                 "DVID": DVID["plasma"], "CMT": CMT_PLASMA, "DV": pk["CP_NM"].astype(float)}))
    qs = study.qs[study.qs["QSTESTCD"].isin(list(_QS_TESTS))]
    obs.append(pd.DataFrame({"USUBJID": qs["USUBJID"], "TIME": (qs["QSDY"] - 1) * HOURS_PER_DAY,
                             "DVID": qs["QSTESTCD"].map(DVID), "CMT": qs["QSTESTCD"].map(_QS_TESTS),
                             "DV": qs["QSSTRESN"].astype(float)}))
    ob = pd.concat(obs, ignore_index=True)
    ob = ob.assign(AMT=0.0, EVID=0, MDV=0, II=0.0, ADDL=0)
    # period, arm and strength in force at an observation (the extension starts on its EXSTDY)
    ob = _period_at(ob, ex)
    data = pd.concat([*doses, ob], ignore_index=True)
    data["ID"] = data["USUBJID"].map(ids)
    # observations before doses at the same time (pre-dose); plasma, then the scores
    data = data.sort_values(["ID", "TIME", "EVID", "DVID"], kind="stable").reset_index(drop=True)

    per = cov.loc[data["USUBJID"]]
    data["GRAMS"] = per["grams_per_application"].to_numpy()
    adh = ex.drop_duplicates("USUBJID").set_index("USUBJID")["ADHPCT"]
    data["ADHPCT"] = data["USUBJID"].map(adh).to_numpy()
    data["AGE"] = per["age_y"].to_numpy()
    data["SEX"] = (per["sex"].to_numpy() == "F").astype(np.int64)
    data["WT"] = per["weight_kg"].to_numpy()
    data["HT"] = per["height_cm"].to_numpy()
    data["BSA"] = per["bsa_m2"].to_numpy()
    data["AFFPCT"] = per["affected_pct"].to_numpy()
    data["IGA0"] = per["iga0"].to_numpy().astype(np.int64)
    data["EASI0"] = per["easi0"].to_numpy()
    data["NRS0"] = per["nrs0"].to_numpy()
    regions = [c[len("region_pct_"):] for c in cov.columns if c.startswith("region_pct_")]
    for r in regions:
        data[f"{REGION_PREFIX}{r.upper()}"] = per[f"region_pct_{r}"].to_numpy()
    order = [c for c in DICTIONARY if c != "USUBJID"] + list(_region_columns(regions)) + ["USUBJID"]
    data = data[order]
    for c in ("ID", "EVID", "MDV", "CMT", "DVID", "ADDL", "ARMN", "EPOCH"):
        data[c] = data[c].astype(np.int64)
    entries = {**DICTIONARY, **_region_columns(regions)}
    dictionary = pd.DataFrame([{"column": c, "label": entries[c][0], "unit": entries[c][1],
                                "values": entries[c][2]} for c in order])
    return data, dictionary


def _period_at(ob: pd.DataFrame, ex: pd.DataFrame) -> pd.DataFrame:
    """EPOCH, ARMN and STRENGTH of the EX period an observation falls in: the extension from its
    first day on, else the vehicle-controlled period (which also holds the baseline visit)."""
    day = (ob["TIME"] // HOURS_PER_DAY + 1).to_numpy()
    cols = ["USUBJID", "EXSTDY", "_ARMN", "_STRENGTH"]
    vc = ex.loc[ex["EPOCH"] == "VEHICLE-CONTROLLED", cols].set_index("USUBJID")
    lts = ex.loc[ex["EPOCH"] == "LONG-TERM SAFETY", cols].set_index("USUBJID")
    subj = ob["USUBJID"]
    start = subj.map(lts["EXSTDY"]).to_numpy(dtype=float)  # NaN: no extension
    in_lts = np.isfinite(start) & (day >= np.nan_to_num(start, nan=np.inf))
    out = ob.copy()
    out["EPOCH"] = np.where(in_lts, EPOCH_CODES["LONG-TERM SAFETY"], EPOCH_CODES["VEHICLE-CONTROLLED"])
    out["ARMN"] = np.where(in_lts, subj.map(lts["_ARMN"]).fillna(0).to_numpy(),
                           subj.map(vc["_ARMN"]).to_numpy())
    out["STRENGTH"] = np.where(in_lts, subj.map(lts["_STRENGTH"]).fillna(0).to_numpy(),
                               subj.map(vc["_STRENGTH"]).to_numpy())
    return out


def expand_doses(data: pd.DataFrame) -> pd.DataFrame:
    """Every single application of the dosing records (ADDL/II expanded): ID, TIME, AMT; for
    checks and for tools without ADDL."""
    d = data[data["EVID"] == 1]
    reps = d["ADDL"].to_numpy() + 1
    idx = np.repeat(np.arange(len(d)), reps)
    k = np.concatenate([np.arange(r) for r in reps]) if len(d) else np.zeros(0, dtype=np.int64)
    return pd.DataFrame({"ID": d["ID"].to_numpy()[idx],
                         "TIME": d["TIME"].to_numpy()[idx] + k * d["II"].to_numpy()[idx],
                         "AMT": d["AMT"].to_numpy()[idx]}).sort_values(["ID", "TIME"], kind="stable",
                                                                        ignore_index=True)
