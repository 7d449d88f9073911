"""AE: adverse events at constant hazards per term and period, and the event behind each withdrawal
for an adverse event."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dermsim.trial.design import AESEV_LEVELS, TrialDesign
from dermsim.trial.domains.dates import ad_dates

__all__ = ["build_ae"]


def build_ae(
    design: TrialDesign,
    rng: np.random.Generator,
    usubjid: np.ndarray,
    start: np.ndarray,
    arm_idx: np.ndarray,
    ext_arm_idx: np.ndarray,
    last_day: np.ndarray,
    vc_end: int,
    with_ext: bool,
    withdrawn_by_ae: np.ndarray,
) -> pd.DataFrame:
    """One record per event; subjects who left for an ADVERSE EVENT get the event that made them
    leave (onset on the last day, MODERATE, AEACN DRUG WITHDRAWN), its term drawn in proportion
    to the term hazards of the cream they were on."""
    terms = design.adverse_events.terms
    n, k = usubjid.shape[0], len(terms)
    cols = [
        "STUDYID",
        "DOMAIN",
        "USUBJID",
        "AESEQ",
        "AETERM",
        "AEDECOD",
        "AEBODSYS",
        "AESOC",
        "AESEV",
        "AESER",
        "AEACN",
        "AEOUT",
        "EPOCH",
        "AESTDTC",
        "AEENDTC",
        "AESTDY",
        "AEENDY",
    ]
    if k == 0:
        return pd.DataFrame(
            {c: pd.Series(dtype=float if c.endswith(("DY", "SEQ")) else object) for c in cols}
        )
    ids = design.arm_ids
    h_vc = np.array([[t.hazard_per_day(a) for t in terms] for a in ids])  # (arms, k)
    h_lts = np.array(
        [
            [t.lts_hazard_per_day() if t.lts_pct is not None else t.hazard_per_day(a) for t in terms]
            for a in ids
        ]
    )
    # both periods drawn whatever happens, so one subject's events never shift another's
    u = rng.random((8, n, k))
    periods = [
        (h_vc[arm_idx], np.ones(n, dtype=np.int64), np.minimum(last_day, vc_end), "VEHICLE-CONTROLLED")
    ]
    if with_ext:
        periods.append((h_lts[ext_arm_idx], np.full(n, vc_end + 1), last_day, "LONG-TERM SAFETY"))
    parts = []
    for p, (h, s, e, epoch) in enumerate(periods):
        span = (e - s + 1).astype(float)
        with np.errstate(divide="ignore"):
            t = -np.log1p(-u[4 * p]) / h  # days to event
        hit = (t < span[:, None]) & (span[:, None] > 0)
        subj, term = np.nonzero(hit)
        onset = s[subj] + np.floor(t[subj, term]).astype(np.int64)
        parts.append((subj, term, onset, u[4 * p + 1 : 4 * p + 4][:, subj, term], epoch))
    # the event behind each withdrawal for an adverse event (uniforms drawn for every subject)
    uw = rng.random((3, n))
    wd = np.flatnonzero(withdrawn_by_ae)
    in_lts = last_day[wd] > vc_end
    h_now = np.where(in_lts[:, None], h_lts[ext_arm_idx[wd]], h_vc[arm_idx[wd]])
    h_now = np.where(h_now.sum(axis=1, keepdims=True) > 0, h_now, 1.0)
    cum = np.cumsum(h_now, axis=1) / h_now.sum(axis=1, keepdims=True)
    term_w = np.minimum((uw[0, wd][:, None] > cum).sum(axis=1), k - 1)
    parts.append((wd, term_w, last_day[wd], np.stack([uw[1, wd], np.zeros(wd.size), uw[2, wd]]), "WITHDRAWN"))
    withdrawn = np.concatenate([np.full(q[0].size, q[4] == "WITHDRAWN") for q in parts])
    for i, q in enumerate(parts):
        if q[4] == "WITHDRAWN":
            ep = np.where(in_lts, "LONG-TERM SAFETY", "VEHICLE-CONTROLLED").astype(object)
            parts[i] = (*q[:4], ep)
    subj = np.concatenate([q[0] for q in parts])
    term = np.concatenate([q[1] for q in parts])
    onset = np.concatenate([q[2] for q in parts])
    u2 = np.concatenate([q[3] for q in parts], axis=1)
    epoch = np.concatenate([np.broadcast_to(np.asarray(q[4], dtype=object), q[0].shape) for q in parts])
    m = subj.size
    u_pt, u_sev, u_dur = u2
    decod = np.empty(m, dtype=object)
    bodsys = np.empty(m, dtype=object)
    sev = np.empty(m, dtype=object)
    dur = np.empty(m, dtype=np.int64)
    for j, tm in enumerate(terms):  # loop over terms (a handful), vectorized over events
        sel = term == j
        if not sel.any():
            continue
        w = np.array([pt.weight for pt in tm.preferred_terms])
        c = np.minimum(np.searchsorted(np.cumsum(w) / w.sum(), u_pt[sel], side="right"), w.size - 1)
        decod[sel] = np.array([pt.decod for pt in tm.preferred_terms], dtype=object)[c]
        bodsys[sel] = np.array([pt.bodsys for pt in tm.preferred_terms], dtype=object)[c]
        sp = np.array(tm.severity_pct)
        sc = np.minimum(np.searchsorted(np.cumsum(sp) / sp.sum(), u_sev[sel], side="right"), 2)
        sev[sel] = np.array(AESEV_LEVELS, dtype=object)[sc]
        dur[sel] = 1 + np.floor(-np.log1p(-u_dur[sel]) * tm.mean_duration_d).astype(np.int64)
    sev[withdrawn] = "MODERATE"
    end = onset + dur - 1
    ongoing = end > last_day[subj]
    o = np.lexsort((withdrawn, term, onset, subj))
    subj, term, onset, end, ongoing, withdrawn = subj[o], term[o], onset[o], end[o], ongoing[o], withdrawn[o]
    decod, bodsys, sev, epoch = decod[o], bodsys[o], sev[o], epoch[o]
    seqn = pd.Series(subj).groupby(subj).cumcount().to_numpy() + 1
    end_txt = np.where(ongoing, "", ad_dates(start[subj], end)).astype(object)
    return pd.DataFrame(
        {
            "STUDYID": design.studyid,
            "DOMAIN": "AE",
            "USUBJID": usubjid[subj],
            "AESEQ": seqn.astype(float),
            "AETERM": np.char.lower(decod.astype(str)).astype(object),
            "AEDECOD": decod,
            "AEBODSYS": bodsys,
            "AESOC": bodsys,
            "AESEV": sev,
            "AESER": "N",
            "AEACN": np.where(withdrawn, "DRUG WITHDRAWN", "DOSE NOT CHANGED").astype(object),
            "AEOUT": np.where(ongoing, "NOT RECOVERED/NOT RESOLVED", "RECOVERED/RESOLVED").astype(object),
            "EPOCH": epoch,
            "AESTDTC": ad_dates(start[subj], onset),
            "AEENDTC": end_txt,
            "AESTDY": onset.astype(float),
            "AEENDY": np.where(ongoing, np.nan, end.astype(float)),
        }
    )[cols]
