"""Simulated summaries of candidate parameter sets, with common random numbers.

For each candidate, the same virtual patients (one population sample, one model seed: same
parameter draws, same observation noise) are run through vehicle, 0.75 % and 1.5 % BID for 8
weeks with :func:`dermsim.model.simulate.simulate_patients`, and the patient-level endpoints
(:meth:`Trajectories.endpoints`) give arm-level stats: expected IGA-TS, EASI-75 and NRS4
proportions per arm, mean Css and mean F per strength. Arm-level *summaries* then add the
trial's sampling noise: responders ~ Binomial(n_arm, p), drawn by inverse CDF from one fixed
uniform per target, so that the same uniform is used for every candidate (common random
numbers across arms and candidates: distances differ only through the parameters).

TRuE-AD1 and TRuE-AD2 share their (pooled) baseline population spec, design and arms, so one
simulated population serves both; they differ in their observed values and arm sizes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit

from dermsim._rng import SeedLike, as_seed_sequence, child_generator, child_sequence
from dermsim._validate import check_int
from dermsim.calibration.priors import Prior, apply_parameters, trial_effect_name
from dermsim.calibration.targets import TargetSet
from dermsim.errors import InvalidInputError, SolverError
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.population.sampling import sample_population
from dermsim.model.simulate import simulate_patients

STRENGTHS_PCT = (0.0, 0.75, 1.5)
ARM_OF_STRENGTH = {0.0: "vehicle", 0.75: "rux075", 1.5: "rux150"}
ENDPOINT_STAT = {"IGA-TS": "iga_ts", "EASI-75": "easi75", "NRS4": "nrs4"}
WEEK8_DAY = 56
# stat columns: responder proportions per arm, then PK means per active strength
STAT_NAMES = tuple(f"{e}@{s:g}" for s in STRENGTHS_PCT for e in ("iga_ts", "easi75", "nrs4")) + tuple(
    f"{k}@{s:g}" for s in STRENGTHS_PCT[1:] for k in ("mean_css_nM", "mean_F_pct"))
_POP_KEY, _SIM_KEY, _BINOM_KEY = 1, 2, 3


@dataclass(frozen=True)
class SimulationSetup:
    """What stays fixed across candidates: the virtual patients and the random streams."""

    population: object
    seed: np.random.SeedSequence
    n_vp: int
    population_name: str
    days: int = WEEK8_DAY


def make_setup(population_name: str, n_vp: int, seed: SeedLike) -> SimulationSetup:
    """Sample ``n_vp`` virtual patients of ``population_name`` (shared by every arm and candidate)."""
    n_vp = check_int("n_vp", n_vp, minimum=10)
    seq = as_seed_sequence(seed)
    pop = sample_population(population_name, n_vp, seed=child_sequence(seq, _POP_KEY))
    return SimulationSetup(population=pop, seed=child_sequence(seq, _SIM_KEY), n_vp=n_vp,
                           population_name=population_name)


def simulate_stats(natural: np.ndarray, prior: Prior, setup: SimulationSetup,
                   progress: Callable[[int], None] | None = None, *, blocked=None) -> np.ndarray:
    """Arm-level stats (m, len(STAT_NAMES)) for ``m`` candidates (rows of natural-scale values).

    Each candidate is one vectorised simulation of all patients per arm; the loop runs over
    candidates and arms only (the model takes scalar typical values per call).
    """
    natural = np.atleast_2d(np.asarray(natural, float))
    out = np.empty((natural.shape[0], len(STAT_NAMES)))
    for i, x in enumerate(natural):
        try:
            out[i] = _simulate_one(x, prior, setup, blocked)
        except (InvalidInputError, SolverError):
            # a candidate the model refuses (e.g. an invalid combination) gets NaN stats, hence an
            # infinite distance: it is never accepted, and the run goes on
            out[i] = np.nan
        if progress is not None:
            progress(1)
    return out


def _simulate_one(x: np.ndarray, prior: Prior, setup: SimulationSetup, blocked: object) -> list[float]:
    params = apply_parameters(x, prior)
    row: dict[str, float] = {}
    for s in STRENGTHS_PCT:
        traj = simulate_patients(setup.population, Regimen.bid(s), setup.days, setup.seed,
                                 record=("easi", "iga", "nrs_weekly"), params=params, blocked=blocked,
                                 output_days=(0, setup.days))
        ep = traj.endpoints(setup.days)
        row[f"iga_ts@{s:g}"] = float(np.mean(ep["iga_ts"]))
        row[f"easi75@{s:g}"] = float(np.mean(ep["easi75"]))
        nrs4 = ep["nrs4"]
        row[f"nrs4@{s:g}"] = float(np.nanmean(nrs4)) if np.any(np.isfinite(nrs4)) else np.nan
        if s > 0:
            row[f"mean_css_nM@{s:g}"] = float(np.mean(traj.baseline["css_nM"]))
            row[f"mean_F_pct@{s:g}"] = 100.0 * float(np.mean(traj.baseline["F"]))
    return [row[k] for k in STAT_NAMES]


def stat_index(targets: TargetSet) -> np.ndarray:
    """Column of STAT_NAMES that each target is compared with."""
    idx = []
    for t in targets.targets:
        if t.kind == "binary":
            if t.endpoint not in ENDPOINT_STAT:
                raise InvalidInputError(f"target endpoint must be one of {', '.join(ENDPOINT_STAT)}; "
                                        f"got {t.endpoint!r}.")
            key = f"{ENDPOINT_STAT[t.endpoint]}@{t.strength_pct:g}"
        else:
            key = f"{t.endpoint}@{t.strength_pct:g}"
        if key not in STAT_NAMES:
            raise InvalidInputError(f"target {t.name} has no simulated stat {key}.")
        idx.append(STAT_NAMES.index(key))
    return np.array(idx)


def binomial_uniforms(targets: TargetSet, seed: SeedLike, n_rep: int = 1) -> np.ndarray:
    """Fixed uniforms (n_rep, K) for the binomial sampling of each target (CRN across candidates)."""
    return child_generator(seed, _BINOM_KEY).uniform(size=(n_rep, len(targets)))


def compute_trial_shift(natural: np.ndarray, prior: Prior, targets: TargetSet) -> np.ndarray:
    """Logit shift (m, K) of each binary target: trial_sd x xi_trial (0 for PK, or without them)."""
    natural = np.atleast_2d(natural)
    names = prior.names
    out = np.zeros((natural.shape[0], len(targets)))
    if "trial_sd" not in names:
        return out
    sd = natural[:, names.index("trial_sd")]
    for k, t in enumerate(targets.targets):
        xi = trial_effect_name(t.trial)
        if t.kind == "binary" and xi in names:
            out[:, k] = sd * natural[:, names.index(xi)]
    return out


def shift_logit(p: np.ndarray, shift: np.ndarray | float) -> np.ndarray:
    """expit(logit(p) + shift), with p clipped away from 0 and 1."""
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return expit(logit(q) + shift)


def compute_summaries(stats: np.ndarray, targets: TargetSet, uniforms: np.ndarray,
                      shift: np.ndarray | None = None) -> np.ndarray:
    """Summaries (m, K): binomial proportions at the real arm sizes (responder logits shifted by
    ``shift``, the trial effects), PK means as simulated."""
    # imported here: scipy.stats takes about 0.9 s to import, and every command that loads the
    # model's posterior (simulate, trial, design) imports this module without calling this function
    from scipy.stats import binom

    stats = np.atleast_2d(stats)
    p = stats[:, stat_index(targets)]
    binary = np.array([t.kind == "binary" for t in targets.targets])
    if shift is not None:
        p = np.where(binary[None, :], shift_logit(p, shift), p)
    n = np.array([t.n for t in targets.targets], float)
    u = np.broadcast_to(np.asarray(uniforms).reshape(-1)[: len(targets)], p.shape)
    draws = binom.ppf(u, n, np.clip(np.nan_to_num(p, nan=0.0), 0.0, 1.0)) / n
    return np.where(np.isnan(p), np.nan, np.where(binary[None, :], draws, p))


def compute_distance(summaries: np.ndarray, targets: TargetSet, mask: np.ndarray | None = None) -> np.ndarray:
    """Weighted sum of squared standardised residuals (model.md 2.10); NaN summaries give +inf."""
    r2 = targets.weights * ((np.atleast_2d(summaries) - targets.values) / targets.se) ** 2
    if mask is not None:
        r2 = r2[:, np.asarray(mask, bool)]
    d = np.sum(r2, axis=1)
    return np.where(np.isfinite(d), d, np.inf)
