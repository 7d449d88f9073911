"""A small hand-built AD ADaM (ADSL, ADEFF, ADAE) in the layout the dermsim derivations write,
for tests of the analysis plan. Deterministic given ``seed``; not a simulation of anything."""

from __future__ import annotations

import numpy as np
import pandas as pd

ARMS = (("Ruxolitinib cream 0.75%", 1), ("Ruxolitinib cream 1.5%", 2), ("Vehicle cream BID", 0))
VISITS = (("Baseline", 0), ("Week 1", 1), ("Week 2", 2), ("Week 4", 4), ("Week 8", 8))


def make_ad_adam(n: int = 60, seed: int = 5) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    arm_idx = np.resize([0, 0, 1, 1, 2], n)
    usubjid = np.array([f"AD3-{i + 1:03d}" for i in range(n)])
    age = rng.integers(2, 12, n)
    adsl = pd.DataFrame({
        "STUDYID": "AD3", "USUBJID": usubjid, "SUBJID": [u[-3:] for u in usubjid],
        "TRT01P": [ARMS[i][0] for i in arm_idx], "TRT01PN": [ARMS[i][1] for i in arm_idx],
        "TRT01A": [ARMS[i][0] for i in arm_idx], "TRT01AN": [ARMS[i][1] for i in arm_idx],
        "AGE": age, "AGEGR1": np.where(age <= 6, "2-6", "7-11"),
        "SEX": rng.choice(["F", "M"], n),
        "RACE": rng.choice(["WHITE", "BLACK OR AFRICAN AMERICAN", "ASIAN"], n),
        "IGABL": rng.choice([2, 3], n), "BSABL": rng.uniform(3, 20, n).round(1),
        "EASIBL": np.nan, "NRSBL": np.nan,
        "ITTFL": "Y", "SAFFL": "Y", "EFFFL": "Y",
    })
    adsl["STRATAR"] = adsl["AGEGR1"] + " / IGA " + adsl["IGABL"].astype(str)
    drop = rng.random(n) < 0.15
    adsl["EOSSTT"] = np.where(drop, "DISCONTINUED", "COMPLETED")
    adsl["DCSREAS"] = np.where(drop, rng.choice(["LACK OF EFFICACY", "WITHDRAWAL BY SUBJECT"], n), "")
    effect = np.array([0.45, 0.55, 0.15])[arm_idx]
    easi0 = rng.uniform(4, 20, n)
    nrs0 = rng.uniform(2, 9, n).round(0)
    rows = []
    for vis, day in VISITS:
        frac = min(day / 8, 1.0) ** 0.5
        easi = easi0 * (1 - effect * frac * rng.uniform(0.5, 1.6, n)).clip(0.0, 1.3)
        iga = np.clip(np.round(adsl["IGABL"].to_numpy() * easi / easi0), 0, 4)
        nrs = np.clip(nrs0 - 6 * effect * frac * rng.uniform(0.3, 1.5, n), 0, 10).round(0)
        seen = ~(drop & (day >= 4)) if day > 0 else np.ones(n, bool)
        for pcd, val, base in (("EASI", easi, easi0), ("IGA", iga, adsl["IGABL"].to_numpy(float)),
                               ("ITCHNRS", nrs, nrs0)):
            rows.append(pd.DataFrame({"USUBJID": usubjid, "PARAMCD": pcd, "AVISIT": vis, "AVISITN": day,
                                      "AVAL": np.where(seen, val, np.nan), "BASE": base}))
        if day > 0:
            resp = {"IGATS": (iga <= 1) & (adsl["IGABL"].to_numpy() - iga >= 2),
                    "EASI50": easi <= 0.5 * easi0, "EASI75": easi <= 0.25 * easi0,
                    "EASI90": easi <= 0.1 * easi0, "NRS4": nrs0 - nrs >= 4}
            for pcd, r in resp.items():
                base = nrs0 if pcd == "NRS4" else np.nan
                rows.append(pd.DataFrame({"USUBJID": usubjid, "PARAMCD": pcd, "AVISIT": vis, "AVISITN": day,
                                          "AVAL": np.where(seen, r.astype(float), np.nan), "BASE": base}))
    adsl["EASIBL"] = easi0.round(1)
    adsl["NRSBL"] = nrs0
    adeff = pd.concat(rows, ignore_index=True)
    adeff = adeff[adeff["AVAL"].notna()].reset_index(drop=True)
    adeff["CHG"] = np.where(adeff["AVISITN"] > 0, adeff["AVAL"] - adeff["BASE"], np.nan)
    adeff["PCHG"] = 100 * adeff["CHG"] / adeff["BASE"].where(adeff["BASE"] > 0)
    adeff["ABLFL"] = np.where(adeff["AVISITN"] == 0, "Y", "")
    adeff["ANL01FL"] = "Y"
    adeff["DTYPE"] = ""
    adeff = adeff.merge(adsl[["USUBJID", "TRT01P", "TRT01PN"]], on="USUBJID")
    # periods: vehicle-controlled days 1-56, then an extension to day 364 for those who completed,
    # vehicle subjects re-randomized to the two creams in turn
    start = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n) % 30, unit="D")
    adsl["AP01SDT"] = start
    adsl["AP01EDT"] = start + pd.Timedelta(days=55)
    rerand = np.where(np.arange(n) % 2 == 0, ARMS[0][0], ARMS[1][0])
    adsl["TRT02A"] = np.where(drop, "", np.where(arm_idx == 2, rerand, adsl["TRT01A"]))
    adsl["AP02SDT"] = (start + pd.Timedelta(days=56)).where(~drop)
    adsl["AP02EDT"] = (start + pd.Timedelta(days=363)).where(~drop)
    n_ae = 40
    who = rng.choice(n, n_ae)
    terms = [("INFECTIONS AND INFESTATIONS", "Nasopharyngitis"),
             ("INFECTIONS AND INFESTATIONS", "Upper respiratory tract infection"),
             ("GENERAL DISORDERS AND ADMINISTRATION SITE CONDITIONS", "Application site pain"),
             ("GENERAL DISORDERS AND ADMINISTRATION SITE CONDITIONS", "Pyrexia")]
    pick = rng.integers(0, len(terms), n_ae)
    day = rng.integers(1, 56, n_ae)
    adae = pd.DataFrame({
        "USUBJID": usubjid[who], "TRTA": [ARMS[arm_idx[i]][0] for i in who],
        "TRTAN": [ARMS[arm_idx[i]][1] for i in who],
        "AEBODSYS": [terms[k][0] for k in pick], "AEDECOD": [terms[k][1] for k in pick],
        "AESER": rng.choice(["N", "Y"], n_ae, p=[0.9, 0.1]),
        "AESEV": rng.choice(["MILD", "MODERATE", "SEVERE"], n_ae),
        "TRTEMFL": np.where(rng.random(n_ae) < 0.9, "Y", ""), "ASTDY": day,
        "ASTDT": start[who] + pd.to_timedelta(day - 1, unit="D"), "APERIOD": 1.0,
    })
    on2 = np.flatnonzero(~drop)
    who2 = rng.choice(on2, 30)
    day2 = rng.integers(57, 365, 30)
    pick2 = rng.integers(0, len(terms), 30)
    adae2 = pd.DataFrame({
        "USUBJID": usubjid[who2], "TRTA": adsl["TRT02A"].to_numpy()[who2],
        "TRTAN": np.nan,
        "AEBODSYS": [terms[k][0] for k in pick2], "AEDECOD": [terms[k][1] for k in pick2],
        "AESER": "N", "AESEV": rng.choice(["MILD", "MODERATE"], 30), "TRTEMFL": "Y", "ASTDY": day2,
        "ASTDT": start[who2] + pd.to_timedelta(day2 - 1, unit="D"), "APERIOD": 2.0,
    })
    adae = pd.concat([adae, adae2], ignore_index=True)
    return {"adsl": adsl, "adeff": adeff, "adae": adae}
