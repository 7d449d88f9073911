"""simulate_patients: virtual patients from their baseline steady state through a regimen.

Per chunk of patients (bounded memory): draw parameters (streams keyed by absolute patient
index), solve each patient's untreated steady state directly, then advance all patients together
on one step grid whose boundaries hold the dose events (default 8 h steps):

* PK: exact matrix-exponential propagation of the linear 4-compartment model; the absorbed
  input of each application (pk.compute_absorbed_mg, at the baseline damage) adds to the
  surface compartment at step boundaries;
* JAK block: the occupancy u^h/(1+u^h) (Hill h of jak.toml) is averaged over each step by
  Gauss-Legendre quadrature on the exact PK solution (the local exposure swings within hours,
  the disease within weeks);
* disease core, itch and the slow disease memory: the engine's second-order exponential
  production-loss step with the step-mean vehicle rate of the emollient state (exact within a step).

Regimens over time: the step grid is one day pattern (the union of every period's application
times); each day the compiled schedule (Regimen.compile) says which of those events are
applications, and an as-needed rule, checked once a day on each patient's own state, masks them per
patient (arrays over patients, zero grams where a patient does not apply).

Outputs are daily (day 0 = baseline, pre-dose) and observation noise comes from separate streams
keyed by patient and day, so the same seed gives the same arrays for any chunk size, and a run
restarted from ``Trajectories.final_state`` continues exactly as an uninterrupted run would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from dermsim import __version__
from dermsim._rng import SeedLike, as_seed_sequence, child_sequence, seed_record
from dermsim._validate import LIMITS, check_int, check_memory, check_positive, check_range
from dermsim.engine import (
    block_normals,
    block_normals_by_day,
    block_uniforms,
    build_day_grid,
    compute_transition,
    gauss_legendre_unit,
    iter_chunks,
    propagate,
    step_production_loss,
)
from dermsim.engine.compiled import resolve_backend
from dermsim.engine.cores import default_workers, one_blas_thread
from dermsim.errors import InvalidInputError
from dermsim.model import kernel
from dermsim.model.disease import dynamics
from dermsim.model.disease.itch import compute_itch_placebo
from dermsim.model.disease.scores import (
    compute_easi_regional,
    compute_easi_trajectory,
    compute_iga,
    compute_iga_grade,
    compute_nrs_daily,
    compute_patient_endpoints,
    compute_weekly_mean,
    sample_iga_offsets,
)
from dermsim.model.parameters import ParameterSet, compute_individual_values, default_parameters
from dermsim.model.pharmacology import pk
from dermsim.model.pharmacology.jak import PATHWAYS, Blocked, compute_occupancy, derive_pathway_imax
from dermsim.model.pharmacology.regimen import DayPlan, Regimen
from dermsim.model.population import body
from dermsim.model.precompile import ensure_compiled

HOURS_PER_WEEK = 168.0
# states recorded from the integration (n, T) and scores derived from them
# occupancy: mean over the preceding day of u^h/(1+u^h); pathway j is blocked by Imax_j x occupancy
# M: disease memory (1 = untreated); emollient: the emollient state E (0-1) at the day boundary;
# applications: applications of cream on the preceding day (0 on days off treatment)
STATE_RECORDS = ("B", "P", "Th1", "Th2", "Th17", "Th22", "Q", "M", "D", "cp_nM", "u", "occupancy",
                 "emollient", "applications")
# easi_regional: region-by-region EASI (needs the population's easi_region_pct)
SCORE_RECORDS = ("easi", "easi_mean", "easi_regional", "iga", "nrs", "nrs_weekly")
RECORDABLE = STATE_RECORDS + SCORE_RECORDS
# what an output grid in hours (output_hours) can hold: PK exactly (matrix exponential from the step
# start), disease states linearly interpolated between step boundaries (8 h, 2 h on onset days), and
# the noise-free EASI from the interpolated severity; noisy scores are visit observations (daily)
HOURLY_RECORDS = ("B", "P", "Th1", "Th2", "Th17", "Th22", "Q", "M", "D", "cp_nM", "u", "easi_mean")
DEFAULT_RECORD = ("easi", "iga", "nrs_weekly", "cp_nM", "u", "B", "P", "Q", "D")
# random stream ids below the seed (engine.streams)
# namespaced below the user's seed, so the population sampler (0x504F50) or a trial layer that
# spawns (seed, i) children never draws the same numbers
MODEL_STREAM_KEY = 0x4D4F44  # "MOD"
_S_PARAMS, _S_EASI, _S_IGA_VISIT, _S_IGA_U1, _S_IGA_U2, _S_NRS = range(6)
_POP_FIELDS = ("age_y", "weight_kg", "bsa_m2", "affected_pct", "easi0", "iga0", "nrs0")
NRS_TAIL = 6  # daily NRS values before a restart day that the weekly mean still needs
# Steps are this many times shorter on a day when drug starts (day 0 of a course, the first day
# after a holiday): the response is fastest then (a fast responder's barrier doubles within a day),
# and 8 h steps gave EASI errors up to 0.11 on that day against LSODA; 2 h steps on that one day give
# 0.02 at about 5 % more work for an 8-week course. Days with a single application (once daily) are
# refined too: the exposure then swings from peak to a deep trough within the day, and 8 h steps gave
# EASI errors up to 0.52 against 0.5 h steps on a once-daily course (22 of 300 patients above the
# 0.05 bound); 2 h steps give 0.02. The decision follows the schedule only (and, on a restart,
# whether any patient of the run still has drug), so it never depends on the chunk.
ONSET_REFINE = 4


@dataclass(frozen=True)
class SimulationState:
    """Where every patient of a run stands at the start of ``day`` (arrays over the population's
    patients, in its row order), so that a run started from it continues exactly as an
    uninterrupted run would (same seed, same population, same parameters).

    ``disease`` (8, n) B, P, Th1, Th2, Th17, Th22, Q, M; ``pk`` (4, n) PK amounts (mg);
    ``emollient`` (n,) the emollient state; ``treating`` (n,) the as-needed rule's on/off (True after
    a day with applications under a fixed schedule); ``occupancy`` (n,) mean JAK occupancy and
    ``applications`` (n,) applications on the day before ``day``; ``nrs_tail`` (n, 6) daily itch NRS
    of the six days before ``day`` (weekly
    means continue); ``seed`` the seed record (observation noise is keyed by patient and absolute
    day, so it continues per patient and day).
    """

    day: int
    disease: np.ndarray
    pk: np.ndarray
    emollient: np.ndarray
    treating: np.ndarray
    occupancy: np.ndarray
    applications: np.ndarray
    nrs_tail: np.ndarray
    seed: dict[str, Any]

    @property
    def n(self) -> int:
        return int(self.disease.shape[1])

    def chunk(self, sl: slice) -> dict[str, np.ndarray]:
        """The arrays of patients ``sl`` (what one chunk of the integrator starts from)."""
        return {"y": self.disease[:, sl].copy(), "x": self.pk[:, sl].copy(),
                "emollient": self.emollient[sl].copy(), "treating": self.treating[sl].copy(),
                "occupancy": self.occupancy[sl].copy(), "applications": self.applications[sl].copy(),
                "nrs_tail": self.nrs_tail[sl].copy()}

    def take(self, idx: np.ndarray) -> SimulationState:
        """The state of a subset of patients (rows ``idx``), e.g. one arm of a trial."""
        cut = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("emollient", "treating", "occupancy", "applications", "nrs_tail"):
            cut[name] = cut[name][idx]
        cut["disease"] = self.disease[:, idx]
        cut["pk"] = self.pk[:, idx]
        return SimulationState(**cut)


@dataclass(frozen=True)
class Trajectories:
    """Daily trajectories (patients x days) with what made them."""

    day: np.ndarray
    values: Mapping[str, np.ndarray]
    baseline: Mapping[str, np.ndarray]
    regimen: Regimen
    population_name: str
    seed: dict[str, Any]
    version: str = __version__
    blocked: str = "jak1/2"
    extra: Mapping[str, Any] = field(default_factory=dict)
    final_state: SimulationState | None = None
    # record_params=True: each patient's value of every parameter with IIV (name -> (n,))
    parameters: Mapping[str, np.ndarray] = field(default_factory=dict)
    # output_hours: the hours of the run (from day[0]) and the HOURLY_RECORDS there (name -> (n, H))
    hours: np.ndarray | None = None
    at_hours: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(next(iter(self.values.values())).shape[0])

    @property
    def n_days(self) -> int:
        """Days the run lasted (also when it kept only some of them, ``output_days``)."""
        return int(self.day[-1] - self.day[0])

    def __getitem__(self, name: str) -> np.ndarray:
        if name in self.values:
            return self.values[name]
        if name in self.baseline:
            return self.baseline[name]
        names = ", ".join([*self.values, *self.baseline])
        raise InvalidInputError(f"name must be one of {names}; got {name!r}.")

    def endpoints(self, day: int) -> dict[str, np.ndarray]:
        """Patient-level IGA-TS, EASI-50/75/90, %change EASI and NRS4 at (absolute) ``day``,
        against the patients' baseline (also for a run restarted from a saved state)."""
        for need in ("easi", "iga"):
            if need not in self.values:
                raise InvalidInputError(f"record must include '{need}' to compute endpoints.")
        easi, iga, nrs = self.values["easi"], self.values["iga"], self.values.get("nrs_weekly")
        kept = self.day.astype(int)  # the run's first day, then the days it kept (output_days)
        day0 = int(kept[0])
        if not day0 < day <= int(kept[-1]):
            raise InvalidInputError(f"day must be within {day0 + 1}-{int(kept[-1])}; got {day}.")
        col = int(np.searchsorted(kept, day))
        if kept[col] != day:
            raise InvalidInputError(f"day must be a day the run kept ({', '.join(map(str, kept[1:]))}); "
                                    f"got {day}.")
        if day0 == 0:  # column 0 is the baseline visit
            pair = [0, col]
            return compute_patient_endpoints(easi[:, pair], iga[:, pair],
                                             None if nrs is None else nrs[:, pair], 1)
        b = self.baseline
        nrs_pair = None if nrs is None else np.stack([b["nrs_weekly0"], nrs[:, col]], axis=1)
        return compute_patient_endpoints(np.stack([b["easi0"], easi[:, col]], axis=1),
                                         np.stack([b["iga0"], iga[:, col]], axis=1), nrs_pair, 1)

    def inhibition(self) -> dict[str, np.ndarray]:
        """Daily-mean fractional block per pathway (n, T): Imax_j x occupancy (needs 'occupancy')."""
        if "occupancy" not in self.values:
            raise InvalidInputError("record must include 'occupancy' to compute the inhibition.")
        occ = self.values["occupancy"]
        return {name: imax * occ for name, imax in self.extra["pathway_imax"].items()}

    def to_frame(self, layout: str = "wide", grid: str = "day"):
        """pandas frame: ``wide`` (patient, day, one column per variable) or ``long``; ``grid``
        "hours": the output grid in hours (patient, time_h from the start of day 0, the variables
        recorded there) of a run with ``output_hours``."""
        import pandas as pd

        if grid not in ("day", "hours"):
            raise InvalidInputError(f"grid must be one of day, hours; got {grid!r}.")
        if grid == "hours":
            if self.hours is None:
                raise InvalidInputError("grid 'hours' needs a run with output_hours.")
            values, times, time_name = self.at_hours, float(self.day[0]) * 24.0 + self.hours, "time_h"
        else:
            values, times, time_name = self.values, self.day, "day"
        n, t = self.n, times.shape[0]
        base = {"patient": np.repeat(np.arange(n), t), time_name: np.tile(times, n)}
        if layout == "wide":
            return pd.DataFrame({**base, **{k: v.reshape(-1) for k, v in values.items()}})
        if layout == "long":
            frames = [pd.DataFrame({**base, "variable": k, "value": v.reshape(-1).astype(float)})
                      for k, v in values.items()]
            return pd.concat(frames, ignore_index=True)
        raise InvalidInputError(f"layout must be one of wide, long; got {layout!r}.")

    def metadata(self) -> dict[str, Any]:
        return {"population": self.population_name, "regimen": self.regimen.to_dict(),
                "seed": self.seed, "version": self.version, "blocked": self.blocked,
                "n_patients": self.n, "n_days": self.n_days, "first_day": int(self.day[0]),
                **dict(self.extra)}


@dataclass(frozen=True)
class PreparedPatients:
    """Everything about a block of patients before time starts (used by the engine and references)."""

    start: int
    disease: dict[str, np.ndarray]
    itch: dict[str, np.ndarray]
    vehicle: dict[str, np.ndarray]
    observation: dict[str, float]
    pk: pk.PatientPK
    y0: np.ndarray                # (8, n) baseline steady state (untreated; M = 1)
    imax: np.ndarray              # (6,) per pathway, or (6, n) per patient (stacked parameter rows)
    hill: float | np.ndarray      # or (n,) per patient (stacked parameter rows)
    covariates: dict[str, np.ndarray]
    iga_offset: np.ndarray        # (n,) patient/rater offset u_i of the latent IGA
    iga_e0: np.ndarray            # (n,) baseline visit noise (IGA(0) = the population's iga0)
    # each patient's value of every parameter with inter-individual variability (name -> (n,))
    individual: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def d0(self) -> np.ndarray:
        """Baseline severity index D0 (n,), the reference of EASI, IGA and the as-needed rule."""
        return dynamics.compute_severity(self.y0)

    @property
    def n(self) -> int:
        return int(self.y0.shape[1])


def _population_columns(population: Any) -> dict[str, np.ndarray]:
    if isinstance(population, (str, Path)) or type(population).__name__ == "DataFrame":
        # a user table (CSV, Parquet, DataFrame) with every column the model reads
        from dermsim.model.population.covariates import read_covariate_table

        table = read_covariate_table(population)
        if "bsa_m2" not in table and {"height_cm", "weight_kg"} <= set(table):
            table["bsa_m2"] = body.compute_bsa_m2(table["height_cm"], table["weight_kg"],
                                                  body.default_bsa_formula())
        missing = [c for c in _POP_FIELDS if c not in table]
        if missing:
            raise InvalidInputError(f"population table must have the columns {', '.join(_POP_FIELDS)} "
                                    f"(bsa_m2 or height_cm and weight_kg); missing {', '.join(missing)} "
                                    "(sample_population(spec, None, seed, covariates=table) draws them).")
        population = PatientColumns(**{c: table[c] for c in _POP_FIELDS}, name="user table")
        if "easi_region_pct" in table:
            cols = _population_columns(population)
            cols["easi_region_pct"] = table["easi_region_pct"]
            return cols
    cols = {}
    for name in _POP_FIELDS:
        if not hasattr(population, name):
            raise InvalidInputError(f"population must have a column '{name}'; it has none.")
        cols[name] = np.asarray(getattr(population, name))
    n = cols["age_y"].shape[0]
    if n < 1:
        raise InvalidInputError("population must hold at least 1 patient; got 0.")
    for name, col in cols.items():
        if col.shape != (n,):
            raise InvalidInputError(f"population.{name} must have shape ({n},); got {col.shape}.")
        if name != "iga0" and not np.all(np.isfinite(col.astype(float))):
            raise InvalidInputError(f"population.{name} must hold finite numbers only; got NaN or infinity.")
    if np.any(cols["affected_pct"] <= 0) or np.any(cols["affected_pct"] > 100):
        raise InvalidInputError(f"population.affected_pct must be within (0, 100]; got "
                                f"{cols['affected_pct'].min():g}-{cols['affected_pct'].max():g}.")
    if np.any(cols["easi0"] <= 0) or np.any(cols["easi0"] > 72):
        raise InvalidInputError("population.easi0 must be within (0, 72]; got values outside.")
    regions = getattr(population, "easi_region_pct", None)
    if regions is not None:
        regions = np.asarray(regions, float)
        if regions.shape != (n, 4):
            raise InvalidInputError(
                f"population.easi_region_pct must have shape ({n}, 4); got {regions.shape}.")
        cols["easi_region_pct"] = regions
    return cols


def prepare_patients(cols: Mapping[str, np.ndarray], regimen: Regimen, params: ParameterSet,
                     seed: SeedLike, start: int, stop: int, blocked: Blocked = None,
                     backend: str = "numpy") -> PreparedPatients:
    """Parameters, baseline steady state and PK of patients [start, stop) (absolute indices);
    ``backend`` "numba" evaluates the steady-state solver's right-hand side in compiled code."""
    seed = child_sequence(seed, MODEL_STREAM_KEY)
    ind = individual_values(params, seed, start, stop)
    jak = {k: v[0] for k, v in ind["jak"].items()}
    obs = {k: float(v[0]) for k, v in ind["observation"].items()}
    cov = {k: np.asarray(v[start:stop], float) for k, v in cols.items()}
    imax = derive_pathway_imax(jak["Imax"], jak["phi_partial"], blocked)
    offset, e0 = draw_iga_offsets(cov, obs, seed, start, stop)
    varying = {name: ind[g][name] for g in params.groups for name, par in params.group(g).items()
               if par.omega > 0}
    return assemble_patients(ind, cov, regimen, start, imax=imax, hill=float(jak["hill"]), observation=obs,
                             iga=(offset, e0), individual=varying, backend=backend)


def individual_values(params: ParameterSet, seed: np.random.SeedSequence, start: int,
                      stop: int) -> dict[str, dict[str, np.ndarray]]:
    """Every patient's value of every parameter, by group (patients [start, stop); ``seed`` the
    model's child sequence): the draws are keyed by patient index, not by the parameter values, so
    two parameter sets give the same patients (common random numbers)."""
    names = params.names()
    z_all = block_normals(seed, _S_PARAMS, start, stop, len(names))
    z = {name: z_all[:, i] for i, name in enumerate(names)}
    return {g: compute_individual_values(params, g, z, stop - start) for g in params.groups}


def draw_iga_offsets(cov: Mapping[str, np.ndarray], obs: Mapping[str, float], seed: np.random.SeedSequence,
                     start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Patient/rater offsets and baseline visit noise of the latent IGA (given IGA(0) = iga0)."""
    u1 = block_uniforms(seed, _S_IGA_U1, start, stop, 1)[:, 0]
    u2 = block_normals(seed, _S_IGA_U2, start, stop, 1)[:, 0]
    return sample_iga_offsets(cov["easi0"], cov["iga0"], dict(obs), u1, u2)


def assemble_patients(ind: dict[str, dict[str, np.ndarray]], cov: dict[str, np.ndarray], regimen: Regimen,
                      start: int, *, imax: np.ndarray, hill: float | np.ndarray,
                      observation: dict[str, float], iga: tuple[np.ndarray, np.ndarray],
                      individual: dict[str, np.ndarray], backend: str = "numpy") -> PreparedPatients:
    """The baseline steady state and PK of patients with individual values ``ind`` and covariates
    ``cov``; ``imax`` (6,) or (6, n) and ``hill`` scalar or (n,) (per patient when parameter sets
    are stacked, see model.parameter_rows)."""
    ind = {g: dict(v) for g, v in ind.items()}
    solve = kernel.solve_baseline if backend == "numba" else dynamics.solve_baseline
    y0 = solve(ind["disease"], ind["itch"])
    ind["disease"] = dynamics.add_memory_reference(ind["disease"], y0)
    patient_pk = pk.derive_patient_pk(ind["pk"], regimen, weight_kg=cov["weight_kg"], bsa_m2=cov["bsa_m2"],
                                      affected_pct=cov["affected_pct"], age_y=cov["age_y"])
    offset, e0 = iga
    return PreparedPatients(start=start, disease=ind["disease"], itch=ind["itch"], vehicle=ind["vehicle"],
                            observation=observation, pk=patient_pk, y0=y0, imax=imax, hill=hill,
                            covariates=cov, iga_offset=offset, iga_e0=e0, individual=individual)


ObservationNoise = tuple[np.ndarray | None, np.ndarray | None, np.ndarray]


def draw_observation_noise(seed: SeedLike, start: int, stop: int, day0: int, t: int, *,
                           scores: bool = True) -> ObservationNoise:
    """Standard-normal EASI, IGA-visit and NRS noise (n, t) of patients [start, stop), days
    ``day0`` .. ``day0 + t - 1``, keyed by patient and absolute day (``seed`` as observe_patients).
    ``scores=False`` leaves out the EASI and IGA-visit draws (None), which only the noisy EASI and
    IGA read: each stream is its own generator, so the NRS draws are the same either way."""
    seed = child_sequence(seed, MODEL_STREAM_KEY)

    def stream(key: int) -> np.ndarray:
        return block_normals_by_day(seed, key, start, stop, day0, day0 + t)

    if not scores:
        return None, None, stream(_S_NRS)
    return stream(_S_EASI), stream(_S_IGA_VISIT), stream(_S_NRS)


def observe_patients(prep: PreparedPatients, states: Mapping[str, np.ndarray], seed: SeedLike,
                     days: int, *, day0: int = 0, nrs_tail: np.ndarray | None = None,
                     noise: ObservationNoise | None = None,
                     columns: np.ndarray | None = None,
                     names: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Scores (n, columns) from recorded D and Q (n, days + 1): EASI, noise-free EASI, IGA, daily
    and weekly NRS.

    Columns are days ``day0`` .. ``day0 + days``; noise is keyed by patient and absolute day and
    scores are relative to the patient's baseline (D0, Q0), so a restarted run scores exactly as
    an uninterrupted one. ``nrs_tail`` (n, 6): daily NRS of the six days before ``day0`` (None: the
    baseline NRS0, as before day 1). The result also holds ``nrs_tail_end``, the tail a run that
    continues after the last column needs. ``noise``: the standard-normal draws of
    :func:`draw_observation_noise` for these patients and days, when the caller already has them
    (scoring many parameter rows of the same patients). ``columns``: score only these columns
    (sorted indices into the days; None: all) and ``names``: only these of SCORE_RECORDS (None: all
    but easi_regional, which needs the population's easi_region_pct); a score of a column is the
    same number whichever others are asked for.
    """
    start, stop, t = prep.start, prep.start + prep.n, days + 1
    cols = np.arange(t) if columns is None else np.asarray(columns, dtype=np.intp)
    names = set(SCORE_RECORDS) - {"easi_regional"} if names is None else set(names)
    obs = prep.observation
    cov = prep.covariates
    d0 = prep.d0
    noisy = bool(names & {"easi", "iga"})
    if noise is None:
        # the EASI and IGA-visit streams only where a noisy score is asked for: a run that records
        # noise-free outputs (easi_mean, states, plasma) skips two of the three noise draws
        noise = draw_observation_noise(seed, start, stop, day0, t, scores=noisy)
    z_easi, z_visit, z_nrs = noise
    at_baseline = cols == 0 if day0 == 0 else np.zeros(cols.size, dtype=bool)
    out: dict[str, np.ndarray] = {}
    if names & {"easi", "easi_mean", "iga", "easi_regional"}:
        sev = states["D"][:, cols]
        if "easi_mean" in names:
            out["easi_mean"] = compute_easi_trajectory(cov["easi0"], sev, obs["p_easi"], severity0=d0)
        if noisy:
            assert z_easi is not None and z_visit is not None  # drawn whenever a noisy score is asked for
            eps = z_easi[:, cols] * obs["sigma_easi"]
            eps[:, at_baseline] = 0.0  # the baseline is the population's EASI0, IGA0 and NRS0 exactly
            easi = compute_easi_trajectory(cov["easi0"], sev, obs["p_easi"], eps, severity0=d0)
            out["easi"] = easi
            if "iga" in names:
                visit = z_visit[:, cols] * obs["iga_sigma_e"]
                visit[:, at_baseline] = prep.iga_e0[:, None]
                out["iga"] = compute_iga(easi, sev, prep.iga_offset, visit, obs, severity0=d0)
        if "easi_regional" in names:
            if "easi_region_pct" not in cov:
                raise InvalidInputError(
                    "population must have a column 'easi_region_pct' to record easi_regional.")
            out["easi_regional"] = compute_easi_regional(cov["easi0"], cov["easi_region_pct"], cov["age_y"],
                                                         sev / d0[:, None], obs["p_easi"],
                                                         obs["easi_area_share"])
    # daily NRS where a weekly mean or the tail a continuing run needs asks for it (the last six
    # days before the last column)
    week = NRS_TAIL + 1
    need = [np.arange(t - week, t - 1)]
    if "nrs" in names:
        need.append(cols)
    if "nrs_weekly" in names:
        need.append((cols[:, None] - np.arange(week)[None, :]).ravel())
    daily_cols = np.unique(np.concatenate(need))
    daily_cols = daily_cols[daily_cols >= 0]
    nrs_noise = z_nrs[:, daily_cols] * obs["sigma_nrs"]
    if day0 == 0:
        nrs_noise[:, daily_cols == 0] = 0.0
    weeks = (day0 + daily_cols) / 7.0
    # the itch expectation effect stays a function of trial time (model.md 2.5), not of applications
    placebo = compute_itch_placebo(weeks[None, :], {k: v[:, None] for k, v in prep.vehicle.items()})
    nrs = np.full((prep.n, t), np.nan)
    itch_ratio = states["Q"][:, daily_cols] / prep.y0[dynamics.Q][:, None]
    nrs[:, daily_cols] = compute_nrs_daily(cov["nrs0"], itch_ratio, placebo, nrs_noise)
    tail = np.repeat(cov["nrs0"][:, None], NRS_TAIL, axis=1) if nrs_tail is None else np.asarray(nrs_tail)
    out["nrs_tail_end"] = np.concatenate([tail, nrs], axis=1)[:, -NRS_TAIL - 1:-1]
    too_young = cov["age_y"] < obs["nrs_min_age"]
    if "nrs_weekly" in names:
        nrs_weekly = compute_weekly_mean(nrs, cov["nrs0"], tail=tail, columns=cols)
        nrs_weekly[:, at_baseline] = cov["nrs0"][:, None]
        nrs_weekly[too_young] = np.nan
        out["nrs_weekly"] = nrs_weekly
    if "nrs" in names:
        out["nrs"] = nrs[:, cols]
        out["nrs"][too_young] = np.nan
    return out


def check_output_days(output_days: Iterable[int] | None, day0: int, days: int,
                      name: str = "output_days") -> np.ndarray:
    """Columns (indices into days day0 .. day0 + days) of the days a run keeps (None: every day);
    InvalidInputError naming ``name`` unless they are increasing whole days from the first day."""
    if output_days is None:
        return np.arange(days + 1)
    raw = np.asarray(list(output_days), dtype=float).reshape(-1)
    ok = raw.size > 0 and np.all(raw == np.round(raw)) and np.all(np.diff(raw) > 0) \
        and raw[0] == day0 and raw[-1] <= day0 + days
    if not ok:
        shown = f"{raw.min():g} to {raw.max():g}" if raw.size else "none"
        raise InvalidInputError(f"{name} must be increasing whole days from the run's first day {day0} "
                                f"to at most {day0 + days}; got {raw.size} values, {shown}.")
    return raw.astype(np.intp) - day0


def _rule_metric(metric: str, y: np.ndarray, prep: PreparedPatients) -> np.ndarray:
    """What an as-needed rule reads (n,): D/D0, or the noise-free latent IGA grade (0-4)."""
    ratio = dynamics.compute_severity(y) / prep.d0
    if metric == "severity":
        return ratio
    obs = prep.observation
    easi = np.clip(prep.covariates["easi0"] * ratio ** obs["p_easi"], 0.0, 72.0)
    return compute_iga_grade(easi, ratio, prep.iga_offset, obs).astype(float)


def _grams_by_period(prep: PreparedPatients, regimen: Regimen, plan: DayPlan) -> list[np.ndarray]:
    """Cream per application (n,) of each period, with the regimen's adherence (each patient's usual
    load where the period gives no amount, pk.compute_usual_load_g_per_cm2)."""
    out = []
    for per in plan.periods:
        if (per.grams_per_application, per.g_per_cm2) == (regimen.grams_per_application, regimen.g_per_cm2):
            out.append(prep.pk.grams)
        else:
            amount = regimen.replace(grams_per_application=per.grams_per_application, g_per_cm2=per.g_per_cm2,
                                     periods=())
            out.append(pk.compute_grams_per_application(amount, prep.pk.area_cm2, prep.pk.usual_g_per_cm2))
    return out


def initial_chunk_state(prep: PreparedPatients) -> dict[str, np.ndarray]:
    """An untreated patient at baseline: no drug, no emollient, not on treatment."""
    n = prep.n
    return {"y": prep.y0.copy(), "x": np.zeros((pk.N_PK, n)), "emollient": np.zeros(n),
            "treating": np.zeros(n, dtype=bool), "occupancy": np.zeros(n), "applications": np.zeros(n)}


def _refined_days(plan: DayPlan, drug_before: bool) -> np.ndarray:
    """Days (bool, (days,)) stepped finely (ONSET_REFINE): the schedule applies drug after a day
    without, or applies it once that day."""
    strength = np.array([plan.periods[i].strength_pct if i >= 0 else 0.0 for i in plan.period])
    drug = (plan.n_applications > 0) & (strength > 0)
    onset = drug & ~np.concatenate([[drug_before], drug[:-1]])
    return onset | (drug & (plan.n_applications == 1))


def _record_states(rec: Mapping[str, np.ndarray], i: int, y: np.ndarray, x: np.ndarray,
                   p: pk.PatientPK) -> None:
    """Row ``i`` of the disease states, severity D, plasma and local exposure that ``rec`` holds."""
    for k, name in enumerate(dynamics.STATES):
        if name in rec:
            rec[name][i] = y[k]
    if "D" in rec:
        rec["D"][i] = dynamics.compute_severity(y)
    if "cp_nM" in rec:
        rec["cp_nM"][i] = pk.compute_plasma_nM(x, p)
    if "u" in rec:
        rec["u"][i] = pk.compute_local_exposure(x, p)


def _integrate(prep: PreparedPatients, regimen: Regimen, days: int, max_step_h: float,
               n_nodes: int, keep: Iterable[str] = STATE_RECORDS,
               start: Mapping[str, np.ndarray] | None = None, drug_before: bool = False,
               hours: np.ndarray | None = None, hours_out: dict[str, np.ndarray] | None = None,
               backend: str = "numpy", threads: int | None = None
               ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Advance prepared patients ``days`` days from ``start`` (None: baseline); (states at day
    boundaries, each (days + 1, n); the state after the last day). ``drug_before``: some patient of
    the run had drug on board at the start (then day 0 is not an onset day). ``hours`` (sorted, in
    [0, 24 days]) with ``hours_out`` (name -> (len(hours), n), names from HOURLY_RECORDS but
    easi_mean): also record there at those hours of the run (a time on a dose is before the dose).
    ``backend`` "numba": each day's steps run in the compiled kernel (model.kernel, same
    arithmetic) on ``threads``; hourly outputs need the NumPy loop's per-step states."""
    n = prep.n
    plan = regimen.compile(days)
    coarse = build_day_grid(plan.event_times_h, max_step_h=max_step_h)
    fine = build_day_grid(plan.event_times_h, max_step_h=max_step_h / ONSET_REFINE)
    onset = _refined_days(plan, drug_before)
    p = prep.pk
    strengths = [per.strength_pct for per in plan.periods]
    grams = _grams_by_period(prep, regimen, plan)
    drug = any(s > 0 for s in strengths)
    state = dict(initial_chunk_state(prep) if start is None else start)
    x, y = state["x"].copy(), state["y"].copy()
    emol, treating = state["emollient"].copy(), state["treating"].copy()
    # occupancy is computed while drug is applied or still in the skin (a restart may carry some)
    has_drug = bool(np.any(prep.imax > 0)) and (drug or bool(np.any(x)))
    imax_col = prep.imax.reshape(len(PATHWAYS), -1)  # (6, 1) or (6, n): broadcasts over patients
    track_pk = drug or bool(np.any(x))
    K = pk.compute_rate_matrix(p)
    nodes, weights = gauss_legendre_unit(n_nodes)
    phis, node_rows = {}, {}
    steps_h = sorted({*coarse.distinct_steps_h(), *(fine.distinct_steps_h() if onset.any() else ())})
    kern = None
    if backend == "numba" and hours is None:   # hourly outputs need the NumPy loop's per-step states
        kern = kernel.DayKernel(K, steps_h, nodes, weights, p.u_per_mg_vs, pk.EFF, prep.disease,
                                prep.itch, prep.vehicle, prep.imax, prep.hill, has_drug, track_pk,
                                HOURS_PER_WEEK, threads)
        # the kernel updates the (states, n) arrays in place: C-contiguous float, as it indexes them
        y, x = np.ascontiguousarray(y, dtype=float), np.ascontiguousarray(x, dtype=float)
        emol = np.ascontiguousarray(emol, dtype=float)
    elif track_pk:
        for h in steps_h:
            phis[h] = compute_transition(K, h)
            rows = []
            for c in nodes:
                phc = compute_transition(K, c * h)
                rows.append(pk.compute_exposure_rows(phc, p))  # (N_PK, n)
            node_rows[h] = rows
    t_out = days + 1
    keep = set(keep)
    rec = {name: np.empty((t_out, n)) for name in STATE_RECORDS if name in keep}  # (T, n) rows
    dp, ip, vp = prep.disease, prep.itch, prep.vehicle
    occ_day = state["occupancy"].copy()
    damage0 = 1.0 - prep.y0[dynamics.B]
    applied = state["applications"].copy()
    absorbed_by_period: dict[int, np.ndarray] = {}

    def record(d: int) -> None:
        _record_states(rec, d, y, x, p)
        if "occupancy" in rec:
            rec["occupancy"][d] = occ_day
        if "emollient" in rec:
            rec["emollient"][d] = emol
        if "applications" in rec:
            rec["applications"][d] = applied

    record(0)
    hour_phis: dict[float, np.ndarray] = {}
    h_next = 0

    def record_hours(t0: float, h: float, x0: np.ndarray, y0: np.ndarray) -> None:
        """Outputs at the requested hours in (t0, t0 + h] from the step's start (x0 after its dose)."""
        nonlocal h_next
        while h_next < hours.size and hours[h_next] <= t0 + h + 1e-9:
            dt = float(hours[h_next]) - t0
            if track_pk and dt > 0:
                key = round(dt, 9)
                if key not in hour_phis:
                    hour_phis[key] = compute_transition(K, dt)
                xt = propagate(hour_phis[key], x0)
            else:
                xt = x0
            yt = y0 + (dt / h) * (y - y0) if h > 0 else y
            _record_states(hours_out, h_next, yt, xt, p)
            h_next += 1

    if hours is not None:
        record_hours(0.0, 0.0, x, y)  # requested hour 0: the starting state
    for d in range(days):
        pi = int(plan.period[d])
        events = plan.applies[d]
        n_app = int(events.sum())
        if plan.rule[d] >= 0:
            # as needed: checked once a day on each patient's own state (hysteresis: start at
            # start_at, keep going until stop_at)
            rule = plan.periods[int(plan.rule[d])].as_needed
            metric = _rule_metric(rule.metric, y, prep)
            treating = np.where(treating, metric > rule.stop_at, metric >= rule.start_at)
            on: np.ndarray | None = treating & (n_app > 0)
        else:
            on = None
            treating = np.full(n, n_app > 0)
        drive = dynamics.compute_emollient_drive(n_app, regimen.adherence, vp)
        if on is not None:
            drive = np.where(on, drive, 0.0)
        applied = np.full(n, float(n_app)) if on is None else np.where(on, float(n_app), 0.0)
        dosing = n_app > 0 and strengths[pi] > 0
        if dosing:
            g_today = grams[pi] if on is None else np.where(on, grams[pi], 0.0)
        occ_day = np.zeros(n)
        grid = fine if onset[d] else coarse
        if kern is not None:  # the compiled kernel takes the whole day: the NumPy loop runs no step
            # the same every day of a period under a fixed schedule: computed on its first day
            if dosing and (on is not None or pi not in absorbed_by_period):
                absorbed_by_period[pi] = pk.compute_absorbed_mg(p, g_today, strengths[pi], damage0)
            absorbed = absorbed_by_period[pi] if dosing else None
            occ_day = kern.advance(grid, y, x, emol, drive, absorbed, events)
        for s in range(grid.n_steps if kern is None else 0):
            h = grid.steps_h[s]
            e = grid.event_at_start[s]
            if dosing and e >= 0 and events[e]:
                # absorbed input of this application at the baseline barrier damage (pk.py docstring)
                x[pk.SURF] += pk.compute_absorbed_mg(p, g_today, strengths[pi], damage0)
            if hours is not None:
                x_start, y_start = x.copy(), y.copy()
            emol, emol_mean = dynamics.step_emollient(emol, drive, h / HOURS_PER_WEEK, vp)
            kveh = vp["k_v"] * emol_mean
            if has_drug:
                occs = []
                for row in node_rows[h]:
                    u = row[0] * x[0]
                    for j in range(1, pk.N_PK):  # every PK state (pk.py: 5 with the effect site)
                        u += row[j] * x[j]
                    occs.append(compute_occupancy(u, prep.hill))
                mean = sum(w * o for w, o in zip(weights, occs, strict=True))
                sd = np.sqrt(sum(w * (o - mean) ** 2 for w, o in zip(weights, occs, strict=True)))
                occ_day += h * mean
                # The block enters the rates non-linearly and swings within hours of a dose, so the
                # step-mean rate is not the rate at the step-mean block (Jensen). Two sigma points
                # with the mean and variance of the block over the step's quadrature nodes give the
                # step-mean rates to second order in the swing, at two rate evaluations instead of
                # one per node.
                inh_lo = imax_col * np.clip(mean - sd, 0.0, 1.0)[None, :]
                inh_hi = imax_col * np.clip(mean + sd, 0.0, 1.0)[None, :]

                blocks = ((0.5, inh_lo), (0.5, inh_hi))

                # one `rates` per branch (pyright reads the second def as a redeclaration)
                def rates(yy: np.ndarray, blocks=blocks, kveh=kveh) -> tuple[np.ndarray, np.ndarray]:  # pyright: ignore[reportRedeclaration]
                    return dynamics.compute_rates_mixture(yy, dp, ip, blocks, kveh)
            else:
                def rates(yy: np.ndarray, kveh=kveh) -> tuple[np.ndarray, np.ndarray]:
                    return dynamics.compute_rates(yy, dp, ip, None, kveh)

            y = step_production_loss(y, h / HOURS_PER_WEEK, rates)
            if track_pk:
                x = propagate(phis[h], x)
            if hours is not None:
                record_hours(d * grid.period_h + grid.starts_h[s], h, x_start, y_start)
        occ_day /= grid.period_h
        record(d + 1)
    end = {"y": y, "x": x, "emollient": emol, "treating": treating, "occupancy": occ_day,
           "applications": applied}
    return rec, end  # rec: (T, n) per name; callers transpose only what they keep


def simulate_patients(population: Any, regimen: Regimen, days: int, seed: SeedLike, *,
                      record: Iterable[str] | str = DEFAULT_RECORD, chunk_size: int = 16_384,
                      params: ParameterSet | None = None, blocked: Blocked = None,
                      max_step_h: float = 8.0, quadrature_nodes: int = 6,
                      progress: Callable[[int, int], None] | None = None, workers: int | None = None,
                      initial_state: SimulationState | None = None,
                      record_params: bool = False,
                      output_hours: Iterable[float] | None = None,
                      output_days: Iterable[int] | None = None, engine: str = "auto",
                      threads: int | None = None) -> Trajectories:
    """Simulate every patient of ``population`` under ``regimen`` for ``days`` days.

    ``population``: a :class:`dermsim.model.population.sampling.Population` (columns age_y, weight_kg,
    bsa_m2, affected_pct, easi0, iga0, nrs0), or a user table with those columns (CSV/Parquet path
    or DataFrame, checked by :mod:`dermsim.model.population.covariates`; bsa_m2 may come from height_cm).
    ``record``: names from RECORDABLE or "all".
    ``blocked``: which pathways the drug blocks (None = the JAK1/2 map; see jak.derive_pathway_imax).
    ``progress(done, total)`` is called after each chunk. ``workers`` threads run chunks in
    parallel (results are identical for any number of workers and any chunk size); None: one per
    core (one inside a Dask worker or a pinned worker process), so the NumPy parts of a chunk run
    beside another chunk's compiled kernel.
    ``initial_state``: continue from a saved :class:`SimulationState` (``Trajectories.final_state``
    of an earlier run with the same population, seed and parameters) instead of the untreated
    baseline; the regimen's schedule starts on that day, and the result's days are absolute
    (``day[0]`` = the state's day). The result's ``final_state`` is where every patient stands after
    the last day. ``record_params``: keep each patient's value of every parameter with
    inter-individual variability (``Trajectories.parameters``). ``output_hours``: hours of the run
    (0 to 24 x days, any grid) at which the recorded HOURLY_RECORDS are also kept
    (``Trajectories.hours``/``at_hours``, ``to_frame(grid="hours")``): plasma and local exposure
    exactly (matrix exponential from the step start), disease states interpolated linearly within a
    step; a time on a dose is before it. ``output_days``: the days (absolute, increasing, within
    the run, the first day first) whose daily records are kept, e.g. a trial's visits (None: every
    day); the others are neither scored nor stored, and the kept ones are the numbers a run keeping
    every day gives.
    ``engine``: "numba" (the compiled kernel, model.kernel), "numpy" (the reference
    path) or "auto" (numba if installed; env DERMSIM_ENGINE overrides); ``threads``: threads of the
    compiled kernel (None: all cores). Neither changes the numbers beyond rounding.
    """
    backend = resolve_backend(engine)
    if threads is not None:
        threads = check_int("threads", threads, minimum=1)
    if not isinstance(regimen, Regimen):
        raise InvalidInputError(f"regimen must be a Regimen; got {type(regimen).__name__}.")
    days = check_int("days", days, minimum=1, maximum=LIMITS["days"])
    chunk_size = check_int("chunk_size", chunk_size, minimum=1, maximum=LIMITS["chunk"])
    check_positive("max_step_h", max_step_h)
    quadrature_nodes = check_int("quadrature_nodes", quadrature_nodes, minimum=1)
    workers = default_workers() if workers is None else check_int("workers", workers, minimum=1,
                                                                     maximum=LIMITS["workers"])
    names = RECORDABLE if record == "all" else tuple([record] if isinstance(record, str) else record)
    if not names or any(not str(nm).strip() for nm in names):
        raise InvalidInputError(f"record must name at least one variable from {', '.join(RECORDABLE)}; "
                                f"got {record!r}.")
    for name in names:
        if name not in RECORDABLE:
            raise InvalidInputError(f"record must hold names from {', '.join(RECORDABLE)}; got {name!r}.")
    if record == "all" and getattr(population, "easi_region_pct", None) is None:
        names = tuple(nm for nm in names if nm != "easi_regional")
    hours = None
    hourly: tuple[str, ...] = ()
    if output_hours is not None:
        hours = np.asarray(list(output_hours), dtype=float).reshape(-1)
        if hours.size == 0 or not np.all(np.isfinite(hours)) or np.any(np.diff(hours) <= 0) \
                or hours[0] < 0 or hours[-1] > 24.0 * days:
            shown = f"{hours.min():g} to {hours.max():g}" if hours.size else "none"
            raise InvalidInputError(f"output_hours must be increasing hours within 0-{24 * days:g} (the "
                                    f"run's {days} days); got {len(hours)} values, {shown}.")
        hourly = tuple(nm for nm in names if nm in HOURLY_RECORDS)
        if not hourly:
            raise InvalidInputError(f"record must name a variable from {', '.join(HOURLY_RECORDS)} to keep "
                                    f"it at output_hours; got {', '.join(names)}.")
        # hourly outputs need the NumPy loop's per-step states: the whole run takes the reference
        # path (baseline included), so it equals engine="numpy" exactly
        backend = "numpy"
    seq = as_seed_sequence(seed)
    params = default_parameters() if params is None else params
    cols = _population_columns(population)
    n = cols["age_y"].shape[0]
    day0 = 0
    # over the whole run, not the chunk, so that the step grid never depends on the chunking
    drug_before = initial_state is not None and bool(np.any(initial_state.pk))
    if initial_state is not None:
        if not isinstance(initial_state, SimulationState):
            raise InvalidInputError(
                f"initial_state must be a SimulationState; got {type(initial_state).__name__}.")
        if initial_state.n != n:
            raise InvalidInputError(
                f"initial_state must hold the population's {n} patients; got {initial_state.n}.")
        if initial_state.seed != seed_record(seq):
            raise InvalidInputError("initial_state must come from a run with the same seed (the patients' "
                                    f"parameters and noise are keyed by it); got {initial_state.seed}.")
        day0 = initial_state.day
    kept = check_output_days(output_days, day0, days)
    t_out = kept.size
    # the recorded (n, kept days) arrays, plus one chunk's working states (~40 doubles per patient-step)
    check_memory(f"simulating {n:,} patients for {days:,} days ({len(names)} recorded variables)",
                 8.0 * n * t_out * len(names) + 8.0 * 40 * min(n, chunk_size) * (days + 1) * workers,
                 hint="record fewer variables (--record), simulate fewer patients per run, or a "
                 "shorter course")
    out = {name: np.empty((n, t_out), dtype=np.int8 if name == "iga" else float) for name in names}
    # per-patient constants: Css (nM), F, dose (mg) and cream (g/week; label: <= 60 g/week for >= 12 y)
    # of the regimen's top-level daily pattern, at the baseline barrier damage
    base = {k: np.empty(n) for k in ("css_nM", "F", "dose_mg", "grams_per_week", "D0", "B0", "Q0",
                                     "easi0", "iga0", "nrs_weekly0")}
    end = {"disease": np.empty((dynamics.N_STATES, n)), "pk": np.empty((pk.N_PK, n)),
           "emollient": np.empty(n), "treating": np.empty(n, dtype=bool), "occupancy": np.empty(n),
           "applications": np.empty(n),
           "nrs_tail": np.empty((n, NRS_TAIL))}
    lock = threading.Lock()
    done = [0]
    at_hours = {name: np.empty((n, hours.size)) for name in hourly} if hours is not None else {}
    individual: dict[str, np.ndarray] = {}
    if record_params:
        individual = {name: np.empty(n) for g in params.groups for name, par in params.group(g).items()
                      if par.omega > 0}

    def run(sl: slice) -> None:
        prep = prepare_patients(cols, regimen, params, seq, sl.start, sl.stop, blocked, backend)
        wanted = {name for name in names if name in STATE_RECORDS} | {"D", "Q"}
        start = None if initial_state is None else initial_state.chunk(sl)
        h_out = None
        if hours is not None:
            h_out = {nm: np.empty((hours.size, prep.n)) for nm in {*hourly, "D"} if nm != "easi_mean"}
        states_tn, last = _integrate(prep, regimen, days, max_step_h, quadrature_nodes, keep=wanted,
                                     start=start, drug_before=drug_before, hours=hours, hours_out=h_out,
                                     backend=backend, threads=threads)
        if h_out is not None:
            for nm in hourly:
                if nm == "easi_mean":
                    at_hours[nm][sl] = compute_easi_trajectory(prep.covariates["easi0"], h_out["D"].T,
                                                               prep.observation["p_easi"], severity0=prep.d0)
                else:
                    at_hours[nm][sl] = h_out[nm].T
        states = {name: states_tn[name].T for name in wanted}
        scores = observe_patients(prep, states, seq, days, day0=day0,
                                  nrs_tail=None if start is None else start["nrs_tail"], columns=kept,
                                  names=[nm for nm in names if nm in SCORE_RECORDS])
        for name in names:
            # a state's kept days are whole rows of its (days, patients) record: taken as rows, then
            # copied transposed once (a column gather of the transposed view built a temporary in
            # Fortran order first, then transposed it again into ``out``)
            out[name][sl] = scores[name] if name in SCORE_RECORDS else states_tn[name][kept].T
        # at the baseline barrier damage, as the integrator applies it
        damage0 = 1.0 - prep.y0[dynamics.B]
        base["css_nM"][sl] = pk.compute_css_nM(prep.pk, prep.pk.grams, regimen.strength_pct,
                                               regimen.applications_per_day, damage0)
        base["F"][sl] = pk.compute_bioavailability(prep.pk, prep.pk.grams, regimen.strength_pct, damage0)
        base["dose_mg"][sl] = pk.compute_dose_mg(prep.pk.grams, regimen.strength_pct)
        base["grams_per_week"][sl] = prep.pk.grams * regimen.applications_per_day * 7
        base["D0"][sl] = prep.d0
        base["B0"][sl] = prep.y0[dynamics.B]
        base["Q0"][sl] = prep.y0[dynamics.Q]
        base["easi0"][sl] = prep.covariates["easi0"]
        base["iga0"][sl] = prep.covariates["iga0"]
        young = prep.covariates["age_y"] < prep.observation["nrs_min_age"]
        base["nrs_weekly0"][sl] = np.where(young, np.nan, prep.covariates["nrs0"])
        end["disease"][:, sl] = last["y"]
        end["pk"][:, sl] = last["x"]
        for k in ("emollient", "treating", "occupancy", "applications"):
            end[k][sl] = last[k]
        end["nrs_tail"][sl] = scores["nrs_tail_end"]
        for name, arr in individual.items():
            arr[sl] = prep.individual[name]
        with lock:
            done[0] += sl.stop - sl.start
            if progress is not None:
                progress(done[0], n)

    chunks = list(iter_chunks(n, chunk_size))
    if backend == "numba":
        ensure_compiled()  # a cold numba cache compiles on two cores, not one (model.precompile)
    # Chunks write disjoint rows and draw from streams keyed by patient index, so threads change
    # neither the numbers nor their order. NumPy releases the GIL inside array loops; BLAS is
    # pinned to one thread so that two workers do not oversubscribe two cores.
    with one_blas_thread():
        if workers == 1 or len(chunks) == 1:
            for sl in chunks:
                run(sl)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for fut in [pool.submit(run, sl) for sl in chunks]:
                    fut.result()
    jak = {k: p.value for k, p in params.group("jak").items()}
    imax = derive_pathway_imax(jak["Imax"], jak["phi_partial"], blocked)
    blocked_label = blocked if isinstance(blocked, str) else ("jak1/2" if blocked is None else
                                                              "+".join(sorted(map(str, blocked))))
    final = SimulationState(day=day0 + days, disease=end["disease"], pk=end["pk"], emollient=end["emollient"],
                            treating=end["treating"], occupancy=end["occupancy"],
                            applications=end["applications"], nrs_tail=end["nrs_tail"],
                            seed=seed_record(seq))
    return Trajectories(day=(day0 + kept).astype(float), values=out, baseline=base,
                        regimen=regimen, population_name=str(getattr(population, "name", "")),
                        seed=seed_record(seq), blocked=blocked_label,
                        extra={"max_step_h": max_step_h, "quadrature_nodes": quadrature_nodes,
                               "pathway_imax": dict(zip(PATHWAYS, map(float, imax), strict=True))},
                        final_state=final, parameters=individual, hours=hours, at_hours=at_hours)


@dataclass(frozen=True)
class PatientColumns:
    """The Population columns simulate_patients reads, for callers without a sampled population
    (a single typical patient for export, hand-built cohorts in tests)."""

    age_y: np.ndarray
    weight_kg: np.ndarray
    bsa_m2: np.ndarray
    affected_pct: np.ndarray
    easi0: np.ndarray
    iga0: np.ndarray
    nrs0: np.ndarray
    name: str = "custom"

    @property
    def n(self) -> int:
        return int(self.age_y.shape[0])


def make_patient(*, age_y: float = 6.5, weight_kg: float = 22.0, height_cm: float = 118.0,
                 affected_pct: float = 10.5, easi0: float = 8.6, iga0: int = 3,
                 nrs0: float = 5.0) -> PatientColumns:
    """One patient from covariates (defaults: a typical TRuE-AD3 child, clinical_facts.md 1b;
    BSA by Mosteller)."""
    check_range("age_y", age_y, 0.0, 120.0)
    check_range("affected_pct", affected_pct, 0.0, 100.0)
    check_positive("weight_kg", weight_kg)
    check_positive("height_cm", height_cm)
    bsa = float(np.sqrt(height_cm * weight_kg / 3600.0))
    return PatientColumns(age_y=np.array([float(age_y)]), weight_kg=np.array([float(weight_kg)]),
                          bsa_m2=np.array([bsa]), affected_pct=np.array([float(affected_pct)]),
                          easi0=np.array([float(easi0)]), iga0=np.array([int(iga0)], dtype=np.int8),
                          nrs0=np.array([float(nrs0)]), name="single patient")
