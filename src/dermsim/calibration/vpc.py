"""Visual predictive checks: simulated trials by visit, with prediction bands, against what was
observed (issue 18).

Observed data come from one of two places:

* published arm-level results of TRuE-AD1 and TRuE-AD2 (``published_arms``): the calibration's
  own trials, visits up to week 8 only (later visits are held out; weeks 2 and 4 are not published,
  so the observed points are at week 8 while the bands run over every week);
* a user's NONMEM/Monolix dataset as ``dermsim trial simulate --format nonmem`` writes it
  (``nonmem_arms``): observed responder rates per arm (``ARMN``) and visit, and the simulation uses
  the dataset's own subjects (their covariates as a covariate table) at each arm's strength.

Simulation (``compute_vpc``): for each of ``n_draws`` posterior draws (resampled by weight) and arm,
one run of a virtual cohort (``n_pool`` patients of the trial population, or the dataset's
subjects); each of ``n_replicates`` simulated trials takes one draw, a between-trial logit effect
(``trial_sd_logit`` of the posterior's targets) and binomial sampling at the arm's size, the same
three sources of variation as the posterior predictive check. Bands: 5 % and 95 % of the simulated
trials, with their median, at every visit week.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dermsim._rng import child_generator
from dermsim._validate import check_int
from dermsim.calibration.posterior import Posterior
from dermsim.calibration.summaries import shift_logit
from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.evidence import get_trial
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.population.sampling import sample_population
from dermsim.model.simulate import simulate_patients

# endpoint label -> patient-level key of Trajectories.endpoints
ENDPOINTS: dict[str, str] = {"IGA-TS": "iga_ts", "EASI-75": "easi75", "EASI-50": "easi50",
                             "EASI-90": "easi90"}
PUBLISHED_TRIALS = ("true-ad1", "true-ad2")
MAX_PUBLISHED_WEEK = 8.0  # TRuE-AD1/2 after week 8 is held out (team brief)
COLUMNS = ("source", "trial", "arm", "strength_pct", "n_arm", "endpoint", "week", "pred_median", "pi05",
           "pi95", "observed", "observed_status", "observed_source", "inside")


@dataclass(frozen=True)
class VpcArm:
    """One arm to simulate: its cohort, size and regimen, and its observed results
    (``observed[(endpoint, week)] = (percent, status, source)``)."""

    source: str
    trial: str
    arm: str
    strength_pct: float
    n_arm: int
    population: Any
    application_times_h: tuple[float, ...] = (0.0, 8.0)
    observed: dict[tuple[str, float], tuple[float, str, str]] = field(default_factory=dict)


def published_arms(trials: Sequence[str] = PUBLISHED_TRIALS, *,
                   endpoints: Sequence[str] = ("IGA-TS", "EASI-75"), n_pool: int = 300,
                   seed: int = 1) -> list[VpcArm]:
    """The arms of TRuE-AD1/2 with their published results (weeks <= 8) and a virtual cohort each."""
    out = []
    for t, trial in enumerate(trials):
        if trial not in PUBLISHED_TRIALS:
            raise InvalidInputError(f"trial must be one of {', '.join(PUBLISHED_TRIALS)} (the calibration's "
                                    f"own trials; others are held out); got {trial!r}.")
        ev = get_trial(trial)
        pop = sample_population(trial, n_pool, child_generator(seed, 0x565043, t))
        for a in ev.arms:
            obs = {(r.endpoint, float(r.visit_week)): (float(r.value_pct), r.status, r.source)
                   for r in ev.endpoint_results
                   if r.arm == a.id and r.endpoint in endpoints and r.value_pct is not None
                   and r.visit_week is not None and r.visit_week <= MAX_PUBLISHED_WEEK and r.unit == "%"
                   and r.population == "ITT"}
            times = (0.0,) if a.regimen == "QD" else (0.0, 8.0)
            out.append(VpcArm("published", trial, a.id, float(a.strength_pct), int(a.n_randomized.value), pop,
                              times, obs))
    return out


_COV = {"AGE": "age_y", "SEX": "sex", "WT": "weight_kg", "HT": "height_cm", "BSA": "bsa_m2",
        "AFFPCT": "affected_pct", "IGA0": "iga0", "EASI0": "easi0", "NRS0": "nrs0"}


def _cohort(table: pd.DataFrame, population: str, seed: Any, n_pool: int) -> Any:
    """The arm's subjects, each repeated so that the cohort has at least ``n_pool`` virtual patients
    (copies differ in their parameter and noise draws): its rate is then the expected rate of these
    covariates, not the one realisation of a small arm; binomial sampling at the arm's size follows."""
    reps = max(1, -(-n_pool // len(table)))
    return sample_population(population, None, seed, covariates=pd.concat([table] * reps, ignore_index=True))


def nonmem_arms(path: str | Path, *, population: str = "true-ad3", seed: int = 1, n_pool: int = 300,
                endpoints: Sequence[str] = ("IGA-TS", "EASI-75")) -> list[VpcArm]:
    """Arms of a NONMEM dataset (columns of :mod:`dermsim.cdisc.nonmem`): each arm's subjects as a
    covariate table (columns the dataset lacks are drawn from ``population``; repeated to ``n_pool``,
    see ``_cohort``), its strength, and observed responder rates by visit week from the EASI (DVID 2)
    and IGA (DVID 3) records."""
    p = Path(path)
    try:
        data = pd.read_csv(p)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataValidationError(f"NONMEM dataset {p}: not readable ({str(exc).splitlines()[0]}).") from None
    need = {"ID", "TIME", "EVID", "DVID", "DV", "ARMN", "STRENGTH", "AGE"}
    missing = sorted(need - set(data.columns))
    if missing:
        raise DataValidationError(f"NONMEM dataset {p}: columns {', '.join(missing)} missing (expected the "
                                  "columns of dermsim trial simulate --format nonmem).")
    obs = data[data["EVID"] == 0]
    first = data.groupby("ID").first()
    # the arm a subject was randomized to: the arm of the first period
    arm_of = data[data["EPOCH"] == 1].groupby("ID")["ARMN"].first() if "EPOCH" in data else first["ARMN"]
    strength = data[data["ARMN"] > 0].groupby("ARMN")["STRENGTH"].first()
    out = []
    for armn, ids in arm_of.groupby(arm_of):
        subj = first.loc[ids.index]
        table = pd.DataFrame({_COV[c]: subj[c].to_numpy() for c in _COV if c in subj})
        if "sex" in table:
            table["sex"] = np.where(table["sex"] == 1, "F", "M")
        regions = [c for c in subj.columns if c.startswith("BSA_")]
        for c in regions:
            table[f"region_pct_{c[4:].lower()}"] = subj[c].to_numpy()
        pop = _cohort(table, population, child_generator(seed, 0x4E4D, int(armn)), n_pool)
        o = obs[obs["ID"].isin(ids.index)]
        out.append(VpcArm("dataset", p.name, f"ARMN {int(armn)}", float(strength.get(armn, 0.0)),
                          len(ids), pop, (0.0, 8.0), _observed_rates(o, endpoints, p.name)))
    return out


_ADAM_RESPONDERS = {"IGATS": "IGA-TS", "EASI50": "EASI-50", "EASI75": "EASI-75", "EASI90": "EASI-90"}
_STRENGTH = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_WEEK = re.compile(r"(?i)week\s*(\d+(?:\.\d+)?)")


def _arm_strength(label: str, where: str) -> float:
    """Cream strength of a planned treatment label ("Ruxolitinib cream 1.5% BID" -> 1.5; vehicle 0)."""
    if "vehicle" in label.lower():
        return 0.0
    m = _STRENGTH.search(label)
    if m is None:
        raise DataValidationError(f"ADaM {where}: TRT01P {label!r} names no cream strength (expected "
                                  "'vehicle' or a percent such as '1.5%').")
    return float(m.group(1))


def adam_arms(adsl: pd.DataFrame, adeff: pd.DataFrame, *, name: str = "ADaM", population: str = "true-ad3",
              seed: int = 1, n_pool: int = 300,
              endpoints: Sequence[str] = ("IGA-TS", "EASI-75")) -> list[VpcArm]:
    """Arms of a sponsor ADaM (ADSL TRT01P, AGE, SEX; ADEFF responder parameters IGATS/EASI50/75/90
    by AVISIT, observed records only (DTYPE blank), and the baseline EASI, IGA and %BSA): each arm's
    subjects as a covariate table (age = AGE + 0.5, completed years at mid-year; weight and height
    drawn from ``population``), twice daily at the strength in TRT01P."""
    for col in ("USUBJID", "TRT01P", "AGE"):
        if col not in adsl.columns:
            raise DataValidationError(f"ADaM {name}: ADSL has no {col}.")
    for col in ("USUBJID", "PARAMCD", "AVAL"):
        if col not in adeff.columns:
            raise DataValidationError(f"ADaM {name}: ADEFF has no {col}.")
    eff = adeff[adeff["DTYPE"].fillna("") == ""] if "DTYPE" in adeff.columns else adeff
    base = eff[eff["ABLFL"] == "Y"] if "ABLFL" in eff.columns else eff.iloc[:0]
    bl = {cd: base[base["PARAMCD"] == cd].set_index("USUBJID")["AVAL"]
          for cd in ("EASI", "IGA", "BSA", "ITCHNRS")}
    visit = eff["AVISIT"].astype(str).str.extract(_WEEK)[0].astype(float) if "AVISIT" in eff.columns else None
    out = []
    for label, subj in adsl.groupby("TRT01P", sort=False):
        ids = subj["USUBJID"].to_numpy()
        table = pd.DataFrame({"age_y": subj["AGE"].to_numpy(dtype=float) + 0.5})
        if "SEX" in subj.columns:
            table["sex"] = subj["SEX"].astype(str).to_numpy()
        for cd, col in (("EASI", "easi0"), ("IGA", "iga0"), ("BSA", "affected_pct"), ("ITCHNRS", "nrs0")):
            values = pd.Series(ids).map(bl[cd])
            if len(bl[cd]) and values.notna().all():
                table[col] = values.to_numpy(dtype=float)
        pop = _cohort(table, population, child_generator(seed, 0x4144, len(out)), n_pool)
        obs: dict[tuple[str, float], tuple[float, str, str]] = {}
        if visit is not None:
            for cd, ep in _ADAM_RESPONDERS.items():
                m = (eff["PARAMCD"] == cd) & eff["USUBJID"].isin(ids) & visit.notna()
                if ep not in endpoints or not m.any():
                    continue
                for wk, grp in eff[m].groupby(visit[m]):
                    obs[(ep, float(wk))] = (100.0 * float(grp["AVAL"].mean()), "observed", name)
        out.append(VpcArm("adam", name, str(label), _arm_strength(str(label), name), len(ids), pop,
                          (0.0, 8.0), obs))
    return out


def _observed_rates(o: pd.DataFrame, endpoints: Sequence[str], where: str) -> dict:
    """Responder rates (%) by visit week from EASI/IGA records against each subject's time-0 value."""
    rates: dict[tuple[str, float], tuple[float, str, str]] = {}
    for ep, dvid in (("EASI-75", 2), ("EASI-50", 2), ("EASI-90", 2), ("IGA-TS", 3)):
        if ep not in endpoints:
            continue
        rec = o[o["DVID"] == dvid]
        base = rec[rec["TIME"] == 0].set_index("ID")["DV"]
        later = rec[rec["TIME"] > 0]
        if later.empty or base.empty:
            continue
        b = later["ID"].map(base).to_numpy()
        v = later["DV"].to_numpy()
        if ep == "IGA-TS":
            hit = (v <= 1) & (b - v >= 2)
        else:
            frac = {"EASI-50": 0.5, "EASI-75": 0.25, "EASI-90": 0.10}[ep]
            hit = v <= frac * b
        week = np.round(later["TIME"].to_numpy() / 168.0, 2)
        frame = pd.DataFrame({"week": week, "hit": hit.astype(float)})
        for wk, grp in frame.groupby("week"):
            rates[(ep, float(wk))] = (100.0 * float(grp["hit"].mean()), "observed", where)
    return rates


def compute_vpc(post: Posterior, arms: Sequence[VpcArm], *, endpoints: Sequence[str] = ("IGA-TS", "EASI-75"),
                weeks: Sequence[float] | None = None, n_draws: int = 20, n_replicates: int = 500,
                seed: int = 1) -> pd.DataFrame:
    """Prediction bands of every arm x endpoint x visit week (``weeks`` default: every week to the
    last observed one, at least 8), joined with the observed value where there is one (COLUMNS)."""
    check_int("--vpc-draws", n_draws, minimum=1)
    check_int("n_replicates", n_replicates, minimum=20)
    for ep in endpoints:
        if ep not in ENDPOINTS:
            raise InvalidInputError(f"endpoint must be one of {', '.join(ENDPOINTS)}; got {ep!r}.")
    if weeks is None:
        last = max([8.0, *[w for a in arms for (_, w) in a.observed]])
        weeks = sorted({*np.arange(1.0, np.floor(last) + 1.0), *[w for a in arms for (_, w) in a.observed]})
    weeks = [float(w) for w in weeks]
    days = [max(1, round(7 * w)) for w in weeks]
    idx = post.sample_indices(n_draws, child_generator(seed, 0x565043, 99))
    which = np.arange(n_replicates) % n_draws
    rng = child_generator(seed, 0x565043, 98)
    delta = float(post.meta.get("trial_sd_logit", 0.0)) * rng.standard_normal(n_replicates)
    rows = []
    # p[arm][endpoint] (draws, weeks): the cohort's responder rate under each draw
    rates = {a_i: {ep: np.empty((n_draws, len(days))) for ep in endpoints} for a_i in range(len(arms))}
    for k, i in enumerate(idx):
        params = post.parameter_set(int(i))
        for a_i, arm in enumerate(arms):
            reg = Regimen(strength_pct=arm.strength_pct, application_times_h=arm.application_times_h)
            tr = simulate_patients(arm.population, reg, max(days), seed, record=("easi", "iga"),
                                   params=params)
            for j, d in enumerate(days):
                ep_d = tr.endpoints(d)
                for ep in endpoints:
                    rates[a_i][ep][k, j] = float(np.nanmean(ep_d[ENDPOINTS[ep]]))
    for a_i, arm in enumerate(arms):
        for ep in endpoints:
            p = rates[a_i][ep][which]                       # (replicates, weeks)
            sim = 100.0 * rng.binomial(arm.n_arm, shift_logit(p, delta[:, None])) / arm.n_arm
            lo, mid, hi = np.quantile(sim, [0.05, 0.5, 0.95], axis=0)
            for j, w in enumerate(weeks):
                seen = arm.observed.get((ep, w))
                rows.append({"source": arm.source, "trial": arm.trial, "arm": arm.arm,
                             "strength_pct": arm.strength_pct, "n_arm": arm.n_arm, "endpoint": ep, "week": w,
                             "pred_median": float(mid[j]), "pi05": float(lo[j]), "pi95": float(hi[j]),
                             "observed": np.nan if seen is None else seen[0],
                             "observed_status": "" if seen is None else seen[1],
                             "observed_source": "" if seen is None else seen[2],
                             "inside": "" if seen is None
                             else ("yes" if lo[j] <= seen[0] <= hi[j] else "no")})
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame.attrs.update({"posterior": post.version, "n_draws": n_draws, "n_replicates": n_replicates,
                        "seed": seed, "trial_sd_logit": float(post.meta.get("trial_sd_logit", 0.0))})
    return frame
