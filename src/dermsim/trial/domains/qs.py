"""QS: the questionnaire records (IGA, EASI and its four regional scores, affected %BSA, weekly itch
NRS) at each subject's visits from the model's daily latent records."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dermsim.model.population import body
from dermsim.model.population.sampling import Population
from dermsim.trial.design import TrialDesign
from dermsim.trial.domains.dates import ad_dates

__all__ = ["EASI_COMPONENTS", "build_qs"]

EASI_COMPONENTS = (
    ("EASIHN", "EASI Head and Neck Score"),
    ("EASITR", "EASI Trunk Score"),
    ("EASIUL", "EASI Upper Limbs Score"),
    ("EASILL", "EASI Lower Limbs Score"),
)


def build_qs(
    design: TrialDesign,
    visits: list,
    vday: np.ndarray,
    done: np.ndarray,
    start: np.ndarray,
    usubjid: np.ndarray,
    pop: Population,
    easi: np.ndarray,
    iga: np.ndarray,
    nrs: np.ndarray,
    age: np.ndarray,
    vc_end: int,
) -> pd.DataFrame:
    n, _nv = vday.shape
    col = vday - 1
    rows = np.arange(n)[:, None]
    e = easi[rows, col]
    e0 = easi[:, [0]]
    ratio = np.where(e0 > 0, np.clip(e / np.where(e0 > 0, e0, 1.0), 0.0, None), 0.0)
    bsa = np.clip(pop.affected_pct[:, None] * np.sqrt(ratio), 0.0, 100.0)
    wts = body.compute_easi_weights(pop.age_y)
    share = wts * body.compute_easi_area_score(pop.easi_region_pct)
    tot = share.sum(axis=1, keepdims=True)
    share = np.where(tot > 0, share / np.where(tot > 0, tot, 1.0), 0.25)
    itch_ok = age >= design.itch_min_age_y
    tests: list[tuple[str, str, str, np.ndarray, np.ndarray]] = []
    has = {t: np.array([t in v.assessments for v in visits]) for t in ("IGA", "EASI", "BSA", "NRS")}
    tests.append(
        (
            "IGA",
            "Investigator's Global Assessment",
            "IGA",
            iga[rows, col].astype(float),
            done & has["IGA"][None, :],
        )
    )
    tests.append(("EASI", "EASI Total Score", "EASI", np.round(e, 1), done & has["EASI"][None, :]))
    for k, (cd, label) in enumerate(EASI_COMPONENTS):
        tests.append((cd, label, "EASI", np.round(e * share[:, [k]], 2), done & has["EASI"][None, :]))
    tests.append(
        ("BSA", "Affected Body Surface Area (%)", "BSA", np.round(bsa, 1), done & has["BSA"][None, :])
    )
    tests.append(
        (
            "ITCHNRS",
            "Itch NRS Weekly Mean Score",
            "ITCH NRS",
            np.round(nrs[rows, col], 2),
            done & has["NRS"][None, :] & itch_ok[:, None],
        )
    )
    subj = np.concatenate([np.nonzero(m)[0] for *_, m in tests])
    vis = np.concatenate([np.nonzero(m)[1] for *_, m in tests])
    val = np.concatenate([v[m] for *_, v, m in tests])
    order_t = np.concatenate([np.full(int(m.sum()), i) for i, (*_, m) in enumerate(tests)])
    # sort by subject, visit, test order
    o = np.lexsort((order_t, vis, subj))
    subj, vis, val, order_t = subj[o], vis[o], val[o], order_t[o]
    cds = np.array([t[0] for t in tests], dtype=object)
    names = np.array([t[1] for t in tests], dtype=object)
    cats = np.array([t[2] for t in tests], dtype=object)
    dy = vday[subj, vis]
    txt = np.where(cds[order_t] == "IGA", val.astype(np.int64).astype(str), np.char.mod("%g", val)).astype(
        object
    )
    vnum = np.array([v.visitnum for v in visits], dtype=float)
    vname = np.array([v.name for v in visits], dtype=object)
    epoch = np.array(
        [
            "SCREENING" if i == 0 else ("VEHICLE-CONTROLLED" if v.day <= vc_end else "LONG-TERM SAFETY")
            for i, v in enumerate(visits)
        ],
        dtype=object,
    )
    seqn = pd.Series(subj).groupby(subj).cumcount().to_numpy() + 1
    return pd.DataFrame(
        {
            "STUDYID": design.studyid,
            "DOMAIN": "QS",
            "USUBJID": usubjid[subj],
            "QSSEQ": seqn.astype(float),
            "QSTESTCD": cds[order_t],
            "QSTEST": names[order_t],
            "QSCAT": cats[order_t],
            "QSORRES": txt,
            "QSSTRESC": txt,
            "QSSTRESN": val.astype(float),
            "QSBLFL": np.where(vis == 0, "Y", "").astype(object),
            "VISITNUM": vnum[vis],
            "VISIT": vname[vis],
            "EPOCH": epoch[vis],
            "QSDTC": ad_dates(start[subj], dy),
            "QSDY": dy.astype(float),
        }
    )
