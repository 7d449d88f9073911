"""``calibrate``: targets + seed -> posterior (the function behind ``dermsim calibrate``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dermsim._validate import LIMITS, check_int
from dermsim.calibration.posterior import Posterior, code_version, model_parameters_sha256
from dermsim.calibration.priors import Prior, default_prior
from dermsim.calibration.smc import SMCConfig, compute_proposal_mixture_logpdf, run_abc_smc
from dermsim.calibration.summaries import (
    STAT_NAMES,
    binomial_uniforms,
    compute_distance,
    compute_summaries,
    compute_trial_shift,
    make_setup,
    simulate_stats,
)
from dermsim.calibration.targets import DEFAULT_TARGETS, load_targets
from dermsim.errors import InvalidInputError

CALIBRATION_POPULATION = "true-ad1"  # pooled TRuE-AD1/2 baseline (true-ad2.toml is the same spec)


@dataclass(frozen=True)
class CalibrationConfig:
    """Size of a calibration run (the shipped run: 1,500 virtual patients per arm, 120 particles,
    300 prior draws, then 11 generations of 60 replenished particles x 3 MCMC moves: at most 2,280
    candidates, fewer in practice (moves the prior rejects are not simulated); 10-25 min of wall
    time on the shared 2-core machine)."""

    n_vp: int = 1500
    smc: SMCConfig = field(default_factory=SMCConfig)
    population: str = CALIBRATION_POPULATION

    def __post_init__(self) -> None:
        check_int("n_vp", self.n_vp, minimum=10, maximum=LIMITS["subjects"])

    def to_dict(self) -> dict[str, Any]:
        return {"n_vp": self.n_vp, "population": self.population, **self.smc.to_dict()}


def calibrate(seed: int, *, targets_path: str | Path | None = None, config: CalibrationConfig | None = None,
              checkpoint: str | Path | None = None, resume: bool = False, prior: Prior | None = None,
              progress: Callable[[int, int], None] | None = None, command: str = "",
              version: str | None = None, stop_after: int | None = None) -> Posterior:
    """Fit the calibrated parameters to the targets by ABC-SMC; returns the posterior
    (version: ``<targets version>-s<seed>`` unless given)."""
    config = CalibrationConfig() if config is None else config
    targets_path = Path(targets_path) if targets_path is not None else DEFAULT_TARGETS
    targets = load_targets(targets_path)
    version = version or f"{targets.version}-s{seed}"
    prior = default_prior() if prior is None else prior
    setup = make_setup(config.population, config.n_vp, seed)
    uniforms = binomial_uniforms(targets, seed)

    def evaluate(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        natural = prior.to_natural(z)
        stats = simulate_stats(natural, prior, setup)
        shift = compute_trial_shift(natural, prior, targets)
        return compute_distance(compute_summaries(stats, targets, uniforms, shift), targets), stats

    meta = {"targets_sha256": targets.sha256, "calibration": config.to_dict(), "prior": prior.to_dict()}
    state = run_abc_smc(prior, evaluate, config.smc, seed, checkpoint=checkpoint, resume=resume, meta=meta,
                        progress=progress, stop_after=stop_after)
    log_q = compute_proposal_mixture_logpdf(state, prior, state.all_z)

    def rnd(a: np.ndarray) -> list:
        return np.round(np.asarray(a, float), 6).tolist()

    extra = {
        "created_by": command or f"dermsim calibrate --seed {seed}",
        "model_parameters_sha256": model_parameters_sha256(),
        "calibration": config.to_dict(),
        "targets": targets.to_dict()["targets"],
        "stat_names": list(STAT_NAMES),
        "smc": {"generations_done": state.generation + 1, "epsilons": state.epsilons, "ess": state.ess,
                "acceptance": state.acceptance, "distinct": state.distinct},
        "distances": rnd(state.distances),
        "stats": rnd(state.stats),
        "archive": {"z": rnd(state.all_z), "stats": rnd(state.all_stats),
                    "generation": state.all_generation.astype(int).tolist(), "log_q": rnd(log_q)},
    }
    return Posterior(version=version, names=tuple(prior.names), draws=prior.to_natural(state.particles),
                     weights=state.weights, prior=prior, targets_sha256=targets.sha256,
                     targets_version=targets.version, code_version=code_version(), seed=int(seed),
                     command=extra["created_by"], meta=extra)


# --- second version: CRN Gaussian likelihood, MAP + Laplace + importance sampling -------------

def calibrate_v2(seed: int, *, targets_path: str | Path | None = None, config: Any = None,
                 prior: Prior | None = None, n_vp_scale: float = 1.0, command: str = "",
                 version: str | None = None, z0: np.ndarray | str | Path | None = None,
                 log: Callable[[str], None] = lambda s: None) -> Posterior:
    """Fit the v2 targets (targets/v2.toml) by the method of :mod:`dermsim.calibration.laplace`;
    the posterior's draws are the importance-sampling draws with their normalised weights."""
    import time

    from dermsim.calibration.laplace import LaplaceISConfig, run_laplace_is
    from dermsim.calibration.likelihood import Objective
    from dermsim.calibration.priors import v2_prior
    from dermsim.calibration.targets import V2_TARGETS

    config = LaplaceISConfig() if config is None else config
    targets_path = Path(targets_path) if targets_path is not None else V2_TARGETS
    targets = load_targets(targets_path)
    mode = "laplace-provisional-" if config.mode == "laplace" else ""
    given_version = version
    version = version or f"{targets.version}-{mode}s{seed}"
    prior = v2_prior() if prior is None else prior
    if isinstance(z0, str | Path):
        z0 = start_point(prior, z0)
    t0 = time.perf_counter()
    objective = Objective(targets, prior, seed, n_vp_scale=n_vp_scale)
    res = run_laplace_is(objective, config, seed, z0=z0, log=log)
    if config.mode == "emulator" and given_version is None and not (
            res.is_info["converged"] and res.is_info["exact_check_ok"]):
        version = f"{targets.version}-provisional-s{seed}"   # the stated rule did not accept it

    def rnd(a: np.ndarray, digits: int = 6) -> list:
        return np.round(np.asarray(a, float), digits).tolist()

    sd = np.sqrt(np.diag(res.cov))
    extra = {
        "created_by": command or f"dermsim calibrate --seed {seed} --targets {targets_path.name}",
        "method": "laplace-is",   # the v2 likelihood family (MAP + Laplace, then the sampler below)
        "sampler": {"is": "importance-sampling", "laplace": "laplace-provisional",
                    "emulator": "emulator-mcmc"}[config.mode],
        "model_parameters_sha256": model_parameters_sha256(),
        "calibration": {**config.to_dict(), "n_vp_scale": n_vp_scale,
                        "n_vp": {a.id: max(10, round(a.n_vp * n_vp_scale)) for a in targets.sim_arms}},
        "targets": targets.to_dict()["targets"],
        "target_set": {k: v for k, v in targets.to_dict().items() if k != "targets"},
        "trial_sd_logit": targets.trial_sd_logit,
        "mc_var": rnd(res.mc_var, 8),
        "map": {"natural": rnd(prior.to_natural(res.z_map[None, :])[0]), "unconstrained": rnd(res.z_map),
                **res.map_info},
        "laplace": {"cov_unconstrained": rnd(res.cov, 8), "sd_unconstrained": rnd(sd)},
        "importance_sampling": res.is_info,
        "expected": rnd(res.expected, 5),
        "log_post": rnd(np.where(np.isnan(res.log_post), np.nan,
                                 np.where(np.isfinite(res.log_post), res.log_post, -1e300)), 4),
        "wall_time_s": round(time.perf_counter() - t0, 1),
        "start": "prior mean" if z0 is None else rnd(z0),
    }
    return Posterior(version=version, names=tuple(prior.names), draws=prior.to_natural(res.draws_z),
                     weights=res.weights, prior=prior, targets_sha256=targets.sha256,
                     targets_version=targets.version, code_version=code_version(), seed=int(seed),
                     command=extra["created_by"], meta=extra)


def start_point(prior: Prior, path: str | Path) -> np.ndarray:
    """A warm start for the MAP search: the MAP recorded in an earlier v2 posterior file (same
    parameter names; others at the prior mean). Only where the search starts changes, not the
    objective."""
    import json

    text = Path(path).read_text()
    if not text.lstrip().startswith("{"):   # the "MAP ..." line a run logs: unconstrained values in order
        z = np.array([float(v) for v in text.replace("MAP", " ").split()])
        if z.shape != prior.mean.shape:
            raise InvalidInputError(f"--start {path} must hold {prior.dim} numbers; got {z.shape[0]}.")
        return z
    data = json.loads(text)
    names = list(data["names"])
    z_map = data.get("map", {}).get("unconstrained")
    z = prior.mean.copy()
    if z_map is not None:
        for j, name in enumerate(prior.names):
            if name in names:
                z[j] = float(z_map[names.index(name)])
    return z
