"""DM: one record per subject (identifiers, reference dates, demography, planned and actual arm,
stratification factors, the extension arm)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dermsim.model.population.sampling import Population
from dermsim.trial.design import TrialDesign
from dermsim.trial.domains.dates import ad_dates

__all__ = ["Subjects", "build_dm"]


@dataclass(frozen=True)
class Subjects:
    """Identifiers and demography of the enrolled subjects (arrays of length n): study start date,
    site, SITEID/SUBJID/USUBJID, race and ethnicity."""

    start: np.ndarray
    site: np.ndarray
    siteid: np.ndarray
    subjid: np.ndarray
    usubjid: np.ndarray
    race: np.ndarray
    ethnic: np.ndarray

    @classmethod
    def numbered(cls, design: TrialDesign, start: np.ndarray, site: np.ndarray, race: np.ndarray,
                 ethnic: np.ndarray) -> Subjects:
        """Subjects numbered in enrolment order within the study (SUBJID = site + number)."""
        n = start.shape[0]
        siteid = np.char.zfill(site.astype(str), 3)
        subjid = np.char.add(siteid, np.char.zfill((np.arange(n) + 1).astype(str), 4))
        usubjid = np.char.add(f"{design.studyid}-", subjid).astype(object)
        return cls(start, site, siteid, subjid, usubjid, race, ethnic)


def build_dm(
    design: TrialDesign,
    subjects: Subjects,
    pop: Population,
    age: np.ndarray,
    arm_idx: np.ndarray,
    ext_arm_idx: np.ndarray,
    strata_levels: np.ndarray,
    last_day: np.ndarray,
    lts_on: np.ndarray,
) -> pd.DataFrame:
    n = subjects.start.shape[0]
    start, site = subjects.start, subjects.site
    armcd = np.array([a.armcd for a in design.arms], dtype=object)
    armlab = np.array([a.label for a in design.arms], dtype=object)
    dm = pd.DataFrame(
        {
            "STUDYID": design.studyid,
            "DOMAIN": "DM",
            "USUBJID": subjects.usubjid,
            "SUBJID": subjects.subjid.astype(object),
            "RFSTDTC": ad_dates(start, np.ones(n, dtype=np.int64)),
            "RFENDTC": ad_dates(start, last_day),
            "RFXSTDTC": ad_dates(start, np.ones(n, dtype=np.int64)),
            "RFXENDTC": ad_dates(start, last_day),
            "SITEID": subjects.siteid.astype(object),
            "AGE": age.astype(float),
            "AGEU": "YEARS",
            "SEX": pop.sex.astype(object),
            "RACE": subjects.race,
            "ETHNIC": subjects.ethnic.astype(object),
            "ARMCD": armcd[arm_idx],
            "ARM": armlab[arm_idx],
            "ACTARMCD": armcd[arm_idx],
            "ACTARM": armlab[arm_idx],
            "COUNTRY": np.where(site <= max(1, round(0.85 * design.n_sites)), "USA", "CAN").astype(object),
        }
    )
    for j, f in enumerate(design.stratification.factors):
        dm[f.name] = np.array(f.labels, dtype=object)[strata_levels[:, j]]
    dm["ARMCD2"] = np.where(lts_on, armcd[ext_arm_idx], "").astype(object)
    dm["ARM2"] = np.where(lts_on, armlab[ext_arm_idx], "").astype(object)
    return dm
