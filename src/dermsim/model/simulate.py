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
* disease core and itch: the engine's second-order exponential production-loss step with the
  step-mean vehicle rate.

Outputs are daily (day 0 = baseline, pre-dose) and observation noise comes from separate streams,
so the same seed gives the same arrays for any chunk size.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from dermsim import __version__
from dermsim._rng import SeedLike, as_seed_sequence, child_sequence, seed_record
from dermsim._validate import check_int, check_positive
from dermsim.engine import (
    block_normals,
    block_uniforms,
    build_day_grid,
    compute_transition,
    gauss_legendre_unit,
    iter_chunks,
    propagate,
    step_production_loss,
)
from dermsim.errors import InvalidInputError
from dermsim.model import disease, pk
from dermsim.model.itch import compute_itch_placebo
from dermsim.model.jak import PATHWAYS, Blocked, compute_occupancy, derive_pathway_imax
from dermsim.model.parameters import ParameterSet, compute_individual_values, default_parameters
from dermsim.model.regimen import Regimen
from dermsim.model.scores import (
    compute_easi_regional,
    compute_easi_trajectory,
    compute_iga,
    compute_nrs_daily,
    compute_patient_endpoints,
    compute_weekly_mean,
    sample_iga_offsets,
)

HOURS_PER_WEEK = 168.0
# states recorded from the integration (n, T) and scores derived from them
# occupancy: mean over the preceding day of u^h/(1+u^h); pathway j is blocked by Imax_j x occupancy
STATE_RECORDS = ("B", "P", "Th1", "Th2", "Th17", "Th22", "Q", "D", "cp_nM", "u", "occupancy")
# easi_regional: region-by-region EASI (needs the population's easi_region_pct)
SCORE_RECORDS = ("easi", "easi_mean", "easi_regional", "iga", "nrs", "nrs_weekly")
RECORDABLE = STATE_RECORDS + SCORE_RECORDS
DEFAULT_RECORD = ("easi", "iga", "nrs_weekly", "cp_nM", "u", "B", "P", "Q", "D")
# random stream ids below the seed (engine.streams)
# namespaced below the user's seed, so the population sampler (0x504F50) or a trial layer that
# spawns (seed, i) children never draws the same numbers
MODEL_STREAM_KEY = 0x4D4F44  # "MOD"
_S_PARAMS, _S_EASI, _S_IGA_VISIT, _S_IGA_U1, _S_IGA_U2, _S_NRS = range(6)
_POP_FIELDS = ("age_y", "weight_kg", "bsa_m2", "affected_pct", "easi0", "iga0", "nrs0")


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

    @property
    def n(self) -> int:
        return int(next(iter(self.values.values())).shape[0])

    @property
    def n_days(self) -> int:
        return int(self.day.shape[0] - 1)

    def __getitem__(self, name: str) -> np.ndarray:
        if name in self.values:
            return self.values[name]
        if name in self.baseline:
            return self.baseline[name]
        names = ", ".join([*self.values, *self.baseline])
        raise InvalidInputError(f"name must be one of {names}; got {name!r}.")

    def endpoints(self, day: int) -> dict[str, np.ndarray]:
        """Patient-level IGA-TS, EASI-50/75/90, %change EASI and NRS4 at ``day``."""
        for need in ("easi", "iga"):
            if need not in self.values:
                raise InvalidInputError(f"record must include '{need}' to compute endpoints.")
        return compute_patient_endpoints(self.values["easi"], self.values["iga"],
                                         self.values.get("nrs_weekly"), day)

    def inhibition(self) -> dict[str, np.ndarray]:
        """Daily-mean fractional block per pathway (n, T): Imax_j x occupancy (needs 'occupancy')."""
        if "occupancy" not in self.values:
            raise InvalidInputError("record must include 'occupancy' to compute the inhibition.")
        occ = self.values["occupancy"]
        return {name: imax * occ for name, imax in self.extra["pathway_imax"].items()}

    def to_frame(self, layout: str = "wide"):
        """pandas frame: ``wide`` (patient, day, one column per variable) or ``long``."""
        import pandas as pd

        n, t = self.n, self.day.shape[0]
        base = {"patient": np.repeat(np.arange(n), t), "day": np.tile(self.day, n)}
        if layout == "wide":
            return pd.DataFrame({**base, **{k: v.reshape(-1) for k, v in self.values.items()}})
        if layout == "long":
            frames = [pd.DataFrame({**base, "variable": k, "value": v.reshape(-1).astype(float)})
                      for k, v in self.values.items()]
            return pd.concat(frames, ignore_index=True)
        raise InvalidInputError(f"layout must be one of wide, long; got {layout!r}.")

    def metadata(self) -> dict[str, Any]:
        return {"population": self.population_name, "regimen": self.regimen.to_dict(),
                "seed": self.seed, "version": self.version, "blocked": self.blocked,
                "n_patients": self.n, "n_days": self.n_days, **dict(self.extra)}


@dataclass(frozen=True)
class PreparedPatients:
    """Everything about a block of patients before time starts (used by the engine and references)."""

    start: int
    disease: dict[str, np.ndarray]
    itch: dict[str, np.ndarray]
    vehicle: dict[str, np.ndarray]
    observation: dict[str, float]
    pk: pk.PatientPK
    y0: np.ndarray                # (7, n) baseline steady state
    imax: np.ndarray              # (6,) per pathway
    hill: float
    covariates: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return int(self.y0.shape[1])


def _population_columns(population: Any) -> dict[str, np.ndarray]:
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
                     seed: SeedLike, start: int, stop: int, blocked: Blocked = None) -> PreparedPatients:
    """Parameters, baseline steady state and PK of patients [start, stop) (absolute indices)."""
    names = params.names()
    seed = child_sequence(seed, MODEL_STREAM_KEY)
    z_all = block_normals(seed, _S_PARAMS, start, stop, len(names))
    z = {name: z_all[:, i] for i, name in enumerate(names)}
    n = stop - start
    ind = {g: compute_individual_values(params, g, z, n) for g in params.groups}
    y0 = disease.solve_baseline(ind["disease"], ind["itch"])
    sl = slice(start, stop)
    cov = {k: np.asarray(v[sl], float) for k, v in cols.items()}
    patient_pk = pk.derive_patient_pk(ind["pk"], regimen, weight_kg=cov["weight_kg"], bsa_m2=cov["bsa_m2"],
                                      affected_pct=cov["affected_pct"], age_y=cov["age_y"])
    jak = {k: v[0] for k, v in ind["jak"].items()}
    imax = derive_pathway_imax(jak["Imax"], jak["phi_partial"], blocked)
    obs = {k: float(v[0]) for k, v in ind["observation"].items()}
    return PreparedPatients(start=start, disease=ind["disease"], itch=ind["itch"], vehicle=ind["vehicle"],
                            observation=obs, pk=patient_pk, y0=y0, imax=imax, hill=float(jak["hill"]),
                            covariates=cov)


def observe_patients(prep: PreparedPatients, states: Mapping[str, np.ndarray], seed: SeedLike,
                     days: int, regional: bool = False) -> dict[str, np.ndarray]:
    """Scores (n, T) from recorded D and Q: EASI, noise-free EASI, IGA, daily and weekly NRS."""
    start, stop, t = prep.start, prep.start + prep.n, days + 1
    seed = child_sequence(seed, MODEL_STREAM_KEY)
    obs = prep.observation
    cov = prep.covariates
    sev = states["D"]
    eps = block_normals(seed, _S_EASI, start, stop, t) * obs["sigma_easi"]
    eps[:, 0] = 0.0
    easi_mean = compute_easi_trajectory(cov["easi0"], sev, obs["p_easi"])
    easi = compute_easi_trajectory(cov["easi0"], sev, obs["p_easi"], eps)
    u1 = block_uniforms(seed, _S_IGA_U1, start, stop, 1)[:, 0]
    u2 = block_normals(seed, _S_IGA_U2, start, stop, 1)[:, 0]
    offset, e0 = sample_iga_offsets(cov["easi0"], cov["iga0"], obs, u1, u2)
    visit = block_normals(seed, _S_IGA_VISIT, start, stop, t) * obs["iga_sigma_e"]
    visit[:, 0] = e0
    iga = compute_iga(easi, sev, offset, visit, obs)
    q = states["Q"]
    weeks = np.arange(t) / 7.0
    placebo = compute_itch_placebo(weeks[None, :], {k: v[:, None] for k, v in prep.vehicle.items()})
    noise = block_normals(seed, _S_NRS, start, stop, t) * obs["sigma_nrs"]
    noise[:, 0] = 0.0
    nrs = compute_nrs_daily(cov["nrs0"], q / q[:, :1], placebo, noise)
    nrs_weekly = compute_weekly_mean(nrs, cov["nrs0"])
    too_young = cov["age_y"] < obs["nrs_min_age"]
    nrs[too_young] = np.nan
    nrs_weekly[too_young] = np.nan
    out = {"easi": easi, "easi_mean": easi_mean, "iga": iga, "nrs": nrs, "nrs_weekly": nrs_weekly}
    if regional:
        if "easi_region_pct" not in cov:
            raise InvalidInputError(
                "population must have a column 'easi_region_pct' to record easi_regional.")
        out["easi_regional"] = compute_easi_regional(cov["easi0"], cov["easi_region_pct"], cov["age_y"],
                                                     sev / sev[:, :1], obs["p_easi"], obs["easi_area_share"])
    return out


def _integrate(prep: PreparedPatients, regimen: Regimen, days: int, max_step_h: float,
               n_nodes: int, keep: Iterable[str] = STATE_RECORDS) -> dict[str, np.ndarray]:
    """Advance prepared patients ``days`` days; states at day boundaries, each (days + 1, n)."""
    n = prep.n
    grid = build_day_grid(regimen.application_times_h, max_step_h=max_step_h)
    p = prep.pk
    has_drug = (not regimen.is_vehicle) and bool(np.any(prep.imax > 0)) and bool(np.any(p.grams > 0))
    K = pk.compute_rate_matrix(p)
    nodes, weights = gauss_legendre_unit(n_nodes)
    phis, node_rows = {}, {}
    for h in grid.distinct_steps_h():
        phis[h] = compute_transition(K, h)
        rows = []
        for c in nodes:
            phc = compute_transition(K, c * h)
            rows.append(pk.compute_exposure_rows(phc, p))  # (4, n)
        node_rows[h] = rows
    t_out = days + 1
    keep = set(keep)
    rec = {name: np.empty((t_out, n)) for name in STATE_RECORDS if name in keep}  # (T, n) rows
    x = np.zeros((pk.N_PK, n))
    y = prep.y0.copy()
    damage0 = 1.0 - prep.y0[disease.B]
    dp, ip, vp = prep.disease, prep.itch, prep.vehicle

    def record(d: int) -> None:
        for i, name in enumerate(disease.STATES):
            if name in rec:
                rec[name][d] = y[i]
        if "D" in rec:
            rec["D"][d] = disease.compute_severity(y)
        if "cp_nM" in rec:
            rec["cp_nM"][d] = pk.compute_plasma_nM(x, p)
        if "u" in rec:
            rec["u"][d] = pk.compute_local_exposure(x, p)
        if "occupancy" in rec:
            rec["occupancy"][d] = occ_day / grid.period_h

    occ_day = np.zeros(n)
    record(0)
    for d in range(days):
        occ_day = np.zeros(n)
        for s in range(grid.n_steps):
            h = grid.steps_h[s]
            t0 = d * grid.period_h + grid.starts_h[s]
            if grid.event_at_start[s] >= 0 and not regimen.is_vehicle:
                # absorbed input of this application at the baseline barrier damage (pk.py docstring)
                x[pk.SURF] += pk.compute_absorbed_mg(p, p.grams, regimen.strength_pct, damage0)
            kveh = disease.compute_vehicle_rate_mean(t0 / HOURS_PER_WEEK, (t0 + h) / HOURS_PER_WEEK, vp)
            if has_drug:
                occs = []
                for row in node_rows[h]:
                    u = row[0] * x[0] + row[1] * x[1] + row[2] * x[2] + row[3] * x[3]
                    occs.append(compute_occupancy(u, prep.hill))
                mean = sum(w * o for w, o in zip(weights, occs, strict=True))
                sd = np.sqrt(sum(w * (o - mean) ** 2 for w, o in zip(weights, occs, strict=True)))
                occ_day += h * mean
                # The block enters the rates non-linearly and swings within hours of a dose, so the
                # step-mean rate is not the rate at the step-mean block (Jensen). Two sigma points
                # with the mean and variance of the block over the step's quadrature nodes give the
                # step-mean rates to second order in the swing, at two rate evaluations instead of
                # one per node.
                inh_lo = prep.imax[:, None] * np.clip(mean - sd, 0.0, 1.0)[None, :]
                inh_hi = prep.imax[:, None] * np.clip(mean + sd, 0.0, 1.0)[None, :]

                blocks = ((0.5, inh_lo), (0.5, inh_hi))

                def rates(yy: np.ndarray, blocks=blocks, kveh=kveh) -> tuple[np.ndarray, np.ndarray]:
                    return disease.compute_rates_mixture(yy, dp, ip, blocks, kveh)
            else:
                def rates(yy: np.ndarray, kveh=kveh) -> tuple[np.ndarray, np.ndarray]:
                    return disease.compute_rates(yy, dp, ip, None, kveh)

            y = step_production_loss(y, h / HOURS_PER_WEEK, rates)
            if has_drug or np.any(x):
                x = propagate(phis[h], x)
        record(d + 1)
    return rec  # (T, n) per name: callers transpose only what they keep


def simulate_patients(population: Any, regimen: Regimen, days: int, seed: SeedLike, *,
                      record: Iterable[str] | str = DEFAULT_RECORD, chunk_size: int = 16_384,
                      params: ParameterSet | None = None, blocked: Blocked = None,
                      max_step_h: float = 8.0, quadrature_nodes: int = 6,
                      progress: Callable[[int, int], None] | None = None, workers: int = 1) -> Trajectories:
    """Simulate every patient of ``population`` under ``regimen`` for ``days`` days.

    ``population``: a :class:`dermsim.model.population.Population` (columns age_y, weight_kg,
    bsa_m2, affected_pct, easi0, iga0, nrs0). ``record``: names from RECORDABLE or "all".
    ``blocked``: which pathways the drug blocks (None = the JAK1/2 map; see jak.derive_pathway_imax).
    ``progress(done, total)`` is called after each chunk. ``workers`` threads run chunks in
    parallel (results are identical for any number of workers and any chunk size).
    """
    if not isinstance(regimen, Regimen):
        raise InvalidInputError(f"regimen must be a Regimen; got {type(regimen).__name__}.")
    days = check_int("days", days, minimum=1)
    chunk_size = check_int("chunk_size", chunk_size, minimum=1)
    check_positive("max_step_h", max_step_h)
    quadrature_nodes = check_int("quadrature_nodes", quadrature_nodes, minimum=1)
    workers = check_int("workers", workers, minimum=1)
    names = RECORDABLE if record == "all" else tuple([record] if isinstance(record, str) else record)
    for name in names:
        if name not in RECORDABLE:
            raise InvalidInputError(f"record must hold names from {', '.join(RECORDABLE)}; got {name!r}.")
    if record == "all" and getattr(population, "easi_region_pct", None) is None:
        names = tuple(nm for nm in names if nm != "easi_regional")
    seq = as_seed_sequence(seed)
    params = default_parameters() if params is None else params
    cols = _population_columns(population)
    n = cols["age_y"].shape[0]
    t_out = days + 1
    out = {name: np.empty((n, t_out), dtype=np.int8 if name == "iga" else float) for name in names}
    # per-patient constants: Css (nM), F, dose (mg) and cream (g/week; label: <= 60 g/week for >= 12 y)
    base = {k: np.empty(n) for k in ("css_nM", "F", "dose_mg", "grams_per_week", "D0", "B0", "Q0")}
    lock = threading.Lock()
    done = [0]

    def run(sl: slice) -> None:
        prep = prepare_patients(cols, regimen, params, seq, sl.start, sl.stop, blocked)
        wanted = {name for name in names if name in STATE_RECORDS}
        if set(names) & set(SCORE_RECORDS):
            wanted |= {"D", "Q"}
        states_tn = _integrate(prep, regimen, days, max_step_h, quadrature_nodes, keep=wanted)
        states = {name: states_tn[name].T for name in wanted}
        scores = (observe_patients(prep, states, seq, days, regional="easi_regional" in names)
                  if set(names) & set(SCORE_RECORDS) else {})
        for name in names:
            out[name][sl] = scores[name] if name in SCORE_RECORDS else states[name]
        # at the baseline barrier damage, as the integrator applies it
        damage0 = 1.0 - prep.y0[disease.B]
        base["css_nM"][sl] = pk.compute_css_nM(prep.pk, prep.pk.grams, regimen.strength_pct,
                                               regimen.applications_per_day, damage0)
        base["F"][sl] = pk.compute_bioavailability(prep.pk, prep.pk.grams, regimen.strength_pct, damage0)
        base["dose_mg"][sl] = pk.compute_dose_mg(prep.pk.grams, regimen.strength_pct)
        base["grams_per_week"][sl] = prep.pk.grams * regimen.applications_per_day * 7
        base["D0"][sl] = disease.compute_severity(prep.y0)
        base["B0"][sl] = prep.y0[disease.B]
        base["Q0"][sl] = prep.y0[disease.Q]
        with lock:
            done[0] += sl.stop - sl.start
            if progress is not None:
                progress(done[0], n)

    chunks = list(iter_chunks(n, chunk_size))
    # Chunks write disjoint rows and draw from streams keyed by patient index, so threads change
    # neither the numbers nor their order. NumPy releases the GIL inside array loops; BLAS is
    # pinned to one thread so that two workers do not oversubscribe two cores.
    with threadpool_limits(limits=1):
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
    return Trajectories(day=np.arange(t_out, dtype=float), values=out, baseline=base, regimen=regimen,
                        population_name=str(getattr(population, "name", "")), seed=seed_record(seq),
                        blocked=blocked_label,
                        extra={"max_step_h": max_step_h, "quadrature_nodes": quadrature_nodes,
                               "pathway_imax": dict(zip(PATHWAYS, map(float, imax), strict=True))})


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
    check_positive("weight_kg", weight_kg)
    check_positive("height_cm", height_cm)
    bsa = float(np.sqrt(height_cm * weight_kg / 3600.0))
    return PatientColumns(age_y=np.array([float(age_y)]), weight_kg=np.array([float(weight_kg)]),
                          bsa_m2=np.array([bsa]), affected_pct=np.array([float(affected_pct)]),
                          easi0=np.array([float(easi0)]), iga0=np.array([int(iga0)], dtype=np.int8),
                          nrs0=np.array([float(nrs0)]), name="single patient")
