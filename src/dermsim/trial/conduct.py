"""Conduct a virtual trial: enrol, randomize, treat, observe at visits, drop out, report AEs.

``simulate_trial(design, seed)`` returns :class:`~dermsim.trial.study_data.StudyData`. Every
step draws from its own child stream of ``seed`` (``_S_*`` keys below), so a step's numbers do not
depend on the other steps, and the population and model are chunk-invariant: the same seed gives
the same bytes for any ``chunk_size``.

Modelling choices (stated, not hidden):

* Adherence: each patient's share of applied doses is Beta(mean, sd) and is recorded in EX. The
  model takes one adherence per call (and a call costs ~0.3 s of fixed stepping), so patients
  are simulated in groups of arm x adherence bin of width ``adherence_step`` (default 0.25),
  each group at its members' mean adherence; ``adherence_step=1`` gives one group per arm.
* Extension: patients still on study at ``vc_end_day`` in a re-randomized arm (vehicle) are
  re-randomized in enrolment order (1:1 blocks); their extension days continue from their own
  end-of-period state (``simulate_patients(initial_state=...)``: disease, disease memory, emollient
  and PK states, and the observation noise per patient and day) under the new regimen, with the
  same per-patient parameters (same group, same stream). Arms that are not re-randomized run
  uninterrupted, which is the same trajectory as a restart under the same regimen.
* %BSA at a visit is the baseline affected %BSA scaled by sqrt(EASI / baseline EASI) (area and
  severity assumed to recede together); the regional EASI scores split EASI by each region's
  baseline share (weight x area score). The model tracks whole-body severity only.
* Dropout: a weekly hazard (VC and LTS values) multiplied by ``nonresponse_hr`` for patients whose
  latent EASI improvement at the start of the week is below the threshold; a dropout caused by
  that excess is recorded as LACK OF EFFICACY, others by the design's reason weights.
* Adverse events: at most one event per term and period (VC, LTS) per patient, at a constant
  hazard calibrated so that the incidence over the table's period equals the table's percent.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dermsim._rng import SeedLike, as_seed_sequence, child_generator, child_sequence, seed_record
from dermsim._validate import LIMITS, check_int, check_range
from dermsim.errors import InvalidInputError
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.population.sampling import Population, sample_population
from dermsim.model.simulate import simulate_patients
from dermsim.trial.design import Extension, TrialDesign, Visit
from dermsim.trial.domains import Subjects, build_ae, build_dm, build_ds, build_ex, build_qs
from dermsim.trial.randomization import compute_strata, sample_block_allocation
from dermsim.trial.study_data import StudyData

# child streams of the trial seed, one per step
_S_POP, _S_RAND, _S_ADH, _S_MODEL, _S_VISIT, _S_DROP, _S_AE, _S_RERAND, _S_DEMOG = range(9)
_RECORD = ("easi", "iga", "nrs_weekly")
# plasma is asked for too and kept where the provider gives it (the NONMEM dataset's plasma samples);
# recording a state changes no number of the run
_PLASMA = "cp_nM"
_ASKED = (*_RECORD, _PLASMA)
TrajectoryProvider = Callable[..., Any]


def _arm_regimen(design: TrialDesign, arm_id: str, adherence: float) -> Regimen:
    arm = design.arm(arm_id)
    return Regimen(
        strength_pct=arm.strength_pct,
        application_times_h=arm.application_times_h,
        adherence=float(adherence),
        name=arm.label,
    )


def _simulate_groups(
    design: TrialDesign,
    pop: Population,
    arm_idx: np.ndarray,
    adh_group: np.ndarray,
    adherence_pp: np.ndarray,
    switch_to: dict[int, list[int]],
    vc_days: int,
    lts_days: int,
    seed: np.random.SeedSequence,
    chunk_size: int,
    provider: TrajectoryProvider,
) -> tuple[dict[str, np.ndarray], dict[int, dict[str, np.ndarray]], pd.DataFrame]:
    """Daily latent records (n, study days) from one model run per arm x adherence group; for
    arms re-randomized at the end of the VC period, the extension days under each new arm
    (same members, same stream, hence the same per-patient parameters); and the exposure frame
    (see :attr:`StudyData.exposure`)."""
    n = pop.n
    total_days = vc_days + lts_days
    out = {k: np.empty((n, total_days), dtype=np.int8 if k == "iga" else float) for k in _RECORD}
    out[_PLASMA] = np.full((n, total_days), np.nan)
    ext = (
        {
            b: {k: np.full((n, lts_days), np.nan) if k == _PLASMA
                else np.zeros((n, lts_days), dtype=out[k].dtype) for k in _ASKED}
            for targets in switch_to.values()
            for b in targets
        }
        if lts_days
        else {}
    )
    arm_ids = design.arm_ids
    # groups in a fixed order (arm, adherence bin) so streams never depend on dict ordering
    keys = np.unique(np.stack([arm_idx, adh_group], axis=1), axis=0)
    exposure: list[pd.DataFrame] = []
    for gi, (a, g) in enumerate(keys):
        idx = np.flatnonzero((arm_idx == a) & (adh_group == g))
        sub = pop.take(idx)
        adherence = float(np.clip(np.mean(adherence_pp[idx]), 0.0, 1.0))
        regimen = _arm_regimen(design, arm_ids[a], adherence)
        stream = child_sequence(seed, gi)
        targets = switch_to.get(int(a), []) if lts_days else []
        if not targets:
            traj = provider(sub, regimen, total_days - 1, stream, record=_ASKED, chunk_size=chunk_size)
            for k in _kept(traj):
                out[k][idx] = np.asarray(traj[k])[:, :total_days]
            exposure.append(_exposure_part(traj, regimen, idx))
            continue
        # re-randomized arm: the VC period, then from each patient's own state at its end (model day
        # vc_days - 1; latent column j is model day j) the same arm (for those who leave before
        # re-randomization) and each new arm
        vc = provider(sub, regimen, vc_days - 1, stream, record=_ASKED, chunk_size=chunk_size)
        exposure.append(_exposure_part(vc, regimen, idx))
        state = vc.final_state
        rest = provider(sub, regimen, lts_days, stream, record=_ASKED, chunk_size=chunk_size,
                        initial_state=state)
        for k in _kept(vc):
            out[k][idx, :vc_days] = np.asarray(vc[k])[:, :vc_days]
            out[k][idx, vc_days:] = np.asarray(rest[k])[:, 1 : lts_days + 1]
        for b in targets:
            traj = provider(sub, _arm_regimen(design, arm_ids[b], adherence), lts_days, stream,
                            record=_ASKED, chunk_size=chunk_size, initial_state=state)
            for k in _kept(traj):
                ext[b][k][idx] = np.asarray(traj[k])[:, 1 : lts_days + 1]
    return out, ext, _exposure_frame(exposure, [arm.label for arm in design.arms])


def _kept(traj: Any) -> tuple[str, ...]:
    """The records to copy from a model call: always _RECORD, plasma where the provider has it."""
    try:
        traj[_PLASMA]
    except (KeyError, InvalidInputError):
        return _RECORD
    return _ASKED


def _exposure_part(traj: Any, regimen: Regimen, idx: np.ndarray) -> pd.DataFrame:
    """The trial keeps no PC domain: the model's steady-state level of each patient of the
    vehicle-controlled period is kept as data (extension calls are not), with the cream per
    application the model applied (FTU rule x the group's adherence; the NONMEM dataset's dose) and
    the patient's row in the population; a stand-in provider without baseline outputs gives NaN."""
    n = idx.size
    baseline = getattr(traj, "baseline", None)

    def base(name: str) -> np.ndarray:
        if baseline is not None and name in baseline:
            return np.asarray(baseline[name], dtype=float)
        return np.full(n, np.nan)

    per_day = max(regimen.applications_per_day, 1)
    return pd.DataFrame({"arm": regimen.name, "strength_pct": regimen.strength_pct,
                         "adherence": regimen.adherence, "css_nM": base("css_nM"),
                         "grams_per_application": base("grams_per_week") / (7.0 * per_day),
                         "patient": idx.astype(np.int64)})


def _exposure_frame(parts: list[pd.DataFrame], arm_order: list[str]) -> pd.DataFrame:
    """Per-patient Css rows in the design's arm order, then by adherence."""
    if not parts:
        return pd.DataFrame(columns=["arm", "strength_pct", "adherence", "css_nM", "grams_per_application",
                                     "patient"])
    df = pd.concat(parts, ignore_index=True)
    df["_o"] = df["arm"].map({a: i for i, a in enumerate(arm_order)})
    return df.sort_values(["_o", "adherence"], kind="stable").drop(columns="_o").reset_index(drop=True)


def _first_dropout(
    easi: np.ndarray, u_event: np.ndarray, u_day: np.ndarray, drop, vc_end: int, last_visit_target: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(dropped, study day, week index, non-responder in that week) from weekly hazards.

    The uniforms are drawn by the caller, so recomputing after the extension switch keeps every
    VC-period decision."""
    n, n_weeks = u_event.shape
    days_total = easi.shape[1]
    week_start = 7 * np.arange(n_weeks) + 1  # first study day of each week
    base_h = np.where(
        week_start > vc_end,
        drop.lts_hazard_per_week if drop.lts_hazard_per_week is not None else drop.hazard_per_week,
        drop.hazard_per_week,
    )
    base_col = np.clip(week_start - 1, 0, days_total - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pchg = 100.0 * (easi[:, base_col] - easi[:, [0]]) / easi[:, [0]]
    nonresp = (pchg > -drop.nonresponse_pchg_threshold) & (np.arange(n_weeks) >= drop.nonresponse_from_week)
    hazard = base_h[None, :] * np.where(nonresp, drop.nonresponse_hr, 1.0)
    event = u_event < -np.expm1(-hazard)
    has = event.any(axis=1)
    wk = np.argmax(event, axis=1)
    day = np.maximum(week_start[wk] + np.floor(u_day * 7).astype(np.int64), 2)
    # a subject leaves on day 2 at the earliest and before the last scheduled visit
    has &= day < last_visit_target
    return has, np.where(has, day, 0), wk, nonresp[np.arange(n), wk]


@dataclass(frozen=True)
class _Course:
    """Each subject's way through the study: the dropout decision (``dropped``, study ``drop_day``,
    ``reason``), the extension arm (``ext_arm_idx``; the randomized arm where not re-randomized)
    and who was re-randomized (``rerand``)."""

    dropped: np.ndarray
    drop_day: np.ndarray
    reason: np.ndarray
    ext_arm_idx: np.ndarray
    rerand: np.ndarray


def simulate_trial(
    design: TrialDesign,
    seed: SeedLike,
    *,
    n: int | None = None,
    extension: bool = True,
    chunk_size: int = 16_384,
    adherence_step: float = 0.25,
    trajectory_provider: TrajectoryProvider | None = None,
    params: Any = None,
) -> StudyData:
    """Run ``design`` once and return its SDTM-like :class:`StudyData`.

    ``n`` overrides ``design.n_total`` (small trials for tests); ``extension=False`` stops every
    subject at the end of the vehicle-controlled period. ``trajectory_provider`` replaces
    :func:`dermsim.model.simulate.simulate_patients` (same signature) in unit tests. ``params``
    (a model ``ParameterSet``, e.g. a calibrated posterior's) is passed to every model call;
    ``None`` keeps the model's parameter files.
    """
    if not isinstance(design, TrialDesign):
        raise InvalidInputError(f"design must be a TrialDesign; got {type(design).__name__}.")
    n = design.n_total if n is None else check_int("n", n, minimum=1, maximum=LIMITS["subjects"])
    chunk_size = check_int("chunk_size", chunk_size, minimum=1, maximum=LIMITS["chunk"])
    check_range("adherence_step", adherence_step, 0.001, 1.0)
    base = simulate_patients if trajectory_provider is None else trajectory_provider
    provider = base if params is None else functools.partial(base, params=params)
    seq = as_seed_sequence(seed)
    sched = design.schedule
    ext = design.extension if extension else None
    vc_end = sched.vc_end_day
    end_day = sched.study_end_day if ext is not None else vc_end
    visits = [v for v in sched.visits if v.day <= end_day]
    lts_days = end_day - vc_end if ext is not None else 0

    pop, strata_levels, arm_idx = _enrol_and_randomize(design, n, seq, chunk_size)
    adherence, adh_group = _draw_adherence(design, n, seq, adherence_step)
    switch_to = _extension_switches(design, ext)
    latent, ext_latent, exposure = _simulate_groups(
        design, pop, arm_idx, adh_group, adherence, switch_to, vc_end, lts_days,
        child_sequence(seq, _S_MODEL), chunk_size, provider,
    )
    course = _dropout_and_rerandomize(design, ext, latent, ext_latent, arm_idx, switch_to, visits, vc_end,
                                      end_day, seq)
    vday = _visit_days(visits, n, seq)
    # completers end at their last visit; dropouts at the dropout day
    last_day = np.where(course.dropped, course.drop_day, vday[:, -1])
    done = vday <= last_day[:, None]
    subjects = _draw_demography(design, n, seq)
    age = np.floor(pop.age_y).astype(np.int64)
    lts_on = (last_day > vc_end) & (ext is not None)

    dm = build_dm(design, subjects, pop, age, arm_idx, course.ext_arm_idx, strata_levels, last_day, lts_on)
    ex = build_ex(design, subjects.usubjid, subjects.start, arm_idx, course.ext_arm_idx, adherence, last_day,
                  lts_on, vc_end, ext is not None)
    qs = build_qs(design, visits, vday, done, subjects.start, subjects.usubjid, pop, latent["easi"],
                  latent["iga"], latent["nrs_weekly"], age, vc_end)
    ae = build_ae(design, child_generator(seq, _S_AE), subjects.usubjid, subjects.start, arm_idx,
                  course.ext_arm_idx, last_day, vc_end, ext is not None,
                  course.dropped & (course.reason == "ADVERSE EVENT"))
    ds = build_ds(design.studyid, subjects.usubjid, subjects.start, course.dropped, course.drop_day,
                  course.reason, last_day, course.rerand & lts_on, vc_end)

    # ---- plasma at visits and covariates, for the NONMEM dataset (cdisc/nonmem.py) -------------
    pk_samples = _pk_samples(latent[_PLASMA], visits, vday, done, subjects.usubjid)
    covariates = pop.to_frame().drop(columns="patient")
    covariates.insert(0, "USUBJID", subjects.usubjid)
    per_patient = exposure.set_index("patient") if "patient" in exposure else None
    if per_patient is not None and len(per_patient) == n:
        rows = np.arange(n)
        covariates["grams_per_application"] = per_patient["grams_per_application"].reindex(rows).to_numpy()
        covariates["model_adherence"] = per_patient["adherence"].reindex(rows).to_numpy()

    meta = {
        "n": n,
        "arms": list(design.arm_ids),
        "seed": seed_record(seq),
        "adherence_step": adherence_step,
        "population": design.population,
        "design_id": design.id,
    }
    return StudyData(
        dm=dm,
        ex=ex,
        qs=qs,
        ae=ae,
        ds=ds,
        design=design,
        seed=seed_record(seq),
        extension=ext is not None,
        metadata=meta,
        exposure=exposure,
        pk_samples=pk_samples,
        covariates=covariates,
    )


def _pk_samples(plasma: np.ndarray, visits: list, vday: np.ndarray, done: np.ndarray,
                usubjid: np.ndarray) -> pd.DataFrame | None:
    """Model plasma level (nM) at every visit a subject attended, taken at the start of the visit's
    study day, before that day's first application (a trough); None without plasma (a stand-in
    provider)."""
    if not np.isfinite(plasma).any():
        return None
    subj, vis = np.nonzero(done)
    day = vday[subj, vis]
    return pd.DataFrame({
        "USUBJID": usubjid[subj],
        "VISITNUM": np.array([v.visitnum for v in visits], dtype=float)[vis],
        "VISIT": np.array([v.name for v in visits], dtype=object)[vis],
        "DAY": day.astype(np.int64),
        "CP_NM": plasma[subj, day - 1],
    })


def _enrol_and_randomize(
    design: TrialDesign, n: int, seq: np.random.SeedSequence, chunk_size: int
) -> tuple[Population, np.ndarray, np.ndarray]:
    """The enrolled population, each subject's stratification levels and randomized arm index."""
    pop = sample_population(design.population, n, child_sequence(seq, _S_POP), chunk_size=chunk_size)
    factors = design.stratification.factors
    stratum, levels = compute_strata(factors, {"iga0": pop.iga0, "age_y": pop.age_y})
    arm_idx = sample_block_allocation(
        stratum,
        design.ratio,
        design.stratification.block_size,
        child_sequence(seq, _S_RAND),
        n_strata=design.stratification.n_strata,
    )
    return pop, levels, arm_idx


def _draw_adherence(
    design: TrialDesign, n: int, seq: np.random.SeedSequence, adherence_step: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each subject's share of applied doses, and its adherence bin (width ``adherence_step``; each
    group runs at its members' mean adherence)."""
    adh = design.adherence
    rng = child_generator(seq, _S_ADH)
    if adh.sd == 0:
        adherence = np.full(n, adh.mean)
    else:
        k = adh.mean * (1 - adh.mean) / adh.sd**2 - 1
        adherence = rng.beta(adh.mean * k, (1 - adh.mean) * k, size=n)
    adh_group = np.minimum(np.floor(adherence / adherence_step), np.floor(1.0 / adherence_step) - 1).astype(
        np.int64
    )
    return adherence, adh_group


def _extension_switches(design: TrialDesign, ext: Extension | None) -> dict[int, list[int]]:
    """Arm index re-randomized at the end of the VC period -> the arm indices it is re-randomized to."""
    ids = design.arm_ids
    switch_to: dict[int, list[int]] = {}
    if ext is not None and ext.rerandomize_from:
        to_idx = [ids.index(a) for a in ext.rerandomize_to]
        switch_to = {ids.index(a): to_idx for a in ext.rerandomize_from}
    return switch_to


def _dropout_and_rerandomize(
    design: TrialDesign,
    ext: Extension | None,
    latent: dict[str, np.ndarray],
    ext_latent: dict[int, dict[str, np.ndarray]],
    arm_idx: np.ndarray,
    switch_to: dict[int, list[int]],
    visits: list[Visit],
    vc_end: int,
    end_day: int,
    seq: np.random.SeedSequence,
) -> _Course:
    """Dropout on the weekly grid, then re-randomization of those on study at the VC end (their
    extension records replace the latent records in place), and the reason for each dropout."""
    n = arm_idx.shape[0]
    drop = design.dropout
    n_weeks = -(-end_day // 7)
    rng = child_generator(seq, _S_DROP)
    u_event = rng.random((n, n_weeks))
    u_day = rng.random(n)
    u_reason = rng.random(n)
    u_reason2 = rng.random(n)
    last_visit_target = visits[-1].day - visits[-1].window_before_d
    has, drop_day, _, _ = _first_dropout(latent["easi"], u_event, u_day, drop, vc_end, last_visit_target)
    ext_arm_idx = arm_idx.copy()
    rerand = np.zeros(n, dtype=bool)
    if switch_to:
        assert ext is not None  # switch_to is empty without an extension
        # in enrolment order, among those still on study after the VC period (1:1 blocks)
        rerand = np.isin(arm_idx, list(switch_to)) & ~(has & (drop_day <= vc_end))
        to_idx_arr = np.array(next(iter(switch_to.values())))
        new = sample_block_allocation(
            np.zeros(int(rerand.sum()), dtype=np.int64),
            [1] * to_idx_arr.size,
            ext.block_size,
            child_sequence(seq, _S_RERAND),
            n_strata=1,
        )
        ext_arm_idx[rerand] = to_idx_arr[new]
        for b_arm, rec in ext_latent.items():
            sel = np.flatnonzero(rerand & (ext_arm_idx == b_arm))
            for k in _ASKED:
                latent[k][sel, vc_end:] = rec[k][sel]
        # VC-period decisions are unchanged: they read VC days only and the same uniforms
        has, drop_day, _, nonresp_at = _first_dropout(
            latent["easi"], u_event, u_day, drop, vc_end, last_visit_target
        )
    else:
        has, drop_day, _, nonresp_at = _first_dropout(
            latent["easi"], u_event, u_day, drop, vc_end, last_visit_target
        )
    excess = np.where(nonresp_at, 1.0 - 1.0 / drop.nonresponse_hr, 0.0)
    reasons = np.array([r.reason for r in drop.reasons], dtype=object)
    w = np.array([r.weight for r in drop.reasons], dtype=float)
    pick = np.minimum(np.searchsorted(np.cumsum(w) / w.sum(), u_reason, side="right"), w.size - 1)
    reason = np.where(u_reason2 < excess, "LACK OF EFFICACY", reasons[pick]).astype(object)
    return _Course(has, drop_day, reason, ext_arm_idx, rerand)


def _visit_days(visits: list[Visit], n: int, seq: np.random.SeedSequence) -> np.ndarray:
    """Each subject's study day of each scheduled visit, uniform within its window (day 1 at
    baseline)."""
    rng = child_generator(seq, _S_VISIT)
    vday_target = np.array([v.day for v in visits])
    lo = np.array([v.window_before_d for v in visits])
    hi = np.array([v.window_after_d for v in visits])
    u_win = rng.random((n, len(visits)))
    vday = vday_target[None, :] - lo[None, :] + np.floor(u_win * (lo + hi + 1)[None, :]).astype(np.int64)
    vday[:, 0] = 1
    return vday


def _draw_demography(design: TrialDesign, n: int, seq: np.random.SeedSequence) -> Subjects:
    """Enrolment dates, sites, race and ethnicity."""
    rng = child_generator(seq, _S_DEMOG)
    enrol_off = np.sort(rng.integers(0, design.enrollment_days, size=n))
    start = np.datetime64(design.study_start, "D") + enrol_off.astype("timedelta64[D]")
    site = rng.integers(1, design.n_sites + 1, size=n)
    races = np.array(list(design.race_pct), dtype=object)
    rp = np.array(list(design.race_pct.values()), dtype=float)
    race = races[
        np.minimum(np.searchsorted(np.cumsum(rp) / rp.sum(), rng.random(n), side="right"), rp.size - 1)
    ]
    ethnic = np.where(rng.random(n) < 0.15, "HISPANIC OR LATINO", "NOT HISPANIC OR LATINO")
    return Subjects.numbered(design, start, site, race, ethnic)
